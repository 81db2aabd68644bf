#include "gui/StudyPresenter.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QPointer>

#include "common/Error.h"
#include "gui/MainWindow.h"
#include "gui/MaskLabelsDialog.h"
#include "gui/StudyImportDialog.h"
#include "gui/WorkspacePresenter.h"
#include "image/VolumeIO.h"
#include "labels/SegNrrd.h"
#include "mesh/LabelMesher.h"
#include "widgets/WorkspaceFile.h"

namespace nephro::gui {

using widgets::BackgroundJob;
using widgets::Phase;

StudyPresenter::StudyPresenter(MainWindow* window) : QObject(window), window_(window) {}

void StudyPresenter::resetStudy() {
  window_->jobPanel()->cancelAll();
  window_->workspace()->clear();
  ++generation_;
}

bool StudyPresenter::closeStudy() {
  if (!window_->workspacePresenter()->confirmDiscard(tr("Close study"))) return false;
  resetStudy();
  window_->workspacePresenter()->forgetFolder();
  return true;
}

void StudyPresenter::openStudy(const std::vector<widgets::StudyFile>& files, const MaskLabelChoice& labels) {
  std::vector<widgets::StudyFile> wanted;
  for (const auto& f : files)
    if (f.role != widgets::FileRole::Ignore) wanted.push_back(f);
  if (wanted.empty()) return;
  // A new set of phases starts a new study; masks alone join the current one.
  const bool newStudy = std::any_of(wanted.begin(), wanted.end(), [](const widgets::StudyFile& f) {
    return f.role != widgets::FileRole::Mask;
  });
  if (newStudy) {
    if (!closeStudy()) return;
    const QString first = wanted.front().path;
    window_->preferences().addRecentStudy(wanted.size() > 1 ? QFileInfo(first).absolutePath() : first);
    window_->updateRecentMenu();
  }
  auto* job = new BackgroundJob(tr("Reading study"), window_);
  QPointer<StudyPresenter> self(this);
  const int generation = generation_;
  window_->startJob(job, [self, wanted, generation, labels](const Progress& progress) {
    const double share = 1.0 / double(wanted.size());
    for (size_t i = 0; i < wanted.size(); ++i) {
      progress.throwIfCancelled();
      const widgets::StudyFile f = wanted[i];
      const std::string path = f.path.toStdString();
      const Progress sub = progress.sub(i * share, (i + 1) * share);
      sub.report(0, "reading " + QFileInfo(f.path).fileName().toStdString());
      if (auto phase = widgets::phaseOfRole(f.role)) {
        Volume v = readVolume(path, {}, sub);
        if (!isIntegerType(v.pixelType()) && v.pixelType() != PixelType::Float32)
          throw inputError(path, "is not a scalar CT image");
        widgets::postToGui(self, [self, phase, v, f, generation] {
          // A study opened since then replaces this one.
          if (self->generation_ != generation) return;
          self->window_->workspace()->setPhase(*phase, v, f.path);
        });
      } else {
        Volume mask;
        LabelTable table;
        if (f.path.endsWith(".seg.nrrd", Qt::CaseInsensitive)) {
          std::tie(mask, table) = readSegNrrd(path);
          if (!labels.isDefault()) table = labelTableForOpenedMask(path, labels);
        } else {
          // A bad mapping fails before the voxels are read.
          table = labelTableForOpenedMask(path, labels);
          mask = readVolume(path, {}, sub);
          if (!isIntegerType(mask.pixelType())) throw inputError(path, "is not an integer label map");
        }
        if (!table.empty()) table.checkCovers(mask, path);
        const QString name = widgets::imageBaseName(f.path);
        widgets::postToGui(self, [self, mask, table, name, f, generation] {
          if (self->generation_ != generation) return;
          // Its phase stays unknown: post steps take the phase whose grid it shares.
          const int id = self->window_->workspace()->addLayer(name, mask, table, f.path);
          self->buildMeshes(id);
        });
      }
      sub.report(1, "read " + QFileInfo(f.path).fileName().toStdString());
    }
  });
}

void StudyPresenter::openPaths(const QStringList& paths) {
  if (paths.size() == 1 && widgets::isWorkspaceFolder(paths.front())) {
    window_->workspacePresenter()->open(paths.front());
    return;
  }
  const auto files = widgets::classifyStudyFiles(paths);
  if (files.empty()) {
    window_->showError(tr("No image files found in %1").arg(paths.join(", ")));
    return;
  }
  StudyImportDialog dialog(files, window_);
  if (dialog.exec() == QDialog::Accepted) openStudy(dialog.files());
}

BackgroundJob* StudyPresenter::buildMeshes(int layerId) {
  widgets::WorkspaceModel* ws = window_->workspace();
  const widgets::Layer* layer = ws->layer(layerId);
  if (!layer) return nullptr;
  ws->clearMeshes(layerId);
  MeshOptions options;
  options.smoothing = window_->preferences().smoothingFactor();
  const Volume mask = layer->mask;
  const LabelTable table = layer->table;
  auto* job = new BackgroundJob(tr("Meshing %1").arg(layer->name), window_);
  QPointer<widgets::WorkspaceModel> target(ws);
  window_->startJob(job, [target, mask, table, options, layerId](const Progress& progress) {
    buildLabelMeshes(mask, table, options, progress, [target, layerId](const LabelMesh& mesh) {
      // Each mesh is shown as soon as it exists.
      widgets::postToGui(target, [target, layerId, mesh] { target->setMesh(layerId, mesh); });
    });
  });
  return job;
}

void StudyPresenter::runModels(const QStringList& models, const QString& device) {
  const MainWindow::ModelRunFunction run = window_->modelRunner();
  widgets::WorkspaceModel* ws = window_->workspace();
  if (!run || models.isEmpty()) return;
  std::map<std::string, std::string> phaseFiles;
  QSet<QString> loaded;
  for (Phase p : ws->loadedPhases()) {
    const QString path = ws->phasePath(p);
    loaded << widgets::phaseLetter(p);
    if (!path.isEmpty()) phaseFiles[widgets::phaseLetter(p).toStdString()] = path.toStdString();
  }
  if (phaseFiles.empty()) return;
  // Results go into the workspace folder; each becomes a layer as soon as it is written.
  const QString outDir = window_->workspacePresenter()->runFolder();
  if (outDir.isEmpty()) return;
  // The phase each mask lives in, by the engine's rule (an "any phase" model reads P first).
  QMap<QString, QString> outputPhase;
  for (const auto& m : window_->catalog()->models()) outputPhase[m.id] = widgets::modelOutputPhase(m, loaded);
  auto* job = new BackgroundJob(tr("Running %1").arg(models.join(", ")), window_);
  window_->modelPanel()->setBusy(true);
  connect(job, &BackgroundJob::finished, window_, [w = window_] { w->modelPanel()->setBusy(false); });
  QPointer<StudyPresenter> self(this);
  const std::string dev = device.toStdString();
  const int generation = generation_;
  window_->startJob(job, [self, run, models, phaseFiles, dev, outDir, generation, outputPhase](const Progress& progress) {
    std::vector<std::string> ids;
    for (const QString& m : models) ids.push_back(m.toStdString());
    // Each mask becomes a layer while the engine goes on with the next model.
    auto written = [self, generation, outputPhase](const std::string& id, const std::string& out) {
      Volume mask = readVolume(out);
      const LabelTable table = LabelTable::hasSidecar(out) ? LabelTable::readSidecar(out) : LabelTable{};
      const QString name = QString::fromStdString(id);
      const QString path = QString::fromStdString(out);
      const QString phase = outputPhase.value(name);
      widgets::postToGui(self, [self, mask, table, name, path, generation, phase] {
        if (self->generation_ != generation) return;
        widgets::WorkspaceModel* ws = self->window_->workspace();
        const int layerId = ws->addLayer(name, mask, table, path);
        ws->setLayerPhase(layerId, phase);
        self->buildMeshes(layerId);
      });
    };
    run(ids, phaseFiles, dev, outDir.toStdString(), written, progress);
  });
}

void StudyPresenter::openFilesDialog() {
  const QStringList files =
      QFileDialog::getOpenFileNames(window_, tr("Open study files"), QString(),
                                    tr("Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd);;All files (*)"));
  if (!files.isEmpty()) openPaths(files);
}

void StudyPresenter::openFolderDialog() {
  const QString folder = QFileDialog::getExistingDirectory(window_, tr("Open study folder"));
  if (!folder.isEmpty()) openPaths({folder});
}

void StudyPresenter::openMaskDialog() {
  if (window_->workspace()->loadedPhases().empty()) {
    QMessageBox::information(window_, tr("Open mask"), tr("Open the study's images first."));
    return;
  }
  const QStringList files = QFileDialog::getOpenFileNames(
      window_, tr("Open mask layers"), QString(),
      tr("Label maps (*.seg.nrrd *.nii *.nii.gz *.nrrd *.mha);;All files (*)"));
  if (files.isEmpty()) return;
  // What the values mean: the case schema unless the mask comes from another tool.
  MaskLabelsDialog labels(window_);
  if (labels.exec() != QDialog::Accepted) return;
  std::vector<widgets::StudyFile> masks;
  for (const QString& f : files) masks.push_back({f, widgets::FileRole::Mask});
  openStudy(masks, labels.choice());
}

}  // namespace nephro::gui
