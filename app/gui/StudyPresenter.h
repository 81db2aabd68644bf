#pragma once
// Opening studies and masks, meshing layers and running models for the
// window: reads run as background jobs whose results join the workspace on
// the GUI thread (results of a study closed since are dropped), every model
// mask becomes a layer in the phase it lives in, and model runs write into
// the workspace folder.
#include <QObject>
#include <QStringList>
#include <vector>

#include "gui/MaskLabelsDialog.h"
#include "widgets/BackgroundJob.h"
#include "widgets/StudyFiles.h"

namespace nephro::gui {

class MainWindow;

class StudyPresenter : public QObject {
  Q_OBJECT
 public:
  explicit StudyPresenter(MainWindow* window);

  // Reads the files in the background, each as the role says; masks get meshes.
  // A new set of phases first asks about unsaved layers of the current study.
  // `labels` says what the masks' values mean (as --labels / --label-table).
  void openStudy(const std::vector<widgets::StudyFile>& files, const MaskLabelChoice& labels = {});
  // Asks what each file is, then opens them (a workspace or run folder opens as a workspace).
  void openPaths(const QStringList& paths);
  widgets::BackgroundJob* buildMeshes(int layerId);
  void runModels(const QStringList& models, const QString& device);
  // Drops the study (asks first when layers are unsaved); false when the user kept it.
  bool closeStudy();
  // Forgets the study without asking (a workspace replaces it).
  void resetStudy();
  int generation() const { return generation_; }

  void openFilesDialog();
  void openFolderDialog();
  void openMaskDialog();

 private:
  MainWindow* window_;
  int generation_ = 0;  // results of jobs from an earlier study are dropped
};

}  // namespace nephro::gui
