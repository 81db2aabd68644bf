#pragma once
// Analytic shapes voxelised into label masks, and mesh measurements, for the
// mesh tests and benchmark.
#include <cmath>
#include <unordered_map>

#include <vtkCellArray.h>
#include <vtkFeatureEdges.h>
#include <vtkNew.h>
#include <vtkPolyData.h>

#include "image/Volume.h"

namespace nephro::test {

// A rotation by `degrees` about the axis (x, y, z).
inline Mat3 rotation(double degrees, Vec3 axis) {
  const double n = std::sqrt(axis[0] * axis[0] + axis[1] * axis[1] + axis[2] * axis[2]);
  const double x = axis[0] / n, y = axis[1] / n, z = axis[2] / n;
  const double a = degrees * M_PI / 180.0, c = std::cos(a), s = std::sin(a), t = 1 - c;
  return {t * x * x + c,     t * x * y - s * z, t * x * z + s * y,
          t * x * y + s * z, t * y * y + c,     t * y * z - s * x,
          t * x * z - s * y, t * y * z + s * x, t * z * z + c};
}

struct Ellipsoid {
  int value = 1;
  Vec3 centre{0, 0, 0};     // LPS mm
  Vec3 semiAxes{10, 10, 10};  // mm, along the rows of `axes`
  Mat3 axes{1, 0, 0, 0, 1, 0, 0, 0, 1};
  double volume() const { return 4.0 / 3.0 * M_PI * semiAxes[0] * semiAxes[1] * semiAxes[2]; }
  bool contains(const Vec3& p) const {
    const Vec3 d{p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]};
    double sum = 0;
    for (int r = 0; r < 3; ++r) {
      const double u = (d[0] * axes[r * 3] + d[1] * axes[r * 3 + 1] + d[2] * axes[r * 3 + 2]) / semiAxes[r];
      sum += u * u;
    }
    return sum <= 1.0;
  }
};

// Sets every voxel whose centre lies in the ellipsoid to its value.
inline void paint(Volume& mask, const Ellipsoid& e) {
  const Geometry& g = mask.geometry();
  auto* p = mask.data<uint8_t>();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (e.contains(g.indexToPhysical({double(i), double(j), double(k)})))
          p[g.offset(i, j, k)] = static_cast<uint8_t>(e.value);
}

// World centroid of the voxels of `value` (mean of voxel centres).
inline Vec3 labelCentroid(const Volume& mask, int value) {
  const Geometry& g = mask.geometry();
  double s[3] = {0, 0, 0};
  int64_t n = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (mask.valueAt(i, j, k) == value) {
          const Vec3 p = g.indexToPhysical({double(i), double(j), double(k)});
          for (int d = 0; d < 3; ++d) s[d] += p[d];
          ++n;
        }
  return {s[0] / n, s[1] / n, s[2] / n};
}

// Signed volume (positive when faces point outward) and volume centroid of a
// closed triangle surface, by the divergence theorem.
struct SolidMeasure {
  double volume = 0;
  Vec3 centroid{0, 0, 0};
};
inline SolidMeasure measureSolid(vtkPolyData* pd) {
  SolidMeasure m;
  vtkCellArray* polys = pd->GetPolys();
  vtkIdType npts;
  const vtkIdType* ids;
  double a[3], b[3], c[3], sum[3] = {0, 0, 0};
  for (polys->InitTraversal(); polys->GetNextCell(npts, ids);) {
    for (vtkIdType q = 1; q + 1 < npts; ++q) {
      pd->GetPoint(ids[0], a);
      pd->GetPoint(ids[q], b);
      pd->GetPoint(ids[q + 1], c);
      const double v = (a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) +
                        a[2] * (b[0] * c[1] - b[1] * c[0])) / 6.0;
      m.volume += v;
      for (int d = 0; d < 3; ++d) sum[d] += v * (a[d] + b[d] + c[d]) / 4.0;
    }
  }
  for (int d = 0; d < 3; ++d) m.centroid[d] = m.volume != 0 ? sum[d] / m.volume : 0;
  return m;
}

// Boundary plus non-manifold edges: 0 for a closed surface.
inline vtkIdType openEdges(vtkPolyData* pd) {
  vtkNew<vtkFeatureEdges> fe;
  fe->SetInputData(pd);
  fe->BoundaryEdgesOn();
  fe->NonManifoldEdgesOn();
  fe->FeatureEdgesOff();
  fe->ManifoldEdgesOff();
  fe->Update();
  return fe->GetOutput()->GetNumberOfCells();
}

// True when every edge is used once in each direction: the surface is closed,
// manifold, and all its triangles are oriented the same way.
inline bool consistentlyOriented(vtkPolyData* pd) {
  std::unordered_map<uint64_t, int> directed;
  vtkCellArray* polys = pd->GetPolys();
  vtkIdType npts;
  const vtkIdType* ids;
  auto key = [](vtkIdType a, vtkIdType b) { return (uint64_t(a) << 32) | uint64_t(b); };
  for (polys->InitTraversal(); polys->GetNextCell(npts, ids);)
    for (vtkIdType q = 0; q < npts; ++q)
      if (++directed[key(ids[q], ids[(q + 1) % npts])] > 1) return false;
  for (const auto& [k, count] : directed)
    if (!directed.count(((k & 0xffffffffu) << 32) | (k >> 32))) return false;
  return true;
}

}  // namespace nephro::test
