#pragma once
// Job records in the queue's key-value bucket ("job.<id>"), so every
// `serve --queue` on the same NATS answers for every job. Each record names the
// server that runs it ("server"); a server resumes only its own unfinished jobs.
// Writes are read-modify-write with the expected revision: a writer that lost
// the race reads again and decides again, so two writers never lose an update
// (a job cancelled through one server stays cancelled when the server running
// it saves its next state). While nats-server is away, writes are retried.
// The spool keeps the files only (inputs, attempt and stage folders).
#include <string>
#include <vector>

#include "jobs/JobStore.h"
#include "queue/NatsClient.h"

namespace nephro::queue {

class KvJobStore : public jobs::JobStore {
 public:
  // `server`: this process's name; `spool`: the shared folder, for stage folders and artifacts;
  // `adopt`: servers gone for good whose unfinished jobs this one resumes (and then owns).
  KvJobStore(NatsClient& client, const jobs::Spool& spool, std::string server, std::vector<std::string> adopt = {},
             double retrySeconds = 30);
  void save(const jobs::JobRecord& r) override;
  std::vector<jobs::JobRecord> load() override;
  std::optional<jobs::JobRecord> find(const std::string& id) override;
  std::vector<jobs::JobRecord> list() override;
  std::optional<jobs::JobRecord> requestCancel(const std::string& id) override;
  static std::string key(const std::string& id) { return "job." + id; }

 private:
  std::vector<std::pair<std::string, nlohmann::json>> all();
  NatsClient& client_;
  const jobs::Spool& spool_;
  std::string server_;
  std::vector<std::string> adopt_;
  double retrySeconds_;
};

}  // namespace nephro::queue
