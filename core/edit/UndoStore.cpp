#include "edit/UndoStore.h"

namespace nephro::edit {

void UndoStore::push(UndoStep step) {
  if (step.delta.empty()) return;
  for (const UndoStep& s : redo_) bytes_ -= s.bytes();
  redo_.clear();
  bytes_ += step.bytes();
  undo_.push_back(std::move(step));
  evict();
}

const UndoStep* UndoStore::undo() {
  if (undo_.empty()) return nullptr;
  redo_.push_back(std::move(undo_.back()));
  undo_.pop_back();
  return &redo_.back();
}

const UndoStep* UndoStore::redo() {
  if (redo_.empty()) return nullptr;
  undo_.push_back(std::move(redo_.back()));
  redo_.pop_back();
  return &undo_.back();
}

void UndoStore::clear() {
  undo_.clear();
  redo_.clear();
  bytes_ = 0;
}

std::vector<std::string> UndoStore::undoNames() const {
  std::vector<std::string> names;
  for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) names.push_back(it->name);
  return names;
}

std::vector<std::string> UndoStore::redoNames() const {
  std::vector<std::string> names;
  for (auto it = redo_.rbegin(); it != redo_.rend(); ++it) names.push_back(it->name);
  return names;
}

void UndoStore::setBudget(size_t bytes) {
  budget_ = bytes;
  evict();
}

void UndoStore::evict() {
  if (budget_ == 0) return;
  // Oldest undo steps first, then the redo steps farthest away; the step
  // nearest to the present (the newest undo, else the next redo) stays.
  while (bytes_ > budget_ && undo_.size() + redo_.size() > 1) {
    if (!undo_.empty() && (undo_.size() > 1 || redo_.empty())) {
      bytes_ -= undo_.front().bytes();
      undo_.pop_front();
    } else {
      bytes_ -= redo_.front().bytes();
      redo_.erase(redo_.begin());
    }
    ++evicted_;
  }
}

}  // namespace nephro::edit
