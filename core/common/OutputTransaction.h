#pragma once
// Nothing half-written: every output file is first written under a temporary
// name in its target folder, and all of them are renamed into place only when
// the whole step succeeded. Uncommitted temporaries are removed on destruction.
#include <string>
#include <vector>

namespace nephro {

class OutputTransaction {
 public:
  OutputTransaction() = default;
  OutputTransaction(const OutputTransaction&) = delete;
  OutputTransaction& operator=(const OutputTransaction&) = delete;
  ~OutputTransaction();

  // Creates the parent folder if needed, checks it is writable, and returns the
  // temporary path to write instead of `finalPath` (same folder, same extension).
  std::string stage(const std::string& finalPath);
  // Renames every staged file to its final name.
  void commit();
  // Removes every staged temporary file.
  void rollback();

 private:
  struct Entry {
    std::string temp;
    std::string final;
  };
  std::vector<Entry> entries_;
};

// Writes `bytes` to `path` through a temporary file and a rename.
void writeFileAtomically(const std::string& path, const std::string& bytes);

}  // namespace nephro
