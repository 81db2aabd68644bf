#pragma once
// `nephro3d worker`: takes stage messages from the shared durable consumer and
// runs them with a local StageRunner (networks stay loaded between messages).
//
// Which stages: the mask-only ones (consumer nephro3d-workers) and the model
// stages of the models it serves (--models, or every model that has a consumer),
// each model from its own consumer shared by all workers of that model. Order:
// with affinity on, the model of the last network it ran first, then the
// mask-only stages, then the other models (rotating), so a loaded network
// serves its whole queue before the worker switches; with affinity off, every
// consumer in turn.
//
// For each message: a stage already finished (a redelivery after a late ack)
// is only reported again; otherwise the stage runs into an attempt folder under
// the job's work/ folder, renamed to stages/<folder> when whole (first complete
// rename wins), its result is written to the bucket, then the message is acked.
// While it runs, an in-progress ack goes out every AckWait/3. Failures:
//   bad input, usage or model error  -> result "failed", message terminated (never retried)
//   anything else                    -> message nak'ed with back-off and redelivered; on the
//                                       MaxDeliver-th delivery it is copied to the dead-letter
//                                       stream with its last error, the result is "failed"
//                                       (dead_letter: true) and the message is acked away.
// A worker killed mid-stage leaves no ack: the message comes back after AckWait; after its
// last delivery a server dead-letters it (MaxDeliveriesWatcher).
//
// Test hook: with NEPHRO3D_WORKER_FAIL_INPUTS=TEXT in the environment, a stage
// whose job has an input path containing TEXT fails with a transient error
// every time (used to send a poison job through the queue); with
// NEPHRO3D_WORKER_HANG_INPUTS=TEXT such a stage never finishes (in-progress acks
// keep going until the worker is killed).
#include <atomic>
#include <chrono>
#include <utility>
#include <vector>
#include <string>

#include "jobs/StageRunner.h"
#include "queue/NatsClient.h"

namespace nephro::queue {

struct WorkerOptions {
  std::string storageRoot;
  std::string device = "cpu";
  std::string name;             // shown in logs and results
  std::vector<std::string> models;  // models whose stages it takes; empty: every model
  bool affinity = true;         // the loaded network's stages first
  double resultRetrySeconds = 120;  // how long a result is retried while nats-server is away
};

class QueueWorker {
 public:
  QueueWorker(NatsClient& client, jobs::StageRunner& runner, WorkerOptions options);
  // Fetches and runs messages until `stop` is set.
  void run(const std::atomic<bool>& stop);
  // Handles one delivered message.
  void handle(QueueMessage& message);
  int stagesDone() const { return stagesDone_; }

 private:
  // The consumers to try next, in order: {consumer, filter subject}.
  std::vector<std::pair<std::string, std::string>> fetchOrder();
  void putResult(const std::string& key, const nlohmann::json& result);
  void log(const std::string& line) const;

  NatsClient& client_;
  jobs::StageRunner& runner_;
  WorkerOptions options_;
  int stagesDone_ = 0;
  std::string lastModel_;             // the model of the last model stage it ran
  std::vector<std::string> served_;   // models it serves now
  std::chrono::steady_clock::time_point servedAt_{};
  size_t rotation_ = 0;
  std::string lastConsumer_;          // the consumer that gave the last message
};

}  // namespace nephro::queue
