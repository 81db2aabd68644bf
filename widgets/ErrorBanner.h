#pragma once
// A non-modal banner above the views: what failed (or was cancelled) in one
// line, the engine's message under "Details", and a close button. A new
// message replaces the shown one; the banner never blocks the window.
#include <QFrame>

class QLabel;
class QPlainTextEdit;
class QToolButton;

namespace nephro::widgets {

class ErrorBanner : public QFrame {
  Q_OBJECT
 public:
  enum class Kind { Error, Notice };
  explicit ErrorBanner(QWidget* parent = nullptr);
  // `headline`: one line ("Reading study failed: /x/a.nii.gz: is not a 3D image");
  // `details`: the full text behind "Details" (empty: no details button).
  void showMessage(const QString& headline, const QString& details = {}, Kind kind = Kind::Error);
  QString headline() const;
  QString details() const;
  bool detailsShown() const;
  void setDetailsShown(bool shown);
  Kind kind() const { return kind_; }

 private:
  QLabel* text_;
  QToolButton* toggle_;
  QToolButton* close_;
  QPlainTextEdit* details_;
  Kind kind_ = Kind::Error;
};

}  // namespace nephro::widgets
