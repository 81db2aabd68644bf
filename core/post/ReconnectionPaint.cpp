// Reconnection, stage 4: the choice among candidate bridges (greedy by cost,
// each end once, never a loop), painting the chosen ones as tubes, and the
// removal of fragments left unjoined when they are not to be kept.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "post/PostSupport.h"
#include "post/ReconnectionInternal.h"

namespace nephro::post::reconnection {

using namespace detail;

// Paints a tube along `path` into voxels of `labels` (int32, fine grid) that are
// background or a label the structure may run through (`paintable`).
int64_t paintTube(Volume& labels, const std::vector<Vec3>& path, double r0, double r1, int value,
                  const std::vector<uint8_t>& paintable, const Volume* ct, const HuWindow& window, int64_t* inLumen) {
  const Geometry& g = labels.geometry();
  int32_t* lab = labels.data<int32_t>();
  const float* hu = ct ? ct->data<float>() : nullptr;
  // The HU of a voxel averaged with its face neighbours: noise-robust enough
  // to clip the tube's rim to the lumen.
  auto smoothHu = [&](int64_t i, int64_t j, int64_t k) {
    double sum = hu[g.offset(i, j, k)];
    int n = 1;
    const int64_t step[6][3] = {{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
    for (const auto& s : step)
      if (g.contains(i + s[0], j + s[1], k + s[2])) sum += hu[g.offset(i + s[0], j + s[1], k + s[2])], ++n;
    return sum / n;
  };
  // Within the core the tube is always painted, so a bridge stays connected.
  const double core = 0.75 * minSpacing(g);
  if (inLumen) *inLumen = 0;
  const double total = std::max(pathLength(path), 1e-9);
  double along = 0;
  int64_t painted = 0;
  for (size_t q = 0; q < path.size(); ++q) {
    if (q) along += norm(sub(path[q], path[q - 1]));
    const double t = along / total;
    const double r = std::max(0.3 * minSpacing(g), r0 + (r1 - r0) * t);
    const Vec3 c = g.physicalToIndex(path[q]);
    // The voxel nearest the path is always painted: a tube thinner than a
    // voxel still leaves a 26-connected line.
    if (insideGrid(g, path[q])) {
      const int64_t off = nearestOffset(g, path[q]);
      const int32_t v = lab[off];
      if (v != value && (v == 0 || (v > 0 && v < static_cast<int32_t>(paintable.size()) && paintable[v]))) {
        lab[off] = value;
        ++painted;
        if (hu && inLumen) {
          const Vec3 ci = g.physicalToIndex(path[q]);
          *inLumen += window.contains(smoothHu(std::llround(std::clamp(ci[0], 0.0, double(g.size[0] - 1))),
                                               std::llround(std::clamp(ci[1], 0.0, double(g.size[1] - 1))),
                                               std::llround(std::clamp(ci[2], 0.0, double(g.size[2] - 1)))));
        }
      }
    }
    Index3 lo, hi;
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(c[d] - r / g.spacing[d])));
      hi[d] = std::min<int64_t>(g.size[d] - 1, static_cast<int64_t>(std::ceil(c[d] + r / g.spacing[d])));
    }
    for (int64_t k = lo[2]; k <= hi[2]; ++k)
      for (int64_t j = lo[1]; j <= hi[1]; ++j)
        for (int64_t i = lo[0]; i <= hi[0]; ++i) {
          const int64_t off = g.offset(i, j, k);
          const int32_t v = lab[off];
          if (v == value) continue;
          if (v != 0 && (v < 0 || v >= static_cast<int32_t>(paintable.size()) || !paintable[v])) continue;
          const Vec3 p = g.indexToPhysical({double(i), double(j), double(k)});
          const double d = norm(sub(p, path[q]));
          if (d > r) continue;
          if (hu) {
            const bool lumen = window.contains(smoothHu(i, j, k));
            if (!lumen && d > core) continue;
            if (inLumen) *inLumen += lumen;
          }
          lab[off] = value;
          ++painted;
        }
  }
  return painted;
}

void chooseAndPaint(const GroupPrep& gp, const Bridging& bridging, std::vector<Candidate>& candidates,
                    Volume& labelsFine, const ReconnectionParameters& p, ReconnectionResult& totals) {
  const Geometry& fine = labelsFine.geometry();
  const int maxLabel = gp.maxLabel;
  const std::vector<uint8_t>& isStructure = gp.isStructure;
  const std::vector<uint8_t>& isAnchor = gp.isAnchor;
  const std::vector<uint8_t>& isPassable = gp.isPassable;
  const std::vector<uint8_t>& isMain = gp.isMain;
  const std::vector<uint8_t>& isNoise = bridging.isNoise;
  const std::vector<End>& ends = bridging.ends;
  const int nc = gp.r.componentCount;
  const Group& grp = gp.grp;
  // Greedy by cost: each end bridged once, never closing a loop.
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return candidates[a].bridge.cost < candidates[b].bridge.cost; });
  UnionFind sets(nc + 1);
  std::vector<uint8_t> endUsed(ends.size(), 0);
  for (size_t idx : order) {
    Candidate& cd = candidates[idx];
    if (!cd.viable) continue;
    if (endUsed[cd.fromEnd] || (cd.toEnd >= 0 && endUsed[cd.toEnd])) {
      cd.bridge.decision = "rejected: end already bridged";
      continue;
    }
    if (sets.find(cd.bridge.fromComponent) == sets.find(cd.bridge.toComponent)) {
      cd.bridge.decision = "rejected: already connected";
      continue;
    }
    sets.unite(cd.bridge.fromComponent, cd.bridge.toComponent);
    endUsed[cd.fromEnd] = 1;
    if (cd.toEnd >= 0) endUsed[cd.toEnd] = 1;
    const int value = grp.ownLabels ? gp.componentLabel[cd.bridge.fromComponent] : grp.paintValue;
    const Volume* ct = gp.ctFine.empty() ? nullptr : &gp.ctFine;
    int64_t inLumen = 0;
    cd.bridge.voxelsPainted = paintTube(labelsFine, cd.path, p.radiusScale * cd.radiusFrom, p.radiusScale * cd.radiusTo,
                                        value, isPassable, ct, cd.window, &inLumen);
    if (ct) cd.bridge.lumenFraction = cd.bridge.voxelsPainted ? double(inLumen) / cd.bridge.voxelsPainted : 1.0;
    cd.bridge.decision = "bridged";
    totals.voxelsPainted += cd.bridge.voxelsPainted;
  }

  // Fragments joined to the main tree now.
  std::vector<uint8_t> mainSet(nc + 1, 0);
  for (int c = 1; c <= nc; ++c)
    if (isMain[c]) mainSet[sets.find(c)] = 1;
  for (int c = 1; c <= nc; ++c) {
    if (isMain[c] || isNoise[c]) continue;
    if (mainSet[sets.find(c)]) ++totals.joined;
  }

  // Unjoined fragments (and noise) go when they are not to be kept.
  if (!p.keepUnjoined) {
    int32_t* lf = labelsFine.data<int32_t>();
    Volume sFine(fine, PixelType::UInt8), saFine(fine, PixelType::UInt8);
    uint8_t* psf = sFine.data<uint8_t>();
    uint8_t* psaf = saFine.data<uint8_t>();
    std::vector<uint8_t> anchorFine(fine.voxelCount(), 0);
    for (int64_t i = 0; i < fine.voxelCount(); ++i) {
      const int v = lf[i];
      if (v <= 0 || v > maxLabel) continue;
      psf[i] = isStructure[v];
      anchorFine[i] = isAnchor[v];
      psaf[i] = isStructure[v] || isAnchor[v];
    }
    int count = 0;
    Volume cc = connectedComponents(saFine, &count);
    const int32_t* pc = cc.data<int32_t>();
    std::vector<uint8_t> keep(count + 1, 0);
    bool anyAnchor = false;
    for (int64_t i = 0; i < fine.voxelCount(); ++i)
      if (pc[i] && anchorFine[i]) keep[pc[i]] = 1, anyAnchor = true;
    if (!anyAnchor && count >= 1) keep[1] = 1;  // the largest
    std::vector<uint8_t> dropped(count + 1, 0);
    for (int64_t i = 0; i < fine.voxelCount(); ++i)
      if (psf[i] && !keep[pc[i]]) {
        lf[i] = 0;
        dropped[pc[i]] = 1;
      }
    for (int c = 1; c <= count; ++c) totals.removed += dropped[c];
  }
}

}  // namespace nephro::post::reconnection
