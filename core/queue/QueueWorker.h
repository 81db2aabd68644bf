#pragma once
// `nephro3d worker`: takes stage messages from the shared durable consumer and
// runs them with a local StageRunner (networks stay loaded between messages).
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
// A worker killed mid-stage leaves no ack: the message comes back after AckWait.
//
// Test hook: with NEPHRO3D_WORKER_FAIL_INPUTS=TEXT in the environment, a stage
// whose job has an input path containing TEXT fails with a transient error
// every time (used to send a poison job through the queue).
#include <atomic>
#include <string>

#include "jobs/StageRunner.h"
#include "queue/NatsClient.h"

namespace nephro::queue {

struct WorkerOptions {
  std::string storageRoot;
  std::string device = "cpu";
  std::string name;             // shown in logs and results
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
  void putResult(const std::string& key, const nlohmann::json& result);
  void log(const std::string& line) const;

  NatsClient& client_;
  jobs::StageRunner& runner_;
  WorkerOptions options_;
  int stagesDone_ = 0;
};

}  // namespace nephro::queue
