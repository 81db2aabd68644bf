#pragma once
// The local scheduler: one worker thread per device takes jobs in submission
// order, one stage at a time, through a StageRunner. With grouping on, a worker
// prefers the oldest job whose next stage uses the network it already has
// loaded (or needs no network), so a loaded model serves several jobs before
// the next one is loaded; the oldest job is passed over at most `maxBypass`
// times in a row, so nothing starves.
//
// Failures: a request's fault (input, usage, model errors) fails the job at
// once; a CUDA out-of-memory reruns that stage on the CPU (counted); anything
// else is retried up to `maxRetries` times with doubling back-off, then fails.
// Cancel sets the engine's cancel flag (checked between tiles and steps).
// Every state change is written to the spool before it is reported, and
// recover() resumes unfinished jobs from their first stage not yet done.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "jobs/JobStore.h"
#include "jobs/Spool.h"
#include "jobs/StageRunner.h"

namespace nephro::jobs {

struct SchedulerOptions {
  std::vector<std::string> devices{"cpu"};  // one worker each: "cpu" or "cuda"
  bool groupByModel = true;
  int maxRetries = 2;
  double backoffSeconds = 0.5;  // first retry; doubled for each further one
  int maxBypass = 16;
  JobStore* store = nullptr;    // where records are saved and resumed from; null: the spool's job.json
};

// Events for metrics, called from worker threads (some while the scheduler holds its lock: never call back into it).
class SchedulerObserver {
 public:
  virtual ~SchedulerObserver() = default;
  virtual void stageFinished(const std::string& kind, const std::string& model, const std::string& device, double seconds) {}
  virtual void jobFinished(JobState state, double runSeconds, double queueWaitSeconds) {}
  virtual void modelSwitched() {}
  virtual void cpuFallback() {}
  virtual void retried() {}
};

class Scheduler {
 public:
  Scheduler(Spool& spool, StageRunner& runner, SchedulerOptions options, SchedulerObserver* observer = nullptr);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Reads the spool: finished jobs are listed, unfinished ones queued again. Call before start().
  size_t recover();
  void start();
  // Stops the workers; a stage in progress is interrupted and its job stays
  // queued on disk, to run again on the next start.
  void stop();

  // Records a new job (record.spec resolved, id from spool.newJobId(), inputs
  // in place) and queues it. With an idempotency hash already known, nothing
  // is queued and the earlier job is returned with `created` false.
  JobRecord submit(JobRecord record, bool* created = nullptr);
  std::optional<JobRecord> get(const std::string& id) const;
  std::vector<JobRecord> list() const;  // every job this scheduler knows, oldest first
  enum class CancelResult { NotFound, Cancelling, Cancelled, AlreadyFinished };
  CancelResult cancel(const std::string& id);
  // Waits up to `seconds` for the job to reach a final state; the record as it then is.
  std::optional<JobRecord> waitFor(const std::string& id, double seconds) const;

  size_t pending() const;  // queued or running
  int modelSwitches() const { return modelSwitches_; }
  int cpuFallbacks() const { return cpuFallbacks_; }
  int retries() const { return retries_; }

 private:
  struct Entry {
    JobRecord record;
    std::vector<StageSpec> stages;
    std::shared_ptr<std::atomic<bool>> cancel = std::make_shared<std::atomic<bool>>(false);
    bool running = false;
    bool userCancelled = false;
    int stageFailures = 0;       // transient failures of the current stage
    int cpuStage = -1;           // stage to run on the CPU after a CUDA out-of-memory
    double notBefore = 0;        // back-off
  };
  struct Worker {
    std::string device;
    std::string lastModel;
    int bypassed = 0;
    std::thread thread;
  };

  void workerLoop(Worker& w);
  Entry* pickLocked(Worker& w, double now);
  static int nextStage(const Entry& e);
  void finishLocked(Entry& e, JobState state, const std::string& code, const std::string& error);
  void saveRecord(const JobRecord& r);

  Spool& spool_;
  StageRunner& runner_;
  SchedulerOptions options_;
  SchedulerObserver* observer_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::map<std::string, Entry> jobs_;
  std::deque<std::string> queue_;  // unfinished jobs in submission order
  std::map<std::string, std::string> idempotent_;
  std::vector<std::unique_ptr<Worker>> workers_;
  bool stopping_ = false;
  std::atomic<int> modelSwitches_{0}, cpuFallbacks_{0}, retries_{0};
};

}  // namespace nephro::jobs
