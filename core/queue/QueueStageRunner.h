#pragma once
// The server side of the queue: a StageRunner that does not run the stage but
// publishes it (StageMessage) to the work-queue stream and waits for a worker's
// result in the key-value bucket. The local Scheduler drives it unchanged (one
// scheduler thread per stage in flight, retries left to JetStream's MaxDeliver),
// so the HTTP routes and crash recovery work as without a queue (the records
// themselves live in the bucket, KvJobStore). A job cancelled through another
// server (its record in the bucket says so) stops waiting within a second.
//
// The message id is "<job>.<stage>", so a stage published again after a server
// restart is dropped by the stream's duplicate window while the first copy is
// still queued; a result already in the bucket is used without publishing.
// While nats-server is away, publishing and polling are retried until it is back.
#include <mutex>
#include <set>
#include <string>

#include "jobs/StageRunner.h"
#include "queue/NatsClient.h"

namespace nephro::queue {

class QueueStageRunner : public jobs::StageRunner {
 public:
  // `storageRoot`: the spool root (the shared folder workers see as their --storage-root).
  QueueStageRunner(NatsClient& client, std::string storageRoot, double pollSeconds = 0.1);
  jobs::StageOutcome run(const jobs::StageTask& task, const Progress& progress) override;

 private:
  void ensureModelConsumer(const std::string& model);
  NatsClient& client_;
  std::string storageRoot_;
  double pollSeconds_;
  std::mutex mutex_;
  std::set<std::string> modelConsumers_;  // models whose consumer is known to exist
};

// The engine error a failed stage result stands for (its "code" and "error").
Error errorFromResult(const nlohmann::json& result);

}  // namespace nephro::queue
