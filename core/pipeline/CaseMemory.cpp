#include "pipeline/CaseMemory.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/Error.h"
#include "common/MemoryBudget.h"
#include "image/DicomSeriesCheck.h"
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
    if (std::filesystem::is_directory(path)) {
      // A DICOM folder: the series check's headers give the grid (missing slices
      // included when they are to be filled); no pixel data is read.
      const DicomSeriesPlan plan = planDicomSeries(path, {}, c.allowGaps());
      Geometry g;
      g.size = {plan.columns, plan.rows, plan.gridSlices};
      g.spacing = {plan.pixelSpacing[1] > 0 ? plan.pixelSpacing[1] : 1.0, plan.pixelSpacing[0] > 0 ? plan.pixelSpacing[0] : 1.0,
                   plan.spacing > 0 ? plan.spacing : 1.0};
      grids[ph] = g;
      // Stored integers are read as at least 16 bits (rescaled CT values).
      const double bytes = double(std::max(2, (plan.bitsAllocated + 7) / 8) * std::max(1, plan.samplesPerPixel));
      e.phaseBytes += double(g.voxelCount()) * bytes;
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
