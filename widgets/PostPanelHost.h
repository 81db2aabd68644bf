#pragma once
// Hosts the post-processing steps: each step contributes a titled group of
// parameter sliders (generated from its parameter list) and a Run button.
#include <QMap>
#include <QString>
#include <QWidget>
#include <functional>
#include <vector>

class QVBoxLayout;
class QLabel;

namespace nephro::widgets {

struct PanelParameter {
  QString key;    // machine name, e.g. "distance-mm"
  QString label;  // "Distance"
  QString tooltip;
  double minimum = 0, maximum = 1, defaultValue = 0, step = 0.1;
  int decimals = 1;  // 0 for integers
  QString unit;      // "mm", "HU", ...
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
  void setStepsEnabled(bool enabled);

 signals:
  void runRequested(const QString& stepId, const QMap<QString, double>& values);

 private:
  QVBoxLayout* layout_;
  QLabel* empty_;
  QMap<QString, QMap<QString, double>> values_;
  QMap<QString, QMap<QString, std::function<void(double)>>> setters_;
};

}  // namespace nephro::widgets
