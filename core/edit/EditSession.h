#pragma once
// One label layer being corrected: the layer (edited in place), its label
// table, the optional CT on the same grid (HU ranges), label locks, the undo
// store and the journal. Every tool goes through here, so undo, the journal
// and the live label volumes stay in step.
//
// Interactive brush (the window, per mouse event):
//   press   -> beginStroke(params with dabs = {lps under the cursor})
//   move    -> continueStroke(lps)        repaint result.box, add result.voxelDeltas
//   release -> endStroke()                one undo step; re-mesh result.labelsTouched
// Whole operations (scissors, islands, fill between slices): apply(op).
// Not thread-safe: one thread at a time (a long apply() may run on a worker
// while the window does not read the layer, and report through `progress`).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "edit/EditJournal.h"
#include "edit/EditOperations.h"
#include "edit/UndoStore.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"

namespace nephro::edit {

namespace detail {
class StrokePainter;
}

struct EditSessionOptions {
  size_t undoBudgetBytes = kDefaultUndoBudgetBytes;  // 0: no limit
  std::string layerPath;  // the file the layer was read from (recorded in the journal)
};

class EditSession {
 public:
  // `layer` must be uint8 or uint16 (see toLabelLayer); the session edits
  // these voxels in place, so a Volume sharing them sees every edit.
  EditSession(Volume layer, LabelTable labels, EditSessionOptions options = {});
  ~EditSession();
  EditSession(const EditSession&) = delete;
  EditSession& operator=(const EditSession&) = delete;

  const Volume& layer() const { return layer_; }
  const LabelTable& labels() const { return labels_; }
  // The CT used by HU ranges; must share the layer's grid.
  void setImage(const Volume& image, const std::string& path = {});
  bool hasImage() const { return !image_.empty(); }
  // Adds a label to the table (journaled), e.g. a vein the model did not give.
  void addLabel(const LabelEntry& entry);
  // "tumor", or "label 7" when the table lacks it.
  std::string labelName(int value) const;
  // The label under an LPS point (nearest voxel), -1 outside the layer.
  int labelAt(const Vec3& lps) const;

  // A locked label is never changed by any tool (journaled).
  void setLocked(int value, bool locked);
  bool isLocked(int value) const {
    return value >= 0 && value < 65536 && locked_[static_cast<size_t>(value)];
  }
  std::vector<int> lockedLabels() const;

  // One undoable step. Throws nephro::Error (kind Input) for an operation that
  // cannot apply: a locked or unknown label, a polygon outside the volume,
  // an HU range without an image; the layer is then unchanged.
  EditResult apply(const EditOperation& op, const Progress& progress = {});

  EditResult beginStroke(const BrushStroke& params);
  EditResult continueStroke(const Vec3& lps);
  EditResult endStroke();
  // Puts back every voxel of the stroke in progress; nothing is stored.
  EditResult cancelStroke();
  bool strokeActive() const { return stroke_.has_value(); }

  bool canUndo() const { return undo_.canUndo(); }
  bool canRedo() const { return undo_.canRedo(); }
  // "Brush tumor, 312 voxels", empty when there is nothing to undo / redo.
  std::string undoName() const;
  std::string redoName() const;
  EditResult undo();
  EditResult redo();
  const UndoStore& undoStore() const { return undo_; }
  void setUndoBudget(size_t bytes) { undo_.setBudget(bytes); }

  // Every applied step, undo, redo, lock and added label, replayable by replayJournal().
  const EditJournal& journal() const { return journal_; }
  std::string journalJson() const;

  // Live voxel counts per label value, and those the session started with.
  int64_t voxelCount(int value) const;
  int64_t originalVoxelCount(int value) const;
  double volumeMl(int value) const;

  // Slices (along `axis`) where disc strokes of `label` changed voxels: the
  // key slices to hand to FillBetweenSlices after the user drew them.
  std::vector<int64_t> editedSlices(int label, int axis) const;
  void clearEditedSlices(int label, int axis);

  // Whether the layer differs from its state at the last markSaved() (or start).
  bool modifiedSinceSave() const { return stateId() != savedState_; }
  void markSaved() { savedState_ = stateId(); }

 private:
  struct Stroke {
    BrushStroke params;  // with every dab given so far
    std::vector<std::pair<int64_t, uint16_t>> changes;
    std::unique_ptr<detail::StrokePainter> painter;
  };
  uint64_t stateId() const { return undo_.nextUndo() ? undo_.nextUndo()->id : 0; }
  void checkLabel(int value, const char* role) const;
  void checkUnlocked(int value) const;
  void checkRule(const PaintRule& rule) const;
  void checkPaint(int value, const PaintRule& rule, const char* role) const;
  EditResult describe(const VoxelDelta& delta, bool forward, const std::string& name) const;
  void countChanges(const std::map<int, int64_t>& deltas);
  EditResult commit(VoxelDelta delta, const std::string& name, const EditOperation& op);

  Volume layer_;
  LabelTable labels_;
  std::string layerPath_;
  Volume image_;
  std::string imagePath_;
  std::vector<uint8_t> locked_;
  UndoStore undo_;
  EditJournal journal_;
  std::vector<int64_t> counts_, originalCounts_;
  std::map<std::pair<int, int>, std::set<int64_t>> editedSlices_;
  std::optional<Stroke> stroke_;
  uint64_t nextStepId_ = 1;
  uint64_t savedState_ = 0;
};

// The index axis of `grid` that runs closest to an LPS direction: the `axis`
// of an operation drawn in a view whose normal is `normalLps` (a view of
// another grid than the layer's, or an oblique layer).
int nearestIndexAxis(const Geometry& grid, const Vec3& normalLps);

// A label layer for editing from any integer mask: uint8 and uint16 are kept
// as they are, other integer types with values in 0..65535 become uint16
// (uint8 when every value fits). Throws an input error naming `path` otherwise.
Volume toLabelLayer(const Volume& mask, const std::string& path);

}  // namespace nephro::edit
