#pragma once
// The study at a glance: each loaded phase (file, grid) and each label layer
// (tick to show or hide it everywhere, remove it, rebuild its meshes).
#include <QWidget>

#include "widgets/WorkspaceModel.h"

class QTreeWidget;
class QTreeWidgetItem;
class QPushButton;

namespace nephro::widgets {

class StudyPanel : public QWidget {
  Q_OBJECT
 public:
  explicit StudyPanel(WorkspaceModel* workspace, QWidget* parent = nullptr);
  // The layer of the selected row, or 0.
  int selectedLayer() const;
  QTreeWidget* tree() const { return tree_; }

 signals:
  void rebuildMeshesRequested(int layerId);

 private:
  void rebuild();
  void onItemChanged(QTreeWidgetItem* item, int column);

  WorkspaceModel* workspace_;
  QTreeWidget* tree_;
  QPushButton* remove_;
  QPushButton* remesh_;
  bool rebuilding_ = false;
};

}  // namespace nephro::widgets
