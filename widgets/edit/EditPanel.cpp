#include "widgets/edit/EditPanel.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPixmap>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace nephro::widgets {

namespace {

QIcon swatch(const QColor& c) {
  QPixmap p(12, 12);
  p.fill(c);
  return QIcon(p);
}

}  // namespace

EditPanel::EditPanel(QWidget* parent) : QWidget(parent) {
  setObjectName("editPanel");
  auto* top = new QVBoxLayout(this);
  top->setContentsMargins(6, 6, 6, 6);

  toolBox_ = new QWidget(this);
  new QGridLayout(toolBox_);
  toolBox_->layout()->setContentsMargins(0, 0, 0, 0);
  top->addWidget(toolBox_);

  auto* form = new QFormLayout;
  active_ = new QComboBox(this);
  active_->setObjectName("activeLabel");
  active_->setToolTip(tr("The label brushes and fills write (also chosen in the label table)"));
  form->addRow(tr("Active label"), active_);

  radius_ = new QDoubleSpinBox(this);
  radius_->setObjectName("brushRadius");
  radius_->setRange(0.5, 50.0);
  radius_->setSingleStep(0.5);
  radius_->setValue(3.0);
  radius_->setSuffix(tr(" mm"));
  radius_->setToolTip(tr("Brush radius in millimetres (round on anisotropic voxels)"));
  shape_ = new QComboBox(this);
  shape_->addItems({tr("Disc (in the slice)"), tr("Sphere (3D)")});
  auto* brushRow = new QHBoxLayout;
  brushRow->addWidget(radius_);
  brushRow->addWidget(shape_);
  form->addRow(tr("Brush"), brushRow);

  over_ = new QComboBox(this);
  over_->setObjectName("paintOver");
  over_->addItems({tr("Background only"), tr("One label"), tr("Everything")});
  overLabel_ = new QComboBox(this);
  overLabel_->setEnabled(false);
  auto* overRow = new QHBoxLayout;
  overRow->addWidget(over_);
  overRow->addWidget(overLabel_);
  form->addRow(tr("Paint over"), overRow);

  huOn_ = new QCheckBox(tr("HU"), this);
  huOn_->setToolTip(tr("Change only voxels whose CT value lies in this range"));
  huMin_ = new QDoubleSpinBox(this);
  huMax_ = new QDoubleSpinBox(this);
  for (auto* s : {huMin_, huMax_}) {
    s->setRange(-1024, 3071);
    s->setDecimals(0);
    s->setEnabled(false);
  }
  huMin_->setValue(150);
  huMax_->setValue(600);
  auto* huRow = new QHBoxLayout;
  huRow->addWidget(huOn_);
  huRow->addWidget(huMin_);
  huRow->addWidget(new QLabel("…", this));
  huRow->addWidget(huMax_);
  form->addRow(tr("Range"), huRow);

  scissors_ = new QComboBox(this);
  scissors_->addItems({tr("Erase inside"), tr("Fill inside")});
  slab_ = new QDoubleSpinBox(this);
  slab_->setRange(0, 500);
  slab_->setSuffix(tr(" mm"));
  slab_->setSpecialValueText(tr("whole volume"));
  slab_->setToolTip(tr("Thickness of the slab cut along the view direction; 0 cuts through the whole volume"));
  auto* scRow = new QHBoxLayout;
  scRow->addWidget(scissors_);
  scRow->addWidget(slab_);
  form->addRow(tr("Scissors"), scRow);

  keep_ = new QSpinBox(this);
  keep_->setRange(1, 99);
  keep_->setPrefix(tr("keep "));
  keep_->setSuffix(tr(" largest"));
  operations_ = new QWidget(this);
  auto* opRow = new QHBoxLayout(operations_);
  opRow->setContentsMargins(0, 0, 0, 0);
  opRow->addWidget(keep_);
  form->addRow(tr("Islands"), operations_);
  top->addLayout(form);

  auto* lockBox = new QGroupBox(tr("Locked labels (never changed)"), this);
  auto* lockLayout = new QVBoxLayout(lockBox);
  locks_ = new QListWidget(lockBox);
  locks_->setObjectName("lockList");
  locks_->setMaximumHeight(110);
  lockLayout->addWidget(locks_);
  top->addWidget(lockBox);

  auto* histBox = new QGroupBox(tr("History (Ctrl+Z / Ctrl+Shift+Z)"), this);
  auto* histLayout = new QVBoxLayout(histBox);
  history_ = new QListWidget(histBox);
  history_->setObjectName("editHistory");
  history_->setMaximumHeight(130);
  histLayout->addWidget(history_);
  top->addWidget(histBox);

  measurement_ = new QLabel(this);
  measurement_->setObjectName("measurement");
  measurement_->setWordWrap(true);
  top->addWidget(measurement_);
  message_ = new QLabel(this);
  message_->setObjectName("editMessage");
  message_->setWordWrap(true);
  top->addWidget(message_);
  top->addStretch(1);

  auto changed = [this] {
    if (!filling_) emit settingsChanged();
  };
  connect(radius_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(shape_, &QComboBox::currentIndexChanged, this, changed);
  connect(over_, &QComboBox::currentIndexChanged, this, [this, changed](int i) {
    overLabel_->setEnabled(i == 1);
    changed();
  });
  connect(overLabel_, &QComboBox::currentIndexChanged, this, changed);
  connect(huOn_, &QCheckBox::toggled, this, [this, changed](bool on) {
    huMin_->setEnabled(on);
    huMax_->setEnabled(on);
    changed();
  });
  connect(huMin_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(huMax_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(scissors_, &QComboBox::currentIndexChanged, this, changed);
  connect(slab_, &QDoubleSpinBox::valueChanged, this, changed);
  connect(keep_, &QSpinBox::valueChanged, this, changed);
  connect(active_, &QComboBox::activated, this, [this](int i) {
    if (i < 0 || size_t(i) >= labels_.size()) return;
    emit activeLabelChosen(labels_[size_t(i)].layerId, labels_[size_t(i)].value);
  });
  connect(locks_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
    if (filling_) return;
    emit lockToggled(item->data(Qt::UserRole).toInt(), item->data(Qt::UserRole + 1).toInt(),
                     item->checkState() == Qt::Checked);
  });
}

void EditPanel::addToolActions(const QList<QAction*>& actions) {
  auto* grid = static_cast<QGridLayout*>(toolBox_->layout());
  int n = grid->count();
  for (QAction* a : actions) {
    auto* b = new QToolButton(toolBox_);
    b->setDefaultAction(a);
    b->setToolButtonStyle(Qt::ToolButtonTextOnly);
    b->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    grid->addWidget(b, n / 4, n % 4);
    ++n;
  }
}

void EditPanel::addOperationActions(QAction* keepLargest, QAction* fillBetween) {
  auto* row = static_cast<QHBoxLayout*>(operations_->layout());
  for (QAction* a : {keepLargest, fillBetween}) {
    auto* b = new QToolButton(operations_);
    b->setDefaultAction(a);
    row->addWidget(b);
  }
}

void EditPanel::setLabels(const std::vector<LabelItem>& labels, int activeLayer, int activeValue) {
  filling_ = true;
  labels_ = labels;
  const int overValue = overLabel_->currentData().toInt();
  active_->clear();
  overLabel_->clear();
  locks_->clear();
  for (size_t i = 0; i < labels.size(); ++i) {
    const LabelItem& l = labels[i];
    active_->addItem(swatch(l.color), l.text);
    if (l.layerId == activeLayer && l.value == activeValue) active_->setCurrentIndex(int(i));
    if (l.layerId != activeLayer) continue;
    overLabel_->addItem(swatch(l.color), l.text, l.value);
    auto* item = new QListWidgetItem(swatch(l.color), l.text, locks_);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
    item->setCheckState(l.locked ? Qt::Checked : Qt::Unchecked);
    item->setData(Qt::UserRole, l.layerId);
    item->setData(Qt::UserRole + 1, l.value);
  }
  const int keep = overLabel_->findData(overValue);
  if (keep >= 0) overLabel_->setCurrentIndex(keep);
  filling_ = false;
}

void EditPanel::setHistory(const std::vector<std::string>& undoNames,
                           const std::vector<std::string>& redoNames) {
  history_->clear();
  // Oldest at the top, the step Ctrl+Z undoes last, then what can be redone (grey).
  for (auto it = undoNames.rbegin(); it != undoNames.rend(); ++it)
    history_->addItem(QString::fromStdString(*it));
  for (const std::string& name : redoNames) {
    auto* item = new QListWidgetItem(QString::fromStdString(name), history_);
    item->setForeground(QColor(130, 130, 130));
  }
  if (!undoNames.empty()) history_->setCurrentRow(int(undoNames.size()) - 1);
}

void EditPanel::setMeasurement(const QString& text) {
  measurement_->setText(text);
}

void EditPanel::showMessage(const QString& text, bool error) {
  message_->setStyleSheet(error ? "color: #ff8080;" : "");
  message_->setText(text);
}

QString EditPanel::message() const {
  return message_->text();
}

EditSettings EditPanel::settings() const {
  EditSettings s;
  s.radiusMm = radius_->value();
  s.shape = shape_->currentIndex() == 1 ? edit::BrushShape::Sphere : edit::BrushShape::Disc;
  s.rule.over = edit::PaintOver(over_->currentIndex());
  s.rule.overLabel = overLabel_->currentData().toInt();
  if (huOn_->isChecked()) s.rule.huRange = std::array<double, 2>{huMin_->value(), huMax_->value()};
  s.scissors = scissors_->currentIndex() == 1 ? edit::ScissorsAction::Fill : edit::ScissorsAction::Erase;
  s.slabMm = slab_->value();
  s.keepCount = keep_->value();
  return s;
}

void EditPanel::setRadiusMm(double mm) {
  radius_->setValue(mm);
}
void EditPanel::setShape(edit::BrushShape shape) {
  shape_->setCurrentIndex(shape == edit::BrushShape::Sphere ? 1 : 0);
}
void EditPanel::setPaintOver(edit::PaintOver over, int label) {
  over_->setCurrentIndex(int(over));
  const int i = overLabel_->findData(label);
  if (i >= 0) overLabel_->setCurrentIndex(i);
}
void EditPanel::setHuRange(bool on, double lo, double hi) {
  huMin_->setValue(lo);
  huMax_->setValue(hi);
  huOn_->setChecked(on);
}
void EditPanel::setScissors(edit::ScissorsAction action, double slabMm) {
  scissors_->setCurrentIndex(action == edit::ScissorsAction::Fill ? 1 : 0);
  slab_->setValue(slabMm);
}
void EditPanel::setKeepCount(int n) {
  keep_->setValue(n);
}

}  // namespace nephro::widgets
