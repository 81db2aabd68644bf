#pragma once
// Runs one piece of long engine work on its own thread and reports back to the
// GUI thread: progress (throttled), a log of stages, and how it ended. The
// engine's nephro::Progress is adapted to queued calls; cancel() sets the
// flag the engine polls between units of work (throwIfCancelled).
#include <QObject>
#include <QPointer>
#include <QString>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "common/Progress.h"

namespace nephro::widgets {

// Queues `f` to run on the thread of `context`, unless `context` is gone by then.
void postToGui(QObject* context, std::function<void()> f);

class BackgroundJob : public QObject {
  Q_OBJECT
 public:
  enum class Outcome { Succeeded, Failed, Cancelled };
  Q_ENUM(Outcome)
  using Work = std::function<void(const nephro::Progress& progress)>;

  explicit BackgroundJob(QString title, QObject* parent = nullptr);
  // Cancels and waits for the worker (the engine honours the flag within a unit of work).
  ~BackgroundJob() override;

  const QString& title() const { return title_; }
  // Starts `work` on a new thread. Exceptions become Failed (nephro::Error's
  // Cancelled kind becomes Cancelled). Returns false if already running.
  bool start(Work work);
  void cancel();
  bool isRunning() const { return running_; }
  bool cancelRequested() const { return cancel_->load(); }
  // Waits for the worker thread to end (for tests and shutdown); processes no events.
  void wait();

 signals:
  void progressed(double fraction, const QString& stage);
  void stageStarted(const QString& stage);
  void finished(nephro::widgets::BackgroundJob::Outcome outcome, const QString& message);

 private:
  QString title_;
  std::shared_ptr<std::atomic<bool>> cancel_ = std::make_shared<std::atomic<bool>>(false);
  std::thread thread_;
  bool running_ = false;
};

}  // namespace nephro::widgets
