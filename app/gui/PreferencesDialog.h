#pragma once
// Edits the persistent preferences: default layout, overlay opacity and
// outline, mesh smoothing factor, compute device.
#include <QDialog>
#include <vector>

#include "widgets/ModelCatalog.h"
#include "widgets/Preferences.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace nephro::gui {

class PreferencesDialog : public QDialog {
  Q_OBJECT
 public:
  PreferencesDialog(widgets::Preferences& preferences,
                    const std::vector<widgets::ComputeDevice>& devices, QWidget* parent = nullptr);
  // Writes the edited values into the preferences.
  void apply();

 private:
  widgets::Preferences& preferences_;
  QComboBox* layout_;
  QSpinBox* opacity_;
  QCheckBox* outline_;
  QDoubleSpinBox* smoothing_;
  QComboBox* device_;
};

}  // namespace nephro::gui
