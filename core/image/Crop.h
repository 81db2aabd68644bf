#pragma once
// Index-space boxes and crops: the smallest region an algorithm needs.
#include <vector>

#include "image/Volume.h"

namespace nephro {

struct Box {
  Index3 begin{0, 0, 0};  // inclusive
  Index3 end{0, 0, 0};    // exclusive
  bool empty() const { return end[0] <= begin[0] || end[1] <= begin[1] || end[2] <= begin[2]; }
  Index3 size() const { return {end[0] - begin[0], end[1] - begin[1], end[2] - begin[2]}; }
};

// Bounding box of voxels whose value is in `values` (all nonzero voxels if empty).
Box boundingBox(const Volume& mask, const std::vector<int>& values = {});
// Grows a box by `pad` voxels on each side, clipped to the grid.
Box padBox(const Box& box, int64_t pad, const Geometry& g);
Box padBoxMm(const Box& box, double padMm, const Geometry& g);
// The sub-volume in `box`; its geometry places it exactly where it was.
Volume crop(const Volume& in, const Box& box);
// Writes `part` (a crop of `into`'s grid starting at box.begin) back into `into`.
void paste(const Volume& part, const Box& box, Volume& into);

}  // namespace nephro
