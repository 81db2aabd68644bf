#include "widgets/ModelPanel.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QVBoxLayout>

namespace nephro::widgets {

ModelPanel::ModelPanel(QWidget* parent) : QWidget(parent) {
  setObjectName("modelPanel");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);
  list_ = new QVBoxLayout;
  list_->setSpacing(2);
  empty_ = new QLabel(tr("No segmentation models found."), this);
  empty_->setWordWrap(true);
  empty_->setEnabled(false);
  layout->addLayout(list_);
  layout->addWidget(empty_);
  auto* form = new QFormLayout;
  device_ = new QComboBox(this);
  device_->setObjectName("deviceSelector");
  form->addRow(tr("Device"), device_);
  layout->addLayout(form);
  run_ = new QPushButton(tr("Run models"), this);
  run_->setObjectName("runModels");
  layout->addWidget(run_);
  layout->addStretch(1);
  connect(run_, &QPushButton::clicked, this,
          [this] { emit runRequested(checkedModels(), currentDevice()); });
  connect(device_, &QComboBox::currentIndexChanged, this,
          [this] { emit deviceChanged(currentDevice()); });
  updateRunButton();
}

void ModelPanel::setCatalog(std::shared_ptr<ModelCatalog> catalog) {
  catalog_ = std::move(catalog);
  rebuild();
}

void ModelPanel::rebuild() {
  for (QCheckBox* box : boxes_) box->deleteLater();
  boxes_.clear();
  models_ = catalog_ ? catalog_->models() : std::vector<ModelDescription>{};
  for (const ModelDescription& m : models_) {
    const QString inputs = m.anyPhase ? tr("any phase") : m.inputPhases.join(" + ");
    auto* box =
        new QCheckBox(inputs.isEmpty() ? m.title : QString("%1   (%2)").arg(m.title, inputs), this);
    box->setObjectName("model_" + m.id);
    list_->addWidget(box);
    boxes_.insert(m.id, box);
    connect(box, &QCheckBox::toggled, this, &ModelPanel::updateRunButton);
  }
  empty_->setVisible(models_.empty());
  // Refilling the list is not the user choosing a device: no signal.
  const QString previous = currentDevice();
  {
    const QSignalBlocker block(device_);
    device_->clear();
    if (catalog_)
      for (const ComputeDevice& d : catalog_->devices()) device_->addItem(d.label, d.id);
    if (device_->count() == 0) device_->addItem(tr("CPU"), "cpu");
    setCurrentDevice(previous);
  }
  refreshAvailability();
}

void ModelPanel::setLoadedPhases(const QSet<QString>& phases) {
  phases_ = phases;
  refreshAvailability();
}

void ModelPanel::refreshAvailability() {
  for (const ModelDescription& m : models_) {
    QCheckBox* box = boxes_.value(m.id);
    if (!box) continue;
    const ModelAvailability a = modelAvailability(m, phases_);
    box->setEnabled(a.available);
    if (!a.available) box->setChecked(false);
    box->setToolTip(a.available ? (m.description.isEmpty() ? m.title : m.description) : a.reason);
    // An "any phase" model says which phase it reads (the rule `run` follows).
    const QString inputs = m.anyPhase ? (a.available && !anyPhaseRead(m, phases_).isEmpty()
                                             ? tr("any phase: reads %1").arg(anyPhaseRead(m, phases_))
                                             : tr("any phase"))
                                      : m.inputPhases.join(" + ");
    box->setText(inputs.isEmpty() ? m.title : QString("%1   (%2)").arg(m.title, inputs));
  }
  updateRunButton();
}

void ModelPanel::setRunnable(bool runnable, const QString& reasonIfNot) {
  runnable_ = runnable;
  notRunnableReason_ = reasonIfNot;
  updateRunButton();
}

void ModelPanel::setBusy(bool busy) {
  busy_ = busy;
  updateRunButton();
}

void ModelPanel::updateRunButton() {
  const bool any = !checkedModels().isEmpty();
  run_->setEnabled(runnable_ && any && !busy_);
  if (!runnable_)
    run_->setToolTip(notRunnableReason_);
  else if (!any)
    run_->setToolTip(tr("Tick at least one model"));
  else
    run_->setToolTip(tr("Run the ticked models on the loaded phases"));
}

QStringList ModelPanel::checkedModels() const {
  QStringList out;
  for (auto it = boxes_.begin(); it != boxes_.end(); ++it)
    if (it.value()->isEnabled() && it.value()->isChecked()) out << it.key();
  return out;
}

bool ModelPanel::isModelEnabled(const QString& id) const {
  QCheckBox* box = boxes_.value(id);
  return box && box->isEnabled();
}

QString ModelPanel::modelToolTip(const QString& id) const {
  QCheckBox* box = boxes_.value(id);
  return box ? box->toolTip() : QString();
}

void ModelPanel::setModelChecked(const QString& id, bool checked) {
  if (QCheckBox* box = boxes_.value(id)) box->setChecked(checked);
}

QString ModelPanel::currentDevice() const {
  return device_->currentData().toString();
}

void ModelPanel::setCurrentDevice(const QString& id) {
  const int i = device_->findData(id);
  if (i >= 0) device_->setCurrentIndex(i);
}

}  // namespace nephro::widgets
