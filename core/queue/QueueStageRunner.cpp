#include "queue/QueueStageRunner.h"

#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/Error.h"
#include "jobs/Spool.h"
#include "queue/KvJobStore.h"
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

void QueueStageRunner::ensureModelConsumer(const std::string& model) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (modelConsumers_.count(model)) return;
  client_.ensureModelConsumer(model);
  modelConsumers_.insert(model);
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

  bool published = false;
  auto cancelCheck = std::chrono::steady_clock::now();
  for (;;) {
    progress.throwIfCancelled();
    nlohmann::json result;
    try {
      // A cancel through another server shows in the job's record in the bucket.
      if (std::chrono::steady_clock::now() >= cancelCheck) {
        cancelCheck = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        if (auto job = client_.get(KvJobStore::key(task.jobId))) {
          const nlohmann::json j = nlohmann::json::parse(*job, nullptr, false);
          if (j.is_object() && j.value("state", "") == "cancelled") throw Error(ErrorKind::Cancelled, "cancelled by the client");
        }
      }
      if (auto value = client_.get(key)) result = nlohmann::json::parse(*value, nullptr, false);
      if (!result.is_object() && !published) {
        // A model's stages wait in its own consumer for the workers that serve the model.
        if (task.stage().kind == jobs::StageKind::Model) ensureModelConsumer(task.stage().model);
        client_.publish(subject, body, task.jobId + "." + std::to_string(task.index));
        published = true;
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Cancelled) throw;
      // nats-server unreachable or restarting: keep trying (the connection reconnects by itself).
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    if (result.is_object() && result.value("state", "") == "done") {
      jobs::StageOutcome o;
      o.device = result.value("device", "-");
      o.record = result.value("record", nlohmann::json::object());
      return o;
    }
    if (result.is_object() && result.value("state", "") == "failed") {
      throw errorFromResult(result);
    }
    std::this_thread::sleep_for(pause);
  }
}

}  // namespace nephro::queue
