#pragma once
// Gaps cut into the phantom's ground truth, as a model might miss them: slabs
// across each ureter (at S -10 and -60 mm) and across both renal arteries (at
// L -45 and +50 mm). The positions are fixed, so every program that uses them
// measures the same reconnection problem.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "image/Volume.h"
#include "phantom/Phantom.h"

namespace nephro::bench {

enum PhantomGapStructures : unsigned { GapArteries = 1u, GapUreters = 2u };

// A copy of the uint8 phantom labels with the gaps cut into `structures`.
inline Volume withPhantomGaps(const Volume& labels, unsigned structures = GapArteries | GapUreters) {
  namespace pl = phantom_label;
  Volume cut = labels.clone();
  uint8_t* c = cut.data<uint8_t>();
  const Geometry& g = labels.geometry();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        const int64_t o = g.offset(i, j, k);
        const bool ureter = (structures & GapUreters) && (c[o] == pl::UreterLeft || c[o] == pl::UreterRight);
        const bool artery = (structures & GapArteries) && c[o] == pl::Artery;
        if (!ureter && !artery) continue;
        const Vec3 q = g.indexToPhysical({double(i), double(j), double(k)});
        if (ureter && (std::abs(q[2] + 10) < 4 || std::abs(q[2] + 60) < 3)) c[o] = 0;
        if (artery && (std::abs(q[0] + 45) < 3 || std::abs(q[0] - 50) < 2.5)) c[o] = 0;
      }
  return cut;
}

// Cuts a gap into the voxels of `labels` (uint8) whose value is in `values`:
// every such voxel within `halfLengthMm` of `centre` along `axis` (unit) and
// within `radiusMm` of the axis through `centre`. Returns the offsets cleared.
inline std::vector<int64_t> cutSlab(Volume& labels, const std::vector<int>& values, const Vec3& centre, const Vec3& axis,
                                    double halfLengthMm, double radiusMm) {
  std::vector<int64_t> removed;
  uint8_t* c = labels.data<uint8_t>();
  const Geometry& g = labels.geometry();
  const double reach = std::sqrt(halfLengthMm * halfLengthMm + radiusMm * radiusMm);
  const Vec3 ci = g.physicalToIndex(centre);
  Index3 lo, hi;
  for (int d = 0; d < 3; ++d) {
    lo[d] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(ci[d] - reach / g.spacing[d])) - 1);
    hi[d] = std::min<int64_t>(g.size[d] - 1, static_cast<int64_t>(std::ceil(ci[d] + reach / g.spacing[d])) + 1);
  }
  for (int64_t k = lo[2]; k <= hi[2]; ++k)
    for (int64_t j = lo[1]; j <= hi[1]; ++j)
      for (int64_t i = lo[0]; i <= hi[0]; ++i) {
        const int64_t o = g.offset(i, j, k);
        bool match = false;
        for (int v : values) match = match || c[o] == v;
        if (!match) continue;
        const Vec3 q = g.indexToPhysical({double(i), double(j), double(k)});
        const Vec3 d{q[0] - centre[0], q[1] - centre[1], q[2] - centre[2]};
        const double along = d[0] * axis[0] + d[1] * axis[1] + d[2] * axis[2];
        const double across2 = std::max(0.0, d[0] * d[0] + d[1] * d[1] + d[2] * d[2] - along * along);
        if (std::abs(along) <= halfLengthMm && across2 <= radiusMm * radiusMm) {
          c[o] = 0;
          removed.push_back(o);
        }
      }
  return removed;
}

}  // namespace nephro::bench
