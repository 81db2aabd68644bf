#include "gui/PreferencesDialog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QSpinBox>
#include <cmath>

namespace nephro::gui {

PreferencesDialog::PreferencesDialog(widgets::Preferences& preferences,
                                     const std::vector<widgets::ComputeDevice>& devices,
                                     QWidget* parent)
    : QDialog(parent), preferences_(preferences) {
  setWindowTitle(tr("Preferences"));
  auto* form = new QFormLayout(this);
  layout_ = new QComboBox(this);
  layout_->addItem(tr("One large view, three small"), int(widgets::ViewLayout::OneLargeThreeSmall));
  layout_->addItem(tr("2 × 2"), int(widgets::ViewLayout::Grid2x2));
  layout_->setCurrentIndex(layout_->findData(int(preferences.defaultLayout())));
  form->addRow(tr("Default layout"), layout_);
  opacity_ = new QSpinBox(this);
  opacity_->setRange(0, 100);
  opacity_->setSuffix("%");
  opacity_->setValue(int(std::lround(preferences.overlayOpacity() * 100)));
  form->addRow(tr("Overlay fill opacity"), opacity_);
  outline_ = new QCheckBox(tr("Draw label outlines"), this);
  outline_->setChecked(preferences.overlayOutline());
  form->addRow(QString(), outline_);
  smoothing_ = new QDoubleSpinBox(this);
  smoothing_->setRange(0, 1);
  smoothing_->setSingleStep(0.05);
  smoothing_->setDecimals(2);
  smoothing_->setValue(preferences.smoothingFactor());
  smoothing_->setToolTip(tr("0 = no smoothing … 1 = strong (3D Slicer's factor)"));
  form->addRow(tr("Mesh smoothing factor"), smoothing_);
  device_ = new QComboBox(this);
  for (const auto& d : devices) device_->addItem(d.label, d.id);
  if (device_->count() == 0) device_->addItem(tr("CPU"), "cpu");
  const int i = device_->findData(preferences.device());
  if (i >= 0) device_->setCurrentIndex(i);
  form->addRow(tr("Compute device"), device_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    apply();
    accept();
  });
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  form->addRow(buttons);
}

void PreferencesDialog::apply() {
  preferences_.setDefaultLayout(widgets::ViewLayout(layout_->currentData().toInt()));
  preferences_.setOverlayOpacity(opacity_->value() / 100.0);
  preferences_.setOverlayOutline(outline_->isChecked());
  preferences_.setSmoothingFactor(smoothing_->value());
  preferences_.setDevice(device_->currentData().toString());
  preferences_.sync();
}

}  // namespace nephro::gui
