#include "widgets/WorkspaceModel.h"

#include <algorithm>

namespace nephro::widgets {

QString phaseLetter(Phase phase) {
  switch (phase) {
    case Phase::Arterial:
      return "A";
    case Phase::Portal:
      return "P";
    case Phase::Delayed:
      return "D";
  }
  return {};
}

QString phaseName(Phase phase) {
  switch (phase) {
    case Phase::Arterial:
      return QObject::tr("Arterial");
    case Phase::Portal:
      return QObject::tr("Portal");
    case Phase::Delayed:
      return QObject::tr("Delayed");
  }
  return {};
}

std::optional<Phase> phaseFromLetter(const QString& letter) {
  const QString l = letter.trimmed().toUpper();
  if (l == "A") return Phase::Arterial;
  if (l == "P") return Phase::Portal;
  if (l == "D") return Phase::Delayed;
  return std::nullopt;
}

QColor toQColor(const Rgb& rgb) {
  return QColor(rgb.r, rgb.g, rgb.b);
}
Rgb toRgb(const QColor& c) {
  return Rgb{uint8_t(c.red()), uint8_t(c.green()), uint8_t(c.blue())};
}

int64_t Layer::voxelCount(int value) const {
  return value >= 0 && size_t(value) < voxelCounts.size() ? voxelCounts[size_t(value)] : 0;
}

double Layer::volumeMl(int value) const {
  if (mask.empty()) return 0.0;
  return double(voxelCount(value)) * mask.geometry().voxelVolumeMm3() / 1000.0;
}

double Layer::changeMl(int value) const {
  if (mask.empty()) return 0.0;
  const int64_t before =
      value >= 0 && size_t(value) < originalVoxelCounts.size() ? originalVoxelCounts[size_t(value)] : 0;
  return double(voxelCount(value) - before) * mask.geometry().voxelVolumeMm3() / 1000.0;
}

void WorkspaceModel::addVoxelCounts(int layerId, const std::map<int, int64_t>& deltas) {
  Layer* l = findLayer(layerId);
  if (!l || deltas.empty()) return;
  for (const auto& [value, delta] : deltas) {
    if (value < 0) continue;
    if (size_t(value) >= l->voxelCounts.size()) l->voxelCounts.resize(size_t(value) + 1, 0);
    l->voxelCounts[size_t(value)] += delta;
  }
  emit voxelCountsChanged(layerId);
}

WorkspaceModel::WorkspaceModel(QObject* parent) : QObject(parent) {}

void WorkspaceModel::setPhase(Phase phase, const Volume& volume, const QString& path) {
  const bool first = loadedPhases().empty();
  phases_[int(phase)] = PhaseSlot{volume, path};
  if (first || !hasPhase(current_)) current_ = phase;
  emit phasesChanged();
  if (first) emit currentPhaseChanged(current_);
}

void WorkspaceModel::clearPhase(Phase phase) {
  phases_[int(phase)] = PhaseSlot{};
  if (current_ == phase) {
    auto loaded = loadedPhases();
    if (!loaded.empty()) current_ = loaded.front();
  }
  emit phasesChanged();
  emit currentPhaseChanged(current_);
}

bool WorkspaceModel::hasPhase(Phase phase) const {
  return !phases_[int(phase)].volume.empty();
}
const Volume& WorkspaceModel::phase(Phase phase) const {
  return phases_[int(phase)].volume;
}
QString WorkspaceModel::phasePath(Phase phase) const {
  return phases_[int(phase)].path;
}

std::vector<Phase> WorkspaceModel::loadedPhases() const {
  std::vector<Phase> out;
  for (int i = 0; i < kPhaseCount; ++i)
    if (hasPhase(Phase(i))) out.push_back(Phase(i));
  return out;
}

void WorkspaceModel::setCurrentPhase(Phase phase) {
  if (!hasPhase(phase) || phase == current_) return;
  current_ = phase;
  emit currentPhaseChanged(phase);
}

double defaultLabelOpacity(const std::string& name) {
  // Large context structures that wrap everything else would hide it.
  static const char* context[] = {"subcutaneous_fat", "skeletal_muscle", "body", "body_fat", "torso_fat",
                                  "visceral_fat", "skin", "intermuscular_fat"};
  for (const char* c : context)
    if (name == c) return 0.2;
  return 1.0;
}

int WorkspaceModel::addLayer(const QString& name, const Volume& mask, const LabelTable& table,
                             const QString& sourcePath) {
  Layer layer;
  layer.id = nextLayerId_++;
  layer.name = name;
  layer.sourcePath = sourcePath;
  layer.mask = mask;
  layer.table = table;
  layer.voxelCounts = labelVoxelCounts(mask);
  layer.originalVoxelCounts = layer.voxelCounts;
  for (const LabelEntry& e : table.entries())
    layer.display[e.value] = LabelDisplay{toQColor(e.color), defaultLabelOpacity(e.name), true};
  // Values present in the mask but missing from the table still get drawn.
  for (size_t v = 1; v < layer.voxelCounts.size(); ++v)
    if (layer.voxelCounts[v] > 0 && !table.find(int(v))) {
      const LabelEntry e = LabelTable::schemaEntry("label_" + std::to_string(v), int(v));
      layer.table.set(e);
      layer.display[int(v)] = LabelDisplay{toQColor(e.color), 1.0, true};
    }
  layers_.push_back(std::move(layer));
  emit layersChanged();
  return layers_.back().id;
}

void WorkspaceModel::removeLayer(int id) {
  auto it =
      std::find_if(layers_.begin(), layers_.end(), [&](const Layer& l) { return l.id == id; });
  if (it == layers_.end()) return;
  layers_.erase(it);
  bool choiceDropped = false;
  for (auto c = chosenCopies_.begin(); c != chosenCopies_.end();)
    if (c->second == id) {
      c = chosenCopies_.erase(c);
      choiceDropped = true;
    } else {
      ++c;
    }
  emit meshesCleared(id);
  emit layersChanged();
  if (choiceDropped) emit drawnCopiesChanged();
}

bool WorkspaceModel::replaceLayerMask(int id, const Volume& mask, const LabelTable& table,
                                      const std::vector<int64_t>* voxelCounts) {
  Layer* l = findLayer(id);
  if (!l) return false;
  l->mask = mask;
  l->table = table;
  l->voxelCounts = voxelCounts ? *voxelCounts : labelVoxelCounts(mask);
  std::map<int, LabelDisplay> display;
  for (const LabelEntry& e : table.entries()) {
    auto old = l->display.find(e.value);
    display[e.value] = old != l->display.end() ? old->second : LabelDisplay{toQColor(e.color), 1.0, true};
  }
  for (size_t v = 1; v < l->voxelCounts.size(); ++v)
    if (l->voxelCounts[v] > 0 && !table.find(int(v))) {
      const LabelEntry e = LabelTable::schemaEntry("label_" + std::to_string(v), int(v));
      l->table.set(e);
      display[int(v)] = LabelDisplay{toQColor(e.color), 1.0, true};
    }
  l->display = std::move(display);
  l->meshes.clear();
  emit meshesCleared(id);
  emit layersChanged();
  return true;
}

const Layer* WorkspaceModel::layer(int id) const {
  for (const Layer& l : layers_)
    if (l.id == id) return &l;
  return nullptr;
}

Layer* WorkspaceModel::findLayer(int id) {
  for (Layer& l : layers_)
    if (l.id == id) return &l;
  return nullptr;
}

void WorkspaceModel::setLayerPhase(int id, const QString& phase) {
  Layer* l = findLayer(id);
  if (!l || l->phase == phase) return;
  l->phase = phase;
  emit layersChanged();
}

void WorkspaceModel::setLayerSource(int id, const QString& path) {
  Layer* l = findLayer(id);
  if (!l || l->sourcePath == path) return;
  l->sourcePath = path;
  emit layersChanged();
}

void WorkspaceModel::setLayerVisible(int id, bool visible) {
  Layer* l = findLayer(id);
  if (!l || l->visible == visible) return;
  l->visible = visible;
  emit layerVisibilityChanged(id);
}

const LabelDisplay* WorkspaceModel::labelDisplay(int layerId, int value) const {
  const Layer* l = layer(layerId);
  if (!l) return nullptr;
  auto it = l->display.find(value);
  return it == l->display.end() ? nullptr : &it->second;
}

void WorkspaceModel::setLabelColor(int layerId, int value, const QColor& color) {
  Layer* l = findLayer(layerId);
  if (!l || !l->display.count(value) || !color.isValid()) return;
  if (l->display[value].color == color) return;
  l->display[value].color = color;
  emit labelDisplayChanged(layerId, value);
}

void WorkspaceModel::setLabelOpacity(int layerId, int value, double opacity) {
  Layer* l = findLayer(layerId);
  if (!l || !l->display.count(value)) return;
  opacity = std::clamp(opacity, 0.0, 1.0);
  if (l->display[value].opacity == opacity) return;
  l->display[value].opacity = opacity;
  emit labelDisplayChanged(layerId, value);
}

void WorkspaceModel::setLabelVisible(int layerId, int value, bool visible) {
  Layer* l = findLayer(layerId);
  if (!l || !l->display.count(value)) return;
  if (l->display[value].visible == visible) return;
  l->display[value].visible = visible;
  emit labelDisplayChanged(layerId, value);
}

void WorkspaceModel::setMesh(int layerId, const LabelMesh& mesh) {
  Layer* l = findLayer(layerId);
  if (!l) return;
  l->meshes[mesh.value] = mesh;
  emit meshAdded(layerId, mesh.value);
}

void WorkspaceModel::clearMeshes(int layerId) {
  Layer* l = findLayer(layerId);
  if (!l) return;
  l->meshes.clear();
  emit meshesCleared(layerId);
}

void WorkspaceModel::clear() {
  for (const Layer& l : layers_) emit meshesCleared(l.id);
  layers_.clear();
  chosenCopies_.clear();
  for (auto& p : phases_) p = PhaseSlot{};
  current_ = Phase::Arterial;
  emit layersChanged();
  emit phasesChanged();
}

void WorkspaceModel::setDrawnCopy(const std::string& name, int layerId) {
  const int before = chosenCopy(name);
  if (layerId == 0 || !layer(layerId) || !layer(layerId)->table.findByName(name))
    chosenCopies_.erase(name);
  else
    chosenCopies_[name] = layerId;
  if (chosenCopy(name) != before) emit drawnCopiesChanged();
}

int WorkspaceModel::chosenCopy(const std::string& name) const {
  auto it = chosenCopies_.find(name);
  return it == chosenCopies_.end() ? 0 : it->second;
}

namespace {

// The layer shows its label of this name (visible layer and label, voxels present).
bool showsLabel(const Layer& l, const std::string& name) {
  const LabelEntry* e = l.table.findByName(name);
  if (!l.visible || !e || l.voxelCount(e->value) == 0) return false;
  auto d = l.display.find(e->value);
  return d != l.display.end() && d->second.visible;
}

}  // namespace

int WorkspaceModel::shadowedBy(int layerId, int value) const {
  const Layer* own = layer(layerId);
  const LabelEntry* entry = own ? own->table.find(value) : nullptr;
  if (!entry) return 0;
  // The chosen copy wins while it shows; else a later layer that shows it.
  const int chosen = chosenCopy(entry->name);
  if (chosen == layerId && showsLabel(*own, entry->name)) return 0;
  if (const Layer* c = chosen ? layer(chosen) : nullptr; c && showsLabel(*c, entry->name)) return chosen;
  // The newest later layer that shows it is the one drawn.
  bool after = false;
  int newest = 0;
  for (const Layer& l : layers_) {
    if (l.id == layerId) {
      after = true;
      continue;
    }
    if (after && showsLabel(l, entry->name)) newest = l.id;
  }
  return newest;
}

bool WorkspaceModel::isDrawn(int layerId, int value) const {
  const Layer* l = layer(layerId);
  const LabelDisplay* d = labelDisplay(layerId, value);
  return l && d && l->visible && d->visible && shadowedBy(layerId, value) == 0;
}

int WorkspaceModel::otherCopies(int layerId, int value) const {
  const Layer* own = layer(layerId);
  const LabelEntry* entry = own ? own->table.find(value) : nullptr;
  if (!entry) return 0;
  int n = 0;
  for (const Layer& l : layers_) n += l.id != layerId && l.table.findByName(entry->name);
  return n;
}

bool WorkspaceModel::empty() const {
  return layers_.empty() && loadedPhases().empty();
}

}  // namespace nephro::widgets
