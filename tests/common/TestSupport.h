#pragma once
// Shared helpers for test programs: scratch folders and running the CLI.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace nephro::test {

// A fresh folder under the build tree, removed at the start (kept after the test for inspection).
inline std::string scratchDir(const std::string& name) {
  std::filesystem::path p = std::filesystem::path(NEPHRO3D_BINARY_DIR) / "test-scratch" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

inline std::string nephro3dBinary() { return std::string(NEPHRO3D_BINARY_DIR) + "/bin/nephro3d"; }

// Runs the nephro3d CLI; returns its exit code and captures stderr+stdout into `output`.
inline int runNephro3d(const std::string& args, std::string* output = nullptr) {
  // One log per test process: ctest runs test programs in parallel.
  const std::string log =
      std::string(NEPHRO3D_BINARY_DIR) + "/test-scratch/cli-" + std::to_string(::getpid()) + ".log";
  std::filesystem::create_directories(std::string(NEPHRO3D_BINARY_DIR) + "/test-scratch");
  const std::string cmd = nephro3dBinary() + " " + args + " > '" + log + "' 2>&1";
  const int status = std::system(cmd.c_str());
  if (output) {
    FILE* f = std::fopen(log.c_str(), "rb");
    output->clear();
    if (f) {
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) output->append(buf, n);
      std::fclose(f);
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace nephro::test
