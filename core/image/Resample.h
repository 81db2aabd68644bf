#pragma once
// Resampling a volume onto another grid (the coarse working grids of
// post-processing, P into A's space). Labels use nearest neighbour, intensities
// linear interpolation; voxels outside the source get `outsideValue`.
#include "image/Volume.h"

namespace nephro {

enum class Interpolation { Nearest, Linear };

Volume resampleToGrid(const Volume& in, const Geometry& target, Interpolation interpolation,
                      double outsideValue = 0.0);
// A grid over the same physical box as `g` with the given spacing.
Geometry regridWithSpacing(const Geometry& g, const Vec3& spacing);
// True when two grids share some physical space (their boxes intersect).
bool gridsOverlap(const Geometry& a, const Geometry& b);

}  // namespace nephro
