#pragma once
// A folder of cases: each sub-folder of IN is one case (phase naming as in
// Case.h); results go to OUT/<case>/. A case whose OUT/<case>/provenance.json
// exists is finished and skipped, so a killed batch resumes where it stopped.
// OUT/summary.csv lists every case with its status (a shard writes
// OUT/summary.shard-I-of-N.csv instead, see BatchShard.h). Each network is
// loaded once per batch and kept for every case.
#include <functional>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "pipeline/BatchShard.h"
#include "pipeline/CaseRunner.h"

namespace nephro::pipeline {

struct BatchOptions {
  std::vector<std::string> models;  // empty: every registered model each case can run
  ModelRunOptions run;
  CaseSteps steps;  // post-processing and meshes after each case's models
  ShardSpec shard;  // run only this shard's cases (BatchShard.h); summary.shard-I-of-N.csv
  bool allowGaps = false;  // DICOM phases with missing slices: interpolated (in provenance) instead of refused
};

struct BatchCaseResult {
  std::string name;
  std::string status;  // "done", "skipped" (finished earlier) or "failed"
  std::string models;
  double seconds = 0;
  std::string message;
};

struct BatchSummary {
  std::vector<BatchCaseResult> cases;
  int done = 0, skipped = 0, failed = 0;
  std::string csvPath;
};

// Sub-folders of `inputDir` that hold at least one phase image, sorted by name.
std::vector<std::string> findCaseFolders(const std::string& inputDir);

// `log` receives one line per case. Cancellation stops between cases (and
// inside a case between tiles) and leaves finished cases intact.
BatchSummary runBatch(const std::string& inputDir, const std::string& outputDir, const BatchOptions& options,
                      const Progress& progress = {}, const std::function<void(const std::string&)>& log = {});

}  // namespace nephro::pipeline
