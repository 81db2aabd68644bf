#include "post/PerirenalFat.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "common/Error.h"
#include "image/Crop.h"
#include "image/Resample.h"
#include "post/PostSupport.h"

namespace nephro::post {

using namespace detail;

const std::vector<ParameterInfo>& FatParameters::describe() {
  static const std::vector<ParameterInfo> list = {
      {"distance-mm", "Distance", "Largest distance of fat from the kidney and tumour surface",
       ParameterKind::Number, 2.0, 60.0, 20.0, 0.5, "mm"},
      {"hu-min", "Lowest fat HU", "Lower end of the fat window (used with a CT only)",
       ParameterKind::Number, -400.0, 0.0, -190.0, 5.0, "HU"},
      {"hu-max", "Highest fat HU", "Upper end of the fat window (used with a CT only)",
       ParameterKind::Number, -150.0, 100.0, -30.0, 5.0, "HU"},
      {"excluded-labels", "Excluded labels",
       "Label values never counted as fat (empty: every label present except perirenal fat)",
       ParameterKind::LabelList, 0.0, 65535.0, 0.0, 1.0, ""},
      {"closing-radius-mm", "Closing radius", "Radius of the closing that fills holes in the fat",
       ParameterKind::Number, 0.0, 10.0, 3.0, 0.5, "mm"},
      {"working-spacing-mm", "Working spacing",
       "Grid spacing of the distance map and closing (0 = the mask's)", ParameterKind::Number, 0.0,
       5.0, 2.0, 0.25, "mm"},
  };
  return list;
}

bool FatParameters::set(const std::string& key, double value) {
  if (key == "distance-mm") distanceMm = value;
  else if (key == "hu-min") huMin = value;
  else if (key == "hu-max") huMax = value;
  else if (key == "closing-radius-mm") closingRadiusMm = value;
  else if (key == "working-spacing-mm") workingSpacingMm = value;
  else return false;
  return true;
}

double FatParameters::get(const std::string& key) const {
  if (key == "distance-mm") return distanceMm;
  if (key == "hu-min") return huMin;
  if (key == "hu-max") return huMax;
  if (key == "closing-radius-mm") return closingRadiusMm;
  if (key == "working-spacing-mm") return workingSpacingMm;
  throw usageError("unknown fat parameter '" + key + "'");
}

namespace {

struct Side {
  int kidneyValue;
  std::string fatName;
};

// Trilinear sampling of a working-grid map at the voxels of the finer grid it
// was made from: both grids share their axes, so each axis maps on its own.
struct AxisSampler {
  std::vector<int64_t> low;
  std::vector<float> weight;  // of the upper neighbour
};
using AxisSamplers = std::array<AxisSampler, 3>;

AxisSamplers axisSamplers(const Geometry& fine, const Geometry& work) {
  AxisSamplers axes;
  for (int d = 0; d < 3; ++d) {
    for (int64_t i = 0; i < fine.size[d]; ++i) {
      Vec3 idx{0, 0, 0};
      idx[d] = static_cast<double>(i);
      const double c = std::clamp(work.physicalToIndex(fine.indexToPhysical(idx))[d], 0.0,
                                  static_cast<double>(work.size[d] - 1));
      const int64_t low = std::min<int64_t>(static_cast<int64_t>(std::floor(c)), std::max<int64_t>(work.size[d] - 2, 0));
      axes[d].low.push_back(low);
      axes[d].weight.push_back(work.size[d] > 1 ? static_cast<float>(c - low) : 0.0f);
    }
  }
  return axes;
}

inline float sampleTrilinear(const float* map, const Geometry& work, const AxisSamplers& axes, int64_t i, int64_t j,
                             int64_t k) {
  const int64_t x = axes[0].low[i], y = axes[1].low[j], z = axes[2].low[k];
  const float fx = axes[0].weight[i], fy = axes[1].weight[j], fz = axes[2].weight[k];
  const int64_t sx = work.size[0] > 1 ? 1 : 0, sy = work.size[1] > 1 ? work.size[0] : 0,
                sz = work.size[2] > 1 ? work.size[0] * work.size[1] : 0;
  const float* p = map + work.offset(x, y, z);
  const float c00 = p[0] + fx * (p[sx] - p[0]);
  const float c10 = p[sy] + fx * (p[sy + sx] - p[sy]);
  const float c01 = p[sz] + fx * (p[sz + sx] - p[sz]);
  const float c11 = p[sz + sy] + fx * (p[sz + sy + sx] - p[sz + sy]);
  const float c0 = c00 + fy * (c10 - c00);
  const float c1 = c01 + fy * (c11 - c01);
  return c0 + fz * (c1 - c0);
}

}  // namespace

FatResult computePerirenalFat(const Volume& mask, const LabelTable& table, const Volume* ct,
                              const FatParameters& p, const Progress& progress,
                              const std::string& maskName, const std::string& ctName) {
  requireLabelImage(mask, maskName);
  if (ct) requireSameGrid(mask, *ct, maskName, ctName);
  if (!(p.distanceMm > 0)) throw usageError("fat distance must be positive");
  if (ct && !(p.huMin < p.huMax)) throw usageError("fat HU window is empty");

  progress.report(0.0, "perirenal fat: labels");
  const std::vector<int> present = labelValuesPresent(mask);
  std::vector<Side> sides;
  for (const char* name : {"kidney_left", "kidney_right", "kidney"}) {
    auto v = table.valueOf(name);
    if (v && std::find(present.begin(), present.end(), *v) != present.end()) {
      std::string side = std::string(name).substr(6);  // "_left", "_right", ""
      sides.push_back({*v, "perirenal_fat" + side});
    }
  }
  if (sides.empty())
    throw inputError(maskName, "has no kidney label (kidney_left, kidney_right or kidney): perirenal fat needs one");
  const std::vector<int> tumor = presentValues(table, "tumor", present);
  const std::vector<int> fatValues = table.valuesMatching("perirenal_fat");
  std::vector<int> excluded = p.excludedLabels;
  if (excluded.empty())
    for (int v : present)
      if (std::find(fatValues.begin(), fatValues.end(), v) == fatValues.end()) excluded.push_back(v);
  std::vector<int> objectValues = tumor;
  for (const Side& s : sides) objectValues.push_back(s.kidneyValue);
  for (int v : objectValues)
    if (std::find(excluded.begin(), excluded.end(), v) == excluded.end()) excluded.push_back(v);
  std::sort(excluded.begin(), excluded.end());

  // The region around the kidneys, wide enough for the band and the closing.
  const double padMm = p.distanceMm + p.closingRadiusMm + 2.0 * std::max(p.workingSpacingMm, 1.0);
  const Box box = padBoxMm(boundingBox(mask, objectValues), padMm, mask.geometry());
  const Volume maskC = crop(mask, box);
  const Geometry& fine = maskC.geometry();
  const Geometry work = workingGrid(fine, p.workingSpacingMm);
  const Volume maskW = resampleToGrid(maskC, work, Interpolation::Nearest);
  Volume ctC, ctW;
  if (ct) {
    ctC = crop(*ct, box);
    ctW = resampleToGrid(castVolume(ctC, PixelType::Float32), work, Interpolation::Linear, 0.0);
  }
  progress.throwIfCancelled();

  // Each tumour voxel belongs to the kidney it is nearest to. Each side has
  // parts: its kidney and (if any) its tumour, each with its own distance map.
  progress.report(0.1, "perirenal fat: distance maps");
  std::vector<Volume> kidneyDistance;
  for (const Side& s : sides) kidneyDistance.push_back(distanceToMm(binaryOf(maskW, {s.kidneyValue})));
  const Volume tumorW = binaryOf(maskW, tumor);
  std::vector<std::vector<Volume>> partDistance(sides.size());
  for (size_t s = 0; s < sides.size(); ++s) {
    partDistance[s].push_back(signedDistanceMm(binaryOf(maskW, {sides[s].kidneyValue})));
    Volume own = tumorW.like(PixelType::UInt8);
    uint8_t* o = own.data<uint8_t>();
    const uint8_t* t = tumorW.data<uint8_t>();
    int64_t n = 0;
    for (int64_t i = 0; i < own.voxelCount(); ++i) {
      if (!t[i]) continue;
      bool nearest = true;
      for (size_t q = 0; q < sides.size(); ++q)
        if (q != s && kidneyDistance[q].data<float>()[i] < kidneyDistance[s].data<float>()[i]) nearest = false;
      if (nearest) o[i] = 1, ++n;
    }
    if (n) partDistance[s].push_back(signedDistanceMm(own));
    progress.throwIfCancelled();
  }
  std::vector<std::vector<const float*>> pd(sides.size());
  for (size_t s = 0; s < sides.size(); ++s)
    for (const Volume& v : partDistance[s]) pd[s].push_back(v.data<float>());
  auto sideDistance = [&](size_t s, int64_t i) {
    float d = 1e30f;
    for (const float* v : pd[s]) d = std::min(d, v[i]);
    return d;
  };
  auto nearestPart = [&](size_t s, int64_t i) {
    size_t best = 0;
    for (size_t q = 1; q < pd[s].size(); ++q)
      if (pd[s][q][i] < pd[s][best][i]) best = q;
    return best;
  };
  auto nearestSide = [&](size_t s, int64_t i) {
    const float d = sideDistance(s, i);
    for (size_t q = 0; q < sides.size(); ++q)
      if (q != s && sideDistance(q, i) < d) return false;
    return true;
  };

  const Volume excludedW = binaryOf(maskW, excluded);
  const uint8_t* ex = excludedW.data<uint8_t>();
  const double dMax = p.distanceMm;
  const double shellMm = 1.5 * std::max({work.spacing[0], work.spacing[1], work.spacing[2]});

  // With a CT, the renal fascia limits the fat: it shows as a bump of the mean
  // HU against the distance from each part's surface. Without one (or when no
  // bump stands out) the distance parameter is the limit.
  std::vector<std::vector<double>> limit(sides.size());
  for (size_t s = 0; s < sides.size(); ++s) {
    for (size_t q = 0; q < partDistance[s].size(); ++q) {
      double cut = dMax;
      if (ct) {
        const double binMm = 0.5;
        const int bins = static_cast<int>(std::ceil(dMax / binMm));
        std::vector<double> sum(bins, 0.0);
        std::vector<int64_t> count(bins, 0);
        const float* d = partDistance[s][q].data<float>();
        const float* hu = ctW.data<float>();
        for (int64_t i = 0; i < maskW.voxelCount(); ++i) {
          if (ex[i] || d[i] <= 0 || d[i] > dMax) continue;
          if (nearestPart(s, i) != q || !nearestSide(s, i)) continue;
          const int b = std::min(bins - 1, static_cast<int>(d[i] / binMm));
          sum[b] += hu[i];
          ++count[b];
        }
        std::vector<double> profile(bins, std::nan(""));
        for (int b = 0; b < bins; ++b)
          if (count[b] >= 10) profile[b] = sum[b] / count[b];
        for (int pass = 0; pass < 2; ++pass) {
          std::vector<double> sm = profile;
          for (int b = 1; b + 1 < bins; ++b)
            if (!std::isnan(profile[b - 1]) && !std::isnan(profile[b]) && !std::isnan(profile[b + 1]))
              sm[b] = 0.25 * profile[b - 1] + 0.5 * profile[b] + 0.25 * profile[b + 1];
          profile.swap(sm);
        }
        // The first bump that rises clearly above the fat nearer the surface;
        // the fascia's centre is the top of that bump.
        const int first = static_cast<int>(2.0 / binMm);
        const double minimumBumpHu = 15.0;
        double lowest = std::numeric_limits<double>::infinity();
        int peak = -1;
        for (int b = first; b < bins; ++b) {
          if (std::isnan(profile[b])) continue;
          lowest = std::min(lowest, profile[b]);
          if (profile[b] - lowest >= minimumBumpHu) {
            peak = b;
            while (peak + 1 < bins && !std::isnan(profile[peak + 1]) && profile[peak + 1] >= profile[peak]) ++peak;
            break;
          }
        }
        if (peak > 0 && peak + 1 < bins) cut = (peak + 0.5) * binMm;
      }
      limit[s].push_back(cut);
    }
  }
  progress.throwIfCancelled();

  // Coarse fat region per side: inside the limit, not excluded, fat HU, connected
  // to the kidney, closed.
  std::vector<Volume> regions;
  for (size_t s = 0; s < sides.size(); ++s) {
    progress.report(0.3 + 0.3 * s / sides.size(), "perirenal fat: region");
    Volume band = maskW.like(PixelType::UInt8);
    uint8_t* b = band.data<uint8_t>();
    for (int64_t i = 0; i < band.voxelCount(); ++i) {
      const float d = sideDistance(s, i);
      b[i] = (d > 0 && d <= limit[s][nearestPart(s, i)] && !ex[i] && nearestSide(s, i)) ? 1 : 0;
    }
    Volume candidate = band.clone();
    if (ct) {
      uint8_t* c = candidate.data<uint8_t>();
      const float* hu = ctW.data<float>();
      for (int64_t i = 0; i < candidate.voxelCount(); ++i)
        c[i] = c[i] && hu[i] >= p.huMin && hu[i] <= p.huMax;
    }
    int count = 0;
    Volume components = connectedComponents(candidate, &count, /*fullyConnected=*/false);
    std::vector<uint8_t> touches(static_cast<size_t>(count) + 1, 0);
    const int32_t* cc = components.data<int32_t>();
    for (int64_t i = 0; i < components.voxelCount(); ++i)
      if (cc[i] && sideDistance(s, i) <= shellMm) touches[cc[i]] = 1;
    Volume kept = candidate.like(PixelType::UInt8);
    uint8_t* k = kept.data<uint8_t>();
    for (int64_t i = 0; i < kept.voxelCount(); ++i) k[i] = (cc[i] && touches[cc[i]]) ? 1 : 0;
    // The closing fills noise holes inside what is kept, never beyond the band.
    if (ct) {
      kept = closeMm(kept, p.closingRadiusMm);
      k = kept.data<uint8_t>();
      for (int64_t i = 0; i < kept.voxelCount(); ++i) k[i] = k[i] && b[i];
    }
    Volume region = candidate.like(PixelType::Float32);
    float* r = region.data<float>();
    for (int64_t i = 0; i < region.voxelCount(); ++i) r[i] = k[i] ? 1.0f : 0.0f;
    regions.push_back(std::move(region));
    progress.throwIfCancelled();
  }

  // Back on the mask's grid: the region says where, fine labels, distances and
  // HU set the edges. Coarse maps are sampled trilinearly, and only where some
  // side's region is present.
  progress.report(0.6, "perirenal fat: mask grid");
  Volume outC = maskC.like(PixelType::UInt8);
  uint8_t* out = outC.data<uint8_t>();
  const Volume excludedC = binaryOf(maskC, excluded);
  const uint8_t* exC = excludedC.data<uint8_t>();
  const AxisSamplers axes = axisSamplers(fine, work);
  std::vector<const float*> regionPtr;
  for (const Volume& r : regions) regionPtr.push_back(r.data<float>());
  LabelTable outTable;
  std::vector<int> outValues;
  for (const Side& s : sides) {
    LabelEntry e = table.findByName(s.fatName) ? *table.findByName(s.fatName)
                                                : LabelTable::schemaEntry(s.fatName, 0);
    if (e.value <= 0) e.value = LabelTable::caseSchema().valueOf(s.fatName).value_or(22);
    outTable.set(e);
    outValues.push_back(e.value);
  }
  Volume ctFloat;
  const float* hu = nullptr;
  if (ct) {
    ctFloat = castVolume(ctC, PixelType::Float32);
    hu = ctFloat.data<float>();
  }
  int64_t fatVoxels = 0;
  std::vector<float> inRegion(sides.size());
  for (int64_t k = 0; k < fine.size[2]; ++k) {
    progress.throwIfCancelled();
    for (int64_t j = 0; j < fine.size[1]; ++j)
      for (int64_t i = 0; i < fine.size[0]; ++i) {
        const int64_t o = fine.offset(i, j, k);
        if (exC[o]) continue;
        float most = 0;
        for (size_t s = 0; s < sides.size(); ++s) {
          inRegion[s] = sampleTrilinear(regionPtr[s], work, axes, i, j, k);
          most = std::max(most, inRegion[s]);
        }
        if (most < 0.5f) continue;
        int best = -1;
        float bestD = 0;
        double bestLimit = 0;
        for (size_t s = 0; s < sides.size(); ++s)
          for (size_t q = 0; q < pd[s].size(); ++q) {
            const float d = sampleTrilinear(pd[s][q], work, axes, i, j, k);
            if (best < 0 || d < bestD) {
              best = static_cast<int>(s);
              bestD = d;
              bestLimit = limit[s][q];
            }
          }
        if (best < 0 || bestD <= 0 || bestD > bestLimit) continue;
        if (inRegion[best] < 0.5f) continue;
        // Where the coarse region is only partly present, the fine HU decides.
        if (hu && inRegion[best] < 0.999f && (hu[o] < p.huMin || hu[o] > p.huMax)) continue;
        out[o] = static_cast<uint8_t>(outValues[best]);
        ++fatVoxels;
      }
  }

  FatResult result;
  result.fat = mask.like(PixelType::UInt8);
  paste(outC, box, result.fat);
  result.table = outTable;
  result.excludedLabels = excluded;
  result.volumeMl = fatVoxels * mask.geometry().voxelVolumeMm3() / 1000.0;
  for (size_t s = 0; s < sides.size(); ++s)
    for (size_t q = 0; q < limit[s].size(); ++q)
      result.limitsMm.push_back({sides[s].fatName, q == 0 ? "kidney" : "tumor", limit[s][q]});
  progress.report(1.0, "perirenal fat: done");
  return result;
}

}  // namespace nephro::post
