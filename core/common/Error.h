#pragma once
// Errors the engine reports. Every message is one line that names the file (or
// model, or option) and the problem; the kind decides the process exit code.
#include <stdexcept>
#include <string>

namespace nephro {

enum class ErrorKind {
  Usage = 2,     // the command line itself is wrong
  Input = 3,     // an input file is missing, unreadable or unusable
  Model = 4,     // a model folder, manifest or network is missing or inconsistent
  Output = 5,    // an output cannot be written
  Internal = 6,  // a bug or an unexpected library failure
  Cancelled = 130,
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exitCode() const { return static_cast<int>(kind_); }

 private:
  ErrorKind kind_;
};

// Shorthands that keep call sites to one line: throw inputError(path, "is empty").
Error inputError(const std::string& file, const std::string& problem);
Error outputError(const std::string& file, const std::string& problem);
Error modelError(const std::string& model, const std::string& problem);
Error usageError(const std::string& problem);
Error cancelledError();

}  // namespace nephro
