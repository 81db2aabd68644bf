#pragma once
// How a volume is cut into axial, coronal and sagittal slices and laid out on
// screen in radiological convention (patient right on the screen's left,
// anterior at the top, superior at the top). Slices follow the volume's own
// index axes: each index axis is matched with the patient axis it is closest to.
#include <QPointF>

#include "image/Geometry.h"

namespace nephro::viewers {

enum class SliceAxis { Axial = 0, Coronal = 1, Sagittal = 2 };
const char* axisName(SliceAxis axis);

struct SlicePlane {
  int col = 0;           // index axis along screen x
  int row = 1;           // index axis along screen y
  int normal = 2;        // index axis across the slices
  bool flipCol = false;  // screen x runs against the index axis
  bool flipRow = false;
  int64_t cols = 0, rows = 0, depth = 0;
  double colSpacing = 1.0, rowSpacing = 1.0;

  // Voxel index of slice pixel (x, y) on slice `slice`.
  Index3 index(int64_t x, int64_t y, int64_t slice) const;
  // Continuous voxel index of a point (x, y) in slice pixel units (pixel centres at .5).
  Vec3 continuousIndex(double x, double y, double slice) const;
  // Slice pixel coordinates (pixel centres at .5) and slice number of a continuous index.
  QPointF pixelOf(const Vec3& index) const;
  double sliceOf(const Vec3& index) const;
};

SlicePlane slicePlane(const Geometry& geometry, SliceAxis axis);

// For each index axis, the patient axis (0 = L, 1 = P, 2 = S) it runs closest to
// and the sign of its direction along it.
void dominantAxes(const Geometry& geometry, int patientAxis[3], int sign[3]);

}  // namespace nephro::viewers
