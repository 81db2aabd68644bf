#pragma once
// The steps of the label mesher, exposed inside core/mesh for the writers,
// the tests and the benchmark. Not part of the public API.
#include <array>
#include <cstdint>
#include <vector>

#include <vtkCellArray.h>
#include <vtkCellArrayIterator.h>
#include <vtkImageData.h>
#include <vtkPolyData.h>
#include <vtkSmartPointer.h>

#include "image/Crop.h"
#include "mesh/LabelMesher.h"

namespace nephro::mesh_internal {

constexpr int64_t kMaxLabelValue = 65535;
// Thin-tube criterion (see isTubular).
constexpr double kTubeRadiusVoxels = 4.0;
constexpr double kTubeLengthInDiameters = 4.0;
// Thin-label guard (see smoothKeepingVolume).
constexpr double kMinVolumeKept = 0.9;
constexpr double kMinSmoothingTried = 0.1;

struct LabelStat {
  int64_t count = 0;
  Index3 lo{INT64_MAX, INT64_MAX, INT64_MAX};
  Index3 hi{-1, -1, -1};
  void add(int64_t i, int64_t j, int64_t k) {
    ++count;
    if (i < lo[0]) lo[0] = i;
    if (i > hi[0]) hi[0] = i;
    if (j < lo[1]) lo[1] = j;
    if (j > hi[1]) hi[1] = j;
    if (k < lo[2]) lo[2] = k;
    if (k > hi[2]) hi[2] = k;
  }
  void merge(const LabelStat& o) {
    count += o.count;
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::min(lo[d], o.lo[d]);
      hi[d] = std::max(hi[d], o.hi[d]);
    }
  }
  Box box() const { return count ? Box{lo, {hi[0] + 1, hi[1] + 1, hi[2] + 1}} : Box{}; }
};
// Indexed by label value.
using LabelStats = std::vector<LabelStat>;

// Voxel count and bounding box of every label, in one pass over the mask.
LabelStats scanLabels(const Volume& mask, unsigned threads, const std::string& maskName = "mask");
// 0/1 image of `value` inside `box`, with one voxel of background around it;
// index space (origin 0, spacing 1), so crop index (0,0,0) is box.begin - 1.
vtkSmartPointer<vtkImageData> binaryCrop(const Volume& mask, int value, const Box& box);
// Clears 26-connected pieces of fewer than minVoxels voxels; returns the voxels kept.
int64_t removeSmallComponents(vtkImageData* binary, int64_t minVoxels);
// 95th percentile of the distance (in voxels) from label voxels to the background.
double thicknessRadiusVoxels(vtkImageData* binary);
bool isTubular(vtkImageData* binary, int64_t voxelCount);

vtkSmartPointer<vtkPolyData> contour(vtkImageData* binary);
vtkSmartPointer<vtkPolyData> decimate(vtkPolyData* surface, double targetReduction);
vtkSmartPointer<vtkPolyData> smooth(vtkPolyData* surface, double smoothingFactor);
// Signed volume enclosed by a closed surface (positive when it faces outward).
double enclosedVolume(vtkPolyData* surface);
// smooth(), lowering `factor` (updated) while the result would keep less than
// kMinVolumeKept of the surface's volume, when keepThin is set.
vtkSmartPointer<vtkPolyData> smoothKeepingVolume(vtkPolyData* surface, bool keepThin, double& factor);
// 4x4 row-major matrix from (index - shift) to patient millimetres in `space`.
std::array<double, 16> indexToSpaceMatrix(const Geometry& g, CoordinateSpace space, const Index3& shift);
// Moves an index-space surface into patient space, flips faces under a
// mirroring matrix, and adds consistent point normals.
vtkSmartPointer<vtkPolyData> toPatient(vtkPolyData* surface, const std::array<double, 16>& matrix);
// The triangles of one label from a jointly smoothed surface (cell array "Label").
vtkSmartPointer<vtkPolyData> extractLabel(vtkPolyData* shared, int value);
vtkSmartPointer<vtkPolyData> emptySurface();

// Volume correction (VolumeCorrection.cpp): every vertex moved along its
// normal by one common offset (at most |maxOffset|, in the surface's units)
// so the surface encloses `targetVolume`; returns a new surface (or `surface`
// itself when nothing moved) and the offset used.
vtkSmartPointer<vtkPolyData> correctVolume(vtkPolyData* surface, double targetVolume, double maxOffset,
                                           double* offsetOut = nullptr);
// Distance from every vertex of `from` to the surface `to` (both in the same
// index space), measured after mapping both through `matrix` into millimetres.
SurfaceDistance surfaceDistance(vtkPolyData* from, vtkPolyData* to, const std::array<double, 16>& matrix);

// Calls f(ids[3], a, b, c) for every triangle of the surface's polygons (fanned), with the point ids
// and coordinates; the one walk over a mesh's triangles that volume and normal code share.
template <class F>
void forEachTriangle(vtkPolyData* surface, F&& f) {
  vtkCellArray* polys = surface->GetPolys();
  if (!polys) return;
  vtkIdType npts;
  const vtkIdType* ids;
  double a[3], b[3], c[3];
  auto cell = vtk::TakeSmartPointer(polys->NewIterator());
  for (cell->GoToFirstCell(); !cell->IsDoneWithTraversal(); cell->GoToNextCell()) {
    cell->GetCurrentCell(npts, ids);
    for (vtkIdType q = 1; q + 1 < npts; ++q) {
      surface->GetPoint(ids[0], a);
      surface->GetPoint(ids[q], b);
      surface->GetPoint(ids[q + 1], c);
      const vtkIdType tri[3] = {ids[0], ids[q], ids[q + 1]};
      f(tri, a, b, c);
    }
  }
}

}  // namespace nephro::mesh_internal
