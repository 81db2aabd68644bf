#include "widgets/ErrorBanner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QToolButton>
#include <QVBoxLayout>

namespace nephro::widgets {

ErrorBanner::ErrorBanner(QWidget* parent) : QFrame(parent) {
  setObjectName("errorBanner");
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 4, 4, 4);
  layout->setSpacing(2);
  auto* row = new QHBoxLayout;
  text_ = new QLabel(this);
  text_->setObjectName("errorBannerText");
  text_->setWordWrap(true);
  text_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  toggle_ = new QToolButton(this);
  toggle_->setObjectName("errorBannerDetails");
  toggle_->setText(tr("Details"));
  toggle_->setCheckable(true);
  toggle_->setAutoRaise(true);
  close_ = new QToolButton(this);
  close_->setObjectName("errorBannerClose");
  close_->setText(QString::fromUtf8("✕"));
  close_->setToolTip(tr("Dismiss"));
  close_->setAutoRaise(true);
  row->addWidget(text_, 1);
  row->addWidget(toggle_);
  row->addWidget(close_);
  layout->addLayout(row);
  details_ = new QPlainTextEdit(this);
  details_->setObjectName("errorBannerDetailsText");
  details_->setReadOnly(true);
  details_->setMaximumHeight(120);
  details_->hide();
  layout->addWidget(details_);
  connect(toggle_, &QToolButton::toggled, this, &ErrorBanner::setDetailsShown);
  connect(close_, &QToolButton::clicked, this, &QWidget::hide);
  hide();
}

void ErrorBanner::showMessage(const QString& headline, const QString& details, Kind kind) {
  kind_ = kind;
  setStyleSheet(kind == Kind::Error ? "#errorBanner { background: #5a2323; } QLabel { color: #f3d6d3; }"
                                    : "#errorBanner { background: #4a4420; } QLabel { color: #f0e8c0; }");
  text_->setText(headline);
  details_->setPlainText(details);
  toggle_->setVisible(!details.isEmpty());
  setDetailsShown(false);
  show();
}

QString ErrorBanner::headline() const {
  return text_->text();
}

QString ErrorBanner::details() const {
  return details_->toPlainText();
}

bool ErrorBanner::detailsShown() const {
  return !details_->isHidden();
}

void ErrorBanner::setDetailsShown(bool shown) {
  const QSignalBlocker block(toggle_);
  toggle_->setChecked(shown);
  details_->setVisible(shown && !details_->toPlainText().isEmpty());
}

}  // namespace nephro::widgets
