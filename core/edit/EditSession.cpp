#include "edit/EditSession.h"

#include <algorithm>
#include <cmath>

#include "common/Error.h"
#include "edit/EditKernel.h"

namespace nephro::edit {

namespace {

void addTo(std::map<int, int64_t>& into, int label, int64_t n) {
  if ((into[label] += n) == 0) into.erase(label);
}

Box unite(const Box& a, const Box& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  Box u;
  for (int d = 0; d < 3; ++d) {
    u.begin[d] = std::min(a.begin[d], b.begin[d]);
    u.end[d] = std::max(a.end[d], b.end[d]);
  }
  return u;
}

std::string voxelsText(int64_t n) {
  return std::to_string(n) + (n == 1 ? " voxel" : " voxels");
}

}  // namespace

EditSession::EditSession(Volume layer, LabelTable labels, EditSessionOptions options)
    : layer_(std::move(layer)),
      labels_(std::move(labels)),
      layerPath_(std::move(options.layerPath)),
      locked_(65536, 0),
      undo_(options.undoBudgetBytes) {
  if (layer_.empty()) throw Error(ErrorKind::Input, layerPath_ + ": the layer is empty");
  if (layer_.pixelType() != PixelType::UInt8 && layer_.pixelType() != PixelType::UInt16)
    throw Error(ErrorKind::Input, layerPath_ +
                                      ": a label layer to edit must be uint8 or uint16, not " +
                                      toString(layer_.pixelType()));
  counts_ = labelVoxelCounts(layer_);
  originalCounts_ = counts_;
}

EditSession::~EditSession() = default;

void EditSession::setImage(const Volume& image, const std::string& path) {
  const Geometry& g = layer_.geometry();
  if (image.geometry().size != g.size || !image.geometry().sameGrid(g))
    throw Error(ErrorKind::Input, (path.empty() ? std::string("image") : path) +
                                      ": is on the grid " + image.geometry().describe() +
                                      ", not the layer's " + g.describe());
  image_ = image;
  imagePath_ = path;
}

void EditSession::addLabel(const LabelEntry& entry) {
  if (entry.value <= 0 || entry.value > (layer_.pixelType() == PixelType::UInt8 ? 255 : 65535))
    throw Error(ErrorKind::Input,
                "label value " + std::to_string(entry.value) + " does not fit the layer");
  if (const LabelEntry* e = labels_.find(entry.value)) {
    if (e->name == entry.name) return;
    throw Error(ErrorKind::Input,
                "label value " + std::to_string(entry.value) + " is already " + e->name);
  }
  if (labels_.findByName(entry.name))
    throw Error(ErrorKind::Input, "the layer already has a label " + entry.name);
  labels_.set(entry);
  journal_.recordAddLabel(entry);
}

std::string EditSession::labelName(int value) const {
  if (value == 0) return "background";
  const LabelEntry* e = labels_.find(value);
  return e ? e->name : "label " + std::to_string(value);
}

int EditSession::labelAt(const Vec3& lps) const {
  const Vec3 ci = layer_.geometry().physicalToIndex(lps);
  const Index3 i{detail::roundIndex(ci[0]), detail::roundIndex(ci[1]), detail::roundIndex(ci[2])};
  if (!layer_.geometry().contains(i[0], i[1], i[2])) return -1;
  return static_cast<int>(layer_.valueAt(i[0], i[1], i[2]));
}

void EditSession::setLocked(int value, bool locked) {
  checkLabel(value, locked ? "lock" : "unlock");
  if (isLocked(value) == locked) return;
  if (stroke_) endStroke();
  locked_[static_cast<size_t>(value)] = locked ? 1 : 0;
  journal_.recordLock(value, labels_, locked);
}

std::vector<int> EditSession::lockedLabels() const {
  std::vector<int> out;
  for (size_t v = 0; v < locked_.size(); ++v)
    if (locked_[v]) out.push_back(static_cast<int>(v));
  return out;
}

void EditSession::checkLabel(int value, const char* role) const {
  if (!labels_.find(value))
    throw Error(ErrorKind::Input, std::string(role) + ": label " + std::to_string(value) +
                                      " is not in the layer's label table (add it first)");
}

void EditSession::checkUnlocked(int value) const {
  if (isLocked(value)) throw Error(ErrorKind::Input, labelName(value) + " is locked");
}

void EditSession::checkRule(const PaintRule& rule) const {
  if (rule.huRange) {
    if (!hasImage())
      throw Error(ErrorKind::Input, "an HU range needs the CT image the layer was drawn on");
    const auto& h = *rule.huRange;
    if (!std::isfinite(h[0]) || !std::isfinite(h[1]) || h[0] > h[1])
      throw Error(ErrorKind::Input, "HU range must be two finite numbers, low <= high");
  }
  if (rule.over == PaintOver::Label && rule.overLabel != 0)
    checkLabel(rule.overLabel, "paint over");
}

// Checks what a stroke, scissors or fill may change: the label it writes and,
// for erasing one label, that label.
void EditSession::checkPaint(int value, const PaintRule& rule, const char* role) const {
  checkRule(rule);
  if (value != 0) {
    checkLabel(value, role);
    checkUnlocked(value);
  } else if (rule.over == PaintOver::Label) {
    checkUnlocked(rule.overLabel);
  }
}

EditResult EditSession::describe(const VoxelDelta& delta, bool forward,
                                 const std::string& name) const {
  EditResult r;
  if (delta.empty()) return r;
  r.changed = true;
  r.box = delta.changedBox();
  r.voxelsChanged = delta.changedVoxels();
  for (const auto& [v, n] : delta.countDeltas()) r.voxelDeltas[v] = forward ? n : -n;
  r.labelsTouched = delta.labelsTouched();
  r.name = name;
  return r;
}

void EditSession::countChanges(const std::map<int, int64_t>& deltas) {
  for (const auto& [v, n] : deltas) {
    if (static_cast<size_t>(v) >= counts_.size()) counts_.resize(static_cast<size_t>(v) + 1, 0);
    counts_[static_cast<size_t>(v)] += n;
  }
}

EditResult EditSession::commit(VoxelDelta delta, const std::string& name, const EditOperation& op) {
  if (delta.empty()) return {};
  const std::string full = name + ", " + voxelsText(delta.changedVoxels());
  EditResult r = describe(delta, true, full);
  countChanges(r.voxelDeltas);
  undo_.push(UndoStep{full, std::move(delta), nextStepId_++});
  journal_.recordOperation(op, r, labels_, layer_.geometry());
  return r;
}

EditResult EditSession::apply(const EditOperation& op, const Progress& progress) {
  if (stroke_) endStroke();
  if (const auto* b = std::get_if<BrushStroke>(&op)) {
    if (b->dabs.empty()) throw Error(ErrorKind::Input, "a stroke needs at least one dab");
    BrushStroke first = *b;
    first.dabs.resize(1);
    beginStroke(first);
    try {
      for (size_t i = 1; i < b->dabs.size(); ++i) continueStroke(b->dabs[i]);
    } catch (...) {
      cancelStroke();
      throw;
    }
    return endStroke();
  }
  const detail::EditTarget target{layer_, hasImage() ? &image_ : nullptr, locked_};
  if (const auto* s = std::get_if<ScissorsCut>(&op)) {
    const bool fill = s->action == ScissorsAction::Fill;
    checkPaint(fill ? s->label : 0, s->rule, "scissors");
    VoxelDelta d = detail::applyScissors(target, *s, progress);
    const std::string what = fill ? " fill " + labelName(s->label)
                             : s->rule.over == PaintOver::Label
                                 ? " erase " + labelName(s->rule.overLabel)
                                 : std::string(" erase");
    return commit(std::move(d), "Scissors" + what, op);
  }
  if (const auto* r = std::get_if<RemoveIsland>(&op)) {
    const int under = labelAt(r->seed);
    if (under > 0) checkUnlocked(under);
    int label = 0;
    VoxelDelta d = detail::applyRemoveIsland(target, *r, &label, progress);
    return commit(std::move(d), "Remove island of " + labelName(label), op);
  }
  if (const auto* k = std::get_if<KeepLargestIslands>(&op)) {
    checkLabel(k->label, "keep largest islands");
    checkUnlocked(k->label);
    VoxelDelta d = detail::applyKeepLargest(target, *k, progress);
    const std::string what =
        k->count == 1 ? "largest island" : std::to_string(k->count) + " largest islands";
    return commit(std::move(d), "Keep " + what + " of " + labelName(k->label), op);
  }
  FillBetweenSlices f = std::get<FillBetweenSlices>(op);
  checkPaint(f.label, f.rule, "fill between slices");
  VoxelDelta d = detail::applyFillBetween(target, f, progress);
  return commit(std::move(d), "Fill between slices " + labelName(f.label), f);
}

EditResult EditSession::beginStroke(const BrushStroke& params) {
  if (stroke_) endStroke();
  checkPaint(params.label, params.rule, params.label ? "brush" : "eraser");
  const detail::EditTarget target{layer_, hasImage() ? &image_ : nullptr, locked_};
  Stroke s;
  s.params = params;
  s.params.dabs.clear();
  s.painter = std::make_unique<detail::StrokePainter>(target, params);
  stroke_ = std::move(s);
  EditResult r;
  try {
    for (const Vec3& dab : params.dabs) {
      const EditResult one = continueStroke(dab);
      r.changed = r.changed || one.changed;
      r.box = unite(r.box, one.box);
      r.voxelsChanged += one.voxelsChanged;
      for (const auto& [v, n] : one.voxelDeltas) addTo(r.voxelDeltas, v, n);
    }
  } catch (...) {
    cancelStroke();
    throw;
  }
  for (const auto& [v, n] : r.voxelDeltas)
    if (v != 0) r.labelsTouched.push_back(v);
  return r;
}

EditResult EditSession::continueStroke(const Vec3& lps) {
  if (!stroke_) throw Error(ErrorKind::Internal, "continueStroke without beginStroke");
  auto& changes = stroke_->changes;
  const size_t before = changes.size();
  EditResult r;
  r.box = stroke_->painter->addDab(lps, changes);
  stroke_->params.dabs.push_back(lps);
  const int value = stroke_->params.label;
  for (size_t i = before; i < changes.size(); ++i) {
    addTo(r.voxelDeltas, changes[i].second, -1);
    addTo(r.voxelDeltas, value, 1);
  }
  r.voxelsChanged = static_cast<int64_t>(changes.size() - before);
  r.changed = r.voxelsChanged > 0;
  for (const auto& [v, n] : r.voxelDeltas)
    if (v != 0) r.labelsTouched.push_back(v);
  countChanges(r.voxelDeltas);
  return r;
}

EditResult EditSession::endStroke() {
  if (!stroke_) return {};
  Stroke s = std::move(*stroke_);
  stroke_.reset();
  const BrushStroke& p = s.params;
  const int key = p.label != 0 ? p.label : p.rule.over == PaintOver::Label ? p.rule.overLabel : 0;
  if (key > 0 && p.shape == BrushShape::Disc && !s.changes.empty())
    for (int64_t slice : s.painter->slices()) editedSlices_[{key, p.axis}].insert(slice);
  VoxelDelta delta =
      deltaFromChanges(layer_.geometry(), std::move(s.changes), static_cast<uint16_t>(p.label));
  if (delta.empty()) return {};
  const std::string name = p.label != 0 ? "Brush " + labelName(p.label)
                           : p.rule.over == PaintOver::Label
                               ? "Erase " + labelName(p.rule.overLabel)
                               : std::string("Erase");
  const std::string full = name + ", " + voxelsText(delta.changedVoxels());
  EditResult r = describe(delta, true, full);  // counts were updated dab by dab
  undo_.push(UndoStep{full, std::move(delta), nextStepId_++});
  journal_.recordOperation(p, r, labels_, layer_.geometry());
  return r;
}

EditResult EditSession::cancelStroke() {
  if (!stroke_) return {};
  Stroke s = std::move(*stroke_);
  stroke_.reset();
  const VoxelDelta delta = deltaFromChanges(layer_.geometry(), std::move(s.changes),
                                            static_cast<uint16_t>(s.params.label));
  delta.applyBefore(layer_);
  EditResult r = describe(delta, false, "Cancel stroke");
  countChanges(r.voxelDeltas);
  return r;
}

std::string EditSession::undoName() const {
  return undo_.nextUndo() ? undo_.nextUndo()->name : std::string();
}
std::string EditSession::redoName() const {
  return undo_.nextRedo() ? undo_.nextRedo()->name : std::string();
}

EditResult EditSession::undo() {
  if (stroke_) endStroke();
  const UndoStep* s = undo_.undo();
  if (!s) return {};
  s->delta.applyBefore(layer_);
  EditResult r = describe(s->delta, false, s->name);
  countChanges(r.voxelDeltas);
  journal_.recordUndo(s->name);
  return r;
}

EditResult EditSession::redo() {
  if (stroke_) endStroke();
  const UndoStep* s = undo_.redo();
  if (!s) return {};
  s->delta.applyAfter(layer_);
  EditResult r = describe(s->delta, true, s->name);
  countChanges(r.voxelDeltas);
  journal_.recordRedo(s->name);
  return r;
}

std::string EditSession::journalJson() const {
  return journal_.toJson(layer_.geometry(), layerPath_, imagePath_);
}

int64_t EditSession::voxelCount(int value) const {
  return value >= 0 && static_cast<size_t>(value) < counts_.size()
             ? counts_[static_cast<size_t>(value)]
             : 0;
}

int64_t EditSession::originalVoxelCount(int value) const {
  return value >= 0 && static_cast<size_t>(value) < originalCounts_.size()
             ? originalCounts_[static_cast<size_t>(value)]
             : 0;
}

double EditSession::volumeMl(int value) const {
  return static_cast<double>(voxelCount(value)) * layer_.geometry().voxelVolumeMm3() / 1000.0;
}

std::vector<int64_t> EditSession::editedSlices(int label, int axis) const {
  auto it = editedSlices_.find({label, axis});
  return it == editedSlices_.end() ? std::vector<int64_t>{}
                                   : std::vector<int64_t>(it->second.begin(), it->second.end());
}

void EditSession::clearEditedSlices(int label, int axis) {
  editedSlices_.erase({label, axis});
}

int nearestIndexAxis(const Geometry& grid, const Vec3& normalLps) {
  int best = 2;
  double bestDot = -1.0;
  for (int a = 0; a < 3; ++a) {
    const double dot = std::abs(grid.direction[0 * 3 + a] * normalLps[0] +
                                grid.direction[1 * 3 + a] * normalLps[1] +
                                grid.direction[2 * 3 + a] * normalLps[2]);
    if (dot > bestDot) {
      bestDot = dot;
      best = a;
    }
  }
  return best;
}

Volume toLabelLayer(const Volume& mask, const std::string& path) {
  if (mask.pixelType() == PixelType::UInt8 || mask.pixelType() == PixelType::UInt16) return mask;
  if (!isIntegerType(mask.pixelType()))
    throw inputError(
        path, std::string("is not an integer label image (") + toString(mask.pixelType()) + ")");
  const auto [lo, hi] = mask.range();
  if (lo < 0 || hi > 65535)
    throw inputError(path, "has label values outside 0..65535 (" +
                               std::to_string(static_cast<int64_t>(lo)) + ".." +
                               std::to_string(static_cast<int64_t>(hi)) + ")");
  return castVolume(mask, hi <= 255 ? PixelType::UInt8 : PixelType::UInt16);
}

}  // namespace nephro::edit
