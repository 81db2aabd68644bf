#include "common/Error.h"

namespace nephro {

Error inputError(const std::string& file, const std::string& problem) {
  return Error(ErrorKind::Input, file + ": " + problem);
}
Error outputError(const std::string& file, const std::string& problem) {
  return Error(ErrorKind::Output, file + ": " + problem);
}
Error modelError(const std::string& model, const std::string& problem) {
  return Error(ErrorKind::Model, "model " + model + ": " + problem);
}
Error usageError(const std::string& problem) { return Error(ErrorKind::Usage, problem); }
Error cancelledError() { return Error(ErrorKind::Cancelled, "cancelled"); }

}  // namespace nephro
