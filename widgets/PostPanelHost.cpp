#include "widgets/PostPanelHost.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QVBoxLayout>
#include <cmath>
#include <functional>

namespace nephro::widgets {

PostPanelHost::PostPanelHost(QWidget* parent) : QWidget(parent) {
  setObjectName("postPanel");
  // Four steps of sliders are taller than a dock: they scroll.
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  auto* scroll = new QScrollArea(this);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  auto* content = new QWidget(scroll);
  scroll->setWidget(content);
  outer->addWidget(scroll);
  layout_ = new QVBoxLayout(content);
  layout_->setContentsMargins(6, 6, 6, 6);
  empty_ = new QLabel(tr("No post-processing steps in this build."), content);
  empty_->setWordWrap(true);
  empty_->setEnabled(false);
  layout_->addWidget(empty_);
  layout_->addStretch(1);
}

void PostPanelHost::addStep(const QString& id, const QString& title,
                            const std::vector<PanelParameter>& params) {
  empty_->hide();
  QWidget* content = layout_->parentWidget();
  auto* group = new QGroupBox(title, content);
  group->setObjectName("post_" + id);
  auto* grid = new QGridLayout(group);
  grid->setColumnStretch(1, 1);
  int row = 0;

  // Input: which layer, which CT.
  StepWidgets& sw = stepWidgets_[id];
  sw.layer = new QComboBox(group);
  sw.layer->setObjectName("post_" + id + "_layer");
  sw.layer->setToolTip(tr("The mask layer the step works from"));
  grid->addWidget(new QLabel(tr("Input layer"), group), row, 0);
  grid->addWidget(sw.layer, row++, 1, 1, 2);
  sw.ct = new QComboBox(group);
  sw.ct->setObjectName("post_" + id + "_ct");
  sw.ct->setToolTip(tr("The CT phase that refines the result (on the mask's grid), or none"));
  sw.ct->addItem(tr("No CT"), QString());
  grid->addWidget(new QLabel(tr("CT"), group), row, 0);
  grid->addWidget(sw.ct, row++, 1, 1, 2);
  connect(sw.layer, &QComboBox::activated, this, [this, id] { emit inputChanged(id); });
  connect(sw.ct, &QComboBox::activated, this, [this, id] { emit inputChanged(id); });

  for (const PanelParameter& p : params) {
    const QString key = p.key;
    auto* label = new QLabel(p.label, group);
    label->setToolTip(p.tooltip);
    grid->addWidget(label, row, 0);
    if (p.text) {
      texts_[id][key] = QString();
      auto* edit = new QLineEdit(group);
      edit->setObjectName("post_" + id + "_" + key);
      edit->setPlaceholderText(tr("default"));
      edit->setToolTip(p.tooltip + tr(" (comma-separated values or names)"));
      grid->addWidget(edit, row++, 1, 1, 2);
      textSetters_[id][key] = [this, id, key, edit](const QString& t) {
        texts_[id][key] = t;
        const QSignalBlocker b(edit);
        edit->setText(t);
      };
      connect(edit, &QLineEdit::editingFinished, this, [this, id, key, edit] {
        if (texts_[id][key] == edit->text()) return;
        texts_[id][key] = edit->text();
        emit parameterChanged(id, key);
      });
      continue;
    }
    values_[id][key] = p.defaultValue;
    if (p.flag) {
      auto* box = new QCheckBox(group);
      box->setObjectName("post_" + id + "_" + key);
      box->setToolTip(p.tooltip);
      grid->addWidget(box, row++, 1, 1, 2);
      auto set = [this, id, key, box](double v) {
        values_[id][key] = v != 0 ? 1.0 : 0.0;
        const QSignalBlocker b(box);
        box->setChecked(v != 0);
      };
      setters_[id][key] = set;
      connect(box, &QCheckBox::toggled, this, [this, set, id, key](bool on) {
        set(on ? 1.0 : 0.0);
        emit parameterChanged(id, key);
      });
      set(p.defaultValue);
      continue;
    }
    // The slider runs over integer steps; the spin box shows the value itself.
    const int steps = std::max(1, int(std::lround((p.maximum - p.minimum) / p.step)));
    auto* slider = new QSlider(Qt::Horizontal, group);
    slider->setObjectName("post_" + id + "_" + key);
    slider->setRange(0, steps);
    slider->setToolTip(p.tooltip);
    auto* spin = new QDoubleSpinBox(group);
    spin->setRange(p.minimum, p.maximum);
    spin->setSingleStep(p.step);
    spin->setDecimals(p.decimals);
    spin->setKeyboardTracking(false);
    if (!p.unit.isEmpty()) spin->setSuffix(" " + p.unit);
    spin->setToolTip(p.tooltip);
    grid->addWidget(slider, row, 1);
    grid->addWidget(spin, row, 2);
    ++row;
    const double min = p.minimum, step = p.step;
    auto set = [this, id, key, slider, spin, min, step](double v) {
      values_[id][key] = v;
      const QSignalBlocker b1(slider), b2(spin);
      slider->setValue(int(std::lround((v - min) / step)));
      spin->setValue(v);
    };
    setters_[id][key] = set;
    connect(slider, &QSlider::valueChanged, this, [this, set, min, step, id, key](int s) {
      set(min + s * step);
      emit parameterChanged(id, key);
    });
    connect(spin, &QDoubleSpinBox::valueChanged, this, [this, set, id, key](double v) {
      set(v);
      emit parameterChanged(id, key);
    });
    set(p.defaultValue);
  }
  auto* run = new QPushButton(tr("Run %1").arg(title), group);
  grid->addWidget(run, row++, 0, 1, 3);
  connect(run, &QPushButton::clicked, this, [this, id] { emit runRequested(id, values(id)); });
  sw.live = new QCheckBox(tr("Update while moving sliders"), group);
  sw.live->setObjectName("post_" + id + "_live");
  sw.live->setChecked(true);
  grid->addWidget(sw.live, row++, 0, 1, 3);
  sw.status = new QLabel(group);
  sw.status->setObjectName("post_" + id + "_status");
  sw.status->setWordWrap(true);
  sw.status->setTextInteractionFlags(Qt::TextSelectableByMouse);
  grid->addWidget(sw.status, row++, 0, 1, 3);
  layout_->insertWidget(layout_->count() - 1, group);
}

QMap<QString, double> PostPanelHost::values(const QString& stepId) const {
  return values_.value(stepId);
}

void PostPanelHost::setValue(const QString& stepId, const QString& key, double value) {
  auto f = setters_.value(stepId).value(key);
  if (f) f(value);
}

QMap<QString, QString> PostPanelHost::texts(const QString& stepId) const {
  return texts_.value(stepId);
}

void PostPanelHost::setText(const QString& stepId, const QString& key, const QString& text) {
  auto f = textSetters_.value(stepId).value(key);
  if (f) f(text);
}

void PostPanelHost::setStepsEnabled(bool enabled) {
  for (QGroupBox* g : findChildren<QGroupBox*>()) g->setEnabled(enabled);
}

void PostPanelHost::setLayerChoices(const QList<QPair<int, QString>>& layers) {
  for (auto it = stepWidgets_.begin(); it != stepWidgets_.end(); ++it) {
    QComboBox* combo = it->layer;
    const QVariant keep = combo->currentData();
    const QSignalBlocker block(combo);
    combo->clear();
    for (const auto& [id, name] : layers) combo->addItem(name, id);
    const int index = combo->findData(keep);
    combo->setCurrentIndex(index >= 0 ? index : combo->count() - 1);
  }
}

int PostPanelHost::inputLayer(const QString& stepId) const {
  const StepWidgets sw = stepWidgets_.value(stepId);
  return sw.layer && sw.layer->currentIndex() >= 0 ? sw.layer->currentData().toInt() : 0;
}

void PostPanelHost::setInputLayer(const QString& stepId, int layerId) {
  const StepWidgets sw = stepWidgets_.value(stepId);
  if (!sw.layer) return;
  const int index = sw.layer->findData(layerId);
  if (index >= 0) sw.layer->setCurrentIndex(index);
}

void PostPanelHost::setCtChoices(const QString& stepId, const QList<QPair<QString, QString>>& choices) {
  const StepWidgets sw = stepWidgets_.value(stepId);
  if (!sw.ct) return;
  const QString keep = sw.ct->currentData().toString();
  const QSignalBlocker block(sw.ct);
  sw.ct->clear();
  for (const auto& [code, text] : choices) sw.ct->addItem(text, code);
  const int index = sw.ct->findData(keep);
  sw.ct->setCurrentIndex(std::max(0, index));
  sw.ct->setEnabled(sw.ct->count() > 1);
}

QString PostPanelHost::ctChoice(const QString& stepId) const {
  const StepWidgets sw = stepWidgets_.value(stepId);
  return sw.ct ? sw.ct->currentData().toString() : QString();
}

void PostPanelHost::setCtChoice(const QString& stepId, const QString& code) {
  const StepWidgets sw = stepWidgets_.value(stepId);
  if (!sw.ct) return;
  const int index = sw.ct->findData(code);
  if (index >= 0) sw.ct->setCurrentIndex(index);
}

bool PostPanelHost::isLive(const QString& stepId) const {
  const StepWidgets sw = stepWidgets_.value(stepId);
  return sw.live && sw.live->isChecked();
}

void PostPanelHost::setLive(const QString& stepId, bool live) {
  const StepWidgets sw = stepWidgets_.value(stepId);
  if (sw.live) sw.live->setChecked(live);
}

void PostPanelHost::setStatus(const QString& stepId, const QString& text, bool error) {
  const StepWidgets sw = stepWidgets_.value(stepId);
  if (!sw.status) return;
  sw.status->setText(text);
  sw.status->setStyleSheet(error ? "color: #e0655a;" : QString());
}

QString PostPanelHost::status(const QString& stepId) const {
  const StepWidgets sw = stepWidgets_.value(stepId);
  return sw.status ? sw.status->text() : QString();
}

}  // namespace nephro::widgets
