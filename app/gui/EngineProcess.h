#pragma once
// Runs the headless engine (nephro3d-engine, next to this program) as a child
// process. The engine links LibTorch, which must not share a process with the
// Qt 6 workstation; a child process also frees GPU memory when it ends and
// keeps a failing model from taking the window down.
#include <QString>
#include <QStringList>

#include "common/Progress.h"

namespace nephro::gui {

QString engineExecutable();

// Runs `nephro3d-engine args...` to completion on the calling (worker) thread.
// "@progress f stage" lines become progress reports; a set cancel flag
// terminates the engine (which removes its partial outputs) and throws a
// cancelled error; a failure throws nephro::Error with the engine's own
// one-line message and the kind its exit code stands for.
void runEngine(const QStringList& args, const Progress& progress);

// Runs a short engine command and returns its standard output (empty on failure).
QByteArray engineOutput(const QStringList& args, int timeoutMs = 20000);

}  // namespace nephro::gui
