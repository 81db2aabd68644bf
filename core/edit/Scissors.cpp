// Scissors: erase or fill inside a polygon drawn on a view plane, through the
// whole volume or a slab along the view direction. Only the polygon's box
// times the slab is visited.
#include <algorithm>
#include <cmath>

#include "edit/EditKernel.h"

namespace nephro::edit::detail {

namespace {

// Voxel centres (integer u, v) inside a polygon by the even-odd rule, over
// [ulo, uhi] x [vlo, vhi]; returns how many are inside.
int64_t rasterisePolygon(const std::vector<std::array<double, 2>>& poly, int64_t ulo, int64_t uhi,
                         int64_t vlo, int64_t vhi, std::vector<uint8_t>& inside) {
  const int64_t nu = uhi - ulo + 1;
  inside.assign(static_cast<size_t>(nu * (vhi - vlo + 1)), 0);
  int64_t count = 0;
  std::vector<double> xs;
  for (int64_t v = vlo; v <= vhi; ++v) {
    const double y = static_cast<double>(v);
    xs.clear();
    for (size_t e = 0; e < poly.size(); ++e) {
      const auto& a = poly[e];
      const auto& b = poly[(e + 1) % poly.size()];
      // Half-open in y, so a vertex on the scan line is counted once.
      if ((a[1] <= y && y < b[1]) || (b[1] <= y && y < a[1]))
        xs.push_back(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
    }
    std::sort(xs.begin(), xs.end());
    for (size_t s = 0; s + 1 < xs.size(); s += 2) {
      const int64_t from = std::max(ulo, static_cast<int64_t>(std::ceil(xs[s])));
      const int64_t to = std::min(uhi, static_cast<int64_t>(std::ceil(xs[s + 1])) - 1);
      for (int64_t u = from; u <= to; ++u) {
        uint8_t& cell = inside[static_cast<size_t>((u - ulo) + nu * (v - vlo))];
        count += cell == 0;
        cell = 1;
      }
    }
  }
  return count;
}

}  // namespace

VoxelDelta applyScissors(EditTarget target, const ScissorsCut& op, const Progress& progress) {
  const Geometry& g = target.layer.geometry();
  if (op.axis < 0 || op.axis > 2) throw Error(ErrorKind::Input, "view axis must be 0, 1 or 2");
  if (op.polygon.size() < 3)
    throw Error(ErrorKind::Input, "a scissors polygon needs at least 3 vertices");
  const int value = op.action == ScissorsAction::Fill ? op.label : 0;
  if (value < 0 || value > (target.layer.pixelType() == PixelType::UInt8 ? 255 : 65535))
    throw Error(ErrorKind::Input,
                "label value " + std::to_string(value) + " does not fit the layer");
  const auto [ua, va] = inPlaneAxes(op.axis);

  std::vector<std::array<double, 2>> poly;
  double plane = 0.0;
  double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
  for (const Vec3& p : op.polygon) {
    for (double x : p)
      if (!std::isfinite(x))
        throw Error(ErrorKind::Input, "scissors polygon vertex is not a finite number");
    const Vec3 ci = g.physicalToIndex(p);
    poly.push_back({ci[ua], ci[va]});
    plane += ci[op.axis];
    umin = std::min(umin, ci[ua]);
    umax = std::max(umax, ci[ua]);
    vmin = std::min(vmin, ci[va]);
    vmax = std::max(vmax, ci[va]);
  }
  plane /= static_cast<double>(op.polygon.size());
  const int64_t ulo = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(umin)));
  const int64_t uhi = std::min<int64_t>(g.size[ua] - 1, static_cast<int64_t>(std::floor(umax)));
  const int64_t vlo = std::max<int64_t>(0, static_cast<int64_t>(std::ceil(vmin)));
  const int64_t vhi = std::min<int64_t>(g.size[va] - 1, static_cast<int64_t>(std::floor(vmax)));
  if (ulo > uhi || vlo > vhi)
    throw Error(ErrorKind::Input,
                "scissors polygon lies outside the volume (" + g.describe() + ")");
  std::vector<uint8_t> inside;
  if (rasterisePolygon(poly, ulo, uhi, vlo, vhi, inside) == 0)
    throw Error(ErrorKind::Input, "scissors polygon encloses no voxel centre of the volume");

  int64_t slo = 0, shi = g.size[op.axis] - 1;
  if (op.slabMm > 0.0) {
    const double half = 0.5 * op.slabMm / g.spacing[op.axis];
    const int64_t c = roundIndex(plane);
    slo = std::max<int64_t>(0, std::min(c, static_cast<int64_t>(std::ceil(plane - half))));
    shi = std::min<int64_t>(g.size[op.axis] - 1,
                            std::max(c, static_cast<int64_t>(std::floor(plane + half))));
    if (slo > shi)
      throw Error(ErrorKind::Input, "scissors slab lies outside the volume (" + g.describe() + ")");
  }
  Box box;
  box.begin[ua] = ulo;
  box.end[ua] = uhi + 1;
  box.begin[va] = vlo;
  box.end[va] = vhi + 1;
  box.begin[op.axis] = slo;
  box.end[op.axis] = shi + 1;

  const PaintGate gate(op.rule, target.locked, target.image);
  const int64_t nu = uhi - ulo + 1;
  return editBox(target.layer, box, [&](auto& editor) {
    auto* p = editor.data();
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t k = box.begin[2]; k < box.end[2]; ++k) {
      progress.throwIfCancelled();
      progress.report(
          static_cast<double>(k - box.begin[2]) / static_cast<double>(box.end[2] - box.begin[2]),
          "scissors");
      for (int64_t j = box.begin[1]; j < box.end[1]; ++j)
        for (int64_t i = box.begin[0]; i < box.end[0]; ++i) {
          const int64_t idx[3] = {i, j, k};
          if (!inside[static_cast<size_t>((idx[ua] - ulo) + nu * (idx[va] - vlo))]) continue;
          const int64_t o = g.offset(i, j, k);
          if (gate.allows(p[o], value, o)) editor.set(i, j, k, o, static_cast<T>(value));
        }
    }
  });
}

}  // namespace nephro::edit::detail
