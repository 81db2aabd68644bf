#pragma once
// The HTTP front end of the job model. Handler threads validate, spool and
// enqueue; they never run a model (the Scheduler's workers do).
//
// Routes (every one but /health/* needs an API key):
//   POST   /v1/jobs                         JSON {"inputs": {...paths under --data-root}, pipeline...}
//                                           or multipart: parts A, P, D, mask, labels + "pipeline" JSON
//   GET    /v1/jobs                         the key's jobs, newest first (?limit=N)
//   GET    /v1/jobs/{id}                    the job
//   GET    /v1/jobs/{id}/artifacts          its artifacts
//   GET    /v1/jobs/{id}/artifacts/{name}   one artifact (looked up by name)
//   DELETE /v1/jobs/{id}                    cancel
//   POST   /nnunet/inference/{model}        aliases over jobs, multipart, ?wait=SECONDS
//   POST   /smoothing/base                  mask (+ labels) -> meshes, ?formats=obj,stl&space=LPS
//   POST   /postprocess/{step}              mask (+ CT part), step parameters as query
//   GET    /v1/models, /health/live, /health/ready, /metrics
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "jobs/EngineStageRunner.h"
#include "jobs/JobStore.h"
#include "jobs/Scheduler.h"
#include "server/ApiKeys.h"
#include "server/Metrics.h"

namespace httplib {
class Server;
struct Request;
struct Response;
class ContentReader;
}  // namespace httplib

namespace nephro::server {

struct ServiceOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0: any free port
  std::string dataRoot;            // resolved; empty: JSON jobs cannot name paths
  uint64_t maxUploadBytes = uint64_t(2048) << 20;
  uint64_t minFreeBytes = uint64_t(256) << 20;  // readiness: free space on the spool
  std::string device = "cpu";      // the worker's device, reported by /v1/models
  std::string tlsCert, tlsKey;     // both or neither
  int httpThreads = 32;
  std::string modelsDirectory;
};

class HttpService {
 public:
  HttpService(ServiceOptions options, ApiKeys keys, jobs::Spool& spool, jobs::Scheduler& scheduler,
              jobs::StageRunner& runner, Metrics& metrics);
  ~HttpService();

  // Binds the socket; returns the port (throws a usage error when it cannot).
  int bind();
  // Serves until stop(); returns when the listener has closed.
  void serve();
  void stop();
  // With a store shared by several servers (serve --queue), the job routes read
  // records from it, so any server answers for any job.
  void setSharedJobs(jobs::JobStore* store) { shared_ = store; }
  // Lines appended to /metrics (the queue's gauges).
  void setExtraMetrics(std::function<std::string()> extra) { extraMetrics_ = std::move(extra); }
  // Readiness turns false; requests that make jobs get 503.
  void drain() { draining_ = true; }

 private:
  void registerRoutes();
  // Job submission shared by /v1/jobs and the aliases.
  void submit(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
              const std::string& kind, const std::string& aliasArgument);
  void jobRoutes();
  void infoRoutes();
  nlohmann::json modelCatalog();
  std::string checkReady() const;  // "" when ready, else the reason

  ServiceOptions options_;
  ApiKeys keys_;
  jobs::Spool& spool_;
  jobs::Scheduler& scheduler_;
  jobs::StageRunner& runner_;
  Metrics& metrics_;
  jobs::JobStore* shared_ = nullptr;
  std::function<std::string()> extraMetrics_;
  std::unique_ptr<httplib::Server> server_;
  std::atomic<bool> draining_{false};
  std::atomic<int> waiters_{0};    // handlers blocked in ?wait=
  nlohmann::json catalog_;         // /v1/models, computed once
  std::string modelProblems_;      // models with files that do not load
};

// The name of the API key of the request being handled on this thread.
const std::string& currentKeyName();
// The JSON error body of the contract.
std::string errorBody(const std::string& code, const std::string& detail);
// HTTP status for a RequestError code.
int statusForCode(const std::string& code);

}  // namespace nephro::server
