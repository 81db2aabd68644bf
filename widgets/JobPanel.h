#pragma once
// Progress of the background jobs (reading, meshing, models): a progress bar
// for the latest running job, a timestamped log of stages and outcomes, and
// Cancel for every running job.
#include <QList>
#include <QMap>
#include <QPointer>
#include <QWidget>

#include "widgets/BackgroundJob.h"

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QToolButton;

namespace nephro::widgets {

class JobPanel : public QWidget {
  Q_OBJECT
 public:
  explicit JobPanel(QWidget* parent = nullptr);
  // Follows a job until it ends (the panel does not own it).
  void track(BackgroundJob* job);
  void log(const QString& line);
  QString logText() const;
  QProgressBar* progressBar() const { return bar_; }
  bool anyRunning() const;
  // Over every job since the panel was last idle: finished ones count whole.
  double overallFraction() const;
  // The job and stage that reported last ("Running vessel — vessel: network").
  QString currentStep() const;

 signals:
  void jobEnded(const QString& title, nephro::widgets::BackgroundJob::Outcome outcome, const QString& message);

 public slots:
  void cancelAll();

 private:
  void refresh();
  void showProgress();
  QList<QPointer<BackgroundJob>> jobs_;
  QMap<const BackgroundJob*, double> fractions_;
  int finishedInBatch_ = 0;
  QString currentStep_;
  QLabel* title_;
  QProgressBar* bar_;
  QToolButton* cancel_;
  QPlainTextEdit* log_;
};

}  // namespace nephro::widgets
