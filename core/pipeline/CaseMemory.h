#pragma once
// Up-front memory check of a run: the phases a case holds plus the largest
// model's estimated working set, against what the process may use
// (MemoryBudget). Refused before any phase is read or network runs, so the
// kernel never has to kill the engine half-way.
#include <string>
#include <vector>

#include "inference/NnunetModel.h"
#include "pipeline/Case.h"

namespace nephro::pipeline {

struct ModelOnPhase {
  const inference::NnunetModel* model = nullptr;
  std::string id;
  std::string outputPhase;  // the phase whose grid the model works on
};

struct CaseMemoryEstimate {
  double phaseBytes = 0;           // voxel bytes of every phase read
  double modelBytes = 0;           // the largest model's estimate
  std::string largestModel;
  double totalBytes = 0;
  double availableBytes = 0;
  std::string availableSource;
  bool known = true;               // false when a phase's size cannot be told (a phase given in memory)
};

CaseMemoryEstimate estimateCaseMemory(const Case& c, const std::vector<std::string>& phases,
                                      const std::vector<ModelOnPhase>& models);
// Throws an input error naming the case when the estimate exceeds the memory available.
void checkCaseFitsInMemory(const Case& c, const std::vector<std::string>& phases, const std::vector<ModelOnPhase>& models);

}  // namespace nephro::pipeline
