#include "widgets/JobPanel.h"

#include <QDateTime>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

namespace nephro::widgets {

JobPanel::JobPanel(QWidget* parent) : QWidget(parent) {
  setObjectName("jobPanel");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 4, 6, 4);
  auto* row = new QHBoxLayout;
  title_ = new QLabel(tr("Idle"), this);
  title_->setObjectName("jobStep");
  title_->setMinimumWidth(120);
  title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  bar_ = new QProgressBar(this);
  bar_->setRange(0, 1000);
  bar_->setValue(0);
  bar_->setTextVisible(true);
  bar_->setFormat("");
  cancel_ = new QToolButton(this);
  cancel_->setObjectName("cancelJobs");
  cancel_->setText(tr("Cancel"));
  cancel_->setEnabled(false);
  bar_->setObjectName("overallProgress");
  row->addWidget(bar_, 1);
  row->addWidget(title_, 1);
  row->addWidget(cancel_);
  layout->addLayout(row);
  log_ = new QPlainTextEdit(this);
  log_->setObjectName("jobLog");
  log_->setReadOnly(true);
  log_->setMaximumBlockCount(2000);
  QFont mono("monospace");
  mono.setStyleHint(QFont::Monospace);
  mono.setPointSizeF(8.5);
  log_->setFont(mono);
  layout->addWidget(log_, 1);
  connect(cancel_, &QToolButton::clicked, this, &JobPanel::cancelAll);
}

void JobPanel::log(const QString& line) {
  log_->appendPlainText(QDateTime::currentDateTime().toString("HH:mm:ss  ") + line);
}

QString JobPanel::logText() const {
  return log_->toPlainText();
}

bool JobPanel::anyRunning() const {
  for (const auto& job : jobs_)
    if (job && job->isRunning()) return true;
  return false;
}

void JobPanel::track(BackgroundJob* job) {
  jobs_.append(QPointer<BackgroundJob>(job));
  log(tr("%1 started").arg(job->title()));
  connect(job, &BackgroundJob::stageStarted, this, [this, job](const QString& stage) {
    if (!stage.isEmpty()) log(QString("%1: %2").arg(job->title(), stage));
  });
  fractions_[job] = 0.0;
  connect(job, &BackgroundJob::progressed, this, [this, job](double f, const QString& stage) {
    // One bar over every job of this stretch of work; the current step beside it.
    fractions_[job] = std::clamp(f, 0.0, 1.0);
    currentStep_ = stage.isEmpty() ? job->title() : QString("%1 — %2").arg(job->title(), stage);
    showProgress();
  });
  connect(job, &BackgroundJob::finished, this,
          [this, job](BackgroundJob::Outcome outcome, const QString& message) {
            switch (outcome) {
              case BackgroundJob::Outcome::Succeeded:
                log(tr("%1 done").arg(job->title()));
                break;
              case BackgroundJob::Outcome::Cancelled:
                log(tr("%1 cancelled").arg(job->title()));
                break;
              case BackgroundJob::Outcome::Failed:
                log(tr("%1 failed: %2").arg(job->title(), message));
                break;
            }
            jobs_.removeAll(QPointer<BackgroundJob>(job));
            fractions_.remove(job);
            ++finishedInBatch_;
            emit jobEnded(job->title(), outcome, message);
            refresh();
          });
  refresh();
}

void JobPanel::cancelAll() {
  for (const auto& job : jobs_)
    if (job) job->cancel();
}

void JobPanel::refresh() {
  jobs_.removeIf([](const QPointer<BackgroundJob>& j) { return !j; });
  // Jobs stay tracked until they report their end.
  const bool running = !jobs_.isEmpty();
  cancel_->setEnabled(running);
  if (!running) {
    title_->setText(tr("Idle"));
    title_->setToolTip(QString());
    bar_->setValue(0);
    bar_->setFormat("");
    finishedInBatch_ = 0;
    fractions_.clear();
    currentStep_.clear();
  } else {
    showProgress();
  }
}

double JobPanel::overallFraction() const {
  double sum = finishedInBatch_;
  for (double f : fractions_) sum += f;
  const int n = finishedInBatch_ + int(fractions_.size());
  return n == 0 ? 0.0 : sum / n;
}

QString JobPanel::currentStep() const {
  return currentStep_;
}

void JobPanel::showProgress() {
  const int n = finishedInBatch_ + int(fractions_.size());
  const QString step = currentStep_.isEmpty() ? tr("Working") : currentStep_;
  title_->setText(fontMetrics().elidedText(step, Qt::ElideMiddle, std::max(120, title_->width())));
  title_->setToolTip(step);
  bar_->setValue(int(std::lround(overallFraction() * 1000)));
  bar_->setFormat(n > 1 ? tr("%p% of %1 jobs").arg(n) : QString("%p%"));
}

}  // namespace nephro::widgets
