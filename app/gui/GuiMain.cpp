// Workstation start-up. The OpenGL format must be the default before the
// QApplication exists, so the 3D view's context suits VTK.
#include <QApplication>
#include <QSurfaceFormat>
#include <cstdlib>

#include "gui/InferenceEngine.h"
#include "gui/MainWindow.h"
#include "common/HeapTuning.h"
#include "gui/Style.h"

int runGui(int argc, char** argv) {
  // Every post-processing slider move makes a full-grid layer and frees the
  // last one: reused heap memory instead of freshly faulted pages.
  nephro::keepLargeBuffersInHeap();
  // VTK 9.1 initialises OpenGL through GLX: under Wayland use XWayland.
  if (std::getenv("WAYLAND_DISPLAY") && !std::getenv("QT_QPA_PLATFORM"))
    setenv("QT_QPA_PLATFORM", "xcb", 0);
  QSurfaceFormat::setDefaultFormat(nephro::viewers::MeshView::defaultFormat());
  QApplication app(argc, argv);
  QApplication::setOrganizationName("Nephro3D");
  QApplication::setApplicationName("Nephro3D");
  nephro::gui::applyWorkstationStyle(app);

  nephro::gui::MainWindow window;
  nephro::gui::installInferenceEngine(window);
  window.show();
  QStringList paths = QApplication::arguments();
  paths.removeFirst();
  if (!paths.isEmpty()) window.openPaths(paths);
  return app.exec();
}
