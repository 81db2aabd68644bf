#pragma once
// Topology-preserving 3D thinning of a binary (26-connected foreground, 6-connected
// background) to a one-voxel-wide curve skeleton. Border voxels are peeled in six
// directional sub-iterations; a voxel is removed only if it is simple and not a
// curve end, so every component keeps its connectivity, holes and tips.
#include "common/Progress.h"
#include "image/Volume.h"

namespace nephro::post {

// `binary`: uint8, nonzero = foreground. Returns uint8 0/1 on the same grid.
Volume thinToCurves(const Volume& binary, const Progress& progress = {});

// True when the centre of a 3x3x3 neighbourhood (cube[13], x fastest) can be
// removed without changing the topology (26/6 connectivity).
bool isSimplePoint(const bool cube[27]);

}  // namespace nephro::post
