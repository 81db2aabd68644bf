#pragma once
// File ▸ Export: a mask layer as NIfTI or .seg.nrrd, the export dialog
// (layers, labels, formats, LPS/RAS, merged or per label, destination) with
// the list of files written, and the 3D screenshot.
#include <QObject>
#include <QString>
#include <vector>

#include "widgets/ExportDialog.h"

namespace nephro::gui {

class MainWindow;

class ExportPresenter : public QObject {
  Q_OBJECT
 public:
  explicit ExportPresenter(MainWindow* window);
  void exportMask(bool segNrrd);
  // Opens the dialog; on Export writes in the background, then shows the summary.
  void exportDialog();
  // Writes the request in the background; `summary` (the files written) follows.
  void runExport(const widgets::ExportRequest& request);
  void saveMeshScreenshot();
  const std::vector<widgets::ExportedFile>& lastFiles() const { return lastFiles_; }

 signals:
  void exported(const QString& summary);

 private:
  MainWindow* window_;
  std::vector<widgets::ExportedFile> lastFiles_;
};

}  // namespace nephro::gui
