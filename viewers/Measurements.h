#pragma once
// Measurements in a slice view: distances in millimetres and the grey-value
// statistics of an elliptic region of one slice (HU of a CT phase).
#include <QPointF>
#include <cstdint>

#include "image/Volume.h"
#include "viewers/SliceGeometry.h"

namespace nephro::viewers {

double distanceMm(const Vec3& a, const Vec3& b);

struct RoiStats {
  int64_t voxels = 0;
  double mean = 0, sd = 0, min = 0, max = 0;
  double areaMm2 = 0;
};

// Voxels of slice `slice` of `volume` (cut along `plane`) whose centres lie
// in the ellipse inscribed in the rectangle with corners p0 and p1 (slice
// pixel coordinates, pixel centres at .5). SD is the sample standard deviation.
RoiStats ellipseRoiStats(const Volume& volume, const SlicePlane& plane, int64_t slice,
                         const QPointF& p0, const QPointF& p1);

}  // namespace nephro::viewers
