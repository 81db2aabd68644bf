#include "queue/QueueStageRunner.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/Error.h"
#include "jobs/Spool.h"
#include "queue/StageMessage.h"

namespace fs = std::filesystem;

namespace nephro::queue {

Error errorFromResult(const nlohmann::json& result) {
  const std::string code = result.value("code", "internal");
  const std::string error = result.value("error", "stage failed on a worker");
  ErrorKind kind = ErrorKind::Internal;
  if (code == "bad_input") kind = ErrorKind::Input;
  else if (code == "bad_request") kind = ErrorKind::Usage;
  else if (code == "model") kind = ErrorKind::Model;
  else if (code == "output") kind = ErrorKind::Output;
  else if (code == "cancelled") kind = ErrorKind::Cancelled;
  return Error(kind, error);
}

QueueStageRunner::QueueStageRunner(NatsClient& client, std::string storageRoot, double pollSeconds)
    : client_(client), storageRoot_(fs::absolute(storageRoot).string()), pollSeconds_(pollSeconds) {}

jobs::StageOutcome QueueStageRunner::run(const jobs::StageTask& task, const Progress& progress) {
  const jobs::Spool spool(storageRoot_);
  const std::string folder = task.stage().folderName(task.index);
  const std::string key = resultKey(task.jobId, task.index);
  const StageMessage message = makeStageMessage(task, storageRoot_, spool.stageDir(task.jobId, folder));
  const std::string subject = stageSubject(client_.settings().subjectPrefix, task.stage());
  const std::string body = toJson(message).dump();
  const auto pause = std::chrono::duration<double>(pollSeconds_);

  // The job's state as the queue sees it, for operators reading the bucket ("job.<id>").
  auto noteJob = [&](const std::string& state, const std::string& error) {
    try {
      client_.put("job." + task.jobId, nlohmann::json{{"state", state}, {"stage", task.stage().name()}, {"index", task.index},
                                                      {"stages", task.stages.size()}, {"error", error}}.dump());
    } catch (const Error&) {
    }
  };
  noteJob("running", "");
  bool published = false;
  for (;;) {
    progress.throwIfCancelled();
    nlohmann::json result;
    try {
      if (auto value = client_.get(key)) result = nlohmann::json::parse(*value, nullptr, false);
      if (!result.is_object() && !published) {
        client_.publish(subject, body, task.jobId + "." + std::to_string(task.index));
        published = true;
      }
    } catch (const Error& e) {
      // nats-server unreachable or restarting: keep trying (the connection reconnects by itself).
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    if (result.is_object() && result.value("state", "") == "done") {
      jobs::StageOutcome o;
      o.device = result.value("device", "-");
      o.record = result.value("record", nlohmann::json::object());
      if (task.index + 1 == task.stages.size()) noteJob("succeeded", "");
      return o;
    }
    if (result.is_object() && result.value("state", "") == "failed") {
      noteJob("failed", result.value("error", ""));
      throw errorFromResult(result);
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace nephro::queue
