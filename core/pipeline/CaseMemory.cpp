#include "pipeline/CaseMemory.h"

#include <filesystem>
#include <map>

#include "common/Error.h"
#include "common/MemoryBudget.h"
#include "image/VolumeIO.h"
#include "inference/ModelRegistry.h"

namespace nephro::pipeline {

CaseMemoryEstimate estimateCaseMemory(const Case& c, const std::vector<std::string>& phases,
                                      const std::vector<ModelOnPhase>& models) {
  CaseMemoryEstimate e;
  std::map<std::string, Geometry> grids;
  for (const std::string& ph : phases) {
    std::string path;
    try {
      path = c.file(ph);
    } catch (const Error&) {  // a phase given in memory
      e.known = false;
      continue;
    }
    if (std::filesystem::is_directory(path)) {  // a DICOM folder: its size needs the whole series
      e.known = false;
      continue;
    }
    const ImageInfo info = readImageInfo(path);
    grids[ph] = info.geometry;
    e.phaseBytes += double(info.geometry.voxelCount()) * double(bytesPerVoxel(info.pixelType));
  }
  for (const ModelOnPhase& m : models) {
    auto it = grids.find(m.outputPhase);
    if (it == grids.end() || !m.model) continue;
    const double bytes = inference::estimateMemoryBytes(*m.model, it->second.size, it->second.spacing);
    if (bytes > e.modelBytes) {
      e.modelBytes = bytes;
      e.largestModel = m.id;
    }
  }
  e.totalBytes = e.phaseBytes + e.modelBytes;
  const MemoryBudget budget = memoryBudget();
  e.availableBytes = double(budget.availableBytes);
  e.availableSource = budget.source;
  return e;
}

void checkCaseFitsInMemory(const Case& c, const std::vector<std::string>& phases, const std::vector<ModelOnPhase>& models) {
  const CaseMemoryEstimate e = estimateCaseMemory(c, phases, models);
  if (!e.known || e.availableBytes <= 0 || e.totalBytes <= e.availableBytes) return;
  throw inputError(c.name(), "needs about " + formatGigabytes(e.totalBytes) + " (phases " + formatGigabytes(e.phaseBytes) +
                                 " + model " + e.largestModel + " " + formatGigabytes(e.modelBytes) + "), more than the " +
                                 formatGigabytes(e.availableBytes) + " available (" + e.availableSource +
                                 "); run fewer models at once or on a machine with more memory");
}

}  // namespace nephro::pipeline
