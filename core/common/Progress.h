#pragma once
// Progress and cancellation for long engine work, free of any GUI toolkit.
// The terminal adapts it to a bar, the GUI to signals queued to its thread.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace nephro {

class Progress {
 public:
  using Callback = std::function<void(double fraction, const std::string& stage)>;

  Progress() = default;
  explicit Progress(Callback callback, std::shared_ptr<std::atomic<bool>> cancelFlag = {})
      : callback_(std::move(callback)), cancel_(std::move(cancelFlag)) {}

  // Reports the fraction done (0..1) of the current stage. Thread-safe if the callback is.
  void report(double fraction, const std::string& stage) const {
    if (callback_) callback_(fraction, stage);
  }
  bool cancelled() const { return cancel_ && cancel_->load(std::memory_order_relaxed); }
  // Throws Error(Cancelled) when the cancel flag is set; call between units of work.
  void throwIfCancelled() const;

  // A progress that maps [0,1] of a sub-task onto [begin,end] of this one.
  Progress sub(double begin, double end) const;

  std::shared_ptr<std::atomic<bool>> cancelFlag() const { return cancel_; }

 private:
  Callback callback_;
  std::shared_ptr<std::atomic<bool>> cancel_;
};

}  // namespace nephro
