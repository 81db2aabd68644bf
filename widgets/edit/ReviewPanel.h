#pragma once
// Review of a run or `--batch` output folder: its cases with their review
// state (Unreviewed / Needs fix / Approved, reviewer, time, comment, kept in
// each case's review.json), the reviewer's name (a preference), buttons to
// set the state of the case shown, and Next / Previous case actions that step
// through the cases not yet approved. Opening a case is the window's business
// (openCaseRequested).
#include <QWidget>
#include <optional>
#include <vector>

#include "edit/ReviewState.h"

class QAction;
class QLabel;
class QLineEdit;
class QTableWidget;

namespace nephro::widgets {

class Preferences;

class ReviewPanel : public QWidget {
  Q_OBJECT
 public:
  explicit ReviewPanel(Preferences* preferences, QWidget* parent = nullptr);

  // Lists the cases of an output folder (a run's folder is one case); false,
  // with the error shown, for a folder that holds no run output.
  bool openFolder(const QString& folder);
  QString folder() const { return folder_; }
  const std::vector<edit::ReviewCase>& cases() const { return cases_; }
  std::optional<size_t> currentCase() const { return current_; }
  // Makes case i the current one and asks the window to open it.
  void openCase(size_t i);
  // The next (or previous) case not yet approved, wrapping; false when none.
  bool stepCase(bool forward);
  // Writes the current case's state with the reviewer's name; false (shown)
  // without a current case or a reviewer.
  bool setStatus(edit::ReviewStatus status, const QString& comment);
  // Lists the folder again (a corrected version became a case's newest mask).
  void refresh();
  // The window's workspace folder as the one case under review: the state,
  // reviewer and comment of its review.json are shown, and the state buttons
  // write there. False (shown) for a malformed review.json.
  bool showWorkspace(const QString& folder);
  // Whether the panel shows a workspace (showWorkspace) rather than an output folder's cases.
  bool showsWorkspace() const { return workspaceMode_; }

  QAction* openAction() const { return openAction_; }
  QAction* nextAction() const { return nextAction_; }
  QAction* previousAction() const { return previousAction_; }
  QString message() const;

 signals:
  void openCaseRequested(const nephro::edit::ReviewCase& reviewCase);

 private:
  void fillTable();
  void showMessage(const QString& text, bool error);

  Preferences* preferences_;
  QString folder_;
  std::vector<edit::ReviewCase> cases_;
  std::optional<size_t> current_;
  bool workspaceMode_ = false;
  QTableWidget* table_ = nullptr;
  QLineEdit* reviewer_ = nullptr;
  QLineEdit* comment_ = nullptr;
  QLabel* message_ = nullptr;
  QAction* openAction_ = nullptr;
  QAction* nextAction_ = nullptr;
  QAction* previousAction_ = nullptr;
};

}  // namespace nephro::widgets
