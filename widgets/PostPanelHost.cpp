#include "widgets/PostPanelHost.h"

#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QVBoxLayout>
#include <cmath>
#include <functional>

namespace nephro::widgets {

PostPanelHost::PostPanelHost(QWidget* parent) : QWidget(parent) {
  setObjectName("postPanel");
  layout_ = new QVBoxLayout(this);
  layout_->setContentsMargins(6, 6, 6, 6);
  empty_ = new QLabel(tr("No post-processing steps in this build."), this);
  empty_->setWordWrap(true);
  empty_->setEnabled(false);
  layout_->addWidget(empty_);
  layout_->addStretch(1);
}

void PostPanelHost::addStep(const QString& id, const QString& title,
                            const std::vector<PanelParameter>& params) {
  empty_->hide();
  auto* group = new QGroupBox(title, this);
  group->setObjectName("post_" + id);
  auto* grid = new QGridLayout(group);
  grid->setColumnStretch(1, 1);
  int row = 0;
  for (const PanelParameter& p : params) {
    values_[id][p.key] = p.defaultValue;
    auto* label = new QLabel(p.label, group);
    label->setToolTip(p.tooltip);
    // The slider runs over integer steps; the spin box shows the value itself.
    const int steps = std::max(1, int(std::lround((p.maximum - p.minimum) / p.step)));
    auto* slider = new QSlider(Qt::Horizontal, group);
    slider->setRange(0, steps);
    slider->setToolTip(p.tooltip);
    auto* spin = new QDoubleSpinBox(group);
    spin->setRange(p.minimum, p.maximum);
    spin->setSingleStep(p.step);
    spin->setDecimals(p.decimals);
    if (!p.unit.isEmpty()) spin->setSuffix(" " + p.unit);
    spin->setToolTip(p.tooltip);
    grid->addWidget(label, row, 0);
    grid->addWidget(slider, row, 1);
    grid->addWidget(spin, row, 2);
    ++row;
    const QString key = p.key;
    const double min = p.minimum, step = p.step;
    auto set = [this, id, key, slider, spin, min, step](double v) {
      values_[id][key] = v;
      const QSignalBlocker b1(slider), b2(spin);
      slider->setValue(int(std::lround((v - min) / step)));
      spin->setValue(v);
    };
    setters_[id][key] = set;
    connect(slider, &QSlider::valueChanged, this, [set, min, step](int s) { set(min + s * step); });
    connect(spin, &QDoubleSpinBox::valueChanged, this, [set](double v) { set(v); });
    set(p.defaultValue);
  }
  auto* run = new QPushButton(tr("Run %1").arg(title), group);
  grid->addWidget(run, row, 0, 1, 3);
  connect(run, &QPushButton::clicked, this, [this, id] { emit runRequested(id, values(id)); });
  layout_->insertWidget(layout_->count() - 1, group);
}

QMap<QString, double> PostPanelHost::values(const QString& stepId) const {
  return values_.value(stepId);
}

void PostPanelHost::setValue(const QString& stepId, const QString& key, double value) {
  auto f = setters_.value(stepId).value(key);
  if (f) f(value);
}

void PostPanelHost::setStepsEnabled(bool enabled) {
  for (QGroupBox* g : findChildren<QGroupBox*>()) g->setEnabled(enabled);
}

}  // namespace nephro::widgets
