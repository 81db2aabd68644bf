#pragma once
// The physical placement of a voxel grid, in ITK's LPS patient coordinates:
// point = origin + direction * diag(spacing) * index.
#include <array>
#include <cstdint>
#include <string>

namespace nephro {

using Vec3 = std::array<double, 3>;
using Index3 = std::array<int64_t, 3>;
// Row-major 3x3; column c is the LPS direction of index axis c.
using Mat3 = std::array<double, 9>;

struct Geometry {
  Index3 size{0, 0, 0};
  Vec3 spacing{1.0, 1.0, 1.0};
  Vec3 origin{0.0, 0.0, 0.0};
  Mat3 direction{1, 0, 0, 0, 1, 0, 0, 0, 1};

  int64_t voxelCount() const { return size[0] * size[1] * size[2]; }
  int64_t offset(int64_t i, int64_t j, int64_t k) const { return i + size[0] * (j + size[1] * k); }
  bool contains(int64_t i, int64_t j, int64_t k) const {
    return i >= 0 && j >= 0 && k >= 0 && i < size[0] && j < size[1] && k < size[2];
  }

  // Continuous index (i, j, k) to LPS millimetres.
  Vec3 indexToPhysical(const Vec3& ijk) const;
  // LPS millimetres to continuous index.
  Vec3 physicalToIndex(const Vec3& lps) const;
  // 4x4 row-major index-to-LPS matrix.
  std::array<double, 16> indexToPhysicalMatrix() const;
  double voxelVolumeMm3() const { return spacing[0] * spacing[1] * spacing[2]; }
  double determinant() const;

  // Exact equality of every number.
  bool operator==(const Geometry& other) const;
  bool operator!=(const Geometry& other) const { return !(*this == other); }
  // Same grid up to `tolerance` (relative to spacing for origin, absolute for directions).
  bool sameGrid(const Geometry& other, double tolerance = 1e-4) const;

  // "128x128x96 spacing 2.5x2.5x3 origin (..) direction (..)"
  std::string describe() const;
};

}  // namespace nephro
