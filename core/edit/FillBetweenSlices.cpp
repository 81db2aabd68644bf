// Fill between slices by shape interpolation: the signed distance maps (mm,
// negative inside) of two consecutive key slices are blended linearly and the
// slices between take the voxels where the blend is <= 0 (a key slice itself
// is reproduced exactly: its map is never zero on a voxel). Each map covers the
// label's whole extent on both key slices, so there are no block seams; only
// the slices between key slices, inside that extent, are visited.
#include <algorithm>
#include <cmath>
#include <limits>

#include <itkImage.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>

#include "edit/EditKernel.h"

namespace nephro::edit::detail {

namespace {

struct Rect {  // inclusive in-plane voxel range; may reach beyond the grid by the padding
  int64_t ulo = 0, uhi = -1, vlo = 0, vhi = -1;
  bool empty() const { return uhi < ulo || vhi < vlo; }
  void add(int64_t u, int64_t v) {
    if (empty()) {
      ulo = uhi = u;
      vlo = vhi = v;
      return;
    }
    ulo = std::min(ulo, u);
    uhi = std::max(uhi, u);
    vlo = std::min(vlo, v);
    vhi = std::max(vhi, v);
  }
  void add(const Rect& r) {
    if (r.empty()) return;
    add(r.ulo, r.vlo);
    add(r.uhi, r.vhi);
  }
  int64_t width() const { return uhi - ulo + 1; }
};

// The in-plane extent of `label` on every slice along `axis`.
std::vector<Rect> sliceExtents(const Volume& layer, int label, int axis, int ua, int va) {
  const Geometry& g = layer.geometry();
  std::vector<Rect> ext(static_cast<size_t>(g.size[axis]));
  dispatchPixelType(layer.pixelType(), [&](auto v) {
    using T = decltype(v);
    const T* p = static_cast<const T*>(layer.raw());
    const T l = static_cast<T>(label);
    int64_t o = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i, ++o)
          if (p[o] == l) {
            const int64_t idx[3] = {i, j, k};
            ext[static_cast<size_t>(idx[axis])].add(idx[ua], idx[va]);
          }
    return 0;
  });
  return ext;
}

// Signed distance (mm) of `label` on slice `s`, over `rect`: negative inside,
// positive outside, zero halfway between the last voxel inside and the first
// outside (the mean of the maps of the shape and of its complement, each of
// which is zero on its own border voxels). Empty when the slice holds none of
// the label there (the shape vanishes).
std::vector<float> signedDistance(const Volume& layer, int label, int axis, int ua, int va,
                                  int64_t s, const Rect& rect) {
  using Slice = itk::Image<uint8_t, 2>;
  using Distance = itk::Image<float, 2>;
  const Geometry& g = layer.geometry();
  const int64_t nu = rect.width(), nv = rect.vhi - rect.vlo + 1;
  auto makeSlice = [&] {
    auto img = Slice::New();
    Slice::RegionType region;
    region.SetSize(0, static_cast<itk::SizeValueType>(nu));
    region.SetSize(1, static_cast<itk::SizeValueType>(nv));
    img->SetRegions(region);
    const double spacing[2] = {g.spacing[ua], g.spacing[va]};
    img->SetSpacing(spacing);
    img->Allocate();
    img->FillBuffer(0);
    return img;
  };
  auto shape = makeSlice();
  auto complement = makeSlice();
  uint8_t* b = shape->GetBufferPointer();
  bool any = false;
  for (int64_t v = std::max<int64_t>(rect.vlo, 0); v <= std::min(rect.vhi, g.size[va] - 1); ++v)
    for (int64_t u = std::max<int64_t>(rect.ulo, 0); u <= std::min(rect.uhi, g.size[ua] - 1); ++u) {
      Index3 idx{};
      idx[axis] = s;
      idx[ua] = u;
      idx[va] = v;
      if (static_cast<int>(layer.valueAt(idx[0], idx[1], idx[2])) == label) {
        b[(u - rect.ulo) + nu * (v - rect.vlo)] = 1;
        any = true;
      }
    }
  if (!any) return {};
  uint8_t* c = complement->GetBufferPointer();
  for (int64_t q = 0; q < nu * nv; ++q) c[q] = b[q] ? 0 : 1;
  auto distance = [](const Slice::Pointer& img) {
    auto sdf = itk::SignedMaurerDistanceMapImageFilter<Slice, Distance>::New();
    sdf->SetInput(img);
    sdf->SetUseImageSpacing(true);
    sdf->SetSquaredDistance(false);
    sdf->SetInsideIsPositive(false);
    sdf->SetBackgroundValue(0);
    sdf->Update();
    return Distance::Pointer(sdf->GetOutput());
  };
  const Distance::Pointer inner = distance(shape), outer = distance(complement);
  const float* di = inner->GetBufferPointer();
  const float* dout = outer->GetBufferPointer();
  std::vector<float> d(static_cast<size_t>(nu * nv));
  for (int64_t q = 0; q < nu * nv; ++q) d[static_cast<size_t>(q)] = 0.5f * (di[q] - dout[q]);
  return d;
}

// What a slice between two key slices takes.
struct Between {
  int pair = -1;  // -1: not between key slices
  double t = 0.0;
};

struct Pair {
  int64_t s0 = 0, s1 = 0;
  Rect rect;  // where the distance maps are
  std::vector<float> d0, d1;
};

}  // namespace

VoxelDelta applyFillBetween(EditTarget target, FillBetweenSlices& op, const Progress& progress) {
  const Geometry& g = target.layer.geometry();
  if (op.axis < 0 || op.axis > 2) throw Error(ErrorKind::Input, "view axis must be 0, 1 or 2");
  if (op.label <= 0 || op.label > (target.layer.pixelType() == PixelType::UInt8 ? 255 : 65535))
    throw Error(ErrorKind::Input, "fill between slices needs a label value that fits the layer");
  const auto [ua, va] = inPlaneAxes(op.axis);
  const int64_t depth = g.size[op.axis];
  const bool replace = !op.keySlices.empty();

  const std::vector<Rect> ext = sliceExtents(target.layer, op.label, op.axis, ua, va);
  progress.throwIfCancelled();
  std::vector<int64_t> keys = op.keySlices;
  if (replace) {
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    for (int64_t s : keys)
      if (s < 0 || s >= depth)
        throw Error(ErrorKind::Input, "key slice " + std::to_string(s) +
                                          " lies outside the volume (" + std::to_string(depth) +
                                          " slices along axis " + std::to_string(op.axis) + ")");
  } else {
    for (int64_t s = 0; s < depth; ++s)
      if (!ext[static_cast<size_t>(s)].empty()) keys.push_back(s);
  }
  if (keys.size() < 2)
    throw Error(ErrorKind::Input,
                "fill between slices needs the label on two or more slices along axis " +
                    std::to_string(op.axis));
  op.keySlices = keys;

  std::vector<Pair> pairs;
  std::vector<Between> between(static_cast<size_t>(depth));
  Rect all;  // in-plane box of every slice to visit
  for (size_t p = 0; p + 1 < keys.size(); ++p) {
    if (keys[p + 1] - keys[p] < 2) continue;
    Pair pr;
    pr.s0 = keys[p];
    pr.s1 = keys[p + 1];
    pr.rect.add(ext[static_cast<size_t>(pr.s0)]);
    pr.rect.add(ext[static_cast<size_t>(pr.s1)]);
    Rect visit = pr.rect;
    if (replace)  // the label already on the slices between is replaced
      for (int64_t s = pr.s0 + 1; s < pr.s1; ++s) visit.add(ext[static_cast<size_t>(s)]);
    if (visit.empty()) continue;
    if (!pr.rect.empty()) {
      pr.rect = {pr.rect.ulo - 1, pr.rect.uhi + 1, pr.rect.vlo - 1, pr.rect.vhi + 1};
      pr.d0 = signedDistance(target.layer, op.label, op.axis, ua, va, pr.s0, pr.rect);
      pr.d1 = signedDistance(target.layer, op.label, op.axis, ua, va, pr.s1, pr.rect);
    }
    all.add(visit);
    for (int64_t s = pr.s0 + 1; s < pr.s1; ++s)
      between[static_cast<size_t>(s)] = {
          static_cast<int>(pairs.size()),
          static_cast<double>(s - pr.s0) / static_cast<double>(pr.s1 - pr.s0)};
    pairs.push_back(std::move(pr));
  }
  if (pairs.empty()) return {};

  Box box;
  box.begin[ua] = std::max<int64_t>(all.ulo, 0);
  box.end[ua] = std::min(all.uhi, g.size[ua] - 1) + 1;
  box.begin[va] = std::max<int64_t>(all.vlo, 0);
  box.end[va] = std::min(all.vhi, g.size[va] - 1) + 1;
  box.begin[op.axis] = pairs.front().s0 + 1;
  box.end[op.axis] = pairs.back().s1;

  const PaintGate gate(op.rule, target.locked, target.image);
  const int label = op.label;
  constexpr double kOutside = std::numeric_limits<double>::infinity();
  return editBox(target.layer, box, [&](auto& editor) {
    auto* p = editor.data();
    using T = std::remove_pointer_t<decltype(p)>;
    for (int64_t k = box.begin[2]; k < box.end[2]; ++k) {
      progress.throwIfCancelled();
      progress.report(
          static_cast<double>(k - box.begin[2]) / static_cast<double>(box.end[2] - box.begin[2]),
          "fill between slices");
      for (int64_t j = box.begin[1]; j < box.end[1]; ++j)
        for (int64_t i = box.begin[0]; i < box.end[0]; ++i) {
          const int64_t idx[3] = {i, j, k};
          const Between& bt = between[static_cast<size_t>(idx[op.axis])];
          if (bt.pair < 0) continue;
          const Pair& pr = pairs[static_cast<size_t>(bt.pair)];
          const int64_t u = idx[ua], v = idx[va];
          bool inside = false;
          if (!pr.rect.empty() && u >= pr.rect.ulo && u <= pr.rect.uhi && v >= pr.rect.vlo &&
              v <= pr.rect.vhi) {
            const size_t q =
                static_cast<size_t>((u - pr.rect.ulo) + pr.rect.width() * (v - pr.rect.vlo));
            const double d0 = pr.d0.empty() ? kOutside : static_cast<double>(pr.d0[q]);
            const double d1 = pr.d1.empty() ? kOutside : static_cast<double>(pr.d1[q]);
            inside = (1.0 - bt.t) * d0 + bt.t * d1 <= 0.0;
          }
          const int64_t o = g.offset(i, j, k);
          const int old = p[o];
          if (inside) {
            if (gate.allows(old, label, o)) editor.set(i, j, k, o, static_cast<T>(label));
          } else if (replace && old == label) {
            editor.set(i, j, k, o, 0);
          }
        }
    }
  });
}

}  // namespace nephro::edit::detail
