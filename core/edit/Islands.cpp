// Islands: remove the connected piece of a label under a point, or keep the N
// largest pieces of a label. Components are found by ITK inside the label's
// bounding box only.
#include <algorithm>
#include <numeric>

#include <itkConnectedComponentImageFilter.h>
#include <itkImage.h>

#include "edit/EditKernel.h"
#include "image/Crop.h"

namespace nephro::edit::detail {

namespace {

using BinaryImage = itk::Image<uint8_t, 3>;
using ComponentImage = itk::Image<uint32_t, 3>;

struct Components {
  Box box;                      // the label's bounding box
  ComponentImage::Pointer ids;  // per box voxel: 0 outside the label, else 1..count
  std::vector<int64_t> sizes;   // index = component id
};

Components labelComponents(const Volume& layer, int label, bool fullyConnected,
                           const Progress& progress) {
  Components c;
  c.box = boundingBox(layer, {label});
  if (c.box.empty()) return c;
  const Geometry& g = layer.geometry();
  const Index3 n = c.box.size();
  auto binary = BinaryImage::New();
  BinaryImage::RegionType region;
  for (unsigned a = 0; a < 3; ++a) region.SetSize(a, static_cast<itk::SizeValueType>(n[a]));
  binary->SetRegions(region);
  binary->Allocate();
  uint8_t* b = binary->GetBufferPointer();
  dispatchPixelType(layer.pixelType(), [&](auto v) {
    using T = decltype(v);
    const T* p = static_cast<const T*>(layer.raw());
    int64_t q = 0;
    for (int64_t k = c.box.begin[2]; k < c.box.end[2]; ++k)
      for (int64_t j = c.box.begin[1]; j < c.box.end[1]; ++j) {
        const T* row = p + g.offset(c.box.begin[0], j, k);
        for (int64_t i = 0; i < n[0]; ++i) b[q++] = row[i] == static_cast<T>(label) ? 1 : 0;
      }
    return 0;
  });
  progress.throwIfCancelled();
  auto cc = itk::ConnectedComponentImageFilter<BinaryImage, ComponentImage>::New();
  cc->SetInput(binary);
  cc->SetFullyConnected(fullyConnected);
  cc->SetBackgroundValue(0);
  cc->Update();
  c.ids = cc->GetOutput();
  c.sizes.assign(static_cast<size_t>(cc->GetObjectCount()) + 1, 0);
  const uint32_t* id = c.ids->GetBufferPointer();
  for (int64_t q = 0, total = n[0] * n[1] * n[2]; q < total; ++q) ++c.sizes[id[q]];
  c.sizes[0] = 0;
  return c;
}

// Clears every voxel of the components flagged in `remove`.
VoxelDelta clearComponents(EditTarget target, const Components& c,
                           const std::vector<uint8_t>& remove, const Progress& progress) {
  const Geometry& g = target.layer.geometry();
  const uint32_t* id = c.ids->GetBufferPointer();
  return editBox(target.layer, c.box, [&](auto& editor) {
    int64_t q = 0;
    for (int64_t k = c.box.begin[2]; k < c.box.end[2]; ++k) {
      progress.throwIfCancelled();
      for (int64_t j = c.box.begin[1]; j < c.box.end[1]; ++j)
        for (int64_t i = c.box.begin[0]; i < c.box.end[0]; ++i, ++q)
          if (remove[id[q]]) editor.set(i, j, k, g.offset(i, j, k), 0);
    }
  });
}

}  // namespace

VoxelDelta applyRemoveIsland(EditTarget target, const RemoveIsland& op, int* islandLabel,
                             const Progress& progress) {
  const Geometry& g = target.layer.geometry();
  for (double x : op.seed)
    if (!std::isfinite(x)) throw Error(ErrorKind::Input, "island point is not a finite number");
  const Vec3 ci = g.physicalToIndex(op.seed);
  const Index3 s{roundIndex(ci[0]), roundIndex(ci[1]), roundIndex(ci[2])};
  if (!g.contains(s[0], s[1], s[2]))
    throw Error(ErrorKind::Input, "island point lies outside the volume (" + g.describe() + ")");
  const int label = static_cast<int>(target.layer.valueAt(s[0], s[1], s[2]));
  if (islandLabel) *islandLabel = label;
  if (label == 0) return {};
  if (target.locked[label])
    throw Error(ErrorKind::Input, "label " + std::to_string(label) + " is locked");
  const Components c = labelComponents(target.layer, label, op.fullyConnected, progress);
  const Index3 n = c.box.size();
  const int64_t q =
      (s[0] - c.box.begin[0]) + n[0] * ((s[1] - c.box.begin[1]) + n[1] * (s[2] - c.box.begin[2]));
  std::vector<uint8_t> remove(c.sizes.size(), 0);
  remove[c.ids->GetBufferPointer()[q]] = 1;
  return clearComponents(target, c, remove, progress);
}

VoxelDelta applyKeepLargest(EditTarget target, const KeepLargestIslands& op,
                            const Progress& progress) {
  if (op.count < 1)
    throw Error(ErrorKind::Input, "keep largest islands needs a count of at least 1");
  const Components c = labelComponents(target.layer, op.label, op.fullyConnected, progress);
  if (c.sizes.size() <= static_cast<size_t>(op.count) + 1) return {};
  // Largest first; equal sizes in the order ITK numbered them (scan order).
  std::vector<size_t> order(c.sizes.size() - 1);
  std::iota(order.begin(), order.end(), size_t(1));
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return c.sizes[a] > c.sizes[b]; });
  std::vector<uint8_t> remove(c.sizes.size(), 0);
  for (size_t r = static_cast<size_t>(op.count); r < order.size(); ++r) remove[order[r]] = 1;
  return clearComponents(target, c, remove, progress);
}

}  // namespace nephro::edit::detail
