#include "common/Progress.h"

#include "common/Error.h"

namespace nephro {

void Progress::throwIfCancelled() const {
  if (cancelled()) throw cancelledError();
}

Progress Progress::sub(double begin, double end) const {
  if (!callback_) return Progress({}, cancel_);
  Callback parent = callback_;
  return Progress(
      [parent, begin, end](double f, const std::string& stage) {
        parent(begin + (end - begin) * f, stage);
      },
      cancel_);
}

}  // namespace nephro
