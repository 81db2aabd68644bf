#pragma once
// Internal to core/edit: what every operation shares. The rule that decides
// whether a voxel may change (locks, paint-over, HU range), an editor that
// writes a box in memory order while recording the delta (and puts everything
// back if the operation fails or is cancelled), and the operations themselves.
#include <cmath>
#include <cstdint>
#include <set>
#include <utility>
#include <vector>

#include "common/Error.h"
#include "common/Progress.h"
#include "edit/EditOperations.h"
#include "edit/VoxelDelta.h"
#include "image/Volume.h"

namespace nephro::edit::detail {

// Lock flags indexed by label value (65536 entries: any uint16 value is safe).
using LockFlags = std::vector<uint8_t>;

// The layer an operation edits and what constrains it.
struct EditTarget {
  Volume& layer;
  const Volume* image;  // CT on the layer's grid, or null
  const LockFlags& locked;
};

class PaintGate {
 public:
  PaintGate(const PaintRule& rule, const LockFlags& locked, const Volume* image)
      : rule_(rule), locked_(locked.data()), image_(rule.huRange ? image : nullptr) {
    if (rule.huRange && !image)
      throw Error(ErrorKind::Input, "an HU range needs the CT image the layer was drawn on");
  }

  // May a voxel holding `old` take `value`?
  bool allows(int old, int value, int64_t offset) const {
    if (old == value || locked_[old]) return false;
    switch (rule_.over) {
      case PaintOver::Background:
        if (old != 0) return false;
        break;
      case PaintOver::Label:
        if (old != rule_.overLabel) return false;
        break;
      case PaintOver::Everything:
        break;
    }
    if (image_) {
      const double hu = imageValue(offset);
      if (!(hu >= (*rule_.huRange)[0] && hu <= (*rule_.huRange)[1])) return false;
    }
    return true;
  }

 private:
  double imageValue(int64_t offset) const {
    switch (image_->pixelType()) {
      case PixelType::Int16:
        return static_cast<const int16_t*>(image_->raw())[offset];
      case PixelType::UInt8:
        return static_cast<const uint8_t*>(image_->raw())[offset];
      case PixelType::UInt16:
        return static_cast<const uint16_t*>(image_->raw())[offset];
      case PixelType::Int32:
        return static_cast<const int32_t*>(image_->raw())[offset];
      case PixelType::Float32:
        return static_cast<const float*>(image_->raw())[offset];
    }
    return 0.0;
  }

  PaintRule rule_;
  const uint8_t* locked_;
  const Volume* image_;
};

// Writes voxels of a box in increasing memory order and records each change.
template <class T>
class BoxEditor {
 public:
  BoxEditor(Volume& layer, const Box& box) : layer_(layer), p_(layer.data<T>()), builder_(box) {}
  T* data() const { return p_; }
  void set(int64_t i, int64_t j, int64_t k, int64_t offset, T value) {
    builder_.add(builder_.local(i, j, k), p_[offset], value);
    p_[offset] = value;
  }
  VoxelDelta finish() { return builder_.finish(); }
  // Puts back every voxel written so far.
  void revert() { builder_.finish().applyBefore(layer_); }

 private:
  Volume& layer_;
  T* p_;
  DeltaBuilder builder_;
};

// Runs body(editor) over `box` of the layer's label type; a failure or a
// cancellation inside leaves the layer as it was.
template <class Body>
VoxelDelta editBox(Volume& layer, const Box& box, Body&& body) {
  auto run = [&](auto v) -> VoxelDelta {
    using T = decltype(v);
    BoxEditor<T> editor(layer, box);
    try {
      body(editor);
    } catch (...) {
      editor.revert();
      throw;
    }
    return editor.finish();
  };
  if (layer.pixelType() == PixelType::UInt8) return run(uint8_t{});
  if (layer.pixelType() == PixelType::UInt16) return run(uint16_t{});
  throw Error(ErrorKind::Internal,
              std::string("editing a ") + toString(layer.pixelType()) + " layer");
}

// The two in-plane index axes of a view normal to `axis`, in increasing order.
inline std::pair<int, int> inPlaneAxes(int axis) {
  return axis == 0 ? std::make_pair(1, 2) : axis == 1 ? std::make_pair(0, 2) : std::make_pair(0, 1);
}

inline int64_t roundIndex(double x) {
  return static_cast<int64_t>(std::floor(x + 0.5));
}

// Paints the dabs of one stroke as they come; each voxel changes at most once
// per stroke (to the stroke's value), so (offset, before) pairs describe it.
class StrokePainter {
 public:
  StrokePainter(EditTarget target, const BrushStroke& params);
  // One dab at `lps`, joined to the previous one. Appends the changes and
  // returns the box they lie in (empty if none).
  Box addDab(const Vec3& lps, std::vector<std::pair<int64_t, uint16_t>>& changes);
  // Slices (along the stroke's axis) a disc dab touched.
  const std::set<int64_t>& slices() const { return slices_; }

 private:
  Box paintAt(const Vec3& ci, std::vector<std::pair<int64_t, uint16_t>>& changes);

  EditTarget target_;
  BrushStroke params_;
  PaintGate gate_;
  bool hasLast_ = false;
  Vec3 last_{0, 0, 0};  // continuous index of the previous dab
  std::set<int64_t> slices_;
};

VoxelDelta applyScissors(EditTarget target, const ScissorsCut& op, const Progress& progress);
VoxelDelta applyRemoveIsland(EditTarget target, const RemoveIsland& op, int* islandLabel,
                             const Progress& progress);
VoxelDelta applyKeepLargest(EditTarget target, const KeepLargestIslands& op,
                            const Progress& progress);
// Fills in op.keySlices with the key slices it used when none were given.
VoxelDelta applyFillBetween(EditTarget target, FillBetweenSlices& op, const Progress& progress);

}  // namespace nephro::edit::detail
