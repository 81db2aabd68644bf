// nephro3d-engine: the headless engine with every subcommand. It links
// LibTorch, which on Debian pulls in Qt 5 through OpenCV, so it never shares a
// process with the Qt 6 workstation: `nephro3d <subcommand>` hands over to it,
// and the workstation runs models through it as a child process.
#include <malloc.h>

#include "cli/CommandLine.h"

int main(int argc, char** argv) {
  // The engine allocates and frees volume-sized buffers over and over (resampling
  // passes, logits per head). glibc serves each from fresh mmap pages that the
  // kernel must fault in and zero; keeping them in the heap for reuse cut system
  // time from 7.9 s to 1.3 s for one model on the full phantom, at 15 % more peak memory.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return nephro::cli::runCommandLine(argc, argv);
}
