#include "viewers/ToolOverlay.h"

#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QStringList>
#include <cmath>

#include "viewers/SliceView.h"

namespace nephro::viewers {

namespace {

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}

double norm(const Vec3& v) {
  return std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

// Signed distance (mm) of an LPS point from the slice a view shows.
double distanceFromSlice(const SliceView& view, const Vec3& lps) {
  const Geometry& g = view.volume().geometry();
  const SlicePlane& plane = view.plane();
  const double s = plane.sliceOf(g.physicalToIndex(lps));
  return (s - double(view.slice())) * g.spacing[size_t(plane.normal)];
}

// Slice pixel coordinates of an LPS point in a view.
QPointF slicePixel(const SliceView& view, const Vec3& lps) {
  return view.plane().pixelOf(view.volume().geometry().physicalToIndex(lps));
}

}  // namespace

const char* toolName(ToolMode mode) {
  switch (mode) {
    case ToolMode::Navigate:
      return "Navigate";
    case ToolMode::Brush:
      return "Brush";
    case ToolMode::Eraser:
      return "Eraser";
    case ToolMode::Scissors:
      return "Scissors";
    case ToolMode::Island:
      return "Remove island";
    case ToolMode::Ruler:
      return "Ruler";
    case ToolMode::Roi:
      return "Ellipse ROI";
  }
  return "";
}

ToolOverlay::ToolOverlay(QObject* parent) : QObject(parent) {}

void ToolOverlay::attach(const std::array<SliceView*, 3>& views) {
  for (size_t i = 0; i < 3; ++i) {
    views_[i] = views[i];
    if (views[i]) views[i]->setTool(this);
  }
}

void ToolOverlay::setMode(ToolMode mode) {
  if (pressed_ && (mode_ == ToolMode::Brush || mode_ == ToolMode::Eraser)) emit strokeFinished();
  pressed_ = false;
  polygon_.clear();
  mode_ = mode;
  for (auto& v : views_)
    if (v) v->setCursor(mode == ToolMode::Navigate ? Qt::ArrowCursor : Qt::CrossCursor);
  repaintAll();
}

void ToolOverlay::setBrush(double radiusMm, bool sphere) {
  radiusMm_ = radiusMm;
  sphere_ = sphere;
  repaintAll();
}

void ToolOverlay::repaintAll() {
  for (auto& v : views_)
    if (v) v->update();
}

QString ToolOverlay::measurementText() const {
  QStringList parts;
  if (ruler_) parts << tr("Distance %1 mm").arg(ruler_->mm, 0, 'f', 1);
  if (roi_ && roi_->stats.voxels > 0)
    parts << tr("ROI mean %1 HU, SD %2, min %3, max %4 (%5 mm², %6 voxels)")
                 .arg(roi_->stats.mean, 0, 'f', 1)
                 .arg(roi_->stats.sd, 0, 'f', 1)
                 .arg(roi_->stats.min, 0, 'f', 0)
                 .arg(roi_->stats.max, 0, 'f', 0)
                 .arg(roi_->stats.areaMm2, 0, 'f', 0)
                 .arg(roi_->stats.voxels);
  return parts.join("\n");
}

bool ToolOverlay::mousePress(SliceView& view, QMouseEvent& event) {
  if (mode_ == ToolMode::Navigate || event.button() != Qt::LeftButton) return false;
  const auto lps = view.physicalAt(event.position());
  if (!lps) return true;  // outside the slice: nothing to edit, nothing to navigate
  pressed_ = true;
  pressView_ = &view;
  hover_ = lps;
  hoverView_ = &view;
  hoverNormal_ = view.normalLps();
  switch (mode_) {
    case ToolMode::Brush:
    case ToolMode::Eraser:
      emit strokeStarted(*lps, view.normalLps());
      break;
    case ToolMode::Scissors:
      polygon_ = {*lps};
      break;
    case ToolMode::Island:
      pressed_ = false;
      emit pointClicked(*lps, view.normalLps());
      break;
    case ToolMode::Ruler:
      ruler_ = Ruler{*lps, *lps, 0.0};
      measureView_ = &view;
      measureSlice_ = view.slice();
      break;
    case ToolMode::Roi:
      roi_ = Roi{*lps, *lps, {}};
      measureView_ = &view;
      measureSlice_ = view.slice();
      break;
    case ToolMode::Navigate:
      break;
  }
  repaintAll();
  return true;
}

bool ToolOverlay::mouseMove(SliceView& view, QMouseEvent& event) {
  if (mode_ == ToolMode::Navigate) return false;
  const auto lps = view.physicalAt(event.position());
  hover_ = lps;
  hoverView_ = &view;
  hoverNormal_ = view.normalLps();
  if (pressed_ && pressView_ == &view && lps) {
    switch (mode_) {
      case ToolMode::Brush:
      case ToolMode::Eraser:
        emit strokeMoved(*lps);
        break;
      case ToolMode::Scissors:
        // A vertex every few screen pixels.
        if (polygon_.empty() ||
            QLineF(view.widgetPosOf(polygon_.back()), event.position()).length() >= 3.0)
          polygon_.push_back(*lps);
        break;
      case ToolMode::Ruler:
        ruler_->b = *lps;
        ruler_->mm = distanceMm(ruler_->a, ruler_->b);
        break;
      case ToolMode::Roi:
        roi_->b = *lps;
        break;
      default:
        break;
    }
  }
  // The brush outline shows in every view; other tools draw in their own.
  if (mode_ == ToolMode::Brush || mode_ == ToolMode::Eraser)
    updateOutlines();
  else
    view.update();
  return true;
}

void ToolOverlay::mouseRelease(SliceView& view, QMouseEvent& event) {
  if (!pressed_) return;
  pressed_ = false;
  switch (mode_) {
    case ToolMode::Brush:
    case ToolMode::Eraser:
      emit strokeFinished();
      break;
    case ToolMode::Scissors: {
      std::vector<Vec3> polygon;
      polygon.swap(polygon_);
      if (polygon.size() >= 3) emit polygonDrawn(polygon, view.normalLps());
      break;
    }
    case ToolMode::Ruler:
      emit measured(measurementText());
      break;
    case ToolMode::Roi:
      if (roi_) {
        roi_->stats = ellipseRoiStats(view.volume(), view.plane(), view.slice(),
                                      slicePixel(view, roi_->a), slicePixel(view, roi_->b));
        emit measured(measurementText());
      }
      break;
    default:
      break;
  }
  repaintAll();
}

void ToolOverlay::leave(SliceView& view) {
  if (hoverView_ == &view && !pressed_) {
    hover_.reset();
    updateOutlines();
  }
}

void ToolOverlay::paint(SliceView& view, QPainter& painter) {
  painter.save();
  painter.setRenderHint(QPainter::Antialiasing, true);
  if (mode_ == ToolMode::Brush || mode_ == ToolMode::Eraser) paintBrush(view, painter);
  if (mode_ == ToolMode::Scissors && pressView_ == &view && polygon_.size() > 1) {
    QPolygonF poly;
    for (const Vec3& p : polygon_) poly << view.widgetPosOf(p);
    painter.setPen(QPen(QColor(255, 220, 80), 1.5));
    painter.setBrush(QColor(255, 220, 80, 40));
    painter.drawPolygon(poly);
  }
  if (measureView_ == &view && measureSlice_ == view.slice()) {
    const QColor c(120, 230, 255);
    painter.setPen(QPen(c, 1.5));
    painter.setBrush(Qt::NoBrush);
    if (ruler_) {
      const QPointF a = view.widgetPosOf(ruler_->a), b = view.widgetPosOf(ruler_->b);
      painter.drawLine(a, b);
      painter.drawEllipse(a, 2.5, 2.5);
      painter.drawEllipse(b, 2.5, 2.5);
      painter.drawText(b + QPointF(6, -6), tr("%1 mm").arg(ruler_->mm, 0, 'f', 1));
    }
    if (roi_) {
      const QRectF r = QRectF(view.widgetPosOf(roi_->a), view.widgetPosOf(roi_->b)).normalized();
      painter.drawEllipse(r);
      if (roi_->stats.voxels > 0)
        painter.drawText(r.bottomLeft() + QPointF(0, 14),
                         tr("%1 ± %2 HU  [%3, %4]")
                             .arg(roi_->stats.mean, 0, 'f', 1)
                             .arg(roi_->stats.sd, 0, 'f', 1)
                             .arg(roi_->stats.min, 0, 'f', 0)
                             .arg(roi_->stats.max, 0, 'f', 0));
    }
  }
  painter.restore();
}

std::optional<ToolOverlay::Outline> ToolOverlay::outlineIn(const SliceView& view) const {
  if (!hover_ || view.volume().empty() || (mode_ != ToolMode::Brush && mode_ != ToolMode::Eraser))
    return std::nullopt;
  Outline o;
  o.centre = view.widgetPosOf(*hover_);
  const double ppm = view.pixelsPerMm();
  if (hoverView_ == &view) {
    o.radius = radiusMm_ * ppm;
    return o;
  }
  // Another view: where the brush cuts its slice.
  const double d = distanceFromSlice(view, *hover_);
  if (sphere_) {
    if (std::abs(d) >= radiusMm_) return std::nullopt;
    o.radius = std::sqrt(radiusMm_ * radiusMm_ - d * d) * ppm;
    return o;
  }
  const double halfSlice = view.volume().geometry().spacing[size_t(view.plane().normal)] / 2;
  if (std::abs(d) > std::max(halfSlice, 0.5)) return std::nullopt;
  Vec3 u = cross(hoverNormal_, view.normalLps());
  const double n = norm(u);
  if (n < 1e-6) return std::nullopt;
  for (double& x : u) x *= radiusMm_ / n;
  const Vec3 a{(*hover_)[0] + u[0], (*hover_)[1] + u[1], (*hover_)[2] + u[2]};
  const Vec3 b{(*hover_)[0] - u[0], (*hover_)[1] - u[1], (*hover_)[2] - u[2]};
  o.line = QLineF(view.widgetPosOf(a), view.widgetPosOf(b));
  o.isLine = true;
  return o;
}

QRect ToolOverlay::Outline::bounds() const {
  const QRectF r = isLine ? QRectF(line.p1(), line.p2()).normalized()
                          : QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius);
  return r.toAlignedRect().adjusted(-3, -3, 3, 3);
}

void ToolOverlay::updateOutlines() {
  // Only where the outline was and where it is now.
  for (size_t i = 0; i < 3; ++i) {
    SliceView* v = views_[i];
    if (!v) continue;
    const auto o = outlineIn(*v);
    const QRect now = o ? o->bounds() : QRect();
    const QRect dirty = now.united(outlineRects_[i]);
    if (!dirty.isEmpty()) v->update(dirty);
    outlineRects_[i] = now;
  }
}

void ToolOverlay::paintBrush(SliceView& view, QPainter& painter) {
  const auto o = outlineIn(view);
  if (!o) return;
  const QColor c = mode_ == ToolMode::Eraser ? QColor(255, 120, 120) : QColor(255, 255, 255);
  painter.setPen(QPen(c, 1.2));
  painter.setBrush(Qt::NoBrush);
  if (o->isLine)
    painter.drawLine(o->line);
  else
    painter.drawEllipse(o->centre, o->radius, o->radius);
}

}  // namespace nephro::viewers
