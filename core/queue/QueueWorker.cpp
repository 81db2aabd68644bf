#include "queue/QueueWorker.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <new>
#include <random>
#include <thread>

#include "common/Error.h"
#include "jobs/JobSpec.h"
#include "jobs/Spool.h"
#include "queue/StageMessage.h"

namespace fs = std::filesystem;

namespace nephro::queue {
namespace {

double secondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Sends in-progress acks every `period` until destroyed.
class Heartbeat {
 public:
  Heartbeat(QueueMessage& m, double period) : thread_([this, &m, period] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!done_) {
      if (cv_.wait_for(lock, std::chrono::duration<double>(period), [this] { return done_; })) break;
      m.inProgress();
    }
  }) {}
  ~Heartbeat() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

}  // namespace

QueueWorker::QueueWorker(NatsClient& client, jobs::StageRunner& runner, WorkerOptions options)
    : client_(client), runner_(runner), options_(std::move(options)) {
  rotation_ = std::random_device()();  // workers that start together look at the models in different orders
  options_.storageRoot = fs::absolute(options_.storageRoot).lexically_normal().string();
  while (options_.storageRoot.size() > 1 && options_.storageRoot.back() == '/') options_.storageRoot.pop_back();
}

void QueueWorker::log(const std::string& line) const {
  const std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", std::gmtime(&now));
  std::printf("%s worker %s: %s\n", stamp, options_.name.c_str(), line.c_str());
  std::fflush(stdout);
}

std::vector<std::pair<std::string, std::string>> QueueWorker::fetchOrder() {
  const auto now = std::chrono::steady_clock::now();
  if (servedAt_ == std::chrono::steady_clock::time_point{} || now - servedAt_ > std::chrono::seconds(5)) {
    if (options_.models.empty()) {
      served_ = client_.modelsWithConsumers();  // every model a server has published stages of
    } else {
      if (served_.empty())
        for (const auto& m : options_.models) client_.ensureModelConsumer(m);
      served_ = options_.models;
    }
    servedAt_ = now;
  }
  std::vector<std::pair<std::string, std::string>> all;
  all.emplace_back(client_.settings().consumer, client_.anySubjectFilter());
  for (const auto& m : served_) all.emplace_back(client_.modelConsumer(m), client_.modelSubject(m));
  const size_t n = all.size();
  const size_t r = rotation_++;
  std::vector<std::pair<std::string, std::string>> order;
  if (!options_.affinity) {
    // Every consumer in turn, starting after the one that gave the last message (stream order across models).
    size_t start = r;
    for (size_t i = 0; i < n; ++i)
      if (all[i].first == lastConsumer_) start = i + 1;
    for (size_t i = 0; i < n; ++i) order.push_back(all[(start + i) % n]);
    return order;
  }
  const std::string loaded = lastModel_.empty() ? std::string() : client_.modelConsumer(lastModel_);
  for (const auto& c : all)
    if (c.first == loaded) order.push_back(c);
  order.push_back(all[0]);
  for (size_t i = 0; i + 1 < n; ++i) {
    const auto& c = all[1 + (r + i) % (n - 1)];
    if (c.first != loaded) order.push_back(c);
  }
  return order;
}

void QueueWorker::run(const std::atomic<bool>& stop) {
  bool reported = false;
  while (!stop) {
    std::unique_ptr<QueueMessage> m;
    try {
      // One quick look at each consumer in order, then a longer wait on the first.
      const auto order = fetchOrder();
      for (const auto& [consumer, filter] : order) {
        m = client_.fetch(consumer, filter, 50);
        if (m) lastConsumer_ = consumer;
        if (m || stop) break;
      }
      if (!m && !stop && (m = client_.fetch(order.front().first, order.front().second, 500))) lastConsumer_ = order.front().first;
      reported = false;
    } catch (const Error& e) {
      if (!reported) log(std::string("waiting for the queue: ") + e.what());
      reported = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      continue;
    }
    if (m) handle(*m);
  }
}

void QueueWorker::putResult(const std::string& key, const nlohmann::json& result) {
  const auto t0 = std::chrono::steady_clock::now();
  for (;;) {
    try {
      client_.put(key, result.dump());
      return;
    } catch (const Error&) {
      if (secondsSince(t0) > options_.resultRetrySeconds) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
}

void QueueWorker::handle(QueueMessage& message) {
  const uint64_t delivery = message.deliveries();
  const std::string data = message.data();
  StageMessage sm;
  try {
    sm = stageMessageFromJson(nlohmann::json::parse(data));
  } catch (const std::exception& e) {
    log(std::string("terminated an unreadable message on ") + message.subject() + ": " + jobs::jobErrorText(e.what()));
    message.term();
    return;
  }
  const std::string key = resultKey(sm.jobId, sm.index);
  const std::string what = sm.jobId + " stage " + std::to_string(sm.index) + " (" + sm.folder + ")";
  const jobs::Spool spool(options_.storageRoot);
  nlohmann::json result{{"worker", options_.name}, {"deliveries", delivery}, {"folder", sm.folder}};
  std::string device = options_.device;
  const auto t0 = std::chrono::steady_clock::now();
  ErrorKind kind = ErrorKind::Internal;
  std::string error;
  try {
    jobs::StageTask task = taskFromMessage(sm, options_.storageRoot, device);
    const std::string stageDir = localPath(sm.output, localPath(sm.storage, {}, {}), options_.storageRoot);
    if (fs::path(stageDir).lexically_normal() != fs::path(spool.stageDir(sm.jobId, sm.folder)).lexically_normal())
      throw jobs::RequestError("bad_request", "stage message: output " + sm.output + " is not under the storage root");
    if (spool.stageDone(sm.jobId, sm.folder)) {
      log("already done " + what + " (delivery " + std::to_string(delivery) + ")");
      const nlohmann::json record = nlohmann::json::object();
      result.update({{"state", "done"}, {"device", "-"}, {"record", record}, {"seconds", 0}});
      putResult(key, result);
      message.ack();
      return;
    }
    log("start " + what + " (delivery " + std::to_string(delivery) + ")");
    const double period = std::max(0.2, client_.settings().ackWaitSeconds / 3);
    Heartbeat heartbeat(message, period);
    jobs::StageOutcome outcome;
    for (int pass = 0;; ++pass) {
      task.device = device;
      task.outDir = spool.beginAttempt(sm.jobId, sm.folder);
      try {
        if (const char* marker = std::getenv("NEPHRO3D_WORKER_FAIL_INPUTS"); marker && *marker)
          for (const auto& [role, path] : task.spec.inputs)
            if (path.find(marker) != std::string::npos)
              throw Error(ErrorKind::Internal, "injected transient failure for input " + path + " (NEPHRO3D_WORKER_FAIL_INPUTS)");
        if (const char* marker = std::getenv("NEPHRO3D_WORKER_HANG_INPUTS"); marker && *marker)
          for (const auto& [role, path] : task.spec.inputs)
            if (path.find(marker) != std::string::npos)
              for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));  // until the worker is killed
        if (task.stage().kind == jobs::StageKind::Model) lastModel_ = task.stage().model;
        outcome = runner_.run(task, Progress());
      } catch (const std::exception& e) {
        spool.discardAttempt(task.outDir);
        const bool oom = dynamic_cast<const std::bad_alloc*>(&e) || std::string(e.what()).find("out of memory") != std::string::npos;
        if (pass == 0 && device == "cuda" && oom) {
          log("CUDA out of memory on " + what + "; running it on the CPU");
          device = "cpu";
          continue;
        }
        throw;
      }
      break;
    }
    const bool committed = spool.commitAttempt(sm.jobId, sm.folder, task.outDir);  // false: another attempt won
    result.update({{"state", "done"},
                   {"device", outcome.device.empty() ? device : outcome.device},
                   {"record", outcome.record},
                   {"seconds", secondsSince(t0)}});
    putResult(key, result);
    message.ack();
    ++stagesDone_;
    log((committed ? "done " : "done, another attempt had finished it, ") + what + " in " + std::to_string(secondsSince(t0)) +
        " s (delivery " + std::to_string(delivery) + ")");
    return;
  } catch (const Error& e) {
    kind = e.kind();
    error = jobs::jobErrorText(e.what());
  } catch (const std::bad_alloc&) {
    error = "out of memory";
  } catch (const std::exception& e) {
    error = jobs::jobErrorText(e.what());
  }

  const bool permanent = kind == ErrorKind::Input || kind == ErrorKind::Usage || kind == ErrorKind::Model;
  result.update({{"state", "failed"}, {"code", jobs::jobErrorCode(kind)}, {"error", error}, {"seconds", secondsSince(t0)}});
  try {
    if (permanent) {
      putResult(key, result);
      message.term();
      log("failed " + what + " (not retried): " + error);
      return;
    }
    if (delivery >= static_cast<uint64_t>(std::max(1, client_.settings().maxDeliver))) {
      const std::string suffix = message.subject().substr(std::min(message.subject().size(), client_.settings().subjectPrefix.size()));
      const nlohmann::json dead{{"message", nlohmann::json::parse(data)}, {"error", error}, {"code", jobs::jobErrorCode(kind)},
                                {"deliveries", delivery}, {"worker", options_.name}, {"subject", message.subject()}};
      const auto tp = std::chrono::steady_clock::now();
      for (;;) {
        try {
          client_.publish(client_.settings().deadPrefix + suffix, dead.dump(), sm.jobId + "." + std::to_string(sm.index) + ".dead");
          break;
        } catch (const Error&) {
          if (secondsSince(tp) > options_.resultRetrySeconds) throw;
          std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
      }
      result["dead_letter"] = true;
      putResult(key, result);
      message.ack();
      log("dead-lettered " + what + " after " + std::to_string(delivery) + " deliveries: " + error);
      return;
    }
    const int64_t delayMs = 500LL << std::min<uint64_t>(delivery - 1, 5);
    message.nak(delayMs);
    log("failed " + what + " (delivery " + std::to_string(delivery) + ", retried): " + error);
  } catch (const std::exception& e) {
    log("could not report " + what + ": " + jobs::jobErrorText(e.what()) + " (the message will be redelivered)");
  }
}

}  // namespace nephro::queue
