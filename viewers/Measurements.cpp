#include "viewers/Measurements.h"

#include <algorithm>
#include <cmath>

namespace nephro::viewers {

double distanceMm(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) +
                   (a[2] - b[2]) * (a[2] - b[2]));
}

RoiStats ellipseRoiStats(const Volume& volume, const SlicePlane& plane, int64_t slice,
                         const QPointF& p0, const QPointF& p1) {
  RoiStats s;
  if (volume.empty() || slice < 0 || slice >= plane.depth) return s;
  const double cx = (p0.x() + p1.x()) / 2, cy = (p0.y() + p1.y()) / 2;
  const double rx = std::abs(p1.x() - p0.x()) / 2, ry = std::abs(p1.y() - p0.y()) / 2;
  if (rx <= 0 || ry <= 0) return s;
  const int64_t x0 = std::max<int64_t>(0, int64_t(std::floor(cx - rx)));
  const int64_t x1 = std::min<int64_t>(plane.cols, int64_t(std::ceil(cx + rx)) + 1);
  const int64_t y0 = std::max<int64_t>(0, int64_t(std::floor(cy - ry)));
  const int64_t y1 = std::min<int64_t>(plane.rows, int64_t(std::ceil(cy + ry)) + 1);
  double sum = 0, sum2 = 0;
  s.min = 1e300;
  s.max = -1e300;
  const Geometry& g = volume.geometry();
  dispatchPixelType(volume.pixelType(), [&](auto tag) {
    using T = decltype(tag);
    const T* data = volume.data<T>();
    for (int64_t y = y0; y < y1; ++y)
      for (int64_t x = x0; x < x1; ++x) {
        const double dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
        if (dx * dx + dy * dy > 1.0) continue;
        const Index3 idx = plane.index(x, y, slice);
        const double v = double(data[g.offset(idx[0], idx[1], idx[2])]);
        sum += v;
        sum2 += v * v;
        s.min = std::min(s.min, v);
        s.max = std::max(s.max, v);
        ++s.voxels;
      }
  });
  if (s.voxels == 0) return RoiStats{};
  s.mean = sum / double(s.voxels);
  s.sd = s.voxels > 1 ? std::sqrt(std::max(0.0, (sum2 - sum * s.mean) / double(s.voxels - 1))) : 0.0;
  s.areaMm2 = double(s.voxels) * plane.colSpacing * plane.rowSpacing;
  return s;
}

}  // namespace nephro::viewers
