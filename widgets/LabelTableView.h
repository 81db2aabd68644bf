#pragma once
// The label table: a check box per label, a colour swatch (double-click to
// pick a colour), an opacity spin box and the volume. Emits the selected
// labels so the plots can follow.
#include <QTableView>
#include <utility>
#include <vector>

#include "widgets/LabelTableModel.h"

namespace nephro::widgets {

class LabelTableView : public QTableView {
  Q_OBJECT
 public:
  explicit LabelTableView(QWidget* parent = nullptr);
  void setLabelModel(LabelTableModel* model);
  // (layer id, label value) of the selected rows.
  std::vector<std::pair<int, int>> selectedLabels() const;

 signals:
  void selectedLabelsChanged();

 private:
  void onDoubleClicked(const QModelIndex& index);
  LabelTableModel* model_ = nullptr;
};

}  // namespace nephro::widgets
