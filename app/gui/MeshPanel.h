#pragma once
// The 3D view with its bar: patient directions (A, P, L, R, S), Reset (the
// anterior view fitted to the meshes) and a screenshot button.
#include <QWidget>

class QToolButton;

#include "viewers/MeshView.h"

namespace nephro::gui {

class MeshPanel : public QWidget {
  Q_OBJECT
 public:
  explicit MeshPanel(QWidget* parent = nullptr);
  viewers::MeshView* view() const { return view_; }

 signals:
  void screenshotRequested();

 protected:
  void resizeEvent(QResizeEvent* event) override;

 private:
  viewers::MeshView* view_;
  QToolButton* png_ = nullptr;
};

}  // namespace nephro::gui
