#pragma once
// Export of what the window shows: which layers and labels (the visible ones
// ticked to start with), mask and mesh formats, LPS or RAS points, one file
// per label or one merged file per layer, and the destination folder. The
// writing runs off the GUI thread on copies (shared buffers) of the chosen
// data; afterwards the files written are listed with their sizes.
#include <QDialog>
#include <QStringList>
#include <vector>

#include "common/Progress.h"
#include "mesh/LabelMesher.h"
#include "widgets/WorkspaceModel.h"

class QButtonGroup;
class QCheckBox;
class QComboBox;
class QLineEdit;
class QTreeWidget;
class QTreeWidgetItem;

namespace nephro::widgets {

// One layer's share of an export: its mask, its table as displayed and the
// meshes of the chosen labels.
struct ExportLayer {
  QString name;
  Volume mask;
  LabelTable table;
  std::vector<int> labels;
  std::vector<LabelMesh> meshes;
};

struct ExportRequest {
  std::vector<ExportLayer> layers;
  QStringList maskFormats;  // "nii.gz", "seg.nrrd"
  QStringList meshFormats;  // "obj", "stl", "ply", "vtp", "glb"
  CoordinateSpace space = CoordinateSpace::LPS;
  bool merged = false;  // meshes: one file per layer instead of one per label
  QString folder;
};

struct ExportedFile {
  QString path;
  qint64 bytes = 0;
};

// Writes FOLDER/<layer>.<mask format> (only the chosen labels, with the table)
// and FOLDER/<layer>/<label or layer>.<mesh format> (points in the chosen
// space); each layer's files appear together or not at all.
std::vector<ExportedFile> writeExport(const ExportRequest& request, const Progress& progress = {});
// "3 files, 1.2 MB in /x:\n  kidney.obj  350 KB ..."
QString exportSummary(const std::vector<ExportedFile>& files, const QString& folder);
// A mesh moved to another patient convention (RAS negates x and y).
LabelMesh meshInSpace(const LabelMesh& mesh, CoordinateSpace space);

class ExportDialog : public QDialog {
  Q_OBJECT
 public:
  ExportDialog(const WorkspaceModel* workspace, const QString& folder, QWidget* parent = nullptr);

  void setLayerChecked(int layerId, bool checked);
  void setLabelChecked(int layerId, int value, bool checked);
  bool isLabelChecked(int layerId, int value) const;
  void setFormatChecked(const QString& format, bool checked);
  void setSpace(CoordinateSpace space);
  void setMerged(bool merged);
  void setFolder(const QString& folder);
  // The choices as a request (data copied from the workspace).
  ExportRequest request() const;

 private:
  QTreeWidgetItem* layerItem(int layerId) const;
  const WorkspaceModel* workspace_;
  QTreeWidget* tree_;
  std::map<QString, QCheckBox*> formats_;
  QComboBox* space_;
  QComboBox* mode_;
  QLineEdit* folder_;
};

}  // namespace nephro::widgets
