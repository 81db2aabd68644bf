#include "gui/ExportPresenter.h"

#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QPointer>
#include <memory>

#include "gui/MainWindow.h"
#include "gui/WorkspacePresenter.h"
#include "widgets/LayerExport.h"

namespace nephro::gui {

using widgets::BackgroundJob;

ExportPresenter::ExportPresenter(MainWindow* window) : QObject(window), window_(window) {}

void ExportPresenter::exportMask(bool segNrrd) {
  const widgets::Layer* layer = window_->workspace()->layer(window_->currentLayerId());
  if (!layer) {
    QMessageBox::information(window_, tr("Export mask"), tr("There is no mask layer to export."));
    return;
  }
  const QString suggested = layer->name + (segNrrd ? ".seg.nrrd" : ".nii.gz");
  QString path = QFileDialog::getSaveFileName(
      window_, tr("Export %1").arg(layer->name), suggested,
      segNrrd ? tr("3D Slicer segmentation (*.seg.nrrd)") : tr("NIfTI (*.nii.gz *.nii)"));
  if (path.isEmpty()) return;
  // The format follows the extension: make it the one chosen.
  if (segNrrd && !path.endsWith(".seg.nrrd", Qt::CaseInsensitive)) path += ".seg.nrrd";
  if (!segNrrd && !path.endsWith(".nii.gz", Qt::CaseInsensitive) && !path.endsWith(".nii", Qt::CaseInsensitive))
    path += ".nii.gz";
  // The exported table carries the colours as the user set them.
  const LabelTable table = widgets::displayedTable(*layer);
  const Volume mask = layer->mask;
  auto* job = new BackgroundJob(tr("Exporting %1").arg(QFileInfo(path).fileName()), window_);
  const std::string target = path.toStdString();
  window_->startJob(job, [mask, table, target](const Progress& progress) {
    widgets::exportMaskLayer(mask, table, target, progress);
  });
}

void ExportPresenter::exportDialog() {
  if (window_->workspace()->layers().empty()) {
    QMessageBox::information(window_, tr("Export"), tr("There is no layer to export."));
    return;
  }
  const QString folder = window_->workspacePresenter()->folder();
  widgets::ExportDialog dialog(window_->workspace(),
                               QDir(folder.isEmpty() ? QDir::homePath() : folder).filePath("export"), window_);
  if (dialog.exec() != QDialog::Accepted) return;
  runExport(dialog.request());
}

void ExportPresenter::runExport(const widgets::ExportRequest& request) {
  if (request.layers.empty() || (request.maskFormats.isEmpty() && request.meshFormats.isEmpty())) {
    window_->showError(tr("Nothing to export: tick at least one label and one format"));
    return;
  }
  auto* job = new BackgroundJob(tr("Exporting into %1").arg(request.folder), window_);
  auto files = std::make_shared<std::vector<widgets::ExportedFile>>();
  QPointer<ExportPresenter> self(this);
  connect(job, &BackgroundJob::finished, this, [self, files, folder = request.folder](BackgroundJob::Outcome outcome) {
    if (!self || outcome != BackgroundJob::Outcome::Succeeded) return;
    self->lastFiles_ = *files;
    const QString summary = widgets::exportSummary(*files, folder);
    self->window_->jobPanel()->log(summary);
    auto* box = new QMessageBox(QMessageBox::Information, tr("Export"), summary.section('\n', 0, 0),
                                QMessageBox::Ok, self->window_);
    box->setObjectName("exportSummary");
    box->setDetailedText(summary);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    emit self->exported(summary);
  });
  window_->startJob(job, [request, files](const Progress& progress) { *files = widgets::writeExport(request, progress); });
}

void ExportPresenter::saveMeshScreenshot() {
  const QString path =
      QFileDialog::getSaveFileName(window_, tr("Save 3D screenshot"), "nephro3d-3d.png", tr("PNG image (*.png)"));
  if (path.isEmpty()) return;
  if (!window_->meshView()->saveScreenshot(path))
    window_->showError(tr("%1: cannot be written").arg(path));
  else
    window_->jobPanel()->log(tr("3D screenshot saved to %1").arg(path));
}

}  // namespace nephro::gui
