#include "viewers/SliceView.h"

#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace nephro::viewers {

QColor axisColor(SliceAxis axis) {
  switch (axis) {
    case SliceAxis::Axial:
      return QColor(233, 84, 84);
    case SliceAxis::Coronal:
      return QColor(110, 200, 90);
    case SliceAxis::Sagittal:
      return QColor(236, 206, 70);
  }
  return Qt::white;
}

SliceView::SliceView(SliceAxis axis, QWidget* parent) : QWidget(parent), axis_(axis) {
  setMouseTracking(true);
  setFocusPolicy(Qt::StrongFocus);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setMinimumSize(160, 160);
  setObjectName(QString("sliceView%1").arg(axisName(axis)));
}

void SliceView::setVolume(const Volume& volume, const QString& caption) {
  // Another phase of the same study keeps the crosshair, zoom and pan; a new study starts centred.
  const bool newStudy = volume_.empty();
  volume_ = volume;
  caption_ = caption;
  if (!volume_.empty()) {
    plane_ = slicePlane(volume_.geometry(), axis_);
    if (newStudy) {
      const Geometry& g = volume_.geometry();
      cursor_ =
          g.indexToPhysical({(g.size[0] - 1) / 2.0, (g.size[1] - 1) / 2.0, (g.size[2] - 1) / 2.0});
      zoom_ = 1.0;
      pan_ = {0, 0};
    }
    slice_ = std::clamp<int64_t>(
        std::llround(plane_.sliceOf(volume_.geometry().physicalToIndex(cursor_))), 0,
        plane_.depth - 1);
  } else {
    plane_ = SlicePlane{};
  }
  dirty_ = true;
  update();
}

void SliceView::setOverlays(std::vector<OverlayLayer> overlays) {
  overlays_ = std::move(overlays);
  dirty_ = true;
  update();
}

void SliceView::setOverlayOptions(const OverlayOptions& options) {
  options_ = options;
  dirty_ = true;
  update();
}

void SliceView::setWindowLevel(const WindowLevel& wl) {
  if (wl == wl_) return;
  wl_ = wl;
  dirty_ = true;
  update();
}

void SliceView::setCursorPosition(const Vec3& lps) {
  cursor_ = lps;
  if (!volume_.empty()) {
    const int64_t s = std::clamp<int64_t>(
        std::llround(plane_.sliceOf(volume_.geometry().physicalToIndex(lps))), 0, plane_.depth - 1);
    if (s != slice_) {
      slice_ = s;
      dirty_ = true;
    }
  }
  update();
}

void SliceView::setSlice(int64_t slice) {
  if (volume_.empty()) return;
  slice = std::clamp<int64_t>(slice, 0, plane_.depth - 1);
  if (slice == slice_) return;
  const Geometry& g = volume_.geometry();
  Vec3 idx = g.physicalToIndex(cursor_);
  idx[size_t(plane_.normal)] = double(slice);
  slice_ = slice;
  cursor_ = g.indexToPhysical(idx);
  dirty_ = true;
  update();
  emit cursorMoved(cursor_);
}

void SliceView::setZoom(double zoom) {
  zoom_ = std::clamp(zoom, 0.25, 32.0);
  update();
}

void SliceView::resetView() {
  zoom_ = 1.0;
  pan_ = {0, 0};
  update();
}

Vec3 SliceView::normalLps() const {
  if (volume_.empty()) return {0, 0, 0};
  const Geometry& g = volume_.geometry();
  const int n = plane_.normal;
  return {g.direction[0 * 3 + n], g.direction[1 * 3 + n], g.direction[2 * 3 + n]};
}

void SliceView::setTool(SliceTool* tool) {
  tool_ = tool;
  toolDrag_ = false;
  update();
}

void SliceView::invalidateRegion(const Geometry& grid, const Index3& begin, const Index3& end) {
  if (volume_.empty() || end[0] <= begin[0] || end[1] <= begin[1] || end[2] <= begin[2]) return;
  // The box's corners in this view's slice pixels and slice numbers.
  const Geometry& g = volume_.geometry();
  double lo[3] = {1e300, 1e300, 1e300}, hi[3] = {-1e300, -1e300, -1e300};
  for (int c = 0; c < 8; ++c) {
    const Vec3 corner{(c & 1) ? end[0] - 0.5 : begin[0] - 0.5, (c & 2) ? end[1] - 0.5 : begin[1] - 0.5,
                      (c & 4) ? end[2] - 0.5 : begin[2] - 0.5};
    const Vec3 idx = g.physicalToIndex(grid.indexToPhysical(corner));
    const QPointF px = plane_.pixelOf(idx);
    const double v[3] = {px.x(), px.y(), plane_.sliceOf(idx)};
    for (int a = 0; a < 3; ++a) lo[a] = std::min(lo[a], v[a]), hi[a] = std::max(hi[a], v[a]);
  }
  if (double(slice_) < lo[2] - 0.5 || double(slice_) > hi[2] + 0.5) return;
  dirty_ = true;
  const QRectF r(sliceToWidget(QPointF(lo[0], lo[1])), sliceToWidget(QPointF(hi[0], hi[1])));
  update(r.normalized().toAlignedRect().adjusted(-2, -2, 2, 2));
}

const QImage& SliceView::sliceImage() {
  ensureRendered();
  return image_;
}

void SliceView::ensureRendered() {
  if (!dirty_) return;
  image_ = renderer_.render(volume_, plane_, slice_, wl_, overlays_, options_);
  dirty_ = false;
}

double SliceView::pixelsPerMm() const {
  if (plane_.cols == 0) return 1.0;
  const double wMm = plane_.cols * plane_.colSpacing, hMm = plane_.rows * plane_.rowSpacing;
  const double fit = std::min((width() - 8) / wMm, (height() - 8) / hMm);
  return std::max(fit, 1e-3) * zoom_;
}

QPointF SliceView::imageOrigin() const {
  const double s = pixelsPerMm();
  const double wPx = plane_.cols * plane_.colSpacing * s, hPx = plane_.rows * plane_.rowSpacing * s;
  return QPointF((width() - wPx) / 2.0, (height() - hPx) / 2.0) + pan_;
}

QPointF SliceView::sliceToWidget(const QPointF& p) const {
  const double s = pixelsPerMm();
  return imageOrigin() + QPointF(p.x() * plane_.colSpacing * s, p.y() * plane_.rowSpacing * s);
}

QPointF SliceView::widgetToSlice(const QPointF& w) const {
  const double s = pixelsPerMm();
  const QPointF d = w - imageOrigin();
  return {d.x() / (plane_.colSpacing * s), d.y() / (plane_.rowSpacing * s)};
}

std::optional<Vec3> SliceView::physicalAt(const QPointF& widgetPos) const {
  if (volume_.empty()) return std::nullopt;
  const QPointF p = widgetToSlice(widgetPos);
  if (p.x() < 0 || p.y() < 0 || p.x() >= plane_.cols || p.y() >= plane_.rows) return std::nullopt;
  return volume_.geometry().indexToPhysical(plane_.continuousIndex(p.x(), p.y(), double(slice_)));
}

QPointF SliceView::widgetPosOf(const Vec3& lps) const {
  if (volume_.empty()) return {};
  return sliceToWidget(plane_.pixelOf(volume_.geometry().physicalToIndex(lps)));
}

void SliceView::moveCursorTo(const QPointF& widgetPos) {
  if (volume_.empty()) return;
  QPointF p = widgetToSlice(widgetPos);
  p.setX(std::clamp(p.x(), 0.0, double(plane_.cols) - 1e-6));
  p.setY(std::clamp(p.y(), 0.0, double(plane_.rows) - 1e-6));
  cursor_ =
      volume_.geometry().indexToPhysical(plane_.continuousIndex(p.x(), p.y(), double(slice_)));
  update();
  emit cursorMoved(cursor_);
}

void SliceView::paintEvent(QPaintEvent*) {
  QElapsedTimer timer;
  timer.start();
  QPainter painter(this);
  painter.fillRect(rect(), QColor(12, 12, 14));
  if (!volume_.empty()) {
    ensureRendered();
    const QRectF target(imageOrigin(), sliceToWidget(QPointF(plane_.cols, plane_.rows)));
    // Smooth scaling only when magnifying little; large zoom shows voxels as they are.
    painter.setRenderHint(QPainter::SmoothPixmapTransform, zoom_ < 3.0);
    painter.drawImage(target, image_);

    // Crosshair: the other two planes in their own colours, with a gap at the centre.
    const QPointF c = widgetPosOf(cursor_);
    const SliceAxis vertical =
        axis_ == SliceAxis::Sagittal ? SliceAxis::Coronal : SliceAxis::Sagittal;
    const SliceAxis horizontal = axis_ == SliceAxis::Axial ? SliceAxis::Coronal : SliceAxis::Axial;
    const double gap = 10;
    painter.setRenderHint(QPainter::Antialiasing, false);
    QColor vc = axisColor(vertical), hc = axisColor(horizontal);
    vc.setAlpha(200);
    hc.setAlpha(200);
    painter.setPen(QPen(vc, 1));
    painter.drawLine(QPointF(c.x(), target.top()), QPointF(c.x(), c.y() - gap));
    painter.drawLine(QPointF(c.x(), c.y() + gap), QPointF(c.x(), target.bottom()));
    painter.setPen(QPen(hc, 1));
    painter.drawLine(QPointF(target.left(), c.y()), QPointF(c.x() - gap, c.y()));
    painter.drawLine(QPointF(c.x() + gap, c.y()), QPointF(target.right(), c.y()));
    if (tool_) tool_->paint(*this, painter);
  }
  drawAnnotations(painter);
  lastPaintMs_ = timer.nsecsElapsed() / 1e6;
}

void SliceView::drawAnnotations(QPainter& painter) {
  QFont font = painter.font();
  font.setPointSizeF(9);
  painter.setFont(font);
  const QFontMetrics fm(font);
  // Title tab in the view's colour.
  const QString title = axisName(axis_);
  const QRect tab(0, 0, fm.horizontalAdvance(title) + 14, fm.height() + 4);
  painter.fillRect(tab, axisColor(axis_));
  painter.setPen(QColor(20, 20, 20));
  painter.drawText(tab, Qt::AlignCenter, title);
  if (volume_.empty()) {
    painter.setPen(QColor(120, 120, 128));
    painter.drawText(rect(), Qt::AlignCenter, tr("No image"));
    return;
  }
  painter.setPen(QColor(225, 225, 225));
  painter.drawText(QPoint(tab.right() + 8, fm.ascent() + 2),
                   QString("%1   %2 / %3").arg(caption_).arg(slice_ + 1).arg(plane_.depth));
  painter.drawText(QPoint(6, height() - 6),
                   QString("W %1  L %2").arg(wl_.window, 0, 'f', 0).arg(wl_.level, 0, 'f', 0));
  const QString zoomText = QString("%1%").arg(zoom_ * 100, 0, 'f', 0);
  painter.drawText(QPoint(width() - fm.horizontalAdvance(zoomText) - 6, height() - 6), zoomText);
  // Patient orientation at the edges (radiological convention).
  QString left = "R", right = "L", top = "A", bottom = "P";
  if (axis_ == SliceAxis::Coronal) top = "S", bottom = "I";
  if (axis_ == SliceAxis::Sagittal) left = "A", right = "P", top = "S", bottom = "I";
  painter.setPen(QColor(240, 200, 120));
  painter.drawText(QRect(4, 0, 20, height()), Qt::AlignVCenter | Qt::AlignLeft, left);
  painter.drawText(QRect(width() - 24, 0, 20, height()), Qt::AlignVCenter | Qt::AlignRight, right);
  painter.drawText(QRect(0, fm.height() + 4, width(), fm.height()), Qt::AlignHCenter, top);
  painter.drawText(QRect(0, height() - fm.height() - 4, width(), fm.height()), Qt::AlignHCenter,
                   bottom);
}

void SliceView::mousePressEvent(QMouseEvent* event) {
  if (tool_ && !(event->modifiers() & Qt::ShiftModifier) && tool_->mousePress(*this, *event)) {
    toolDrag_ = true;
    event->accept();
    return;
  }
  dragStart_ = event->position();
  dragStartWl_ = wl_;
  dragStartPan_ = pan_;
  dragStartZoom_ = zoom_;
  const bool shift = event->modifiers() & Qt::ShiftModifier;
  const bool ctrl = event->modifiers() & Qt::ControlModifier;
  if (event->button() == Qt::LeftButton && !shift) {
    drag_ = Drag::Cursor;
    moveCursorTo(event->position());
  } else if (event->button() == Qt::MiddleButton || (event->button() == Qt::LeftButton && shift)) {
    drag_ = Drag::Pan;
  } else if (event->button() == Qt::RightButton) {
    drag_ = ctrl ? Drag::Zoom : Drag::WindowLevel;
  }
  event->accept();
}

void SliceView::mouseMoveEvent(QMouseEvent* event) {
  if (tool_ && (toolDrag_ || drag_ == Drag::None) && tool_->mouseMove(*this, *event)) {
    if (auto p = physicalAt(event->position()))
      emit hovered(*p);
    else
      emit hoverLeft();
    return;
  }
  const QPointF d = event->position() - dragStart_;
  switch (drag_) {
    case Drag::Cursor:
      moveCursorTo(event->position());
      break;
    case Drag::Pan:
      pan_ = dragStartPan_ + d;
      update();
      break;
    case Drag::WindowLevel: {
      const WindowLevel wl = draggedWindowLevel(dragStartWl_, d.x(), d.y());
      if (!(wl == wl_)) {
        setWindowLevel(wl);
        emit windowLevelChanged(wl_);
      }
      break;
    }
    case Drag::Zoom:
      setZoom(dragStartZoom_ * std::pow(1.01, -d.y()));
      break;
    case Drag::None:
      break;
  }
  if (auto p = physicalAt(event->position()))
    emit hovered(*p);
  else
    emit hoverLeft();
}

void SliceView::mouseReleaseEvent(QMouseEvent* event) {
  if (tool_ && toolDrag_) {
    toolDrag_ = false;
    tool_->mouseRelease(*this, *event);
    return;
  }
  drag_ = Drag::None;
}

void SliceView::mouseDoubleClickEvent(QMouseEvent*) {
  resetView();
}

void SliceView::wheelEvent(QWheelEvent* event) {
  wheelAccumulator_ += event->angleDelta().y();
  const int notches = wheelAccumulator_ / 120;
  if (notches == 0) return;
  wheelAccumulator_ -= notches * 120;
  if (event->modifiers() & Qt::ControlModifier)
    setZoom(zoom_ * std::pow(1.15, notches));
  else
    setSlice(slice_ + notches);
  event->accept();
}

void SliceView::keyPressEvent(QKeyEvent* event) {
  switch (event->key()) {
    case Qt::Key_Up:
    case Qt::Key_Right:
      setSlice(slice_ + 1);
      break;
    case Qt::Key_Down:
    case Qt::Key_Left:
      setSlice(slice_ - 1);
      break;
    case Qt::Key_PageUp:
      setSlice(slice_ + 10);
      break;
    case Qt::Key_PageDown:
      setSlice(slice_ - 10);
      break;
    case Qt::Key_Plus:
    case Qt::Key_Equal:
      setZoom(zoom_ * 1.15);
      break;
    case Qt::Key_Minus:
      setZoom(zoom_ / 1.15);
      break;
    case Qt::Key_R:
      resetView();
      break;
    default:
      QWidget::keyPressEvent(event);
  }
}

void SliceView::leaveEvent(QEvent*) {
  if (tool_) tool_->leave(*this);
  emit hoverLeft();
}

}  // namespace nephro::viewers
