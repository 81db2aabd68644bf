// Nephro3D entry point. With a subcommand or --batch it runs headless (no Qt
// application object, no display needed); without, it starts the workstation.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/CommandLine.h"

int runGui(int argc, char** argv);  // app/gui/GuiMain.cpp

int main(int argc, char** argv) {
  if (nephro::cli::wantsCommandLine(argc, argv)) return nephro::cli::runCommandLine(argc, argv);
  return runGui(argc, argv);
}
