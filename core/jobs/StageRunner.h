#pragma once
// The seam between whoever decides what runs next (the local Scheduler, or a
// queue worker that takes stage messages) and whoever runs it.
//
// A stage runs from files alone: the job's spec (inputs are resolved paths),
// the folders of the stages before it, and an empty attempt folder to write
// into. It never sees another stage's memory, so any process that can read the
// spool can run any stage:
//
//   Spool spool(dir);                               // the same layout everywhere
//   JobRecord r = ...;                              // from spool.scan() or job.json
//   StageTask t = makeStageTask(spool, r, index, "cpu");
//   t.outDir = spool.beginAttempt(r.id, t.stages[index].folderName(index));
//   StageOutcome o = runner.run(t, progress);      // throws nephro::Error on failure
//   spool.commitAttempt(r.id, folder, t.outDir);    // first complete attempt wins
//
// Errors keep the engine's kinds: Input/Usage/Model are the request's fault and
// never retried; Cancelled stops the job; an "out of memory" on CUDA is rerun
// on the CPU; anything else (Output, Internal) is treated as transient.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Progress.h"
#include "jobs/JobSpec.h"

namespace nephro::jobs {

class Spool;
struct JobRecord;

struct StageTask {
  std::string jobId;
  JobSpec spec;
  std::vector<StageSpec> stages;
  size_t index = 0;
  std::string device = "cpu";             // "cpu" or "cuda"
  std::string outDir;                     // the attempt folder: every output goes here
  std::vector<std::string> earlierStages;  // finished folders of stages 0..index-1
  const StageSpec& stage() const { return stages.at(index); }
};

struct StageOutcome {
  std::string device;     // where it ran ("cpu", "cuda", "-" when no network)
  nlohmann::json record;  // what the stage wrote to stage.json
};

class StageRunner {
 public:
  virtual ~StageRunner() = default;
  virtual StageOutcome run(const StageTask& task, const Progress& progress) = 0;
  virtual int modelsLoaded() const { return 0; }
};

// The task for stage `index` of a job whose earlier stages are done.
StageTask makeStageTask(const Spool& spool, const JobRecord& record, size_t index, const std::string& device);

}  // namespace nephro::jobs
