#include "widgets/edit/ReviewPanel.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

#include "widgets/Preferences.h"

namespace nephro::widgets {

namespace {

QString statusText(edit::ReviewStatus s) {
  switch (s) {
    case edit::ReviewStatus::Unreviewed:
      return QObject::tr("Unreviewed");
    case edit::ReviewStatus::NeedsFix:
      return QObject::tr("Needs fix");
    case edit::ReviewStatus::Approved:
      return QObject::tr("Approved");
  }
  return {};
}

QColor statusColor(edit::ReviewStatus s) {
  switch (s) {
    case edit::ReviewStatus::Unreviewed:
      return QColor(170, 170, 170);
    case edit::ReviewStatus::NeedsFix:
      return QColor(240, 170, 60);
    case edit::ReviewStatus::Approved:
      return QColor(110, 200, 110);
  }
  return {};
}

}  // namespace

ReviewPanel::ReviewPanel(Preferences* preferences, QWidget* parent)
    : QWidget(parent), preferences_(preferences) {
  setObjectName("reviewPanel");
  openAction_ = new QAction(tr("Open output folder for review…"), this);
  nextAction_ = new QAction(tr("Next case to review"), this);
  nextAction_->setShortcut(QKeySequence(tr("Ctrl+PgDown")));
  previousAction_ = new QAction(tr("Previous case to review"), this);
  previousAction_->setShortcut(QKeySequence(tr("Ctrl+PgUp")));
  connect(openAction_, &QAction::triggered, this, [this] {
    const QString f = QFileDialog::getExistingDirectory(this, tr("Open run or batch output"));
    if (!f.isEmpty()) openFolder(f);
  });
  connect(nextAction_, &QAction::triggered, this, [this] { stepCase(true); });
  connect(previousAction_, &QAction::triggered, this, [this] { stepCase(false); });

  auto* top = new QVBoxLayout(this);
  top->setContentsMargins(6, 6, 6, 6);
  auto* row = new QHBoxLayout;
  for (QAction* a : {openAction_, previousAction_, nextAction_}) {
    auto* b = new QToolButton(this);
    b->setDefaultAction(a);
    row->addWidget(b);
  }
  previousAction_->setIconText(tr("◀ Previous"));
  nextAction_->setIconText(tr("Next ▶"));
  openAction_->setIconText(tr("Open…"));
  row->addStretch(1);
  top->addLayout(row);

  table_ = new QTableWidget(0, 4, this);
  table_->setObjectName("reviewCases");
  table_->setHorizontalHeaderLabels({tr("Case"), tr("Status"), tr("Reviewer"), tr("Time")});
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->verticalHeader()->hide();
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int r, int) { openCase(size_t(r)); });
  top->addWidget(table_, 1);

  auto* who = new QHBoxLayout;
  who->addWidget(new QLabel(tr("Reviewer"), this));
  reviewer_ = new QLineEdit(preferences_ ? preferences_->reviewerName() : QString(), this);
  reviewer_->setObjectName("reviewerName");
  reviewer_->setPlaceholderText(tr("your name (kept in the preferences)"));
  connect(reviewer_, &QLineEdit::editingFinished, this, [this] {
    if (preferences_) preferences_->setReviewerName(reviewer_->text());
  });
  who->addWidget(reviewer_, 1);
  top->addLayout(who);
  comment_ = new QLineEdit(this);
  comment_->setObjectName("reviewComment");
  comment_->setPlaceholderText(tr("comment (what needs fixing, what was fixed)"));
  top->addWidget(comment_);
  auto* states = new QHBoxLayout;
  const std::pair<edit::ReviewStatus, QString> buttons[] = {
      {edit::ReviewStatus::Approved, tr("Approve")},
      {edit::ReviewStatus::NeedsFix, tr("Needs fix")},
      {edit::ReviewStatus::Unreviewed, tr("Unreviewed")}};
  for (const auto& [status, text] : buttons) {
    auto* b = new QPushButton(text, this);
    const edit::ReviewStatus s = status;
    connect(b, &QPushButton::clicked, this, [this, s] { setStatus(s, comment_->text()); });
    states->addWidget(b);
  }
  top->addLayout(states);
  message_ = new QLabel(this);
  message_->setWordWrap(true);
  top->addWidget(message_);
}

QString ReviewPanel::message() const {
  return message_->text();
}

void ReviewPanel::showMessage(const QString& text, bool error) {
  message_->setStyleSheet(error ? "color: #ff8080;" : "");
  message_->setText(text);
}

bool ReviewPanel::openFolder(const QString& folder) {
  try {
    cases_ = edit::listReviewCases(folder.toStdString());
  } catch (const std::exception& e) {
    showMessage(QString::fromUtf8(e.what()), true);
    return false;
  }
  folder_ = folder;
  workspaceMode_ = false;
  current_.reset();
  fillTable();
  int approved = 0;
  for (const auto& c : cases_) approved += c.review.status == edit::ReviewStatus::Approved;
  showMessage(tr("%1 cases, %2 approved").arg(cases_.size()).arg(approved), false);
  return true;
}

bool ReviewPanel::showWorkspace(const QString& folder) {
  edit::ReviewCase c;
  c.name = QFileInfo(folder).fileName().toStdString();
  c.folder = folder.toStdString();
  try {
    c.review = edit::readReview(c.folder).current;
  } catch (const std::exception& e) {
    showMessage(QString::fromUtf8(e.what()), true);
    return false;
  }
  cases_ = {c};
  folder_ = folder;
  workspaceMode_ = true;
  current_ = 0;
  fillTable();
  comment_->setText(QString::fromStdString(c.review.comment));
  showMessage(tr("Workspace %1: %2").arg(QString::fromStdString(c.name), statusText(c.review.status)), false);
  return true;
}

void ReviewPanel::refresh() {
  if (folder_.isEmpty()) return;
  if (workspaceMode_) {
    showWorkspace(folder_);
    return;
  }
  const auto current = current_;
  try {
    cases_ = edit::listReviewCases(folder_.toStdString());
  } catch (const std::exception& e) {
    showMessage(QString::fromUtf8(e.what()), true);
    return;
  }
  current_ = current && *current < cases_.size() ? current : std::nullopt;
  fillTable();
}

void ReviewPanel::fillTable() {
  table_->setRowCount(int(cases_.size()));
  for (size_t i = 0; i < cases_.size(); ++i) {
    const auto& c = cases_[i];
    const int r = int(i);
    auto* name = new QTableWidgetItem(QString::fromStdString(c.name));
    name->setToolTip(QString::fromStdString(c.folder));
    table_->setItem(r, 0, name);
    auto* status = new QTableWidgetItem(statusText(c.review.status));
    status->setForeground(statusColor(c.review.status));
    status->setToolTip(QString::fromStdString(c.review.comment));
    table_->setItem(r, 1, status);
    table_->setItem(r, 2, new QTableWidgetItem(QString::fromStdString(c.review.reviewer)));
    table_->setItem(r, 3, new QTableWidgetItem(QString::fromStdString(c.review.time)));
  }
  if (current_) table_->selectRow(int(*current_));
}

void ReviewPanel::openCase(size_t i) {
  if (i >= cases_.size()) return;
  current_ = i;
  table_->selectRow(int(i));
  comment_->setText(QString::fromStdString(cases_[i].review.comment));
  showMessage(tr("%1: %2").arg(QString::fromStdString(cases_[i].name),
                               statusText(cases_[i].review.status)),
              false);
  emit openCaseRequested(cases_[i]);
}

bool ReviewPanel::stepCase(bool forward) {
  const auto next = edit::nextCaseToReview(cases_, current_, forward);
  if (!next) {
    showMessage(cases_.empty() ? tr("Open a run or batch output folder first")
                               : tr("Every other case is approved"),
                false);
    return false;
  }
  openCase(*next);
  return true;
}

bool ReviewPanel::setStatus(edit::ReviewStatus status, const QString& comment) {
  if (!current_) {
    showMessage(tr("Open a case of a run or batch output folder first"), true);
    return false;
  }
  const QString reviewer = reviewer_->text().trimmed();
  if (reviewer.isEmpty()) {
    showMessage(tr("Enter the reviewer's name first"), true);
    return false;
  }
  if (preferences_) preferences_->setReviewerName(reviewer);
  auto& c = cases_[*current_];
  try {
    c.review = edit::setReview(c.folder, status, reviewer.toStdString(), comment.toStdString()).current;
  } catch (const std::exception& e) {
    showMessage(QString::fromUtf8(e.what()), true);
    return false;
  }
  comment_->setText(comment);
  fillTable();
  showMessage(tr("%1 marked %2 by %3")
                  .arg(QString::fromStdString(c.name), statusText(status), reviewer),
              false);
  return true;
}

}  // namespace nephro::widgets
