#include "widgets/StatusReadout.h"

#include <QLabel>
#include <QStatusBar>
#include <cmath>

namespace nephro::widgets {

StatusReadout::StatusReadout(WorkspaceModel* workspace, QStatusBar* bar)
    : QObject(bar), workspace_(workspace) {
  position_ = new QLabel(bar);
  position_->setObjectName("positionLabel");
  position_->setMinimumWidth(260);
  values_ = new QLabel(bar);
  values_->setObjectName("valuesLabel");
  values_->setMinimumWidth(300);
  study_ = new QLabel(tr("No study"), bar);
  bar->addPermanentWidget(position_);
  bar->addPermanentWidget(values_);
  bar->addPermanentWidget(study_);
}

void StatusReadout::setStudyText(const QString& text) {
  study_->setText(text);
}

void StatusReadout::show(const std::optional<Vec3>& hover, const Vec3& cursor) {
  hovering_ = hover.has_value();
  const Vec3 p = hover ? *hover : cursor;
  if (!workspace_ || workspace_->loadedPhases().empty()) {
    position_->clear();
    values_->clear();
    return;
  }
  position_->setText(QString("%1 LPS  %2, %3, %4 mm")
                         .arg(hover ? tr("Mouse") : tr("Cursor"))
                         .arg(p[0], 0, 'f', 1)
                         .arg(p[1], 0, 'f', 1)
                         .arg(p[2], 0, 'f', 1));
  QStringList values;
  for (Phase phase : workspace_->loadedPhases()) {
    const Volume& v = workspace_->phase(phase);
    const Vec3 idx = v.geometry().physicalToIndex(p);
    const int64_t i = std::llround(idx[0]), j = std::llround(idx[1]), k = std::llround(idx[2]);
    const QString value = v.geometry().contains(i, j, k)
                              ? QString::number(v.valueAt(i, j, k), 'f', 0) + " HU"
                              : QString("—");
    values << QString("%1: %2").arg(phaseLetter(phase), value);
  }
  values_->setText(values.join("    "));
}

}  // namespace nephro::widgets
