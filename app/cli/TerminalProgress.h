#pragma once
// Progress on a terminal: a bar redrawn in place when stderr is a terminal,
// otherwise a line per 10 %. Ctrl-C sets the shared cancel flag; engine steps
// stop between units of work and leave no partial output.
#include "common/Progress.h"

namespace nephro::cli {

// The process-wide cancel flag set by SIGINT/SIGTERM.
std::shared_ptr<std::atomic<bool>> cancelFlag();
void installCancelHandler();

// Quiet mode prints nothing.
Progress terminalProgress(bool quiet = false);
// Ends the current bar line, if any.
void finishProgressLine();

}  // namespace nephro::cli
