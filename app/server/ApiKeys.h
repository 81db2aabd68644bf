#pragma once
// API keys: a file of `NAME SHA256HEX` lines (the hex SHA-256 of the key),
// `#` starts a comment. Only hashes are stored; a presented key is hashed and
// compared with every entry in constant time. The key's name, never the key,
// goes to the log.
#include <optional>
#include <string>
#include <vector>

namespace nephro::server {

class ApiKeys {
 public:
  // Throws an input error naming the file and line for anything malformed,
  // and for a file that holds no key.
  static ApiKeys load(const std::string& path);
  // The name of the key, or nothing when no entry matches.
  std::optional<std::string> check(const std::string& presentedKey) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::string name;
    std::string hash;  // lower-case hex
  };
  std::vector<Entry> entries_;
};

// The keys-file line for a key: "NAME SHA256HEX".
std::string keyFileLine(const std::string& name, const std::string& key);

}  // namespace nephro::server
