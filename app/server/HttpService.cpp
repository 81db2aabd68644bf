#include "server/HttpService.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <regex>

#include <httplib.h>

#include "common/Error.h"
#include "inference/ModelRegistry.h"
#include "jobs/Sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nephro::server {
namespace {

// Per request, on the handler thread: set before routing, read by the logger.
thread_local std::chrono::steady_clock::time_point requestStart;
thread_local std::string requestKeyName;

// The route pattern a path belongs to (metrics labels never hold ids or names).
std::string routeOf(const std::string& method, const std::string& path) {
  static const std::vector<std::pair<std::regex, std::string>> patterns{
      {std::regex("^/v1/jobs/?$"), "/v1/jobs"},
      {std::regex("^/v1/jobs/[^/]+/artifacts/?$"), "/v1/jobs/{id}/artifacts"},
      {std::regex("^/v1/jobs/[^/]+/artifacts/.+$"), "/v1/jobs/{id}/artifacts/{name}"},
      {std::regex("^/v1/jobs/[^/]+/?$"), "/v1/jobs/{id}"},
      {std::regex("^/nnunet/inference/[^/]+/?$"), "/nnunet/inference/{model}"},
      {std::regex("^/smoothing/base/?$"), "/smoothing/base"},
      {std::regex("^/postprocess/[^/]+/?$"), "/postprocess/{step}"},
      {std::regex("^/v1/models/?$"), "/v1/models"},
      {std::regex("^/health/live$"), "/health/live"},
      {std::regex("^/health/ready$"), "/health/ready"},
      {std::regex("^/metrics$"), "/metrics"}};
  for (const auto& [re, name] : patterns)
    if (std::regex_match(path, re)) return method + " " + name;
  return method + " unmatched";
}

std::string presentedKey(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
    std::string k = auth.substr(7);
    while (!k.empty() && k.front() == ' ') k.erase(k.begin());
    return k;
  }
  return req.get_header_value("X-API-Key");
}

std::string nowText() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

const std::string& currentKeyName() { return requestKeyName; }

std::string errorBody(const std::string& code, const std::string& detail) {
  return json{{"error", code}, {"detail", detail}}.dump() + "\n";
}

int statusForCode(const std::string& code) {
  if (code == "unauthorized") return 401;
  if (code == "forbidden" || code == "path_outside_data_root") return 403;
  if (code == "not_found" || code == "input_not_found") return 404;
  if (code == "conflict") return 409;
  if (code == "too_large") return 413;
  if (code == "unsupported_media_type") return 415;
  if (code == "bad_input" || code == "missing_phases" || code == "missing_labels") return 422;
  if (code == "model_unavailable" || code == "draining") return 503;
  return 400;  // bad_request, unknown_model, unknown_step
}

HttpService::HttpService(ServiceOptions options, ApiKeys keys, jobs::Spool& spool, jobs::Scheduler& scheduler,
                         jobs::StageRunner& runner, Metrics& metrics)
    : options_(std::move(options)), keys_(std::move(keys)), spool_(spool), scheduler_(scheduler), runner_(runner),
      metrics_(metrics) {
  if (options_.tlsCert.empty() != options_.tlsKey.empty()) throw usageError("--tls-cert and --tls-key go together");
  if (!options_.tlsCert.empty()) {
    for (const auto& f : {options_.tlsCert, options_.tlsKey})
      if (!fs::is_regular_file(f)) throw inputError(f, "TLS file cannot be read");
    auto ssl = std::make_unique<httplib::SSLServer>(options_.tlsCert.c_str(), options_.tlsKey.c_str());
    if (!ssl->is_valid()) throw inputError(options_.tlsCert, "TLS certificate and key are not a valid pair");
    server_ = std::move(ssl);
  } else {
    server_ = std::make_unique<httplib::Server>();
  }
  catalog_ = modelCatalog();
  registerRoutes();
}

HttpService::~HttpService() = default;

int HttpService::bind() {
  int port = options_.port;
  if (port == 0) {
    port = server_->bind_to_any_port(options_.host);
    if (port < 0) throw usageError("cannot listen on " + options_.host);
  } else if (!server_->bind_to_port(options_.host, port)) {
    throw usageError("cannot listen on " + options_.host + ":" + std::to_string(port) + " (in use or not an address of this host)");
  }
  return port;
}

void HttpService::serve() { server_->listen_after_bind(); }
void HttpService::stop() { server_->stop(); }

void HttpService::registerRoutes() {
  httplib::Server& s = *server_;
  const int threads = options_.httpThreads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  s.set_payload_max_length(static_cast<size_t>(options_.maxUploadBytes));
  s.set_read_timeout(30, 0);
  s.set_write_timeout(30, 0);
  s.set_keep_alive_timeout(5);

  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    requestStart = std::chrono::steady_clock::now();
    requestKeyName.clear();
    if (req.path.rfind("/health/", 0) == 0) return httplib::Server::HandlerResponse::Unhandled;
    const std::string key = presentedKey(req);
    if (key.empty()) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Bearer");
      res.set_header("Connection", "close");
      res.set_content(errorBody("unauthorized", "an API key is needed (Authorization: Bearer KEY or X-API-Key: KEY)"),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    const std::optional<std::string> name = keys_.check(key);
    if (!name) {
      res.status = 403;
      res.set_header("Connection", "close");
      res.set_content(errorBody("forbidden", "the API key is not valid"), "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }
    requestKeyName = *name;
    return httplib::Server::HandlerResponse::Unhandled;
  });

  s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string code = "bad_request", detail = "the request is malformed";
    if (res.status == 404) code = "not_found", detail = "no such route";
    else if (res.status == 405) code = "method_not_allowed", detail = "method not allowed on this route";
    else if (res.status == 413) code = "too_large", detail = "the request body is larger than --max-upload-mb";
    else if (res.status >= 500) code = "internal", detail = "internal error";
    res.set_content(errorBody(code, detail), "application/json");
    return httplib::Server::HandlerResponse::Handled;
  }));

  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    std::string detail = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      detail = e.what();
    } catch (...) {
    }
    std::replace(detail.begin(), detail.end(), '\n', ' ');
    res.status = 500;
    res.set_content(errorBody("internal", detail), "application/json");
  });

  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - requestStart).count();
    const std::string route = routeOf(req.method, req.path);
    metrics_.httpRequest(route, res.status, seconds);
    std::fprintf(stderr, "%s %s %d %.1f ms key=%s\n", nowText().c_str(), route.c_str(), res.status,
                 seconds * 1000.0, requestKeyName.empty() ? "-" : requestKeyName.c_str());
  });

  jobRoutes();
  infoRoutes();
}

json HttpService::modelCatalog() {
  json out = json::array();
  std::string problems;
  std::vector<inference::ModelManifest> manifests;
  try {
    manifests = inference::listManifests(options_.modelsDirectory);
  } catch (const Error& e) {
    modelProblems_ = e.what();
    return out;
  }
  for (const auto& m : manifests) {
    json phases = json::array();
    for (const auto& in : m.inputs) phases.push_back({{"channel", in.channel}, {"phase", in.phase}});
    json entry{{"id", m.id},
               {"version", m.version},
               {"description", m.description},
               {"legacy", m.legacy},
               {"phases", phases},
               {"required_phases", m.requiredPhases()},
               {"output_space", m.outputSpace},
               {"valid_for", m.validFor},
               {"device", options_.device}};
    const std::string missing = inference::missingModelFiles(m);
    entry["available"] = missing.empty();
    if (!missing.empty()) {
      entry["missing"] = missing;
      out.push_back(entry);
      continue;
    }
    try {
      const inference::NnunetModel model = inference::loadManifestModel(m);
      json labels = json::array();
      const LabelTable table = inference::modelLabelTable(model, m.labelMap);
      for (const auto& e : table.entries())
        labels.push_back({{"value", e.value}, {"name", e.name}});
      entry["labels"] = labels;
      entry["configuration"] = model.configuration.name;
      entry["memory_estimate_bytes"] =
          inference::estimateMemoryBytes(model, {512, 512, 300}, {0.78125, 0.78125, 1.5});
      entry["memory_estimate_for"] = "512x512x300 CT at 0.78x0.78x1.5 mm";
      entry["network_memory_bytes"] = jobs::networkMemoryEstimate(m.id, options_.modelsDirectory);
      json weights = json::array();
      std::string all;
      for (const auto& f : model.folds) {
        const std::string sha = jobs::sha256File(f.path);
        weights.push_back({{"fold", f.fold}, {"file", fs::path(f.path).filename().string()},
                           {"bytes", fs::file_size(f.path)}, {"sha256", sha}});
        all += sha;
      }
      entry["weights"] = weights;
      entry["sha256"] = model.folds.size() == 1 ? all : jobs::sha256Hex(all);
    } catch (const Error& e) {
      entry["available"] = false;
      entry["error"] = e.what();
      problems += (problems.empty() ? "" : "; ") + std::string(e.what());
    }
    out.push_back(entry);
  }
  modelProblems_ = problems;
  return out;
}

std::string HttpService::checkReady() const {
  if (draining_) return "draining: the server is shutting down";
  if (!modelProblems_.empty()) return "models do not load: " + modelProblems_;
  if (!spool_.writable()) return "spool " + spool_.root() + " is not writable";
  const uint64_t free = spool_.freeBytes();
  if (free < options_.minFreeBytes)
    return "spool has " + std::to_string(free >> 20) + " MiB free, less than " + std::to_string(options_.minFreeBytes >> 20) + " MiB";
  return {};
}

void HttpService::infoRoutes() {
  httplib::Server& s = *server_;
  s.Get("/health/live", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"status\":\"live\"}\n", "application/json");
  });
  s.Get("/health/ready", [this](const httplib::Request&, httplib::Response& res) {
    const std::string reason = checkReady();
    if (reason.empty()) {
      res.set_content(json{{"status", "ready"}, {"queue_pending", scheduler_.pending()}}.dump() + "\n", "application/json");
    } else {
      res.status = 503;
      res.set_content(json{{"status", "not_ready"}, {"reason", reason}}.dump() + "\n", "application/json");
    }
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::string text = metrics_.render(scheduler_.pending(), runner_.modelsLoaded());
    if (extraMetrics_) text += extraMetrics_();
    res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/v1/models", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(json{{"device", options_.device}, {"models_loaded", runner_.modelsLoaded()}, {"models", catalog_}}.dump(1) + "\n",
                    "application/json");
  });
}

}  // namespace nephro::server
