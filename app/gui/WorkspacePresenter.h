#pragma once
// The window's workspace folder: where model runs write (beside the study by
// default, else a temporary folder removed with the window), File ▸ Save /
// Save As / Open workspace / recent workspaces, and the questions before
// unsaved layers are dropped or a running job is cut short. What a save
// writes: every layer without a file of its own (post-processing results,
// corrected masks) into FOLDER/layers/, then workspace.json (phases, layers
// with visibility, opacity and colour, the drawn copy of overlapping
// structures, window/level, camera, layout) and the review state shown in the
// Review panel (review.json), which opening the workspace shows again.
#include <QObject>
#include <QString>
#include <QTemporaryDir>
#include <functional>
#include <map>
#include <memory>

#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "widgets/WorkspaceFile.h"

class QMenu;

namespace nephro {
class OutputTransaction;
}
namespace nephro::widgets {
class ReviewPanel;
}

namespace nephro::gui {

class MainWindow;

// A layer read from a workspace, before it joins the window.
struct LoadedLayer {
  widgets::WorkspaceLayerState state;
  Volume mask;
  LabelTable table;
};

class WorkspacePresenter : public QObject {
  Q_OBJECT
 public:
  enum class Answer { Save, Discard, Cancel };
  // Asks the user (title, text, whether "Save" is offered); a test puts its own answer here.
  using Prompt = std::function<Answer(const QString& title, const QString& text, bool offerSave)>;

  explicit WorkspacePresenter(MainWindow* window);
  ~WorkspacePresenter() override;
  void setPrompt(Prompt prompt) { prompt_ = std::move(prompt); }

  // The workspace folder (empty before the first run or save).
  QString folder() const { return folder_; }
  bool isTemporary() const { return temp_ && folder_ == temp_->path(); }
  // Layers or their display changed since the last save or open.
  bool isDirty() const { return dirty_; }
  // FOLDER/<study>_workspace beside the study's first phase.
  QString defaultFolder() const;
  // A new folder for one model run inside the workspace (made now); empty when none can be made.
  QString runFolder();

  // Saves to the workspace folder; asks for one when there is none (or it is temporary).
  bool save();
  bool saveTo(const QString& folder);
  bool saveAsDialog();
  void openDialog();
  // Reads the folder's workspace.json (or a run's provenance.json) and its
  // files in the background; `opened` follows when every layer is in.
  void open(const QString& folder);
  // Before unsaved layers are dropped: true to go on (after saving when asked).
  bool confirmDiscard(const QString& action);
  // Before quitting: asks when a job runs, then about unsaved layers.
  bool confirmQuit();
  void forgetFolder();
  void addActions(QMenu* file);

  widgets::WorkspaceState captureState() const;

 signals:
  void opened(const QString& folder);
  void saved(const QString& folder);

 private:
  void apply(const widgets::WorkspaceState& state, const std::vector<LoadedLayer>& layers,
             const std::map<QString, Volume>& phases, const QString& folder);
  void updateRecentMenu();
  widgets::ReviewPanel* reviewPanel() const;
  // Stages the Review panel's current case's review.json as FOLDER/review.json.
  void copyReviewState(OutputTransaction& tx, const QString& folder) const;
  void markDirty();
  bool ask(const QString& title, const QString& text, bool offerSave, Answer* answer);

  MainWindow* window_;
  QString folder_;
  std::unique_ptr<QTemporaryDir> temp_;
  bool dirty_ = false;
  bool restoring_ = false;
  Prompt prompt_;
  QMenu* recent_ = nullptr;
  std::map<int, const void*> savedMasks_;  // layer id -> the voxels its file holds
};

}  // namespace nephro::gui
