#pragma once
// Hosts the post-processing steps: each step contributes a titled group with
// its input (a mask layer, and a CT phase where the step can use one), a
// slider and spin box per numeric parameter (a text field per label list),
// "Update while moving" (live recompute), a status line and a Run button.
#include <QMap>
#include <QPair>
#include <QString>
#include <QWidget>
#include <functional>
#include <vector>

class QVBoxLayout;
class QLabel;
class QComboBox;
class QCheckBox;

namespace nephro::widgets {

struct PanelParameter {
  QString key;    // machine name, e.g. "distance-mm"
  QString label;  // "Distance"
  QString tooltip;
  double minimum = 0, maximum = 1, defaultValue = 0, step = 0.1;
  int decimals = 1;  // 0 for integers
  QString unit;      // "mm", "HU", ...
  bool text = false;  // a free text field (a label list) instead of a slider
  bool flag = false;  // a check box (0/1)
};

class PostPanelHost : public QWidget {
  Q_OBJECT
 public:
  explicit PostPanelHost(QWidget* parent = nullptr);
  // Adds a step with its parameters; the panel builds a slider and a spin box per parameter.
  void addStep(const QString& id, const QString& title, const std::vector<PanelParameter>& params);
  QStringList steps() const { return values_.keys(); }
  // Current values of a step's parameters by key.
  QMap<QString, double> values(const QString& stepId) const;
  void setValue(const QString& stepId, const QString& key, double value);
  // Text parameters (label lists) by key.
  QMap<QString, QString> texts(const QString& stepId) const;
  void setText(const QString& stepId, const QString& key, const QString& text);
  void setStepsEnabled(bool enabled);

  // Input of every step: the mask layers to choose from (id, name); the
  // selection is kept by id where it still exists.
  void setLayerChoices(const QList<QPair<int, QString>>& layers);
  int inputLayer(const QString& stepId) const;
  void setInputLayer(const QString& stepId, int layerId);
  // CT of a step: (code, text) pairs, code "" = no CT, "current", "A", "P", "D".
  void setCtChoices(const QString& stepId, const QList<QPair<QString, QString>>& choices);
  QString ctChoice(const QString& stepId) const;
  void setCtChoice(const QString& stepId, const QString& code);
  // Recompute while a slider moves.
  bool isLive(const QString& stepId) const;
  void setLive(const QString& stepId, bool live);
  // A line under the step: what happened last, or why it cannot run.
  void setStatus(const QString& stepId, const QString& text, bool error = false);
  QString status(const QString& stepId) const;

 signals:
  void runRequested(const QString& stepId, const QMap<QString, double>& values);
  // A parameter was changed by the user (slider, spin box, field).
  void parameterChanged(const QString& stepId, const QString& key);
  // The input layer or CT choice of a step was changed by the user.
  void inputChanged(const QString& stepId);

 private:
  struct StepWidgets {
    QComboBox* layer = nullptr;
    QComboBox* ct = nullptr;
    QCheckBox* live = nullptr;
    QLabel* status = nullptr;
  };
  QVBoxLayout* layout_;
  QLabel* empty_;
  QMap<QString, QMap<QString, double>> values_;
  QMap<QString, QMap<QString, QString>> texts_;
  QMap<QString, QMap<QString, std::function<void(double)>>> setters_;
  QMap<QString, QMap<QString, std::function<void(const QString&)>>> textSetters_;
  QMap<QString, StepWidgets> stepWidgets_;
};

}  // namespace nephro::widgets
