#pragma once
// One row per label of every layer: visibility, colour, name, layer, opacity,
// volume (mL, from the voxel count, live while the layer is edited) and its
// change against the layer as it was added (the model's output). Edits go to the WorkspaceModel, which
// tells every view. Rows of one structure from several layers follow each
// other; the copy the views draw is in bold, the others in grey italics, and
// drawCopy() chooses which one is drawn.
#include <QAbstractTableModel>
#include <QPointer>
#include <vector>

#include "widgets/WorkspaceModel.h"

namespace nephro::widgets {

class LabelTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Visible = 0, Color, Name, LayerName, Opacity, VolumeMl, ChangeMl, ColumnCount };
  enum Role { LayerIdRole = Qt::UserRole + 1, LabelValueRole, DrawnRole, CopiesRole };

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
  // Other layers' rows of the same structure.
  int otherCopies(int row) const;
  // The views draw this row's copy of its structure (layer 0 in `newest`: the newest copy again).
  void drawCopy(int row, bool newest = false);
  // Whether this row's layer is the chosen copy of its structure.
  bool isChosenCopy(int row) const;

 private:
  void rebuild();
  void onLabelDisplayChanged(int layerId, int value);

  QPointer<WorkspaceModel> workspace_;
  std::vector<Row> rows_;
};

}  // namespace nephro::widgets
