#pragma once
// The study the window works on: up to three phases (A, P, D) and any number
// of label layers, each with its label table, the per-label display state the
// views share (colour, opacity, visibility) and its meshes. Views and panels
// observe it through signals; it holds no widgets.
#include <QColor>
#include <QObject>
#include <QString>
#include <map>
#include <optional>
#include <vector>

#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "mesh/LabelMesher.h"

namespace nephro::widgets {

enum class Phase { Arterial = 0, Portal = 1, Delayed = 2 };
constexpr int kPhaseCount = 3;
QString phaseLetter(Phase phase);  // "A", "P", "D"
QString phaseName(Phase phase);    // "Arterial", "Portal", "Delayed"
std::optional<Phase> phaseFromLetter(const QString& letter);

struct LabelDisplay {
  QColor color;
  double opacity = 1.0;
  bool visible = true;
};

struct Layer {
  int id = 0;
  QString name;
  QString sourcePath;  // empty for a layer made in this session
  QString phase;       // "A", "P", "D": the phase whose grid the mask has; empty when unknown
  Volume mask;
  LabelTable table;
  std::map<int, LabelDisplay> display;  // per label value of the table
  std::vector<int64_t> voxelCounts;     // index = label value
  std::vector<int64_t> originalVoxelCounts;  // as the layer was added (its model's output)
  std::map<int, LabelMesh> meshes;      // per label value, as they are made
  bool visible = true;

  int64_t voxelCount(int value) const;
  // Volume of a label in millilitres, from its voxel count and the voxel size.
  double volumeMl(int value) const;
  // Change of a label's volume since the layer was added (edits), in millilitres.
  double changeMl(int value) const;
};

class WorkspaceModel : public QObject {
  Q_OBJECT
 public:
  explicit WorkspaceModel(QObject* parent = nullptr);

  // Phases.
  void setPhase(Phase phase, const Volume& volume, const QString& path);
  void clearPhase(Phase phase);
  bool hasPhase(Phase phase) const;
  const Volume& phase(Phase phase) const;
  QString phasePath(Phase phase) const;
  std::vector<Phase> loadedPhases() const;
  // The phase shown in grey (the first loaded one unless chosen).
  Phase currentPhase() const { return current_; }
  void setCurrentPhase(Phase phase);
  const Volume& currentVolume() const { return phase(current_); }

  // Layers.
  int addLayer(const QString& name, const Volume& mask, const LabelTable& table,
               const QString& sourcePath = {});
  void removeLayer(int id);
  // Replaces a layer's voxels and table in place (same id, name and display
  // settings for the values it keeps); its meshes are cleared. `voxelCounts`
  // (index = value), when the caller has them, saves counting on this thread.
  bool replaceLayerMask(int id, const Volume& mask, const LabelTable& table,
                        const std::vector<int64_t>* voxelCounts = nullptr);
  const std::vector<Layer>& layers() const { return layers_; }
  const Layer* layer(int id) const;
  void setLayerVisible(int id, bool visible);
  void setLayerPhase(int id, const QString& phase);
  // The file that holds the layer's voxels now (after a save).
  void setLayerSource(int id, const QString& path);
  void setLabelColor(int layerId, int value, const QColor& color);
  void setLabelOpacity(int layerId, int value, double opacity);
  void setLabelVisible(int layerId, int value, bool visible);
  const LabelDisplay* labelDisplay(int layerId, int value) const;
  // A layer's voxels were edited in place: adds the change of voxel count per
  // label value (keeping the views' shared voxels) and tells the label table.
  void addVoxelCounts(int layerId, const std::map<int, int64_t>& deltas);

  // Overlapping structures: when several visible layers carry a label of the
  // same name (two models' kidney_left), the views draw one copy: the chosen
  // layer's while it is visible with that label shown, else the newest such
  // layer's. A removed layer's choice falls back to the newest.
  void setDrawnCopy(const std::string& name, int layerId);  // layerId 0: the newest
  int chosenCopy(const std::string& name) const;            // 0 when none is chosen
  const std::map<std::string, int>& chosenCopies() const { return chosenCopies_; }
  // The layer whose copy of this label is drawn instead (0 when none).
  int shadowedBy(int layerId, int value) const;
  // Whether the views draw this label of this layer now.
  bool isDrawn(int layerId, int value) const;
  // Layers other than this one that carry a label of this one's name.
  int otherCopies(int layerId, int value) const;

  // Meshes of a layer's labels (LPS).
  void setMesh(int layerId, const LabelMesh& mesh);
  void clearMeshes(int layerId);

  // Everything: phases and layers.
  void clear();
  bool empty() const;

 signals:
  void phasesChanged();
  void currentPhaseChanged(nephro::widgets::Phase phase);
  void layersChanged();
  void labelDisplayChanged(int layerId, int value);
  void layerVisibilityChanged(int layerId);
  void meshAdded(int layerId, int value);
  void meshesCleared(int layerId);
  void voxelCountsChanged(int layerId);
  void drawnCopiesChanged();

 private:
  Layer* findLayer(int id);

  struct PhaseSlot {
    Volume volume;
    QString path;
  };
  PhaseSlot phases_[kPhaseCount];
  Phase current_ = Phase::Arterial;
  std::vector<Layer> layers_;
  int nextLayerId_ = 1;
  std::map<std::string, int> chosenCopies_;  // label name -> layer id
};

// A label's opacity when its layer arrives: large context structures (body fat,
// muscle) start translucent so the kidneys inside them stay visible.
double defaultLabelOpacity(const std::string& name);

QColor toQColor(const Rgb& rgb);
Rgb toRgb(const QColor& color);

}  // namespace nephro::widgets
