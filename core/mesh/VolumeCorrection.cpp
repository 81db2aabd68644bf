// Volume correction after smoothing, and the distance from a smoothed surface
// to the unsmoothed one. Windowed-sinc smoothing moves every vertex towards
// the local mean, so convex labels lose volume, thin ones most (a tube two
// voxels wide loses a sixth). The correction moves every vertex along its
// normal by one common offset, found by Newton steps on the enclosed volume,
// until the surface encloses the label's voxel volume.
#include <algorithm>
#include <cmath>
#include <vector>

#include <vtkCellArray.h>
#include <vtkCellArrayIterator.h>
#include <vtkGenericCell.h>
#include <vtkNew.h>
#include <vtkPoints.h>
#include <vtkStaticCellLocator.h>

#include "mesh/MeshInternal.h"

namespace nephro::mesh_internal {

namespace {

// Area-weighted vertex normals (unit, outward for an outward surface) and the total area.
std::vector<double> vertexNormals(vtkPolyData* surface, double* areaOut) {
  const vtkIdType n = surface->GetNumberOfPoints();
  std::vector<double> normals(static_cast<size_t>(3 * n), 0.0);
  double area = 0.0;
  forEachTriangle(surface, [&](const vtkIdType* tri, const double* a, const double* b, const double* c) {
    const double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    const double v[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    const double x[3] = {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    area += 0.5 * std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    for (int k = 0; k < 3; ++k)
      for (int d = 0; d < 3; ++d) normals[static_cast<size_t>(3 * tri[k] + d)] += x[d];
  });
  for (vtkIdType id = 0; id < n; ++id) {
    double* nv = &normals[static_cast<size_t>(3 * id)];
    const double len = std::sqrt(nv[0] * nv[0] + nv[1] * nv[1] + nv[2] * nv[2]);
    for (int d = 0; d < 3; ++d) nv[d] = len > 0 ? nv[d] / len : 0.0;
  }
  *areaOut = area;
  return normals;
}

vtkSmartPointer<vtkPolyData> transformed(vtkPolyData* surface, const std::array<double, 16>& m) {
  vtkNew<vtkPoints> points;
  points->SetNumberOfPoints(surface->GetNumberOfPoints());
  double p[3];
  for (vtkIdType id = 0; id < surface->GetNumberOfPoints(); ++id) {
    surface->GetPoint(id, p);
    points->SetPoint(id, m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3], m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7],
                     m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11]);
  }
  auto out = vtkSmartPointer<vtkPolyData>::New();
  out->SetPoints(points);
  out->SetPolys(surface->GetPolys());
  return out;
}

}  // namespace

vtkSmartPointer<vtkPolyData> correctVolume(vtkPolyData* surface, double targetVolume, double maxOffset,
                                           double* offsetOut) {
  if (offsetOut) *offsetOut = 0.0;
  const vtkIdType n = surface->GetNumberOfPoints();
  if (!(targetVolume > 0.0) || n == 0) return surface;
  double area = 0.0;
  const std::vector<double> normals = vertexNormals(surface, &area);
  if (!(area > 0.0)) return surface;
  std::vector<double> base(static_cast<size_t>(3 * n));
  for (vtkIdType id = 0; id < n; ++id) surface->GetPoint(id, &base[static_cast<size_t>(3 * id)]);
  vtkNew<vtkPoints> points;
  points->SetDataTypeToDouble();
  points->SetNumberOfPoints(n);
  auto out = vtkSmartPointer<vtkPolyData>::New();
  out->SetPoints(points);
  out->SetPolys(surface->GetPolys());
  auto place = [&](double offset) {
    for (vtkIdType id = 0; id < n; ++id) {
      const double* b = &base[static_cast<size_t>(3 * id)];
      const double* nv = &normals[static_cast<size_t>(3 * id)];
      points->SetPoint(id, b[0] + offset * nv[0], b[1] + offset * nv[1], b[2] + offset * nv[2]);
    }
    points->Modified();
  };
  // Newton on V(offset): dV/doffset is the area of the moved surface, close to
  // the area at the start for the small offsets involved; a secant step
  // replaces it from the second step on.
  double offset = 0.0, volume = enclosedVolume(surface);
  if (!(volume > 0.0)) return surface;
  double prevOffset = 0.0, prevVolume = volume, slope = area;
  for (int it = 0; it < 8 && std::abs(volume / targetVolume - 1.0) > 1e-3; ++it) {
    const double next = std::clamp(offset + (targetVolume - volume) / slope, -maxOffset, maxOffset);
    if (next == offset) break;
    prevOffset = offset;
    prevVolume = volume;
    offset = next;
    place(offset);
    volume = enclosedVolume(out);
    if (std::abs(offset - prevOffset) > 1e-9 && (volume - prevVolume) / (offset - prevOffset) > 0.1 * area)
      slope = (volume - prevVolume) / (offset - prevOffset);
  }
  if (offset == 0.0) return surface;
  if (offsetOut) *offsetOut = offset;
  return out;
}

SurfaceDistance surfaceDistance(vtkPolyData* from, vtkPolyData* to, const std::array<double, 16>& matrix) {
  SurfaceDistance result;
  if (!from || !to || from->GetNumberOfPoints() == 0 || to->GetNumberOfCells() == 0) return result;
  const vtkSmartPointer<vtkPolyData> a = transformed(from, matrix), b = transformed(to, matrix);
  vtkNew<vtkStaticCellLocator> locator;
  locator->SetDataSet(b);
  locator->BuildLocator();
  std::vector<double> d(static_cast<size_t>(a->GetNumberOfPoints()));
  vtkNew<vtkGenericCell> cell;
  double p[3], closest[3], dist2 = 0.0;
  vtkIdType cellId;
  int subId;
  double sum = 0.0;
  for (vtkIdType id = 0; id < a->GetNumberOfPoints(); ++id) {
    a->GetPoint(id, p);
    locator->FindClosestPoint(p, closest, cell, cellId, subId, dist2);
    d[static_cast<size_t>(id)] = std::sqrt(dist2);
    sum += d[static_cast<size_t>(id)];
  }
  result.meanMm = sum / double(d.size());
  result.maxMm = *std::max_element(d.begin(), d.end());
  const size_t at = static_cast<size_t>(0.95 * double(d.size() - 1));
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(at), d.end());
  result.p95Mm = d[at];
  return result;
}

}  // namespace nephro::mesh_internal
