#pragma once
// Core-internal helpers shared by the post-processing steps: binary masks from
// label sets, distance maps in millimetres, distance-based morphology,
// connected components and working grids.
#include <cstdint>
#include <string>
#include <vector>

#include "image/Crop.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"

namespace nephro::post::detail {

// Throws an input error naming `ctName` when the CT does not share the mask's grid.
void requireSameGrid(const Volume& mask, const Volume& ct, const std::string& maskName,
                     const std::string& ctName);
// Throws an input error when the mask is not an integer image.
void requireLabelImage(const Volume& mask, const std::string& maskName);

// Values of `table` named `name` or `name_*` that occur in `present`.
std::vector<int> presentValues(const LabelTable& table, const std::string& name,
                               const std::vector<int>& present);

// A lookup from label value to bool for fast per-voxel tests.
std::vector<uint8_t> valueSet(const std::vector<int>& values, int maxValue = 65535);

// uint8 0/1: voxels whose label is in `values`.
Volume binaryOf(const Volume& mask, const std::vector<int>& values);
// Number of nonzero voxels.
int64_t countNonzero(const Volume& binary);

// Signed Euclidean distance in mm to the surface of a uint8 binary (negative
// inside). A binary without foreground gives +1e6 everywhere.
Volume signedDistanceMm(const Volume& binary);
// Unsigned distance in mm to the nearest foreground voxel (0 inside).
Volume distanceToMm(const Volume& binary);

// Morphology with a ball of `radiusMm`, through distance maps (exact for any spacing).
Volume dilateMm(const Volume& binary, double radiusMm);
Volume erodeMm(const Volume& binary, double radiusMm);
Volume closeMm(const Volume& binary, double radiusMm);

// 26-connected components of a uint8 binary: int32 labels 1..count, sorted by size (1 largest).
Volume connectedComponents(const Volume& binary, int* count, bool fullyConnected = true);

// The mask's grid coarsened so that no axis is finer than `spacingMm` (axes
// already coarser keep their spacing). spacingMm <= 0 keeps the grid.
Geometry workingGrid(const Geometry& g, double spacingMm);

// Dice of two uint8 binaries on the same grid.
double dice(const Volume& a, const Volume& b);

}  // namespace nephro::post::detail
