#include "viewers/SliceGeometry.h"

#include <cmath>

namespace nephro::viewers {

const char* axisName(SliceAxis axis) {
  switch (axis) {
    case SliceAxis::Axial:
      return "Axial";
    case SliceAxis::Coronal:
      return "Coronal";
    case SliceAxis::Sagittal:
      return "Sagittal";
  }
  return "";
}

void dominantAxes(const Geometry& g, int patientAxis[3], int sign[3]) {
  bool used[3] = {false, false, false};
  for (int c = 0; c < 3; ++c) {
    int best = -1;
    double bestAbs = -1;
    for (int r = 0; r < 3; ++r) {
      const double v = std::abs(g.direction[r * 3 + c]);
      if (!used[r] && v > bestAbs) {
        bestAbs = v;
        best = r;
      }
    }
    used[best] = true;
    patientAxis[c] = best;
    sign[c] = g.direction[best * 3 + c] < 0 ? -1 : 1;
  }
}

SlicePlane slicePlane(const Geometry& g, SliceAxis axis) {
  int patientAxis[3], sign[3];
  dominantAxes(g, patientAxis, sign);
  auto indexAxisOf = [&](int p) {
    for (int c = 0; c < 3; ++c)
      if (patientAxis[c] == p) return c;
    return p;
  };
  // Screen x / screen y as (patient axis, wanted sign) in LPS.
  int xAxis = 0, xSign = 1, yAxis = 1, ySign = 1, nAxis = 2;
  switch (axis) {
    case SliceAxis::Axial:
      xAxis = 0;
      xSign = 1;
      yAxis = 1;
      ySign = 1;
      nAxis = 2;
      break;
    case SliceAxis::Coronal:
      xAxis = 0;
      xSign = 1;
      yAxis = 2;
      ySign = -1;
      nAxis = 1;
      break;
    case SliceAxis::Sagittal:
      xAxis = 1;
      xSign = 1;
      yAxis = 2;
      ySign = -1;
      nAxis = 0;
      break;
  }
  SlicePlane p;
  p.col = indexAxisOf(xAxis);
  p.row = indexAxisOf(yAxis);
  p.normal = indexAxisOf(nAxis);
  p.flipCol = sign[p.col] != xSign;
  p.flipRow = sign[p.row] != ySign;
  p.cols = g.size[p.col];
  p.rows = g.size[p.row];
  p.depth = g.size[p.normal];
  p.colSpacing = g.spacing[p.col];
  p.rowSpacing = g.spacing[p.row];
  return p;
}

Index3 SlicePlane::index(int64_t x, int64_t y, int64_t slice) const {
  Index3 i{0, 0, 0};
  i[col] = flipCol ? cols - 1 - x : x;
  i[row] = flipRow ? rows - 1 - y : y;
  i[normal] = slice;
  return i;
}

Vec3 SlicePlane::continuousIndex(double x, double y, double slice) const {
  Vec3 i{0, 0, 0};
  // Pixel x covers index [x-0.5, x+0.5) around voxel centre x; pixel centres sit at .5.
  i[col] = flipCol ? double(cols) - x - 0.5 : x - 0.5;
  i[row] = flipRow ? double(rows) - y - 0.5 : y - 0.5;
  i[normal] = slice;
  return i;
}

QPointF SlicePlane::pixelOf(const Vec3& index) const {
  const double x = flipCol ? double(cols) - 0.5 - index[col] : index[col] + 0.5;
  const double y = flipRow ? double(rows) - 0.5 - index[row] : index[row] + 0.5;
  return {x, y};
}

double SlicePlane::sliceOf(const Vec3& index) const {
  return index[normal];
}

}  // namespace nephro::viewers
