#pragma once
// `nephro3d --screenshot FILE [--layout 1+3|2x2] [--size WxH] WORKSPACE_OR_CASE`:
// opens a workspace, a `run`/`--batch` output folder or a case folder in a
// window that is never shown on screen, waits until every layer and mesh is
// in, writes the window as PNG and exits (0; 3 for bad input, with a one-line
// error naming the file).
#include <QSize>
#include <QString>
#include <optional>

namespace nephro::gui {

class MainWindow;

struct ScreenshotRequest {
  QString output;
  QString input;
  QString layout = "1+3";
  QSize size{1600, 1000};
};

// Parses the arguments (without the program name); nullopt when --screenshot
// is absent; throws nephro::Error (usage) for a malformed request.
std::optional<ScreenshotRequest> parseScreenshotArguments(const QStringList& args);

// Loads the request's input into `window`, waits (bounded) until nothing runs,
// then saves the window. Returns the exit code; prints the error on stderr.
int takeScreenshot(MainWindow& window, const ScreenshotRequest& request);

}  // namespace nephro::gui
