#pragma once
// Keeps the slice overlays and the 3D meshes in step with the workspace's
// layers and their display state. When several visible layers carry the same
// structure (two models' kidney_left), only one copy is drawn (the one chosen
// in the label table, else the newest; WorkspaceModel::shadowedBy), so the
// views never show two kidneys on top of each other; hiding that layer (or
// that label in it) brings the next one back.
#include <QObject>
#include <array>

#include "viewers/MeshView.h"
#include "viewers/SliceView.h"
#include "widgets/WorkspaceModel.h"

namespace nephro::gui {

class LayerViewsPresenter : public QObject {
  Q_OBJECT
 public:
  LayerViewsPresenter(widgets::WorkspaceModel* workspace, std::array<viewers::SliceView*, 3> slices,
                      viewers::MeshView* meshView, QObject* parent = nullptr);
  // Whether the views draw this label of this layer now.
  bool isDrawn(int layerId, int value) const;
  // The newer visible layer that draws this label instead (0 when none).
  int shadowedBy(int layerId, int value) const;

 private:
  void refreshOverlays();
  void refreshMeshes();
  void onMeshAdded(int layerId, int value);
  static QString meshKey(int layerId, int value);

  widgets::WorkspaceModel* workspace_;
  std::array<viewers::SliceView*, 3> slices_;
  viewers::MeshView* meshView_;
};

}  // namespace nephro::gui
