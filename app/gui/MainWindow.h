#pragma once
// The workstation window: three slice views and the 3D view in a chosen
// layout, the label table and plots, the model and post-processing panels,
// the job log, and the status bar with the LPS position and the HU of every
// loaded phase under the mouse. Reading, meshing and exporting run as
// background jobs; results appear as they exist.
#include <QLabel>
#include <QMainWindow>
#include <QPointer>
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "viewers/MeshView.h"
#include "viewers/SliceView.h"
#include "widgets/BackgroundJob.h"
#include "widgets/JobPanel.h"
#include "widgets/LabelTableModel.h"
#include "widgets/LabelTableView.h"
#include "widgets/ModelPanel.h"
#include "widgets/PlotsPanel.h"
#include "widgets/PostController.h"
#include "widgets/PostPanelHost.h"
#include "widgets/Preferences.h"
#include "widgets/StudyFiles.h"
#include "widgets/StudyPanel.h"
#include "widgets/WorkspaceModel.h"

class QActionGroup;
class QComboBox;
class QGridLayout;
class QMenu;
class QSlider;
class QToolButton;

namespace nephro::widgets {
class EditPresenter;
class StatusReadout;
class ErrorBanner;
}  // namespace nephro::widgets

namespace nephro::gui {

class ExportPresenter;
class LayerViewsPresenter;
class StudyPresenter;
class WorkspacePresenter;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(std::unique_ptr<widgets::Preferences> preferences = {},
                      QWidget* parent = nullptr);
  ~MainWindow() override;

  // Runs the models on the phase files ("A" -> path) in one engine run, so each
  // phase is read once; each mask (with its label sidecar) goes to
  // outDir/<id>.nii.gz and `written(id, path)` is called as soon as it is there.
  // Runs on a worker thread.
  using ModelWrittenFunction = std::function<void(const std::string& modelId, const std::string& path)>;
  using ModelRunFunction = std::function<void(
      const std::vector<std::string>& modelIds, const std::map<std::string, std::string>& phaseFiles,
      const std::string& device, const std::string& outDir, const ModelWrittenFunction& written,
      const Progress& progress)>;
  // The inference engine: its models and devices, and how to run a model.
  void setModelEngine(std::shared_ptr<widgets::ModelCatalog> catalog, ModelRunFunction run);

  widgets::WorkspaceModel* workspace() const { return workspace_; }
  viewers::SliceView* sliceView(viewers::SliceAxis axis) const { return slices_[size_t(axis)]; }
  viewers::MeshView* meshView() const { return meshView_; }
  widgets::JobPanel* jobPanel() const { return jobPanel_; }
  widgets::ModelPanel* modelPanel() const { return modelPanel_; }
  widgets::PostPanelHost* postPanel() const { return postPanel_; }
  widgets::PostController* postController() const { return postController_; }
  widgets::LabelTableView* labelTable() const { return labelView_; }
  widgets::Preferences& preferences() { return *preferences_; }
  widgets::EditPresenter* editPresenter() const { return editPresenter_; }

  StudyPresenter* studyPresenter() const { return study_; }
  WorkspacePresenter* workspacePresenter() const { return workspaceFiles_; }
  ExportPresenter* exportPresenter() const { return export_; }
  LayerViewsPresenter* layerViews() const { return layerViews_; }
  widgets::ErrorBanner* errorBanner() const { return banner_; }
  std::shared_ptr<widgets::ModelCatalog> catalog() const { return catalog_; }
  ModelRunFunction modelRunner() const { return runModel_; }

  // Reads the files in the background, each as the role says; masks get meshes.
  void openStudy(const std::vector<widgets::StudyFile>& files);
  // Asks what each file is, then opens them (a workspace or run folder opens as a workspace).
  void openPaths(const QStringList& paths);
  // Builds (or rebuilds) the meshes of a layer in the background.
  widgets::BackgroundJob* buildMeshes(int layerId);
  // Runs `work` as a background job followed by the job panel (and the error banner).
  void startJob(widgets::BackgroundJob* job, widgets::BackgroundJob::Work work);
  // The error banner above the views: one line, and the details behind a button.
  void showError(const QString& headline, const QString& details = {});
  void updateRecentMenu();
  int currentLayerId() const;
  // The docks as they first were, sized to the screen.
  void resetLayout();
  void setViewLayout(widgets::ViewLayout layout);
  widgets::ViewLayout viewLayout() const { return layout_; }
  void setLargeView(int index);  // 0..2 slice axes, 3 = 3D
  int largeView() const { return largeView_; }
  const viewers::WindowLevel& windowLevel() const { return windowLevel_; }
  void applyWindowPreset(const QString& name);
  void setWindowLevel(const viewers::WindowLevel& wl);
  // Moves the linked crosshair of every slice view to an LPS point.
  void setCursorEverywhere(const Vec3& lps);
  // Whether any background job is still running.
  bool busy() const;

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  void createViews();
  void createDocks();
  void createActions();
  void arrangeViews();
  void refreshPhaseSelector();
  void refreshSliceVolumes();
  void showHover(const std::optional<Vec3>& lps);
  void showPreferences();
  void fitToScreen();

  std::unique_ptr<widgets::Preferences> preferences_;
  StudyPresenter* study_ = nullptr;
  WorkspacePresenter* workspaceFiles_ = nullptr;
  ExportPresenter* export_ = nullptr;
  LayerViewsPresenter* layerViews_ = nullptr;
  widgets::ErrorBanner* banner_ = nullptr;
  QByteArray defaultDocks_;
  widgets::WorkspaceModel* workspace_;
  std::array<viewers::SliceView*, 3> slices_{};
  viewers::MeshView* meshView_ = nullptr;
  QWidget* meshPanel_ = nullptr;
  std::array<QWidget*, 4> viewFrames_{};
  QWidget* viewArea_ = nullptr;
  QGridLayout* viewGrid_ = nullptr;
  widgets::ViewLayout layout_ = widgets::ViewLayout::OneLargeThreeSmall;
  int largeView_ = 0;

  widgets::LabelTableModel* labelModel_ = nullptr;
  widgets::LabelTableView* labelView_ = nullptr;
  widgets::PlotsPanel* plots_ = nullptr;
  widgets::ModelPanel* modelPanel_ = nullptr;
  widgets::PostPanelHost* postPanel_ = nullptr;
  widgets::PostController* postController_ = nullptr;
  widgets::StudyPanel* studyPanel_ = nullptr;
  widgets::JobPanel* jobPanel_ = nullptr;
  std::shared_ptr<widgets::ModelCatalog> catalog_;
  ModelRunFunction runModel_;

  QComboBox* phaseSelector_ = nullptr;
  QComboBox* presetSelector_ = nullptr;
  QSlider* opacitySlider_ = nullptr;
  QAction* outlineAction_ = nullptr;
  QAction* layoutActions_[2] = {nullptr, nullptr};
  QMenu* recentMenu_ = nullptr;
  widgets::StatusReadout* readout_ = nullptr;
  widgets::EditPresenter* editPresenter_ = nullptr;

  viewers::WindowLevel windowLevel_{350, 40};
  viewers::OverlayOptions overlayOptions_;
  QList<QPointer<widgets::BackgroundJob>> jobs_;
};

}  // namespace nephro::gui
