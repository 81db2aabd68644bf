// Nephro3D entry point. Without arguments (or with a study to open) it starts
// the workstation. A subcommand or --batch hands the process over to
// nephro3d-engine, the headless engine installed next to this program: it links
// LibTorch, which must not share a process with Qt 6 (Debian's LibTorch pulls
// in Qt 5 through OpenCV), and it never creates a GUI application object.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

int runGui(int argc, char** argv);  // app/gui/GuiMain.cpp

namespace {

bool wantsCommandLine(int argc, char** argv) {
  if (argc < 2) return false;
  const std::string first = argv[1];
  if (first.rfind("-", 0) == 0) {
    // Qt's own options (-platform, -style ...) start the GUI; these are ours.
    for (const char* ours : {"--batch", "--help", "-h", "--version", "--threads", "--quiet", "--models", "--device", "--shard"})
      if (first == ours) return true;
    return false;
  }
  // A bare word is a subcommand; anything path-like (with a '/' or a '.') is
  // a study to open in the workstation (write ./name for a folder in the
  // current directory).
  return first.find('/') == std::string::npos && first.find('.') == std::string::npos;
}

int execEngine(char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::string engine = (self.parent_path() / "nephro3d-engine").string();
  argv[0] = const_cast<char*>(engine.c_str());
  execv(engine.c_str(), argv);
  std::fprintf(stderr, "nephro3d: internal error: cannot start %s: %s\n", engine.c_str(), std::strerror(errno));
  return 6;
}

}  // namespace

int main(int argc, char** argv) {
  if (wantsCommandLine(argc, argv)) return execEngine(argv);
  return runGui(argc, argv);
}
