#include "image/Geometry.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace nephro {

Vec3 Geometry::indexToPhysical(const Vec3& ijk) const {
  Vec3 p = origin;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) p[r] += direction[r * 3 + c] * spacing[c] * ijk[c];
  return p;
}

Vec3 Geometry::physicalToIndex(const Vec3& lps) const {
  // direction is orthonormal in valid images, so its inverse is its transpose.
  Vec3 d{lps[0] - origin[0], lps[1] - origin[1], lps[2] - origin[2]};
  Vec3 ijk{0, 0, 0};
  for (int c = 0; c < 3; ++c) {
    double s = 0;
    for (int r = 0; r < 3; ++r) s += direction[r * 3 + c] * d[r];
    ijk[c] = s / spacing[c];
  }
  return ijk;
}

std::array<double, 16> Geometry::indexToPhysicalMatrix() const {
  std::array<double, 16> m{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) m[r * 4 + c] = direction[r * 3 + c] * spacing[c];
    m[r * 4 + 3] = origin[r];
  }
  m[15] = 1.0;
  return m;
}

double Geometry::determinant() const {
  const Mat3& d = direction;
  return d[0] * (d[4] * d[8] - d[5] * d[7]) - d[1] * (d[3] * d[8] - d[5] * d[6]) +
         d[2] * (d[3] * d[7] - d[4] * d[6]);
}

bool Geometry::operator==(const Geometry& o) const {
  return size == o.size && spacing == o.spacing && origin == o.origin && direction == o.direction;
}

bool Geometry::sameGrid(const Geometry& o, double tolerance) const {
  if (size != o.size) return false;
  double minSpacing = std::min({spacing[0], spacing[1], spacing[2]});
  for (int i = 0; i < 3; ++i) {
    if (std::abs(spacing[i] - o.spacing[i]) > tolerance * spacing[i]) return false;
    if (std::abs(origin[i] - o.origin[i]) > tolerance * minSpacing) return false;
  }
  for (int i = 0; i < 9; ++i)
    if (std::abs(direction[i] - o.direction[i]) > tolerance) return false;
  return true;
}

std::string Geometry::describe() const {
  std::ostringstream s;
  s.precision(10);
  s << size[0] << "x" << size[1] << "x" << size[2] << " spacing " << spacing[0] << "x" << spacing[1]
    << "x" << spacing[2] << " mm origin (" << origin[0] << ", " << origin[1] << ", " << origin[2]
    << ") direction (";
  for (int i = 0; i < 9; ++i) s << direction[i] << (i < 8 ? (i % 3 == 2 ? "; " : " ") : ")");
  return s.str();
}

}  // namespace nephro
