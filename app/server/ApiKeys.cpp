#include "server/ApiKeys.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "common/Error.h"
#include "jobs/Sha256.h"

namespace nephro::server {

ApiKeys ApiKeys::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "API keys file cannot be read");
  ApiKeys keys;
  std::set<std::string> names;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string name, hex, extra;
    if (!(words >> name)) continue;
    const std::string where = "line " + std::to_string(number);
    if (!(words >> hex) || (words >> extra))
      throw inputError(path, where + " is not `NAME SHA256HEX`");
    std::transform(hex.begin(), hex.end(), hex.begin(), [](unsigned char c) { return std::tolower(c); });
    if (hex.size() != 64 || !std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
      throw inputError(path, where + ": the hash must be 64 hex digits (the key's SHA-256; see serve --hash-key)");
    if (!names.insert(name).second) throw inputError(path, where + ": the name " + name + " is used twice");
    keys.entries_.push_back({name, hex});
  }
  if (keys.entries_.empty()) throw inputError(path, "holds no API key");
  return keys;
}

std::optional<std::string> ApiKeys::check(const std::string& presentedKey) const {
  if (presentedKey.empty()) return std::nullopt;
  const std::string hash = jobs::sha256Hex(presentedKey);
  std::optional<std::string> found;
  for (const Entry& e : entries_)  // every entry is compared: the time does not say which one matched
    if (jobs::constantTimeEqual(hash, e.hash) && !found) found = e.name;
  return found;
}

std::string keyFileLine(const std::string& name, const std::string& key) { return name + " " + jobs::sha256Hex(key); }

}  // namespace nephro::server
