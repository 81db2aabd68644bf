#pragma once
// Correcting label layers in the window: the tools of the slice views
// (ToolOverlay) drive one EditSession per layer being edited; each change
// repaints only the views whose slice crosses it, updates the label table's
// live volumes, and at the end of a step re-meshes only the labels it touched,
// in the background. It owns the Edit panel (tools, brush, paint-over rule, HU
// range, active label, locks, history), the Review panel (cases of an output
// folder and their review state), Edit ▸ Undo/Redo with the steps' names,
// File ▸ Save correction (a new version beside the model's output, never
// over it) and File ▸ Export ▸ DICOM SEG.
#include <QObject>
#include <QPointer>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <vector>

#include "edit/EditSession.h"
#include "edit/ReviewState.h"
#include "mesh/LabelMesher.h"
#include "viewers/SliceView.h"
#include "viewers/ToolOverlay.h"
#include "widgets/BackgroundJob.h"
#include "widgets/StudyFiles.h"
#include "widgets/WorkspaceModel.h"

class QAction;
class QMainWindow;
class QMenu;
class QMenuBar;
class QTimer;

namespace nephro::widgets {

class EditPanel;
class JobPanel;
class LabelTableView;
class Preferences;
class ReviewPanel;

class EditPresenter : public QObject {
  Q_OBJECT
 public:
  EditPresenter(WorkspaceModel* workspace, const std::array<viewers::SliceView*, 3>& views,
                Preferences* preferences, QWidget* window);
  ~EditPresenter() override;

  EditPanel* panel() const { return panel_; }
  ReviewPanel* reviewPanel() const { return review_; }
  viewers::ToolOverlay* overlay() const { return overlay_; }

  // The Edit and Review docks of a main window.
  void addDocks(QMainWindow* window);
  // Edit and Review menus on the menu bar; Save correction and Export ▸ DICOM SEG in `file`.
  void installMenus(QMenuBar* bar, QMenu* file);
  // The active label follows the label table's selection.
  void attachLabelTable(LabelTableView* table);
  // Where jobs are shown and results logged.
  void setJobPanel(JobPanel* jobs);
  // How the window opens a case's images and masks (a new study).
  void setCaseOpener(std::function<void(const std::vector<StudyFile>&)> open);
  void setMeshOptions(const MeshOptions& options) { meshOptions_ = options; }

  void setTool(viewers::ToolMode mode);
  viewers::ToolMode tool() const { return overlay_->mode(); }
  QAction* toolAction(viewers::ToolMode mode) const;
  QAction* undoAction() const { return undo_; }
  QAction* redoAction() const { return redo_; }
  QAction* keepLargestAction() const { return keepLargest_; }
  QAction* fillBetweenAction() const { return fillBetween_; }
  QAction* saveCorrectionAction() const { return save_; }
  QAction* exportSegAction() const { return exportSeg_; }

  // The label brushes and fills write; false if the layer has no such label.
  bool setActiveLabel(int layerId, int value);
  int activeLayer() const { return activeLayer_; }
  int activeValue() const { return activeValue_; }
  // The edit session of a layer, made when it is first edited; null if none yet.
  edit::EditSession* session(int layerId) const;

  bool undo();
  bool redo();
  // Keep the N largest islands of the active label (N from the panel).
  bool keepLargest();
  // Fill between the slices of the active label drawn last (or all holding it).
  bool fillBetween();
  // Writes the active layer as the next corrected version; its path, or empty.
  QString saveCorrection();
  // Exports the active layer (saved as a correction first when edited) as
  // DICOM SEG in the background; null (message shown) when it cannot start.
  BackgroundJob* exportDicomSeg(const QString& path);
  // Whether re-meshing (or an export) is pending or running.
  bool busy() const;

 signals:
  // After every change of a layer's voxels (dabs included).
  void edited(int layerId);

 private:
  edit::EditSession* ensureSession(int layerId);
  edit::PaintRule ruleFor(bool erasing) const;
  int axisFor(const edit::EditSession& s, const Vec3& normal) const;
  bool runOperation(const edit::EditOperation& op);
  // Ends the stroke in progress on a layer: one undo step, re-meshing.
  void finishStroke(int layerId);
  void showResult(int layerId, const edit::EditResult& r, bool stepDone);
  void fail(const std::exception& e);
  void refreshLabels();
  void refreshHistory();
  void scheduleRemesh(int layerId, const std::vector<int>& labels);
  void remesh();
  void onLayersChanged();
  void openCase(const edit::ReviewCase& reviewCase);
  void track(BackgroundJob* job);

  QPointer<WorkspaceModel> workspace_;
  std::array<QPointer<viewers::SliceView>, 3> views_;
  Preferences* preferences_;
  QWidget* window_;
  viewers::ToolOverlay* overlay_;
  EditPanel* panel_;
  ReviewPanel* review_;
  QPointer<JobPanel> jobs_;
  std::function<void(const std::vector<StudyFile>&)> openCase_;
  MeshOptions meshOptions_;

  std::map<viewers::ToolMode, QAction*> toolActions_;
  QAction* undo_ = nullptr;
  QAction* redo_ = nullptr;
  QAction* keepLargest_ = nullptr;
  QAction* fillBetween_ = nullptr;
  QAction* save_ = nullptr;
  QAction* exportSeg_ = nullptr;

  std::map<int, std::unique_ptr<edit::EditSession>> sessions_;
  std::map<int, QString> savedVersion_;  // layer -> its last saved corrected version
  int activeLayer_ = 0, activeValue_ = 0;
  int strokeLayer_ = 0;
  std::map<int, int> lastAxis_;  // layer -> axis of its last disc stroke
  std::map<int, std::set<int>> pendingRemesh_;
  std::map<int, int> remeshGeneration_;
  QList<QPointer<BackgroundJob>> jobsRunning_;
  QTimer* remeshTimer_ = nullptr;
};

}  // namespace nephro::widgets
