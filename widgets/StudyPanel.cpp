#include "widgets/StudyPanel.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace nephro::widgets {

namespace {
constexpr int kLayerIdRole = Qt::UserRole + 1;

QString gridText(const Geometry& g) {
  return QString("%1 × %2 × %3   %4 × %5 × %6 mm")
      .arg(g.size[0])
      .arg(g.size[1])
      .arg(g.size[2])
      .arg(g.spacing[0], 0, 'g', 4)
      .arg(g.spacing[1], 0, 'g', 4)
      .arg(g.spacing[2], 0, 'g', 4);
}
}  // namespace

StudyPanel::StudyPanel(WorkspaceModel* workspace, QWidget* parent)
    : QWidget(parent), workspace_(workspace) {
  setObjectName("studyPanel");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);
  tree_ = new QTreeWidget(this);
  tree_->setColumnCount(1);
  tree_->setHeaderHidden(true);
  tree_->setRootIsDecorated(false);
  tree_->setIndentation(12);
  layout->addWidget(tree_, 1);
  auto* buttons = new QHBoxLayout;
  remesh_ = new QPushButton(tr("Rebuild meshes"), this);
  remove_ = new QPushButton(tr("Remove layer"), this);
  buttons->addWidget(remesh_);
  buttons->addWidget(remove_);
  layout->addLayout(buttons);
  connect(remove_, &QPushButton::clicked, this, [this] {
    if (const int id = selectedLayer()) workspace_->removeLayer(id);
  });
  connect(remesh_, &QPushButton::clicked, this, [this] {
    if (const int id = selectedLayer()) emit rebuildMeshesRequested(id);
  });
  connect(tree_, &QTreeWidget::itemChanged, this, &StudyPanel::onItemChanged);
  connect(tree_, &QTreeWidget::itemSelectionChanged, this, [this] {
    remove_->setEnabled(selectedLayer() != 0);
    remesh_->setEnabled(selectedLayer() != 0);
  });
  connect(workspace_, &WorkspaceModel::phasesChanged, this, &StudyPanel::rebuild);
  connect(workspace_, &WorkspaceModel::layersChanged, this, &StudyPanel::rebuild);
  connect(workspace_, &WorkspaceModel::layerVisibilityChanged, this, &StudyPanel::rebuild);
  rebuild();
}

int StudyPanel::selectedLayer() const {
  const auto items = tree_->selectedItems();
  return items.isEmpty() ? 0 : items.front()->data(0, kLayerIdRole).toInt();
}

void StudyPanel::rebuild() {
  rebuilding_ = true;
  const int selected = selectedLayer();
  tree_->clear();
  auto* phases = new QTreeWidgetItem(tree_, {tr("Phases")});
  phases->setFlags(Qt::ItemIsEnabled);
  QFont bold = font();
  bold.setBold(true);
  phases->setFont(0, bold);
  for (Phase p : workspace_->loadedPhases()) {
    auto* item = new QTreeWidgetItem(
        phases,
        {QString("%1   %2").arg(phaseLetter(p), QFileInfo(workspace_->phasePath(p)).fileName())});
    item->setToolTip(0, QString("%1\n%2").arg(workspace_->phasePath(p),
                                              gridText(workspace_->phase(p).geometry())));
    item->setFlags(Qt::ItemIsEnabled);
  }
  if (workspace_->loadedPhases().empty()) {
    auto* none = new QTreeWidgetItem(phases, {tr("none — File ▸ Open, or drop files here")});
    none->setFlags(Qt::NoItemFlags);
  }
  auto* layers = new QTreeWidgetItem(tree_, {tr("Layers")});
  layers->setFlags(Qt::ItemIsEnabled);
  layers->setFont(0, bold);
  for (const Layer& l : workspace_->layers()) {
    auto* item =
        new QTreeWidgetItem(layers, {QString("%1   (%2 labels)").arg(l.name).arg(l.table.size())});
    item->setData(0, kLayerIdRole, l.id);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
    item->setCheckState(0, l.visible ? Qt::Checked : Qt::Unchecked);
    item->setToolTip(0, (l.sourcePath.isEmpty() ? tr("made in this session") : l.sourcePath) +
                            "\n" + gridText(l.mask.geometry()));
    if (l.id == selected) item->setSelected(true);
  }
  tree_->expandAll();
  remove_->setEnabled(selectedLayer() != 0);
  remesh_->setEnabled(selectedLayer() != 0);
  rebuilding_ = false;
}

void StudyPanel::onItemChanged(QTreeWidgetItem* item, int) {
  if (rebuilding_) return;
  const int id = item->data(0, kLayerIdRole).toInt();
  if (id) workspace_->setLayerVisible(id, item->checkState(0) == Qt::Checked);
}

}  // namespace nephro::widgets
