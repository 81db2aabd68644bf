#include "queue/KvJobStore.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/Error.h"

namespace nephro::queue {

KvJobStore::KvJobStore(NatsClient& client, const jobs::Spool& spool, std::string server, std::vector<std::string> adopt,
                       double retrySeconds)
    : client_(client), spool_(spool), server_(std::move(server)), adopt_(std::move(adopt)), retrySeconds_(retrySeconds) {}

void KvJobStore::save(const jobs::JobRecord& r) {
  nlohmann::json value = jobs::toJson(r);
  value["server"] = server_;
  const std::string text = value.dump();
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(retrySeconds_);
  for (;;) {
    try {
      const auto current = client_.getRevisioned(key(r.id));
      if (current) {
        const nlohmann::json stored = nlohmann::json::parse(current->value, nullptr, false);
        if (stored.is_object() && jobs::isFinal(jobs::jobStateFromString(stored.value("state", std::string("queued")))) &&
            !jobs::isFinal(r.state))
          return;  // finished elsewhere (cancelled through another server): that state wins
      }
      if (client_.putIfRevision(key(r.id), text, current ? current->revision : 0)) return;
      // Another writer came first: read again and decide again.
    } catch (const Error&) {
      if (std::chrono::steady_clock::now() >= until) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
}

std::vector<std::pair<std::string, nlohmann::json>> KvJobStore::all() {
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (const std::string& k : client_.keys("job.")) {
    const auto v = client_.get(k);
    if (!v) continue;  // deleted meanwhile
    nlohmann::json j = nlohmann::json::parse(*v, nullptr, false);
    if (j.is_object()) out.emplace_back(k, std::move(j));
  }
  return out;
}

std::vector<jobs::JobRecord> KvJobStore::load() {
  std::vector<jobs::JobRecord> out;
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(retrySeconds_);
  std::vector<std::pair<std::string, nlohmann::json>> records;
  for (;;) {
    try {
      records = all();
      break;
    } catch (const Error&) {
      if (std::chrono::steady_clock::now() >= until) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  for (const auto& [k, j] : records) {
    const std::string owner = j.value("server", "");
    const bool adopted = std::find(adopt_.begin(), adopt_.end(), owner) != adopt_.end();
    if (owner != server_ && !adopted) continue;
    jobs::JobRecord r;
    try {
      r = jobs::jobRecordFromJson(j);
    } catch (const std::exception&) {
      continue;  // unreadable record: left for an operator, not served
    }
    if (!jobs::Spool::isJobId(r.id)) continue;
    if (adopted && jobs::isFinal(r.state)) continue;  // only the unfinished jobs change hands
    if (!jobs::isFinal(r.state)) {
      spool_.clearAttempts(r.id);
      r.artifacts.clear();
      for (auto& s : r.stages) {
        s.done = spool_.stageDone(r.id, s.folder);
        if (s.done) {
          auto files = spool_.stageArtifacts(r.id, s.folder);
          r.artifacts.insert(r.artifacts.end(), files.begin(), files.end());
        }
      }
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const jobs::JobRecord& a, const jobs::JobRecord& b) { return a.created < b.created; });
  return out;
}

std::optional<jobs::JobRecord> KvJobStore::find(const std::string& id) {
  const auto v = client_.get(key(id));
  if (!v) return std::nullopt;
  try {
    return jobs::jobRecordFromJson(nlohmann::json::parse(*v));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::vector<jobs::JobRecord> KvJobStore::list() {
  std::vector<jobs::JobRecord> out;
  for (const auto& [k, j] : all()) {
    try {
      out.push_back(jobs::jobRecordFromJson(j));
    } catch (const std::exception&) {
    }
  }
  std::sort(out.begin(), out.end(), [](const jobs::JobRecord& a, const jobs::JobRecord& b) { return a.created < b.created; });
  return out;
}

std::optional<jobs::JobRecord> KvJobStore::requestCancel(const std::string& id) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    const auto current = client_.getRevisioned(key(id));
    if (!current) return std::nullopt;
    nlohmann::json j = nlohmann::json::parse(current->value, nullptr, false);
    if (!j.is_object()) return std::nullopt;
    jobs::JobRecord r = jobs::jobRecordFromJson(j);
    if (jobs::isFinal(r.state)) return r;
    r.state = jobs::JobState::Cancelled;
    r.errorCode = "cancelled";
    r.error = "cancelled by the client";
    r.finished = jobs::unixNow();
    nlohmann::json value = jobs::toJson(r);
    value["server"] = j.value("server", "");
    if (client_.putIfRevision(key(id), value.dump(), current->revision)) return r;
  }
  throw Error(ErrorKind::Output, "job " + id + ": the record kept changing; cancel again");
}

}  // namespace nephro::queue
