#include "widgets/LabelTableModel.h"

#include <map>
#include <string>

#include <cmath>

#include <QFont>

namespace nephro::widgets {

LabelTableModel::LabelTableModel(WorkspaceModel* workspace, QObject* parent)
    : QAbstractTableModel(parent), workspace_(workspace) {
  connect(workspace, &WorkspaceModel::layersChanged, this, &LabelTableModel::rebuild);
  connect(workspace, &WorkspaceModel::labelDisplayChanged, this,
          &LabelTableModel::onLabelDisplayChanged);
  // Which copy of a structure is drawn depends on every layer's state.
  auto allRows = [this] {
    if (!rows_.empty()) emit dataChanged(index(0, 0), index(int(rows_.size()) - 1, ColumnCount - 1));
  };
  connect(workspace, &WorkspaceModel::drawnCopiesChanged, this, allRows);
  connect(workspace, &WorkspaceModel::layerVisibilityChanged, this, allRows);
  connect(workspace, &WorkspaceModel::voxelCountsChanged, this, [this](int layerId) {
    for (size_t i = 0; i < rows_.size(); ++i)
      if (rows_[i].layerId == layerId)
        emit dataChanged(index(int(i), VolumeMl), index(int(i), ChangeMl));
  });
  rebuild();
}

void LabelTableModel::rebuild() {
  beginResetModel();
  rows_.clear();
  // Grouped by structure: the rows of every layer that carries kidney_left
  // follow each other, structures in the order they first appear.
  std::vector<std::string> order;
  std::map<std::string, std::vector<Row>> byName;
  if (workspace_)
    for (const Layer& layer : workspace_->layers())
      for (const LabelEntry& e : layer.table.entries()) {
        auto& rows = byName[e.name];
        if (rows.empty()) order.push_back(e.name);
        rows.push_back(Row{layer.id, e.value});
      }
  for (const std::string& name : order)
    for (const Row& r : byName[name]) rows_.push_back(r);
  endResetModel();
}

int LabelTableModel::rowOf(int layerId, int value) const {
  for (size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].layerId == layerId && rows_[i].value == value) return int(i);
  return -1;
}

void LabelTableModel::onLabelDisplayChanged(int layerId, int value) {
  const int row = rowOf(layerId, value);
  if (row < 0) return;
  if (otherCopies(row) > 0 && !rows_.empty())
    emit dataChanged(index(0, 0), index(int(rows_.size()) - 1, ColumnCount - 1));
  else
    emit dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

int LabelTableModel::otherCopies(int row) const {
  if (!workspace_ || row < 0 || row >= int(rows_.size())) return 0;
  return workspace_->otherCopies(rows_[size_t(row)].layerId, rows_[size_t(row)].value);
}

bool LabelTableModel::isChosenCopy(int row) const {
  if (!workspace_ || row < 0 || row >= int(rows_.size())) return false;
  const Layer* layer = workspace_->layer(rows_[size_t(row)].layerId);
  const LabelEntry* e = layer ? layer->table.find(rows_[size_t(row)].value) : nullptr;
  return e && workspace_->chosenCopy(e->name) == layer->id;
}

void LabelTableModel::drawCopy(int row, bool newest) {
  if (!workspace_ || row < 0 || row >= int(rows_.size())) return;
  const Row r = rows_[size_t(row)];
  const Layer* layer = workspace_->layer(r.layerId);
  const LabelEntry* e = layer ? layer->table.find(r.value) : nullptr;
  if (!e) return;
  const std::string name = e->name;
  // A hidden copy is shown when chosen, so the choice shows at once.
  if (!newest) {
    if (!layer->visible) workspace_->setLayerVisible(r.layerId, true);
    if (const LabelDisplay* d = workspace_->labelDisplay(r.layerId, r.value); d && !d->visible)
      workspace_->setLabelVisible(r.layerId, r.value, true);
  }
  workspace_->setDrawnCopy(name, newest ? 0 : r.layerId);
}

int LabelTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(rows_.size());
}

int LabelTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant LabelTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !workspace_ || index.row() >= int(rows_.size())) return {};
  const Row& r = rows_[size_t(index.row())];
  const Layer* layer = workspace_->layer(r.layerId);
  if (!layer) return {};
  const LabelEntry* entry = layer->table.find(r.value);
  const LabelDisplay* display = workspace_->labelDisplay(r.layerId, r.value);
  if (!entry || !display) return {};
  if (role == LayerIdRole) return r.layerId;
  if (role == LabelValueRole) return r.value;
  if (role == DrawnRole) return workspace_->isDrawn(r.layerId, r.value);
  if (role == CopiesRole) return workspace_->otherCopies(r.layerId, r.value) + 1;
  // Several layers carry this structure: the drawn copy in bold, the others in grey italics.
  if ((role == Qt::FontRole || role == Qt::ForegroundRole || role == Qt::ToolTipRole) &&
      (index.column() == Name || index.column() == LayerName) && workspace_->otherCopies(r.layerId, r.value) > 0) {
    const bool drawn = workspace_->isDrawn(r.layerId, r.value);
    if (role == Qt::FontRole) {
      QFont f;
      f.setBold(drawn);
      f.setItalic(!drawn);
      return f;
    }
    if (role == Qt::ForegroundRole) return drawn ? QVariant() : QVariant(QColor(140, 140, 140));
    const int by = workspace_->shadowedBy(r.layerId, r.value);
    const Layer* other = by ? workspace_->layer(by) : nullptr;
    const QString chosen = workspace_->chosenCopy(entry->name) == r.layerId ? tr(" (chosen)") : QString();
    if (drawn) return tr("This layer's copy is drawn%1; right-click another row to draw its copy").arg(chosen);
    if (other) return tr("Not drawn: %1's copy is; right-click ▸ Draw this copy").arg(other->name);
    return tr("Not drawn (hidden)");
  }

  switch (index.column()) {
    case Visible:
      if (role == Qt::CheckStateRole) return display->visible ? Qt::Checked : Qt::Unchecked;
      if (role == Qt::ToolTipRole) return tr("Show or hide this label in every view");
      break;
    case Color:
      if (role == Qt::DecorationRole || role == Qt::EditRole) return display->color;
      if (role == Qt::ToolTipRole)
        return tr("%1 — double-click to change").arg(display->color.name());
      break;
    case Name:
      if (role == Qt::DisplayRole)
        return QString::fromStdString(entry->displayName.empty() ? entry->name
                                                                 : entry->displayName);
      if (role == Qt::ToolTipRole)
        return QString("%1 (value %2)%3")
            .arg(QString::fromStdString(entry->name))
            .arg(entry->value)
            .arg(entry->code.empty() ? QString() : "\n" + QString::fromStdString(entry->code));
      break;
    case LayerName:
      if (role == Qt::DisplayRole) return layer->name;
      if (role == Qt::ToolTipRole) return layer->sourcePath;
      break;
    case Opacity:
      if (role == Qt::DisplayRole) return QString("%1%").arg(std::lround(display->opacity * 100));
      if (role == Qt::EditRole) return int(std::lround(display->opacity * 100));
      if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
      break;
    case VolumeMl:
      if (role == Qt::DisplayRole) return QString::number(layer->volumeMl(r.value), 'f', 2);
      if (role == Qt::EditRole) return layer->volumeMl(r.value);
      if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
      if (role == Qt::ToolTipRole) return tr("%1 voxels").arg(layer->voxelCount(r.value));
      break;
    case ChangeMl: {
      const double change = layer->changeMl(r.value);
      const int64_t before = size_t(r.value) < layer->originalVoxelCounts.size()
                                 ? layer->originalVoxelCounts[size_t(r.value)]
                                 : 0;
      if (role == Qt::DisplayRole)
        return layer->voxelCount(r.value) == before ? QString() : QString::asprintf("%+.2f", change);
      if (role == Qt::EditRole) return change;
      if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
      if (role == Qt::ToolTipRole) return tr("Change since the layer was opened (edits)");
      break;
    }
    default:
      break;
  }
  return {};
}

bool LabelTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  if (!index.isValid() || !workspace_ || index.row() >= int(rows_.size())) return false;
  const Row r = rows_[size_t(index.row())];
  if (!workspace_->labelDisplay(r.layerId, r.value)) return false;
  switch (index.column()) {
    case Visible:
      if (role != Qt::CheckStateRole) return false;
      workspace_->setLabelVisible(r.layerId, r.value, value.value<Qt::CheckState>() == Qt::Checked);
      return true;
    case Color: {
      if (role != Qt::EditRole) return false;
      const QColor c = value.value<QColor>();
      if (!c.isValid()) return false;
      workspace_->setLabelColor(r.layerId, r.value, c);
      return true;
    }
    case Opacity: {
      if (role != Qt::EditRole) return false;
      bool ok = false;
      const double percent = value.toString().remove('%').trimmed().toDouble(&ok);
      if (!ok) return false;
      workspace_->setLabelOpacity(r.layerId, r.value, percent / 100.0);
      return true;
    }
    default:
      return false;
  }
}

QVariant LabelTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::DisplayRole) {
    switch (section) {
      case Visible:
        return QString();
      case Color:
        return QString();
      case Name:
        return tr("Label");
      case LayerName:
        return tr("Layer");
      case Opacity:
        return tr("Opacity");
      case VolumeMl:
        return tr("Volume (mL)");
      case ChangeMl:
        return tr("Change");
      default:
        return {};
    }
  }
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case Visible:
        return tr("Visible");
      case Color:
        return tr("Colour");
      case VolumeMl:
        return tr("Voxel count × voxel volume");
      default:
        return {};
    }
  }
  return {};
}

Qt::ItemFlags LabelTableModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;
  Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
  if (index.column() == Visible) f |= Qt::ItemIsUserCheckable;
  if (index.column() == Color || index.column() == Opacity) f |= Qt::ItemIsEditable;
  return f;
}

}  // namespace nephro::widgets
