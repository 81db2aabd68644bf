#include "common/OutputTransaction.h"

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <unistd.h>

#include "common/Error.h"

namespace fs = std::filesystem;

namespace nephro {

namespace {
std::string uniqueTag() {
  static std::atomic<unsigned> counter{0};
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::to_string(::getpid()) + "-" + std::to_string(now % 1000000007) + "-" +
         std::to_string(counter++);
}
}  // namespace

OutputTransaction::~OutputTransaction() { rollback(); }

std::string OutputTransaction::stage(const std::string& finalPath) {
  fs::path target(finalPath);
  fs::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw outputError(dir.string(), "cannot create output folder");
  if (::access(dir.c_str(), W_OK) != 0) throw outputError(dir.string(), "output folder is not writable");
  if (fs::is_directory(target)) throw outputError(finalPath, "is a folder, expected a file name");
  // The temporary keeps the whole file name as its suffix so format detection by
  // extension (".nii.gz", ".seg.nrrd") still works on it.
  fs::path temp = dir / (".partial-" + uniqueTag() + "-" + target.filename().string());
  entries_.push_back({temp.string(), target.string()});
  return temp.string();
}

void OutputTransaction::commit() {
  for (const Entry& e : entries_) {
    std::error_code ec;
    fs::rename(e.temp, e.final, ec);
    if (ec) throw outputError(e.final, "cannot move the finished file into place: " + ec.message());
  }
  entries_.clear();
}

void OutputTransaction::rollback() {
  for (const Entry& e : entries_) {
    std::error_code ec;
    fs::remove(e.temp, ec);
  }
  entries_.clear();
}

void writeFileAtomically(const std::string& path, const std::string& bytes) {
  OutputTransaction tx;
  std::string temp = tx.stage(path);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw outputError(path, "cannot open for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw outputError(path, "write failed (disk full?)");
  }
  tx.commit();
}

}  // namespace nephro
