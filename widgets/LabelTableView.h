#pragma once
// The label table: a check box per label, a colour swatch (double-click to
// pick a colour), an opacity spin box and the volume. Emits the selected
// labels so the plots can follow. A row of a structure that several layers
// carry has a context menu: Draw this copy / Draw the newest copy.
#include <QTableView>
#include <utility>
#include <vector>

#include "widgets/LabelTableModel.h"

class QMenu;

namespace nephro::widgets {

class LabelTableView : public QTableView {
  Q_OBJECT
 public:
  explicit LabelTableView(QWidget* parent = nullptr);
  void setLabelModel(LabelTableModel* model);
  // (layer id, label value) of the selected rows.
  std::vector<std::pair<int, int>> selectedLabels() const;
  // The context menu of a row (nullptr when it has no entries); the caller owns it.
  QMenu* rowMenu(int row, QWidget* parent);

 signals:
  void selectedLabelsChanged();

 private:
  void onDoubleClicked(const QModelIndex& index);
  LabelTableModel* model_ = nullptr;
};

}  // namespace nephro::widgets
