#pragma once
// One row per label of every layer: visibility, colour, name, layer, opacity,
// volume (mL, from the voxel count, live while the layer is edited) and its
// change against the layer as it was added (the model's output). Edits go to the WorkspaceModel, which
// tells every view.
#include <QAbstractTableModel>
#include <QPointer>
#include <vector>

#include "widgets/WorkspaceModel.h"

namespace nephro::widgets {

class LabelTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Visible = 0, Color, Name, LayerName, Opacity, VolumeMl, ChangeMl, ColumnCount };
  enum Role { LayerIdRole = Qt::UserRole + 1, LabelValueRole };

  explicit LabelTableModel(WorkspaceModel* workspace, QObject* parent = nullptr);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role) override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;

  struct Row {
    int layerId = 0;
    int value = 0;
  };
  const Row& rowAt(int row) const { return rows_[size_t(row)]; }
  // Row of a label, or -1.
  int rowOf(int layerId, int value) const;

 private:
  void rebuild();
  void onLabelDisplayChanged(int layerId, int value);

  QPointer<WorkspaceModel> workspace_;
  std::vector<Row> rows_;
};

}  // namespace nephro::widgets
