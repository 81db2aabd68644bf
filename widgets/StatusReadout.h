#pragma once
// The status bar's readout: the LPS position under the mouse (or of the
// crosshair), the HU of every loaded phase there, and the study's files.
#include <QObject>
#include <QPointer>
#include <optional>

#include "widgets/WorkspaceModel.h"

class QLabel;
class QStatusBar;

namespace nephro::widgets {

class StatusReadout : public QObject {
  Q_OBJECT
 public:
  StatusReadout(WorkspaceModel* workspace, QStatusBar* bar);
  // The mouse position when hovering a slice, otherwise the crosshair's.
  void show(const std::optional<Vec3>& hover, const Vec3& cursor);
  bool hovering() const { return hovering_; }
  void setStudyText(const QString& text);

 private:
  QPointer<WorkspaceModel> workspace_;
  QLabel* position_;
  QLabel* values_;
  QLabel* study_;
  bool hovering_ = false;
};

}  // namespace nephro::widgets
