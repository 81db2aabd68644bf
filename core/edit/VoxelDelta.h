#pragma once
// The voxels one edit changed, run-length coded inside the edit's box
// (ITK-SNAP's undo representation): runs of (length, before, after) in the
// box's x-fastest order, where before == after marks unchanged voxels. Undo
// writes the before values, redo the after values; unchanged voxels are never
// touched and never stored.
#include <cstdint>
#include <map>
#include <vector>

#include "image/Crop.h"
#include "image/Volume.h"

namespace nephro::edit {

struct DeltaRun {
  uint32_t length = 0;
  uint16_t before = 0;
  uint16_t after = 0;
  bool unchanged() const { return before == after; }
};

class VoxelDelta {
 public:
  VoxelDelta() = default;

  bool empty() const { return changedVoxels_ == 0; }
  // The box the runs cover, and the smallest box holding every changed voxel.
  const Box& box() const { return box_; }
  const Box& changedBox() const { return changedBox_; }
  int64_t changedVoxels() const { return changedVoxels_; }
  const std::vector<DeltaRun>& runs() const { return runs_; }
  // Memory held by this delta.
  size_t bytes() const { return sizeof(*this) + runs_.capacity() * sizeof(DeltaRun); }

  // Writes the before (undo) or after (redo) values into `layer` (uint8 or uint16).
  void applyBefore(Volume& layer) const { write(layer, false); }
  void applyAfter(Volume& layer) const { write(layer, true); }

  // Voxel count change per label value going forward (after minus before),
  // nonzero entries only; negate for undo.
  std::map<int, int64_t> countDeltas() const;
  // Nonzero labels that gained or lost a voxel.
  std::vector<int> labelsTouched() const;

 private:
  friend class DeltaBuilder;
  void write(Volume& layer, bool after) const;

  Box box_;
  Box changedBox_;
  int64_t changedVoxels_ = 0;
  std::vector<DeltaRun> runs_;
};

// Builds a delta from changes given in increasing order of their index inside
// `box` (x fastest): editors call add() while they write the layer.
class DeltaBuilder {
 public:
  explicit DeltaBuilder(const Box& box);
  // Index of voxel (i, j, k) inside the box.
  int64_t local(int64_t i, int64_t j, int64_t k) const {
    return (i - box_.begin[0]) + sx_ * ((j - box_.begin[1]) + sy_ * (k - box_.begin[2]));
  }
  // One voxel at box index `local` (greater than any before) went from `before` to `after`.
  void add(int64_t local, uint16_t before, uint16_t after) {
    if (!runs_.empty() && local == next_) {
      DeltaRun& r = runs_.back();
      if (r.before == before && r.after == after && r.length < UINT32_MAX) {
        ++r.length;
        ++next_;
        ++changed_;
        return;
      }
    }
    addSlow(local, before, after);
  }
  int64_t changedVoxels() const { return changed_; }
  // The delta of everything added so far (the builder is left empty).
  VoxelDelta finish();

 private:
  void addSlow(int64_t local, uint16_t before, uint16_t after);

  Box box_;
  int64_t sx_ = 0, sy_ = 0;
  int64_t next_ = 0;  // box index following the last run
  int64_t changed_ = 0;
  std::vector<DeltaRun> runs_;
};

// A delta from unordered (offset in the layer, before) pairs that all changed
// to `after`: the brush records its changes this way while a stroke goes on.
VoxelDelta deltaFromChanges(const Geometry& grid, std::vector<std::pair<int64_t, uint16_t>> changes,
                            uint16_t after);

}  // namespace nephro::edit
