#include "post/PerirenalFat.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>

#include "common/Error.h"
#include "common/Parallel.h"
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
      {"min-kidney-island-ml", "Kidney islands below",
       "Pieces of a kidney label smaller than this, far from its kidneys, are ignored (0 = keep all)",
       ParameterKind::Number, 0.0, 50.0, 5.0, 0.5, "mL"},
      {"kidney-island-distance-mm", "Kidney islands farther than",
       "Distance from the kidney label's largest piece (or any piece of the island volume) beyond which a small piece is an island",
       ParameterKind::Number, 0.0, 200.0, 20.0, 1.0, "mm"},
  };
  return list;
}

bool FatParameters::set(const std::string& key, double value) {
  if (key == "distance-mm") distanceMm = value;
  else if (key == "hu-min") huMin = value;
  else if (key == "hu-max") huMax = value;
  else if (key == "closing-radius-mm") closingRadiusMm = value;
  else if (key == "working-spacing-mm") workingSpacingMm = value;
  else if (key == "min-kidney-island-ml") minKidneyIslandMl = value;
  else if (key == "kidney-island-distance-mm") kidneyIslandDistanceMm = value;
  else return false;
  return true;
}

double FatParameters::get(const std::string& key) const {
  if (key == "distance-mm") return distanceMm;
  if (key == "hu-min") return huMin;
  if (key == "hu-max") return huMax;
  if (key == "closing-radius-mm") return closingRadiusMm;
  if (key == "working-spacing-mm") return workingSpacingMm;
  if (key == "min-kidney-island-ml") return minKidneyIslandMl;
  if (key == "kidney-island-distance-mm") return kidneyIslandDistanceMm;
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

// The region's pad, rounded up to 5 mm so that a preparation serves nearby
// distances and closing radii (and the one-shot call uses the same region).
double regionPadMm(const FatParameters& p) {
  const double pad = p.distanceMm + p.closingRadiusMm + 2.0 * std::max(p.workingSpacingMm, 1.0);
  return std::ceil(pad / 5.0) * 5.0;
}

void checkParameters(const FatParameters& p, bool withCt) {
  if (!(p.distanceMm > 0)) throw usageError("fat distance must be positive");
  if (withCt && !(p.huMin < p.huMax)) throw usageError("fat HU window is empty");
}

}  // namespace

struct PreparedFat::State {
  // What the preparation is valid for.
  double padMm = 0;
  double workingSpacingMm = 0;
  std::vector<int> excludedParameter;
  double minIslandMl = 0, islandDistanceMm = 0;
  bool withCt = false;
  std::vector<KidneyIsland> removedIslands;

  Geometry maskGeometry;
  std::vector<Side> sides;
  std::vector<int> excluded;
  LabelTable outTable;
  std::vector<int> outValues;
  Box box;
  Geometry fine, work;
  Volume excludedW, excludedC;  // uint8 on the working and the mask grid
  Volume ctW, ctFine;           // float; empty without a CT
  // Per side: its parts' signed distance maps (kidney, then tumour), and per
  // working voxel the side's distance, its nearest part and whether the side
  // is (one of) the nearest.
  std::vector<std::vector<Volume>> partDistance;
  std::vector<std::vector<float>> sideDistance;
  std::vector<std::vector<uint8_t>> nearestPart, nearestSide;
  AxisSamplers axes;
};

double fatRegionPadMm(const FatParameters& p) { return regionPadMm(p); }

bool PreparedFat::validFor(const FatParameters& p) const {
  return state_ && state_->workingSpacingMm == p.workingSpacingMm && state_->excludedParameter == p.excludedLabels &&
         regionPadMm(p) == state_->padMm && state_->minIslandMl == p.minKidneyIslandMl &&
         state_->islandDistanceMm == p.kidneyIslandDistanceMm;
}

PreparedFat prepareFat(const Volume& mask, const LabelTable& table, const Volume* ct, const FatParameters& p,
                       const Progress& progress, const std::string& maskName, const std::string& ctName) {
  requireLabelImage(mask, maskName);
  if (ct) requireSameGrid(mask, *ct, maskName, ctName);
  checkParameters(p, ct != nullptr);
  auto st = std::make_shared<PreparedFat::State>();
  st->padMm = regionPadMm(p);
  st->workingSpacingMm = p.workingSpacingMm;
  st->excludedParameter = p.excludedLabels;
  st->minIslandMl = p.minKidneyIslandMl;
  st->islandDistanceMm = p.kidneyIslandDistanceMm;
  st->withCt = ct != nullptr;
  st->maskGeometry = mask.geometry();

  progress.report(0.0, "perirenal fat: labels");
  const std::vector<int> present = labelValuesPresent(mask);
  std::vector<Side>& sides = st->sides;
  for (const char* name : {"kidney_left", "kidney_right", "kidney"}) {
    auto v = table.valueOf(name);
    if (v && std::find(present.begin(), present.end(), *v) != present.end()) {
      std::string side = std::string(name).substr(6);  // "_left", "_right", ""
      sides.push_back({*v, "perirenal_fat" + side});
    }
  }
  if (sides.empty())
    throw inputError(maskName, "has no kidney label (kidney_left, kidney_right or kidney): perirenal fat needs one");
  // Small kidney pieces far from their kidney are no kidney here.
  std::vector<KidneyLabel> kidneys;
  for (const Side& s : sides) kidneys.push_back({table.find(s.kidneyValue)->name, s.kidneyValue});
  KidneyIslandRemoval islands = removeKidneyIslands(mask, kidneys, p.minKidneyIslandMl, p.kidneyIslandDistanceMm);
  st->removedIslands = islands.removed;
  const Volume& cleaned = islands.mask.empty() ? mask : islands.mask;
  const std::vector<int> tumor = presentValues(table, "tumor", present);
  const std::vector<int> fatValues = table.valuesMatching("perirenal_fat");
  std::vector<int>& excluded = st->excluded;
  excluded = p.excludedLabels;
  if (excluded.empty())
    for (int v : present)
      if (std::find(fatValues.begin(), fatValues.end(), v) == fatValues.end()) excluded.push_back(v);
  std::vector<int> objectValues = tumor;
  for (const Side& s : sides) objectValues.push_back(s.kidneyValue);
  for (int v : objectValues)
    if (std::find(excluded.begin(), excluded.end(), v) == excluded.end()) excluded.push_back(v);
  std::sort(excluded.begin(), excluded.end());
  for (const Side& s : sides) {
    LabelEntry e = table.findByName(s.fatName) ? *table.findByName(s.fatName)
                                                : LabelTable::schemaEntry(s.fatName, 0);
    if (e.value <= 0) e.value = LabelTable::caseSchema().valueOf(s.fatName).value_or(22);
    st->outTable.set(e);
    st->outValues.push_back(e.value);
  }

  // The region around the kidneys, wide enough for the band and the closing.
  st->box = padBoxMm(boundingBox(cleaned, objectValues), st->padMm, mask.geometry());
  const Volume maskC = crop(cleaned, st->box);
  st->fine = maskC.geometry();
  st->work = workingGrid(st->fine, p.workingSpacingMm);
  const Geometry& work = st->work;
  const Volume maskW = resampleToGrid(maskC, work, Interpolation::Nearest);
  if (ct) {
    st->ctFine = castVolume(crop(*ct, st->box), PixelType::Float32);
    st->ctW = resampleToGrid(st->ctFine, work, Interpolation::Linear, 0.0);
  }
  progress.throwIfCancelled();

  // Each tumour voxel belongs to the kidney it is nearest to. Each side has
  // parts: its kidney and (if any) its tumour, each with its own distance map.
  progress.report(0.1, "perirenal fat: distance maps");
  std::vector<Volume> kidneyDistance;
  for (const Side& s : sides) kidneyDistance.push_back(distanceToMm(binaryOf(maskW, {s.kidneyValue})));
  const Volume tumorW = binaryOf(maskW, tumor);
  auto& partDistance = st->partDistance;
  partDistance.resize(sides.size());
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
  const int64_t nw = work.voxelCount();
  st->sideDistance.assign(sides.size(), std::vector<float>(static_cast<size_t>(nw)));
  st->nearestPart.assign(sides.size(), std::vector<uint8_t>(static_cast<size_t>(nw)));
  st->nearestSide.assign(sides.size(), std::vector<uint8_t>(static_cast<size_t>(nw)));
  for (size_t s = 0; s < sides.size(); ++s) {
    std::vector<const float*> pd;
    for (const Volume& v : partDistance[s]) pd.push_back(v.data<float>());
    for (int64_t i = 0; i < nw; ++i) {
      float d = 1e30f;
      for (const float* v : pd) d = std::min(d, v[i]);
      st->sideDistance[s][i] = d;
      uint8_t best = 0;
      for (size_t q = 1; q < pd.size(); ++q)
        if (pd[q][i] < pd[best][i]) best = static_cast<uint8_t>(q);
      st->nearestPart[s][i] = best;
    }
  }
  for (size_t s = 0; s < sides.size(); ++s)
    for (int64_t i = 0; i < nw; ++i) {
      bool nearest = true;
      for (size_t q = 0; q < sides.size() && nearest; ++q)
        if (q != s && st->sideDistance[q][i] < st->sideDistance[s][i]) nearest = false;
      st->nearestSide[s][i] = nearest;
    }
  st->excludedW = binaryOf(maskW, excluded);
  st->excludedC = binaryOf(maskC, excluded);
  st->axes = axisSamplers(st->fine, work);
  progress.report(1.0, "perirenal fat: prepared");
  PreparedFat prepared;
  prepared.state_ = std::move(st);
  return prepared;
}

FatResult computePerirenalFat(const PreparedFat& prepared, const FatParameters& p, const Progress& progress) {
  if (!prepared.validFor(p))
    throw Error(ErrorKind::Internal, "perirenal fat prepared for other parameters (region, spacing or exclusions)");
  const PreparedFat::State& st = *prepared.state_;
  checkParameters(p, st.withCt);
  const std::vector<Side>& sides = st.sides;
  const Geometry& work = st.work;
  const Geometry& fine = st.fine;
  const int64_t nw = work.voxelCount();
  const uint8_t* ex = st.excludedW.data<uint8_t>();
  const double dMax = p.distanceMm;
  const double shellMm = 1.5 * std::max({work.spacing[0], work.spacing[1], work.spacing[2]});
  const bool withCt = st.withCt;

  // With a CT, the renal fascia limits the fat: it shows as a bump of the mean
  // HU against the distance from each part's surface. Without one (or when no
  // bump stands out) the distance parameter is the limit.
  std::vector<std::vector<double>> limit(sides.size());
  for (size_t s = 0; s < sides.size(); ++s) {
    const uint8_t* nearPart = st.nearestPart[s].data();
    const uint8_t* nearSide = st.nearestSide[s].data();
    for (size_t q = 0; q < st.partDistance[s].size(); ++q) {
      double cut = dMax;
      if (withCt) {
        const double binMm = 0.5;
        const int bins = static_cast<int>(std::ceil(dMax / binMm));
        std::vector<double> sum(bins, 0.0);
        std::vector<int64_t> count(bins, 0);
        const float* d = st.partDistance[s][q].data<float>();
        const float* hu = st.ctW.data<float>();
        for (int64_t i = 0; i < nw; ++i) {
          if (ex[i] || d[i] <= 0 || d[i] > dMax) continue;
          if (nearPart[i] != q || !nearSide[i]) continue;
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
  // The sides are independent: each in its own thread.
  std::vector<Volume> regions(sides.size());
  std::vector<Box> regionBoxes(sides.size());
  progress.report(0.0, "perirenal fat: region");
  parallelFor(static_cast<int64_t>(sides.size()), [&](int64_t sb, int64_t se) {
    for (int64_t s = sb; s < se; ++s) {
      const float* sd = st.sideDistance[s].data();
      const uint8_t* nearPart = st.nearestPart[s].data();
      const uint8_t* nearSide = st.nearestSide[s].data();
      Volume band(work, PixelType::UInt8);
      uint8_t* b = band.data<uint8_t>();
      for (int64_t i = 0; i < nw; ++i) {
        const float d = sd[i];
        b[i] = (d > 0 && d <= limit[s][nearPart[i]] && !ex[i] && nearSide[i]) ? 1 : 0;
      }
      Volume candidate = band.clone();
      if (withCt) {
        uint8_t* c = candidate.data<uint8_t>();
        const float* hu = st.ctW.data<float>();
        for (int64_t i = 0; i < nw; ++i) c[i] = c[i] && hu[i] >= p.huMin && hu[i] <= p.huMax;
      }
      int count = 0;
      Volume components = connectedComponents(candidate, &count, /*fullyConnected=*/false);
      std::vector<uint8_t> touches(static_cast<size_t>(count) + 1, 0);
      const int32_t* cc = components.data<int32_t>();
      for (int64_t i = 0; i < nw; ++i)
        if (cc[i] && sd[i] <= shellMm) touches[cc[i]] = 1;
      Volume kept(work, PixelType::UInt8);
      uint8_t* k = kept.data<uint8_t>();
      for (int64_t i = 0; i < nw; ++i) k[i] = (cc[i] && touches[cc[i]]) ? 1 : 0;
      progress.throwIfCancelled();
      // The closing fills noise holes inside what is kept, never beyond the band.
      if (withCt) {
        kept = closeMm(kept, p.closingRadiusMm);
        k = kept.data<uint8_t>();
        for (int64_t i = 0; i < nw; ++i) k[i] = k[i] && b[i];
      }
      regionBoxes[s] = boundingBox(kept, {1});
      Volume region(work, PixelType::Float32);
      float* r = region.data<float>();
      for (int64_t i = 0; i < nw; ++i) r[i] = k[i] ? 1.0f : 0.0f;
      regions[s] = std::move(region);
      progress.throwIfCancelled();
    }
  }, static_cast<unsigned>(sides.size()));
  // The working-grid box where any side's region is present.
  Box present;
  bool anyPresent = false;
  for (const Box& kb : regionBoxes) {
    if (kb.empty()) continue;
    for (int d = 0; d < 3; ++d) {
      present.begin[d] = anyPresent ? std::min(present.begin[d], kb.begin[d]) : kb.begin[d];
      present.end[d] = anyPresent ? std::max(present.end[d], kb.end[d]) : kb.end[d];
    }
    anyPresent = true;
  }

  // Back on the mask's grid: the region says where, fine labels, distances and
  // HU set the edges. Coarse maps are sampled trilinearly, and only where some
  // side's region is present: fine voxels whose interpolation cells touch it.
  progress.report(0.6, "perirenal fat: mask grid");
  Volume outC(fine, PixelType::UInt8);
  uint8_t* out = outC.data<uint8_t>();
  const uint8_t* exC = st.excludedC.data<uint8_t>();
  const AxisSamplers& axes = st.axes;
  std::vector<const float*> regionPtr;
  for (const Volume& r : regions) regionPtr.push_back(r.data<float>());
  std::vector<std::vector<const float*>> pd(sides.size());
  for (size_t s = 0; s < sides.size(); ++s)
    for (const Volume& v : st.partDistance[s]) pd[s].push_back(v.data<float>());
  const float* hu = withCt ? st.ctFine.data<float>() : nullptr;
  Index3 fineBegin{0, 0, 0}, fineEnd{0, 0, 0};
  if (anyPresent)
    for (int d = 0; d < 3; ++d) {
      fineBegin[d] = fine.size[d];
      for (int64_t i = 0; i < fine.size[d]; ++i) {
        const int64_t low = axes[d].low[i];
        if (low + 1 < present.begin[d] || low >= present.end[d]) continue;
        fineBegin[d] = std::min(fineBegin[d], i);
        fineEnd[d] = i + 1;
      }
    }
  // Slices in parallel: each voxel's decision is its own.
  std::atomic<int64_t> fatVoxels{0};
  parallelFor(fineEnd[2] - fineBegin[2], [&](int64_t kb, int64_t ke) {
    std::vector<float> inRegion(sides.size());
    int64_t found = 0;
    for (int64_t k = fineBegin[2] + kb; k < fineBegin[2] + ke; ++k) {
      progress.throwIfCancelled();
      for (int64_t j = fineBegin[1]; j < fineEnd[1]; ++j)
        for (int64_t i = fineBegin[0]; i < fineEnd[0]; ++i) {
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
          out[o] = static_cast<uint8_t>(st.outValues[best]);
          ++found;
        }
    }
    fatVoxels += found;
  });

  FatResult result;
  result.fat = Volume(st.maskGeometry, PixelType::UInt8);
  paste(outC, st.box, result.fat);
  result.table = st.outTable;
  result.excludedLabels = st.excluded;
  result.volumeMl = fatVoxels.load() * st.maskGeometry.voxelVolumeMm3() / 1000.0;
  for (size_t s = 0; s < sides.size(); ++s)
    for (size_t q = 0; q < limit[s].size(); ++q)
      result.limitsMm.push_back({sides[s].fatName, q == 0 ? "kidney" : "tumor", limit[s][q]});
  result.removedIslands = st.removedIslands;
  progress.report(1.0, "perirenal fat: done");
  return result;
}

FatResult computePerirenalFat(const Volume& mask, const LabelTable& table, const Volume* ct,
                              const FatParameters& p, const Progress& progress,
                              const std::string& maskName, const std::string& ctName) {
  const PreparedFat prepared = prepareFat(mask, table, ct, p, progress.sub(0.0, 0.5), maskName, ctName);
  return computePerirenalFat(prepared, p, progress.sub(0.5, 1.0));
}

}  // namespace nephro::post
