#include "widgets/BackgroundJob.h"

#include <QMetaObject>
#include <chrono>

#include "common/Error.h"

namespace nephro::widgets {

void postToGui(QObject* context, std::function<void()> f) {
  QPointer<QObject> guard(context);
  QMetaObject::invokeMethod(
      context,
      [guard, f = std::move(f)] {
        if (guard) f();
      },
      Qt::QueuedConnection);
}

BackgroundJob::BackgroundJob(QString title, QObject* parent)
    : QObject(parent), title_(std::move(title)) {}

BackgroundJob::~BackgroundJob() {
  cancel();
  wait();
}

void BackgroundJob::wait() {
  if (thread_.joinable()) thread_.join();
}

void BackgroundJob::cancel() {
  cancel_->store(true);
}

bool BackgroundJob::start(Work work) {
  if (running_) return false;
  wait();
  cancel_->store(false);
  running_ = true;

  // Shared between the worker's progress callback calls: last report time and stage.
  struct Throttle {
    std::mutex mutex;
    std::chrono::steady_clock::time_point last{};
    std::string stage;
  };
  auto throttle = std::make_shared<Throttle>();
  QPointer<BackgroundJob> self(this);
  auto callback = [self, throttle](double fraction, const std::string& stage) {
    const auto now = std::chrono::steady_clock::now();
    bool newStage = false;
    {
      std::lock_guard<std::mutex> lock(throttle->mutex);
      newStage = stage != throttle->stage;
      // Some 30 updates a second are plenty for a progress bar.
      if (!newStage && fraction < 1.0 && now - throttle->last < std::chrono::milliseconds(33))
        return;
      throttle->last = now;
      if (newStage) throttle->stage = stage;
    }
    const QString text = QString::fromStdString(stage);
    QMetaObject::invokeMethod(
        self.data(),
        [self, fraction, text, newStage] {
          if (!self) return;
          if (newStage) emit self->stageStarted(text);
          emit self->progressed(fraction, text);
        },
        Qt::QueuedConnection);
  };
  Progress progress(callback, cancel_);

  thread_ = std::thread([self, work = std::move(work), progress] {
    Outcome outcome = Outcome::Succeeded;
    QString message;
    try {
      work(progress);
      if (progress.cancelled()) outcome = Outcome::Cancelled;
    } catch (const nephro::Error& e) {
      outcome = e.kind() == ErrorKind::Cancelled ? Outcome::Cancelled : Outcome::Failed;
      message = QString::fromStdString(e.what());
    } catch (const std::exception& e) {
      outcome = Outcome::Failed;
      message = QString::fromStdString(e.what());
    } catch (...) {
      outcome = Outcome::Failed;
      message = "unexpected failure";
    }
    QMetaObject::invokeMethod(
        self.data(),
        [self, outcome, message] {
          if (!self) return;
          self->running_ = false;
          emit self->finished(outcome, message);
        },
        Qt::QueuedConnection);
  });
  return true;
}

}  // namespace nephro::widgets
