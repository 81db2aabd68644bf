#include "gui/LayerViewsPresenter.h"

namespace nephro::gui {

LayerViewsPresenter::LayerViewsPresenter(widgets::WorkspaceModel* workspace,
                                         std::array<viewers::SliceView*, 3> slices, viewers::MeshView* meshView,
                                         QObject* parent)
    : QObject(parent), workspace_(workspace), slices_(slices), meshView_(meshView) {
  using W = widgets::WorkspaceModel;
  auto refresh = [this] {
    refreshOverlays();
    refreshMeshes();
  };
  connect(workspace_, &W::layersChanged, this, refresh);
  connect(workspace_, &W::layerVisibilityChanged, this, refresh);
  connect(workspace_, &W::labelDisplayChanged, this, refresh);
  connect(workspace_, &W::drawnCopiesChanged, this, refresh);
  connect(workspace_, &W::meshAdded, this, &LayerViewsPresenter::onMeshAdded);
  connect(workspace_, &W::meshesCleared, this,
          [this](int layerId) { meshView_->removeMeshesWithPrefix(QString("%1:").arg(layerId)); });
}

QString LayerViewsPresenter::meshKey(int layerId, int value) {
  return QString("%1:%2").arg(layerId).arg(value);
}

int LayerViewsPresenter::shadowedBy(int layerId, int value) const {
  return workspace_->shadowedBy(layerId, value);
}

bool LayerViewsPresenter::isDrawn(int layerId, int value) const {
  return workspace_->isDrawn(layerId, value);
}

void LayerViewsPresenter::refreshOverlays() {
  std::vector<viewers::OverlayLayer> overlays;
  for (const widgets::Layer& layer : workspace_->layers()) {
    viewers::OverlayLayer o;
    o.mask = layer.mask;
    o.visible = layer.visible;
    const int maxValue = layer.display.empty() ? 0 : layer.display.rbegin()->first;
    o.styles.resize(size_t(maxValue + 1));
    for (const auto& [value, d] : layer.display)
      if (value > 0) o.styles[size_t(value)] = viewers::LabelStyle{d.color, d.opacity, isDrawn(layer.id, value)};
    overlays.push_back(std::move(o));
  }
  for (auto* s : slices_) s->setOverlays(overlays);
}

void LayerViewsPresenter::refreshMeshes() {
  for (const widgets::Layer& layer : workspace_->layers())
    for (const auto& [value, mesh] : layer.meshes)
      if (const widgets::LabelDisplay* d = workspace_->labelDisplay(layer.id, value))
        meshView_->setMeshStyle(meshKey(layer.id, value), d->color, d->opacity, isDrawn(layer.id, value));
}

void LayerViewsPresenter::onMeshAdded(int layerId, int value) {
  const widgets::Layer* layer = workspace_->layer(layerId);
  const widgets::LabelDisplay* d = workspace_->labelDisplay(layerId, value);
  if (!layer || !d) return;
  auto it = layer->meshes.find(value);
  if (it == layer->meshes.end() || !it->second.surface) return;
  meshView_->setMesh(meshKey(layerId, value), it->second.surface, d->color, d->opacity, isDrawn(layerId, value));
  // An older layer's mesh of the same structure steps back.
  refreshMeshes();
}

}  // namespace nephro::gui
