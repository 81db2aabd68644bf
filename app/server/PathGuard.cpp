#include "server/PathGuard.h"

#include <climits>
#include <cstdlib>
#include <filesystem>

#include "jobs/JobSpec.h"

namespace fs = std::filesystem;

namespace nephro::server {

bool insideRoot(const std::string& root, const std::string& resolved) {
  return resolved == root || (resolved.size() > root.size() && resolved.compare(0, root.size(), root) == 0 &&
                              (root.back() == '/' || resolved[root.size()] == '/'));
}

std::string confinePath(const std::string& root, const std::string& requested) {
  using jobs::RequestError;
  if (requested.empty()) throw RequestError("bad_request", "an input path is empty");
  if (requested.find('\0') != std::string::npos) throw RequestError("bad_request", "an input path holds a NUL byte");
  const fs::path p(requested);
  if (p.is_absolute() || requested[0] == '/' || requested[0] == '~')
    throw RequestError("path_outside_data_root", requested + ": paths are relative to the data root", ErrorKind::Input);
  for (const auto& part : p)
    if (part == "..")
      throw RequestError("path_outside_data_root", requested + ": `..` is not allowed in a path", ErrorKind::Input);
  for (const char* ext : {".nhdr", ".mhd"}) {
    const std::string e(ext);
    if (requested.size() > e.size() && requested.compare(requested.size() - e.size(), e.size(), e) == 0)
      throw RequestError("bad_request", requested + ": detached headers (.nhdr, .mhd) are not accepted; send .nrrd, .mha or NIfTI");
  }
  const std::string joined = (fs::path(root) / p).string();
  char buf[PATH_MAX];
  if (!::realpath(joined.c_str(), buf))
    throw RequestError("input_not_found", requested + " does not exist under the data root", ErrorKind::Input);
  const std::string resolved(buf);
  if (!insideRoot(root, resolved))
    throw RequestError("path_outside_data_root", requested + " resolves outside the data root", ErrorKind::Input);
  return resolved;
}

}  // namespace nephro::server
