#pragma once
// The segmentation models as check boxes (greyed out with the reason when the
// study cannot feed them), a compute device selector and a Run button.
#include <QMap>
#include <QSet>
#include <QWidget>
#include <memory>

#include "widgets/ModelCatalog.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QVBoxLayout;

namespace nephro::widgets {

class ModelPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ModelPanel(QWidget* parent = nullptr);
  void setCatalog(std::shared_ptr<ModelCatalog> catalog);
  // Phases of the study ("A", "P", "D"): decides which models can run.
  void setLoadedPhases(const QSet<QString>& phases);
  // Whether a run can be started at all (an inference engine is present).
  void setRunnable(bool runnable, const QString& reasonIfNot = {});
  void setBusy(bool busy);

  QStringList checkedModels() const;
  bool isModelEnabled(const QString& id) const;
  QString modelToolTip(const QString& id) const;
  void setModelChecked(const QString& id, bool checked);
  QString currentDevice() const;
  void setCurrentDevice(const QString& id);

 signals:
  void runRequested(const QStringList& models, const QString& device);
  void deviceChanged(const QString& device);

 private:
  void rebuild();
  void refreshAvailability();
  void updateRunButton();

  std::shared_ptr<ModelCatalog> catalog_;
  QSet<QString> phases_;
  QMap<QString, QCheckBox*> boxes_;
  std::vector<ModelDescription> models_;
  QVBoxLayout* list_;
  QLabel* empty_;
  QComboBox* device_;
  QPushButton* run_;
  bool runnable_ = false;
  QString notRunnableReason_;
  bool busy_ = false;
};

}  // namespace nephro::widgets
