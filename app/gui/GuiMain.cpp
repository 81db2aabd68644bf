// Workstation start-up. The OpenGL format must be the default before the
// QApplication exists, so the 3D view's context suits VTK.
#include <QApplication>
#include <QSurfaceFormat>
#include <cstdlib>

#include <QTemporaryDir>
#include <cstdio>
#include <string>

#include "common/Error.h"
#include "gui/InferenceEngine.h"
#include "gui/ScreenshotMode.h"
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
  // A screenshot needs no screen: without a display, Qt's offscreen platform.
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--screenshot" && !std::getenv("DISPLAY") && !std::getenv("QT_QPA_PLATFORM"))
      setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QSurfaceFormat::setDefaultFormat(nephro::viewers::MeshView::defaultFormat());
  QApplication app(argc, argv);
  QApplication::setOrganizationName("Nephro3D");
  QApplication::setApplicationName("Nephro3D");
  nephro::gui::applyWorkstationStyle(app);

  QStringList paths = QApplication::arguments();
  paths.removeFirst();
  // --screenshot: render a workspace or case into a PNG and exit.
  std::optional<nephro::gui::ScreenshotRequest> shot;
  try {
    shot = nephro::gui::parseScreenshotArguments(paths);
  } catch (const nephro::Error& e) {
    std::fprintf(stderr, "nephro3d: error: %s\n", e.what());
    return e.exitCode();
  }
  if (shot) {
    // Settings of its own: a screenshot never changes the user's window state.
    QTemporaryDir settings;
    nephro::gui::MainWindow window(
        std::make_unique<nephro::widgets::Preferences>(settings.filePath("screenshot.ini")));
    window.setAttribute(Qt::WA_DontShowOnScreen);
    return nephro::gui::takeScreenshot(window, *shot);
  }

  nephro::gui::MainWindow window;
  nephro::gui::installInferenceEngine(window);
  window.show();
  if (!paths.isEmpty()) window.openPaths(paths);
  return app.exec();
}
