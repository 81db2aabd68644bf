#pragma once
// Gaps cut into the phantom's ground truth, as a model might miss them: slabs
// across each ureter (at S -10 and -60 mm) and across both renal arteries (at
// L -45 and +50 mm). The positions are fixed, so every program that uses them
// measures the same reconnection problem.
#include <cmath>
#include <cstdint>

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

}  // namespace nephro::bench
