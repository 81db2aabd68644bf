#include "gui/ScreenshotMode.h"

#include <QApplication>
#include <QDeadlineTimer>
#include <QFileInfo>
#include <QImage>
#include <QPixmap>
#include <QThread>
#include <cstdio>

#include "common/Error.h"
#include "gui/MainWindow.h"
#include "gui/WorkspacePresenter.h"
#include "widgets/ErrorBanner.h"
#include "widgets/WorkspaceFile.h"

namespace nephro::gui {

std::optional<ScreenshotRequest> parseScreenshotArguments(const QStringList& args) {
  if (!args.contains("--screenshot")) return std::nullopt;
  ScreenshotRequest r;
  for (int i = 0; i < args.size(); ++i) {
    const QString a = args[i];
    auto value = [&]() {
      if (i + 1 >= args.size()) throw usageError(a.toStdString() + " needs a value");
      return args[++i];
    };
    if (a == "--screenshot") {
      r.output = value();
    } else if (a == "--layout") {
      r.layout = value();
      if (widgets::layoutFromText(r.layout) < 0)
        throw usageError("--layout " + r.layout.toStdString() + ": use 1+3 or 2x2");
    } else if (a == "--size") {
      const QStringList wh = value().toLower().split('x');
      bool okW = false, okH = false;
      if (wh.size() == 2) r.size = QSize(wh[0].toInt(&okW), wh[1].toInt(&okH));
      if (!okW || !okH || r.size.width() < 640 || r.size.height() < 480 || r.size.width() > 8192 ||
          r.size.height() > 8192)
        throw usageError("--size " + args[i].toStdString() + ": use WxH, 640x480 to 8192x8192");
    } else if (a.startsWith("-")) {
      throw usageError("unknown option " + a.toStdString());
    } else {
      if (!r.input.isEmpty()) throw usageError("one workspace or case only");
      r.input = a;
    }
  }
  if (r.input.isEmpty()) throw usageError("--screenshot needs a workspace, run folder or case");
  return r;
}

int takeScreenshot(MainWindow& window, const ScreenshotRequest& r) {
  if (!QFileInfo::exists(r.input)) {
    std::fprintf(stderr, "nephro3d: error: %s: does not exist\n", qPrintable(r.input));
    return 3;
  }
  window.setViewLayout(widgets::ViewLayout(widgets::layoutFromText(r.layout)));
  window.setMaximumSize(QWIDGETSIZE_MAX, QWIDGETSIZE_MAX);
  window.resize(r.size);
  window.show();
  bool opened = false;
  QObject::connect(window.workspacePresenter(), &WorkspacePresenter::opened, &window, [&] { opened = true; });
  if (widgets::isWorkspaceFolder(r.input)) {
    window.workspacePresenter()->open(r.input);
  } else {
    window.openStudy(widgets::classifyStudyFiles({r.input}));
    opened = true;
  }
  // Everything read and meshed: nothing runs for a moment (bounded wait).
  QDeadlineTimer deadline(300000);
  int quiet = 0;
  while (!deadline.hasExpired() && quiet < 10) {
    QApplication::processEvents(QEventLoop::AllEvents, 50);
    QThread::msleep(20);
    const bool failed = window.errorBanner()->isVisible() && window.errorBanner()->kind() == widgets::ErrorBanner::Kind::Error;
    if (failed) {
      std::fprintf(stderr, "nephro3d: error: %s\n", qPrintable(window.errorBanner()->headline()));
      return 3;
    }
    quiet = opened && !window.busy() ? quiet + 1 : 0;
  }
  if (deadline.hasExpired()) {
    std::fprintf(stderr, "nephro3d: error: %s: still loading after 300 s\n", qPrintable(r.input));
    return 6;
  }
  for (int i = 0; i < 10; ++i) {
    QApplication::processEvents(QEventLoop::AllEvents, 50);
    QThread::msleep(20);
  }
  const QImage image = window.grab().toImage();
  if (image.isNull() || !image.save(r.output, "PNG")) {
    std::fprintf(stderr, "nephro3d: error: %s: cannot be written\n", qPrintable(r.output));
    return 5;
  }
  std::printf("%s: %dx%d\n", qPrintable(r.output), image.width(), image.height());
  return 0;
}

}  // namespace nephro::gui
