// nephro3d-engine: the headless engine with every subcommand. It links
// LibTorch, which on Debian pulls in Qt 5 through OpenCV, so it never shares a
// process with the Qt 6 workstation: `nephro3d <subcommand>` hands over to it,
// and the workstation runs models through it as a child process.
#include "cli/CommandLine.h"
#include "common/HeapTuning.h"

int main(int argc, char** argv) {
  nephro::keepLargeBuffersInHeap();  // before the first volume-sized allocation
  return nephro::cli::runCommandLine(argc, argv);
}
