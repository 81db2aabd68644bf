#include "widgets/LabelTableView.h"

#include <QColorDialog>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QMenu>
#include <QPainter>
#include <QSpinBox>
#include <QStyledItemDelegate>
#include <set>

namespace nephro::widgets {

namespace {

// Opacity as a 0..100 % spin box; colour as a filled rounded swatch.
class LabelDelegate : public QStyledItemDelegate {
 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                        const QModelIndex& index) const override {
    if (index.column() == LabelTableModel::Opacity) {
      auto* spin = new QSpinBox(parent);
      spin->setRange(0, 100);
      spin->setSuffix("%");
      spin->setSingleStep(10);
      return spin;
    }
    if (index.column() == LabelTableModel::Color) return nullptr;  // a colour dialog instead
    return QStyledItemDelegate::createEditor(parent, option, index);
  }

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override {
    if (index.column() != LabelTableModel::Color) {
      QStyledItemDelegate::paint(painter, option, index);
      return;
    }
    QStyleOptionViewItem opt(option);
    initStyleOption(&opt, index);
    opt.icon = QIcon();
    opt.features &= ~QStyleOptionViewItem::HasDecoration;
    QStyledItemDelegate::paint(painter, opt, QModelIndex());
    const QColor c = index.data(Qt::EditRole).value<QColor>();
    const QRect r = option.rect.adjusted(5, 4, -5, -4);
    painter->save();
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setPen(QPen(c.darker(160), 1));
    painter->setBrush(c);
    painter->drawRoundedRect(r, 3, 3);
    painter->restore();
  }
};

}  // namespace

LabelTableView::LabelTableView(QWidget* parent) : QTableView(parent) {
  setObjectName("labelTable");
  setItemDelegate(new LabelDelegate(this));
  setSelectionBehavior(QAbstractItemView::SelectRows);
  setSelectionMode(QAbstractItemView::ExtendedSelection);
  setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
  setAlternatingRowColors(true);
  setShowGrid(false);
  setWordWrap(false);
  verticalHeader()->hide();
  verticalHeader()->setDefaultSectionSize(22);
  horizontalHeader()->setHighlightSections(false);
  connect(this, &QTableView::doubleClicked, this, &LabelTableView::onDoubleClicked);
  setContextMenuPolicy(Qt::CustomContextMenu);
  connect(this, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    const QModelIndex index = indexAt(pos);
    if (!index.isValid()) return;
    if (QMenu* menu = rowMenu(index.row(), this)) {
      menu->exec(viewport()->mapToGlobal(pos));
      delete menu;
    }
  });
}

QMenu* LabelTableView::rowMenu(int row, QWidget* parent) {
  if (!model_ || row < 0 || row >= model_->rowCount() || model_->otherCopies(row) == 0) return nullptr;
  auto* menu = new QMenu(parent);
  QAction* draw = menu->addAction(tr("Draw this copy"));
  draw->setObjectName("drawThisCopy");
  draw->setCheckable(true);
  draw->setChecked(model_->isChosenCopy(row));
  draw->setToolTip(tr("The views draw this layer's copy of the structure, not the newest"));
  connect(draw, &QAction::triggered, this, [this, row] { model_->drawCopy(row); });
  QAction* newest = menu->addAction(tr("Draw the newest copy"));
  newest->setObjectName("drawNewestCopy");
  connect(newest, &QAction::triggered, this, [this, row] { model_->drawCopy(row, true); });
  return menu;
}

void LabelTableView::setLabelModel(LabelTableModel* model) {
  model_ = model;
  setModel(model);
  auto* h = horizontalHeader();
  h->setSectionResizeMode(LabelTableModel::Visible, QHeaderView::Fixed);
  h->setSectionResizeMode(LabelTableModel::Color, QHeaderView::Fixed);
  h->setSectionResizeMode(LabelTableModel::Name, QHeaderView::Stretch);
  // Layer names can be long: a column of its own width (elided, the tooltip has the file).
  h->setSectionResizeMode(LabelTableModel::LayerName, QHeaderView::Interactive);
  h->resizeSection(LabelTableModel::LayerName, 72);
  setTextElideMode(Qt::ElideMiddle);
  h->setSectionResizeMode(LabelTableModel::Opacity, QHeaderView::ResizeToContents);
  h->setSectionResizeMode(LabelTableModel::VolumeMl, QHeaderView::ResizeToContents);
  h->setSectionResizeMode(LabelTableModel::ChangeMl, QHeaderView::ResizeToContents);
  h->resizeSection(LabelTableModel::Visible, 26);
  h->resizeSection(LabelTableModel::Color, 34);
  connect(selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &LabelTableView::selectedLabelsChanged);
  connect(model, &QAbstractItemModel::modelReset, this, &LabelTableView::selectedLabelsChanged);
  // The layer column only tells layers apart.
  connect(model, &QAbstractItemModel::modelReset, this, [this] {
    std::set<int> layers;
    for (int r = 0; r < model_->rowCount(); ++r) layers.insert(model_->rowAt(r).layerId);
    setColumnHidden(LabelTableModel::LayerName, layers.size() < 2);
  });
  // The change column appears with the first edit, so unedited layers leave the names their width.
  auto showChange = [this] {
    bool any = false;
    for (int r = 0; r < model_->rowCount() && !any; ++r)
      any = !model_->index(r, LabelTableModel::ChangeMl).data().toString().isEmpty();
    setColumnHidden(LabelTableModel::ChangeMl, !any);
  };
  connect(model, &QAbstractItemModel::modelReset, this, showChange);
  connect(model, &QAbstractItemModel::dataChanged, this, showChange);
  showChange();
}

std::vector<std::pair<int, int>> LabelTableView::selectedLabels() const {
  std::vector<std::pair<int, int>> out;
  if (!model_ || !selectionModel()) return out;
  std::set<int> rows;
  for (const QModelIndex& i : selectionModel()->selectedIndexes()) rows.insert(i.row());
  for (int row : rows) {
    const auto& r = model_->rowAt(row);
    out.emplace_back(r.layerId, r.value);
  }
  return out;
}

void LabelTableView::onDoubleClicked(const QModelIndex& index) {
  if (!model_ || index.column() != LabelTableModel::Color) return;
  const QColor current = index.data(Qt::EditRole).value<QColor>();
  const QColor chosen = QColorDialog::getColor(current, this, tr("Label colour"));
  if (chosen.isValid()) model_->setData(index, chosen, Qt::EditRole);
}

}  // namespace nephro::widgets
