#pragma once
// Progress of the background jobs (reading, meshing, models): a progress bar
// for the latest running job, a timestamped log of stages and outcomes, and
// Cancel for every running job.
#include <QList>
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

 public slots:
  void cancelAll();

 private:
  void refresh();
  QList<QPointer<BackgroundJob>> jobs_;
  QLabel* title_;
  QProgressBar* bar_;
  QToolButton* cancel_;
  QPlainTextEdit* log_;
};

}  // namespace nephro::widgets
