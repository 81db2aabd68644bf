#include "gui/HelpMenu.h"

#include <QMainWindow>
#include <QMenuBar>
#include <QMessageBox>

namespace nephro::gui {

void addHelpMenu(QMainWindow* window) {
  QMenu* help = window->menuBar()->addMenu(QObject::tr("&Help"));
  help->addAction(QObject::tr("&Mouse and keys"), window, [window] {
    QMessageBox::information(
        window, QObject::tr("Mouse and keys"),
        QObject::tr("<b>Slice views</b><br>Left click/drag: move the crosshair<br>Wheel, arrows, Page Up/Down: "
                    "slices<br>Right drag: window (horizontal) and level (vertical)<br>Ctrl+wheel or Ctrl+right "
                    "drag: zoom<br>Middle or Shift+left drag: pan<br>Double-click or R: fit<br><br><b>3D "
                    "view</b><br>Left drag: rotate<br>Middle drag or Shift+left: pan<br>Wheel or right drag: zoom"
                    "<br>Reset: the anterior view fitted to the meshes (the view follows new meshes until you "
                    "move it)"));
  });
  help->addAction(QObject::tr("&About Nephro3D"), window, [window] {
    QMessageBox::about(window, QObject::tr("About Nephro3D"),
                       QObject::tr("<b>Nephro3D</b><br>Kidney CT research workstation: multi-phase studies, "
                                   "segmentation models, label meshes.<br>Qt %1, VTK 9, ITK 5.")
                           .arg(qVersion()));
  });
}

}  // namespace nephro::gui
