#include "jobs/Scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <new>

#include "common/Error.h"

namespace nephro::jobs {
namespace {

bool isOutOfMemory(const std::string& what) { return what.find("out of memory") != std::string::npos; }

}  // namespace

Scheduler::Scheduler(Spool& spool, StageRunner& runner, SchedulerOptions options, SchedulerObserver* observer)
    : spool_(spool), runner_(runner), options_(std::move(options)), observer_(observer) {
  if (options_.devices.empty()) options_.devices = {"cpu"};
}

Scheduler::~Scheduler() { stop(); }

int Scheduler::nextStage(const Entry& e) {
  for (size_t i = 0; i < e.record.stages.size(); ++i)
    if (!e.record.stages[i].done) return static_cast<int>(i);
  return -1;
}

size_t Scheduler::recover() {
  std::lock_guard<std::mutex> lock(mutex_);
  size_t resumed = 0;
  for (JobRecord& r : options_.store ? options_.store->load() : spool_.scan()) {
    Entry e;
    e.stages = planStages(r.spec);
    if (r.stages.size() != e.stages.size()) {  // a record from an incompatible version: leave it failed
      r.state = JobState::Failed;
      r.error = "job record does not match its pipeline";
    }
    e.record = std::move(r);
    const std::string id = e.record.id;
    if (!e.record.idempotency.empty()) idempotent_[e.record.idempotency] = id;
    if (!isFinal(e.record.state)) {
      e.record.state = e.record.started > 0 ? JobState::Running : JobState::Queued;
      queue_.push_back(id);
      ++resumed;
    }
    jobs_[id] = std::move(e);
  }
  return resumed;
}

void Scheduler::start() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = false;
  for (const auto& d : options_.devices) {
    auto w = std::make_unique<Worker>();
    w->device = d;
    Worker* raw = w.get();
    w->thread = std::thread([this, raw] { workerLoop(*raw); });
    workers_.push_back(std::move(w));
  }
}

void Scheduler::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (workers_.empty()) return;
    stopping_ = true;
    for (auto& [id, e] : jobs_)
      if (e.running) e.cancel->store(true);
  }
  changed_.notify_all();
  for (auto& w : workers_)
    if (w->thread.joinable()) w->thread.join();
  workers_.clear();
}

JobRecord Scheduler::submit(JobRecord record, bool* created) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!record.idempotency.empty()) {
    auto it = idempotent_.find(record.idempotency);
    if (it != idempotent_.end() && jobs_.count(it->second)) {
      if (created) *created = false;
      return jobs_.at(it->second).record;
    }
  }
  Entry e;
  e.stages = planStages(record.spec);
  record.stages.clear();
  for (size_t i = 0; i < e.stages.size(); ++i) {
    StageRecord sr;
    sr.name = e.stages[i].name();
    sr.folder = e.stages[i].folderName(i);
    record.stages.push_back(sr);
  }
  record.state = JobState::Queued;
  if (record.created <= 0) record.created = unixNow();
  saveRecord(record);  // the job exists from here on
  e.record = record;
  if (!record.idempotency.empty()) idempotent_[record.idempotency] = record.id;
  queue_.push_back(record.id);
  jobs_[record.id] = std::move(e);
  lock.unlock();
  changed_.notify_all();
  if (created) *created = true;
  return record;
}

std::optional<JobRecord> Scheduler::get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second.record;
}

std::vector<JobRecord> Scheduler::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<JobRecord> out;
  for (const auto& [id, e] : jobs_) out.push_back(e.record);
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) { return a.created < b.created; });
  return out;
}

void Scheduler::saveRecord(const JobRecord& r) {
  if (options_.store) options_.store->save(r);
  else spool_.save(r);
}

std::optional<JobRecord> Scheduler::waitFor(const std::string& id, double seconds) const {
  std::unique_lock<std::mutex> lock(mutex_);
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(std::max(0.0, seconds));
  for (;;) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    if (isFinal(it->second.record.state) || changed_.wait_until(lock, until) == std::cv_status::timeout) {
      it = jobs_.find(id);
      return it == jobs_.end() ? std::nullopt : std::optional<JobRecord>(it->second.record);
    }
  }
}

Scheduler::CancelResult Scheduler::cancel(const std::string& id) {
  std::unique_lock<std::mutex> lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return CancelResult::NotFound;
  Entry& e = it->second;
  if (isFinal(e.record.state)) return CancelResult::AlreadyFinished;
  e.userCancelled = true;
  e.cancel->store(true);
  if (e.running) return CancelResult::Cancelling;
  finishLocked(e, JobState::Cancelled, "cancelled", "cancelled by the client");
  lock.unlock();
  changed_.notify_all();
  return CancelResult::Cancelled;
}

size_t Scheduler::pending() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

void Scheduler::finishLocked(Entry& e, JobState state, const std::string& code, const std::string& error) {
  e.record.state = state;
  e.record.errorCode = state == JobState::Succeeded ? std::string() : code;
  e.record.error = state == JobState::Succeeded ? std::string() : error;
  e.record.finished = unixNow();
  if (state == JobState::Succeeded) {
    e.record.progress = 1.0;
    e.record.stage.clear();
  }
  spool_.clearAttempts(e.record.id);
  try {
    saveRecord(e.record);
  } catch (const std::exception&) {
    // The record stays in memory; the next start finds the job unfinished and runs it again.
  }
  queue_.erase(std::remove(queue_.begin(), queue_.end(), e.record.id), queue_.end());
  if (observer_) {
    const double started = e.record.started > 0 ? e.record.started : e.record.finished;
    observer_->jobFinished(state, e.record.finished - started, started - e.record.created);
  }
}

Scheduler::Entry* Scheduler::pickLocked(Worker& w, double now) {
  Entry* head = nullptr;
  for (const std::string& id : queue_) {
    Entry& e = jobs_.at(id);
    if (e.running || e.notBefore > now || isFinal(e.record.state)) continue;
    const int next = nextStage(e);
    if (next < 0) continue;
    if (!head) {
      head = &e;
      if (!options_.groupByModel || w.lastModel.empty() || w.bypassed >= options_.maxBypass) break;
    }
    const StageSpec& s = e.stages[static_cast<size_t>(next)];
    if (s.kind != StageKind::Model || s.model == w.lastModel) {
      w.bypassed = (&e == head) ? 0 : w.bypassed + 1;
      return &e;
    }
  }
  if (head) w.bypassed = 0;
  return head;
}

void Scheduler::workerLoop(Worker& w) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    const double now = unixNow();
    Entry* picked = pickLocked(w, now);
    if (!picked) {
      double wake = 1.0;
      for (const auto& id : queue_) {
        const Entry& e = jobs_.at(id);
        if (!e.running && e.notBefore > now) wake = std::min(wake, e.notBefore - now);
      }
      changed_.wait_for(lock, std::chrono::duration<double>(std::max(0.01, wake)));
      continue;
    }
    Entry& e = *picked;
    const int index = nextStage(e);
    const StageSpec stage = e.stages[static_cast<size_t>(index)];
    const std::string device = (index == e.cpuStage) ? std::string("cpu") : w.device;
    e.running = true;
    e.record.state = JobState::Running;
    if (e.record.started <= 0) e.record.started = now;
    e.record.stage = stage.name();
    e.record.attempts += 1;
    e.record.stages[static_cast<size_t>(index)].attempts += 1;
    const std::string id = e.record.id;
    const size_t stageCount = e.stages.size();
    bool saved = true;
    try {
      saveRecord(e.record);
    } catch (const std::exception&) {
      saved = false;
    }
    if (stage.kind == StageKind::Model) {
      if (!w.lastModel.empty() && w.lastModel != stage.model) {
        ++modelSwitches_;
        if (observer_) observer_->modelSwitched();
      }
      w.lastModel = stage.model;
    }
    StageTask task = makeStageTask(spool_, e.record, static_cast<size_t>(index), device);
    std::shared_ptr<std::atomic<bool>> cancelFlag = e.cancel;
    lock.unlock();

    // Run the stage outside the lock.
    enum class Outcome { Done, Cancelled, Permanent, OutOfMemory, Transient } outcome = Outcome::Done;
    std::string error, code;
    StageOutcome result;
    std::vector<Artifact> artifacts;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      if (!saved) throw outputError(spool_.jobDir(id), options_.store ? "cannot save the job record" : "cannot write job.json");
      const std::string folder = stage.folderName(static_cast<size_t>(index));
      if (!spool_.stageDone(id, folder)) {
        task.outDir = spool_.beginAttempt(id, folder);
        const Progress progress(
            [this, id, index, stageCount](double f, const std::string&) {
              std::lock_guard<std::mutex> l(mutex_);
              auto it = jobs_.find(id);
              if (it != jobs_.end()) it->second.record.progress = (index + std::clamp(f, 0.0, 1.0)) / stageCount;
            },
            cancelFlag);
        try {
          result = runner_.run(task, progress);
        } catch (...) {
          spool_.discardAttempt(task.outDir);
          throw;
        }
        spool_.commitAttempt(id, folder, task.outDir);
      }
      artifacts = spool_.stageArtifacts(id, folder);
    } catch (const Error& ex) {
      error = jobErrorText(ex.what());
      code = jobErrorCode(ex.kind());
      if (ex.kind() == ErrorKind::Cancelled) outcome = Outcome::Cancelled;
      else if (ex.kind() == ErrorKind::Input || ex.kind() == ErrorKind::Usage || ex.kind() == ErrorKind::Model)
        outcome = Outcome::Permanent;
      else if (device == "cuda" && isOutOfMemory(error)) outcome = Outcome::OutOfMemory;
      else outcome = Outcome::Transient;
    } catch (const std::bad_alloc&) {
      error = "out of memory";
      code = "internal";
      outcome = device == "cuda" ? Outcome::OutOfMemory : Outcome::Transient;
    } catch (const std::exception& ex) {
      error = jobErrorText(ex.what());
      code = "internal";
      outcome = (device == "cuda" && isOutOfMemory(error)) ? Outcome::OutOfMemory : Outcome::Transient;
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (observer_ && outcome == Outcome::Done)
      observer_->stageFinished(stage.kindName(), stage.kind == StageKind::Model ? stage.model : stage.kind == StageKind::Post ? stage.step : "-",
                               result.device.empty() ? device : result.device, seconds);

    lock.lock();
    Entry& cur = jobs_.at(id);
    cur.running = false;
    StageRecord& sr = cur.record.stages[static_cast<size_t>(index)];
    switch (outcome) {
      case Outcome::Done: {
        sr.done = true;
        sr.seconds = seconds;
        sr.device = result.device.empty() ? device : result.device;
        cur.stageFailures = 0;
        cur.record.artifacts.erase(std::remove_if(cur.record.artifacts.begin(), cur.record.artifacts.end(),
                                                  [&](const Artifact& a) { return a.stageFolder == sr.folder; }),
                                   cur.record.artifacts.end());
        cur.record.artifacts.insert(cur.record.artifacts.end(), artifacts.begin(), artifacts.end());
        cur.record.progress = double(index + 1) / stageCount;
        if (cur.userCancelled) {
          finishLocked(cur, JobState::Cancelled, "cancelled", "cancelled by the client");
        } else if (nextStage(cur) < 0) {
          finishLocked(cur, JobState::Succeeded, {}, {});
        } else {
          try {
            saveRecord(cur.record);
          } catch (const std::exception&) {
          }
        }
        break;
      }
      case Outcome::Cancelled:
        if (cur.userCancelled || !stopping_) {
          finishLocked(cur, JobState::Cancelled, "cancelled", "cancelled by the client");
        } else {
          cur.cancel->store(false);  // shutting down: the job runs again on the next start
        }
        break;
      case Outcome::Permanent: finishLocked(cur, JobState::Failed, code, error); break;
      case Outcome::OutOfMemory:
        cur.cpuStage = index;
        ++cpuFallbacks_;
        if (observer_) observer_->cpuFallback();
        break;
      case Outcome::Transient:
        if (cur.userCancelled) {
          finishLocked(cur, JobState::Cancelled, "cancelled", "cancelled by the client");
        } else if (++cur.stageFailures > options_.maxRetries) {
          finishLocked(cur, JobState::Failed, code, error);
        } else {
          cur.notBefore = unixNow() + options_.backoffSeconds * std::pow(2.0, cur.stageFailures - 1);
          ++retries_;
          if (observer_) observer_->retried();
        }
        break;
    }
    changed_.notify_all();
  }
}

}  // namespace nephro::jobs
