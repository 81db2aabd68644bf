#pragma once
// The 3D view with its title bar: buttons that view the meshes from the
// front, behind, either side or above, fit them, and ask for a screenshot.
#include <QWidget>

#include "viewers/MeshView.h"

namespace nephro::viewers {

class MeshPanel : public QWidget {
  Q_OBJECT
 public:
  explicit MeshPanel(QWidget* parent = nullptr);
  MeshView* view() const { return view_; }

 signals:
  void screenshotRequested();

 private:
  MeshView* view_;
};

}  // namespace nephro::viewers
