#pragma once
// Paths named in a request resolve inside the data root only: relative, no
// `..` component, no detached header that could name other files, and the
// resolved path (symbolic links followed) must still lie inside the root.
#include <string>

namespace nephro::server {

// The resolved absolute path of `requested` under `root` (itself resolved).
// Throws jobs::RequestError: path_outside_data_root, input_not_found, bad_request.
std::string confinePath(const std::string& root, const std::string& requested);
// True when `resolved` is `root` or inside it (both resolved).
bool insideRoot(const std::string& root, const std::string& resolved);

}  // namespace nephro::server
