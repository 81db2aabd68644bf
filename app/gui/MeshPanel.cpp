#include "gui/MeshPanel.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

namespace nephro::gui {

MeshPanel::MeshPanel(QWidget* parent) : QWidget(parent) {
  view_ = new viewers::MeshView(this);
  auto* mv = new QVBoxLayout(this);
  mv->setContentsMargins(0, 0, 0, 0);
  mv->setSpacing(0);
  auto* bar = new QWidget(this);
  bar->setObjectName("meshToolbar");
  bar->setStyleSheet("#meshToolbar { background: #26292d; } QToolButton { padding: 1px 2px; }");
  // The bar never sets the view's minimum width (buttons beyond the edge are cut).
  bar->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
  auto* bl = new QHBoxLayout(bar);
  bl->setContentsMargins(4, 2, 4, 2);
  bl->setSpacing(0);
  auto* title = new QLabel(tr("3D"), bar);
  title->setStyleSheet("background: #8f9bb3; color: #141414; padding: 1px 5px;");
  bl->addWidget(title);
  bl->addSpacing(2);
  auto addButton = [&](const QString& text, const QString& tip, auto slot) {
    auto* b = new QToolButton(bar);
    b->setText(text);
    b->setToolTip(tip);
    b->setAutoRaise(true);
    connect(b, &QToolButton::clicked, this, slot);
    bl->addWidget(b);
    return b;
  };
  using D = viewers::MeshView::Direction;
  addButton(tr("A"), tr("View from the front (anterior)"), [this] { view_->viewFrom(D::Anterior); });
  addButton(tr("P"), tr("View from behind (posterior)"), [this] { view_->viewFrom(D::Posterior); });
  addButton(tr("L"), tr("View from the patient's left"), [this] { view_->viewFrom(D::Left); });
  addButton(tr("R"), tr("View from the patient's right"), [this] { view_->viewFrom(D::Right); });
  addButton(tr("S"), tr("View from above (superior)"), [this] { view_->viewFrom(D::Superior); });
  addButton(tr("Reset"), tr("The anterior view, fitted to the meshes"), [this] { view_->resetToAnterior(); });
  bl->addStretch(1);
  // Room permitting (the small 3D view of 1 + 3 has none): File ▸ Save 3D screenshot does the same.
  png_ = addButton(tr("PNG…"), tr("Save the 3D view as a PNG screenshot"), [this] { emit screenshotRequested(); });
  mv->addWidget(bar);
  mv->addWidget(view_, 1);
}

void MeshPanel::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  png_->setVisible(width() >= 280);
}

}  // namespace nephro::gui
