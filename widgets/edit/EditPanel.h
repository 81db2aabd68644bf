#pragma once
// The Edit panel: tool buttons (each with its shortcut), the active label and
// the labels locked against every tool, brush radius (mm) and shape,
// what a stroke may paint over, an optional HU range, scissors and island
// options, the undo history by name, and the last measurement. It holds no
// editing logic: the EditPresenter reads its settings and fills its lists.
#include <QWidget>
#include <vector>

#include "edit/EditOperations.h"

class QAction;
class QButtonGroup;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QSpinBox;

namespace nephro::widgets {

struct EditSettings {
  double radiusMm = 3.0;
  edit::BrushShape shape = edit::BrushShape::Disc;
  edit::PaintRule rule;  // overLabel: a label value of the active layer
  edit::ScissorsAction scissors = edit::ScissorsAction::Erase;
  double slabMm = 0.0;  // 0: through the whole volume
  int keepCount = 1;
};

class EditPanel : public QWidget {
  Q_OBJECT
 public:
  explicit EditPanel(QWidget* parent = nullptr);

  struct LabelItem {
    int layerId = 0;
    int value = 0;
    QString text;  // "tumor — tumor"
    QColor color;
    bool locked = false;
  };
  // Every label of every layer; the active one is selected in the combo, the
  // labels of its layer fill the lock list and the paint-over label choice.
  void setLabels(const std::vector<LabelItem>& labels, int activeLayer, int activeValue);
  // Adds the tool actions as buttons, in order.
  void addToolActions(const QList<QAction*>& actions);
  void addOperationActions(QAction* keepLargest, QAction* fillBetween);
  void setHistory(const std::vector<std::string>& undoNames,
                  const std::vector<std::string>& redoNames);
  void setMeasurement(const QString& text);
  void showMessage(const QString& text, bool error = false);
  QString message() const;

  EditSettings settings() const;
  void setRadiusMm(double mm);
  void setShape(edit::BrushShape shape);
  void setPaintOver(edit::PaintOver over, int label = 0);
  void setHuRange(bool on, double lo = 150, double hi = 600);
  void setScissors(edit::ScissorsAction action, double slabMm = 0.0);
  void setKeepCount(int n);
  QListWidget* historyList() const { return history_; }

 signals:
  void settingsChanged();
  void activeLabelChosen(int layerId, int value);
  void lockToggled(int layerId, int value, bool locked);

 private:
  QWidget* toolBox_ = nullptr;
  QComboBox* active_ = nullptr;
  QDoubleSpinBox* radius_ = nullptr;
  QComboBox* shape_ = nullptr;
  QComboBox* over_ = nullptr;
  QComboBox* overLabel_ = nullptr;
  QCheckBox* huOn_ = nullptr;
  QDoubleSpinBox* huMin_ = nullptr;
  QDoubleSpinBox* huMax_ = nullptr;
  QComboBox* scissors_ = nullptr;
  QDoubleSpinBox* slab_ = nullptr;
  QSpinBox* keep_ = nullptr;
  QWidget* operations_ = nullptr;
  QListWidget* locks_ = nullptr;
  QListWidget* history_ = nullptr;
  QLabel* measurement_ = nullptr;
  QLabel* message_ = nullptr;
  std::vector<LabelItem> labels_;
  bool filling_ = false;
};

}  // namespace nephro::widgets
