#include "queue/MaxDeliveriesWatcher.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "jobs/JobSpec.h"
#include "queue/StageMessage.h"

namespace fs = std::filesystem;

namespace nephro::queue {

MaxDeliveriesWatcher::MaxDeliveriesWatcher(NatsClient& client, std::string storageRoot)
    : client_(client), storageRoot_(fs::absolute(storageRoot).lexically_normal().string()) {
  while (storageRoot_.size() > 1 && storageRoot_.back() == '/') storageRoot_.pop_back();
}

MaxDeliveriesWatcher::~MaxDeliveriesWatcher() { stop(); }

void MaxDeliveriesWatcher::start() {
  stop_ = false;
  thread_ = std::thread([this] {
    const std::string filter = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." + client_.settings().stream + ".>";
    while (!stop_) {
      try {
        auto m = client_.fetch(client_.settings().advisoryConsumer, filter, 1000);
        if (!m) continue;
        const std::string line = handle(m->data());
        m->ack();
        if (!line.empty()) {
          std::printf("nephro3d serve: %s\n", line.c_str());
          std::fflush(stdout);
        }
      } catch (const std::exception&) {
        // nats-server away or restarting: the advisory stays queued; try again.
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
      }
    }
  });
}

void MaxDeliveriesWatcher::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

std::string MaxDeliveriesWatcher::handle(const std::string& advisory) {
  const nlohmann::json a = nlohmann::json::parse(advisory, nullptr, false);
  if (!a.is_object() || a.value("stream", "") != client_.settings().stream) return {};
  const uint64_t seq = a.value("stream_seq", uint64_t(0));
  const uint64_t deliveries = a.value("deliveries", uint64_t(client_.settings().maxDeliver));
  const auto stored = client_.streamMessage(client_.settings().stream, seq);  // throws while the server is away
  if (!stored) return {};
  const auto& [subject, data] = *stored;
  StageMessage sm;
  try {
    sm = stageMessageFromJson(nlohmann::json::parse(data));
  } catch (const std::exception& e) {
    client_.deleteStreamMessage(client_.settings().stream, seq);
    return "removed an unreadable stage message " + std::to_string(seq) + " after " + std::to_string(deliveries) + " deliveries";
  }
  const std::string key = resultKey(sm.jobId, sm.index);
  const std::string what = sm.jobId + " stage " + std::to_string(sm.index) + " (" + sm.folder + ")";
  std::string line;
  if (client_.get(key)) {
    line = "";  // a worker reported it after all
  } else {
    std::string stageDir;
    try {
      stageDir = localPath(sm.output, localPath(sm.storage, {}, {}), storageRoot_);
    } catch (const std::exception&) {
    }
    std::error_code ec;
    if (!stageDir.empty() && fs::is_directory(stageDir, ec)) {
      const nlohmann::json result{{"state", "done"}, {"device", "-"}, {"record", nlohmann::json::object()}, {"seconds", 0},
                                  {"worker", "-"}, {"deliveries", deliveries}, {"folder", sm.folder}};
      client_.putIfRevision(key, result.dump(), 0);
      line = "stage " + what + " ran out of deliveries but its folder is complete: done";
    } else {
      const std::string error = "stage " + sm.folder + " was delivered " + std::to_string(deliveries) +
                                " times without finishing (its worker stopped or lost the queue each time)";
      const std::string suffix = subject.substr(std::min(subject.size(), client_.settings().subjectPrefix.size()));
      const nlohmann::json dead{{"message", nlohmann::json::parse(data)}, {"error", error}, {"code", "internal"},
                                {"deliveries", deliveries}, {"worker", "-"}, {"subject", subject}, {"advisory", true}};
      client_.publish(client_.settings().deadPrefix + suffix, dead.dump(), sm.jobId + "." + std::to_string(sm.index) + ".dead");
      const nlohmann::json result{{"state", "failed"}, {"code", "internal"}, {"error", error}, {"dead_letter", true},
                                  {"worker", "-"}, {"deliveries", deliveries}, {"folder", sm.folder}};
      client_.putIfRevision(key, result.dump(), 0);
      line = "dead-lettered " + what + ": " + error;
    }
  }
  client_.deleteStreamMessage(client_.settings().stream, seq);
  return line;
}

}  // namespace nephro::queue
