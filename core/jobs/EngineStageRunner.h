#pragma once
// Runs job stages on the engine: models through the nnU-Net predictor (networks
// kept in a NetworkCache), post-processing through runPostOnCase, meshes through
// the label mesher, and a provenance report. What a stage leaves for the next
// one is in its folder: the mask with its label table, and stage.json naming it
// ({"layer": {"id", "phase", "mask"}}).
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "jobs/NetworkCache.h"
#include "jobs/StageRunner.h"
#include "pipeline/Case.h"

namespace nephro::jobs {

struct EngineRunnerOptions {
  uint64_t modelMemoryBytes = uint64_t(4096) << 20;
  int threads = 0;               // CPU threads for networks and meshes; 0 = every core
  std::string modelsDirectory;   // empty: modelsDir()
};

// Memory a loaded network is counted for in the cache: its fold files' size on
// disk, twice (the module and its inference-optimised copy).
uint64_t networkMemoryEstimate(const std::string& modelId, const std::string& modelsDirectory = {});

class EngineStageRunner : public StageRunner {
 public:
  explicit EngineStageRunner(EngineRunnerOptions options);
  StageOutcome run(const StageTask& task, const Progress& progress) override;
  int modelsLoaded() const override { return cache_.size(); }
  NetworkCache& cache() { return cache_; }

 private:
  StageOutcome runModel(const StageTask& task, const Progress& progress);
  StageOutcome runPost(const StageTask& task, const Progress& progress);
  StageOutcome runMesh(const StageTask& task, const Progress& progress);
  StageOutcome runReport(const StageTask& task, const Progress& progress);
  // The job's case (phases read once while the job's stages keep coming).
  std::shared_ptr<pipeline::Case> caseOf(const StageTask& task);

  EngineRunnerOptions options_;
  NetworkCache cache_;
  std::mutex contextMutex_;
  std::list<std::pair<std::string, std::shared_ptr<pipeline::Case>>> contexts_;  // most recent first
};

}  // namespace nephro::jobs
