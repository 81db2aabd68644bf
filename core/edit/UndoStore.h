#pragma once
// Undo and redo of named steps within a byte budget. A step holds only the
// voxels it changed (a VoxelDelta), never a copy of the layer. When the steps
// together exceed the budget the oldest are dropped; the newest is always kept.
#include <cstddef>
#include <deque>
#include <string>
#include <vector>

#include "edit/VoxelDelta.h"

namespace nephro::edit {

constexpr size_t kDefaultUndoBudgetBytes = size_t(256) << 20;

struct UndoStep {
  std::string name;  // "Brush tumor, 312 voxels"
  VoxelDelta delta;
  uint64_t id = 0;  // unique in a session: the state after this step
  size_t bytes() const { return delta.bytes() + sizeof(UndoStep) + name.capacity(); }
};

class UndoStore {
 public:
  explicit UndoStore(size_t budgetBytes = kDefaultUndoBudgetBytes) : budget_(budgetBytes) {}

  // Adds a step (an empty delta is not stored) and forgets what could be redone.
  void push(UndoStep step);
  bool canUndo() const { return !undo_.empty(); }
  bool canRedo() const { return !redo_.empty(); }
  // The step undo() / redo() would take, or null.
  const UndoStep* nextUndo() const { return undo_.empty() ? nullptr : &undo_.back(); }
  const UndoStep* nextRedo() const { return redo_.empty() ? nullptr : &redo_.back(); }
  // Moves the newest step to the redo list and returns it (the caller writes
  // its before values); null when there is nothing to undo.
  const UndoStep* undo();
  // Moves the step undone last back and returns it (the caller writes its after values).
  const UndoStep* redo();
  void clear();

  // Names for Edit > Undo / Redo menus, next first.
  std::vector<std::string> undoNames() const;
  std::vector<std::string> redoNames() const;
  size_t undoCount() const { return undo_.size(); }
  size_t redoCount() const { return redo_.size(); }
  // Steps dropped to stay within the budget since the store was made.
  size_t evictedCount() const { return evicted_; }

  size_t bytes() const { return bytes_; }
  size_t budget() const { return budget_; }
  // 0 means no limit. Evicts at once when the steps held exceed it.
  void setBudget(size_t bytes);

 private:
  void evict();

  size_t budget_;
  size_t bytes_ = 0;
  size_t evicted_ = 0;
  std::deque<UndoStep> undo_;   // oldest first
  std::vector<UndoStep> redo_;  // the step to redo next is last
};

}  // namespace nephro::edit
