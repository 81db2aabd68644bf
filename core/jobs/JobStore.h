#pragma once
// Where job records live when not in the spool's job.json files: a store shared
// by several servers (the queue's key-value bucket). The Scheduler saves every
// state change through it and resumes what load() returns; the HTTP routes read
// any server's job through find() and list().
#include <optional>
#include <string>
#include <vector>

#include "jobs/Spool.h"

namespace nephro::jobs {

class JobStore {
 public:
  virtual ~JobStore() = default;
  // Writes the record; throws nephro::Error when it cannot. A record already
  // final in the store is not replaced by one that is not (a cancel from elsewhere wins).
  virtual void save(const JobRecord& r) = 0;
  // The records this process answers for (finished ones too), oldest first,
  // with stages marked done from the spool's stage folders.
  virtual std::vector<JobRecord> load() = 0;
  // Any process's job; nullopt when unknown.
  virtual std::optional<JobRecord> find(const std::string& id) = 0;
  // Every job in the store.
  virtual std::vector<JobRecord> list() = 0;
  // Marks a job run by another process cancelled (it notices and stops). The
  // record as it is afterwards; nullopt when unknown.
  virtual std::optional<JobRecord> requestCancel(const std::string& id) = 0;
};

}  // namespace nephro::jobs
