// Brush and eraser dabs: a disc in one slice or a sphere, round in millimetres
// on anisotropic grids; consecutive dabs joined so a fast stroke has no gaps.
#include <algorithm>
#include <cmath>

#include "edit/EditKernel.h"

namespace nephro::edit::detail {

StrokePainter::StrokePainter(EditTarget target, const BrushStroke& params)
    : target_(target), params_(params), gate_(params.rule, target.locked, target.image) {
  params_.dabs.clear();
  if (!(params.radiusMm > 0.0) || !std::isfinite(params.radiusMm))
    throw Error(ErrorKind::Input, "brush radius must be a positive number of millimetres");
  if (params.axis < 0 || params.axis > 2)
    throw Error(ErrorKind::Input, "view axis must be 0, 1 or 2");
  if (params.label < 0 || params.label > 65535)
    throw Error(ErrorKind::Input, "label value out of range");
  if (target.layer.pixelType() == PixelType::UInt8 && params.label > 255)
    throw Error(ErrorKind::Input,
                "label value " + std::to_string(params.label) + " does not fit an 8-bit layer");
}

Box StrokePainter::addDab(const Vec3& lps, std::vector<std::pair<int64_t, uint16_t>>& changes) {
  for (double x : lps)
    if (!std::isfinite(x))
      throw Error(ErrorKind::Input, "brush dab position is not a finite number");
  const Geometry& g = target_.layer.geometry();
  const Vec3 ci = g.physicalToIndex(lps);
  Box changed{{g.size[0], g.size[1], g.size[2]}, {0, 0, 0}};
  auto grow = [&](const Box& b) {
    if (b.empty()) return;
    for (int a = 0; a < 3; ++a) {
      changed.begin[a] = std::min(changed.begin[a], b.begin[a]);
      changed.end[a] = std::max(changed.end[a], b.end[a]);
    }
  };
  if (hasLast_) {
    // Intermediate dabs at most half a radius (and half the finest voxel) apart.
    const double minSpacing = std::min({g.spacing[0], g.spacing[1], g.spacing[2]});
    const double step = std::max(0.5 * params_.radiusMm, 0.5 * minSpacing);
    double lengthMm = 0.0;
    for (int a = 0; a < 3; ++a) {
      const double d = (ci[a] - last_[a]) * g.spacing[a];
      lengthMm += d * d;
    }
    lengthMm = std::sqrt(lengthMm);
    const auto n = static_cast<int64_t>(std::ceil(lengthMm / step));
    for (int64_t s = 1; s < n; ++s) {
      const double t = static_cast<double>(s) / static_cast<double>(n);
      grow(paintAt({last_[0] + (ci[0] - last_[0]) * t, last_[1] + (ci[1] - last_[1]) * t,
                    last_[2] + (ci[2] - last_[2]) * t},
                   changes));
    }
  }
  grow(paintAt(ci, changes));
  last_ = ci;
  hasLast_ = true;
  return changed.empty() ? Box{} : changed;
}

Box StrokePainter::paintAt(const Vec3& ci, std::vector<std::pair<int64_t, uint16_t>>& changes) {
  const Geometry& g = target_.layer.geometry();
  const double r = params_.radiusMm, r2 = r * r;
  const bool disc = params_.shape == BrushShape::Disc;
  const Index3 centre{roundIndex(ci[0]), roundIndex(ci[1]), roundIndex(ci[2])};
  Index3 lo{}, hi{};  // inclusive voxel ranges
  for (int a = 0; a < 3; ++a) {
    if (disc && a == params_.axis) {
      lo[a] = hi[a] = centre[a];
    } else {
      lo[a] = std::min(centre[a], static_cast<int64_t>(std::ceil(ci[a] - r / g.spacing[a])));
      hi[a] = std::max(centre[a], static_cast<int64_t>(std::floor(ci[a] + r / g.spacing[a])));
    }
    lo[a] = std::max<int64_t>(lo[a], 0);
    hi[a] = std::min<int64_t>(hi[a], g.size[a] - 1);
    if (lo[a] > hi[a]) return {};
  }
  if (disc) slices_.insert(centre[params_.axis]);
  Box changed{{hi[0] + 1, hi[1] + 1, hi[2] + 1}, {lo[0], lo[1], lo[2]}};
  const int value = params_.label;
  auto paint = [&](auto* p) {
    for (int64_t k = lo[2]; k <= hi[2]; ++k)
      for (int64_t j = lo[1]; j <= hi[1]; ++j)
        for (int64_t i = lo[0]; i <= hi[0]; ++i) {
          const int64_t idx[3] = {i, j, k};
          double d2 = 0.0;
          for (int a = 0; a < 3; ++a)
            if (!(disc && a == params_.axis)) {
              const double d = (static_cast<double>(idx[a]) - ci[a]) * g.spacing[a];
              d2 += d * d;
            }
          const bool isCentre = i == centre[0] && j == centre[1] && k == centre[2];
          if (d2 > r2 && !isCentre) continue;
          const int64_t o = g.offset(i, j, k);
          const int old = p[o];
          if (!gate_.allows(old, value, o)) continue;
          changes.emplace_back(o, static_cast<uint16_t>(old));
          p[o] = static_cast<std::remove_reference_t<decltype(*p)>>(value);
          const int64_t ijk[3] = {i, j, k};
          for (int a = 0; a < 3; ++a) {
            changed.begin[a] = std::min(changed.begin[a], ijk[a]);
            changed.end[a] = std::max(changed.end[a], ijk[a] + 1);
          }
        }
  };
  if (target_.layer.pixelType() == PixelType::UInt8)
    paint(target_.layer.data<uint8_t>());
  else
    paint(target_.layer.data<uint16_t>());
  return changed.empty() ? Box{} : changed;
}

}  // namespace nephro::edit::detail
