#include "common/Resources.h"

#include <cstdlib>
#include <filesystem>

#include "common/Error.h"

namespace fs = std::filesystem;

namespace nephro {

namespace {
fs::path executableDir() {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : exe.parent_path();
}

std::string locate(const char* envVar, const char* installed, const char* sourceTree) {
  if (const char* env = std::getenv(envVar); env && *env && fs::is_directory(env)) return env;
  fs::path exeDir = executableDir();
  if (!exeDir.empty()) {
    fs::path p = exeDir / ".." / installed;
    if (fs::is_directory(p)) return fs::weakly_canonical(p).string();
  }
  return sourceTree;
}
}  // namespace

std::string resourceDir() {
  return locate("NEPHRO3D_RESOURCE_DIR", "share/nephro3d/resources", NEPHRO3D_SOURCE_DIR "/resources");
}

std::string modelsDir() {
  return locate("NEPHRO3D_MODELS_DIR", "share/nephro3d/models", NEPHRO3D_SOURCE_DIR "/models");
}

std::string resourceFile(const std::string& relativePath) {
  fs::path p = fs::path(resourceDir()) / relativePath;
  if (!fs::is_regular_file(p)) throw inputError(p.string(), "resource file is missing");
  return p.string();
}

}  // namespace nephro
