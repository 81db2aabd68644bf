#pragma once
// One orthogonal slice view: grey values of the current phase, label
// overlays, a crosshair linked to the other views, and mouse interaction
// (left: crosshair, wheel: slices, Ctrl+wheel or right-drag with Ctrl: zoom,
// middle or Shift+left drag: pan, right drag: window/level, double-click: fit).
#include <QElapsedTimer>
#include <QImage>
#include <QWidget>
#include <optional>

#include "image/Volume.h"
#include "viewers/OverlayStyle.h"
#include "viewers/SliceGeometry.h"
#include "viewers/SliceRenderer.h"
#include "viewers/SliceTool.h"
#include "viewers/WindowPresets.h"

namespace nephro::viewers {

class SliceView : public QWidget {
  Q_OBJECT
 public:
  explicit SliceView(SliceAxis axis, QWidget* parent = nullptr);

  SliceAxis axis() const { return axis_; }
  // The volume shown in grey; its grid is the grid the slices follow.
  void setVolume(const Volume& volume, const QString& caption);
  const Volume& volume() const { return volume_; }
  void setOverlays(std::vector<OverlayLayer> overlays);
  const std::vector<OverlayLayer>& overlays() const { return overlays_; }
  void setOverlayOptions(const OverlayOptions& options);
  const OverlayOptions& overlayOptions() const { return options_; }
  void setWindowLevel(const WindowLevel& wl);
  const WindowLevel& windowLevel() const { return wl_; }

  // Moves the crosshair (and the slice) to an LPS point.
  void setCursorPosition(const Vec3& lps);
  const Vec3& cursorPosition() const { return cursor_; }
  int64_t slice() const { return slice_; }
  int64_t sliceCount() const { return plane_.depth; }
  // Shows another slice; the crosshair follows along the slice normal.
  void setSlice(int64_t slice);
  double zoom() const { return zoom_; }
  void setZoom(double zoom);
  void resetView();

  // The slice as last rendered (one pixel per voxel).
  const QImage& sliceImage();
  // LPS point under a widget position, if it lies on the slice.
  std::optional<Vec3> physicalAt(const QPointF& widgetPos) const;
  // Widget position of an LPS point projected onto this view.
  QPointF widgetPosOf(const Vec3& lps) const;
  // Time the last paintEvent took, in milliseconds.
  double lastPaintMs() const { return lastPaintMs_; }
  const SlicePlane& plane() const { return plane_; }
  // Widget pixels per millimetre at the current zoom.
  double pixelsPerMm() const;
  // LPS direction of the slice normal (zero without a volume).
  Vec3 normalLps() const;

  // A tool (brush, scissors, ruler...) that takes the left button and draws
  // over the slice; null: the view navigates. Not owned.
  void setTool(SliceTool* tool);
  SliceTool* tool() const { return tool_; }
  // Voxels of an overlay on `grid` changed inside [begin, end) (index box):
  // the slice is rendered again only if it crosses the box, and only the
  // box's part of the widget is repainted.
  void invalidateRegion(const Geometry& grid, const Index3& begin, const Index3& end);

 signals:
  void cursorMoved(const nephro::Vec3& lps);
  void hovered(const nephro::Vec3& lps);
  void hoverLeft();
  void windowLevelChanged(const nephro::viewers::WindowLevel& wl);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void mouseDoubleClickEvent(QMouseEvent* event) override;
  void wheelEvent(QWheelEvent* event) override;
  void keyPressEvent(QKeyEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  // Widget position of the slice's top-left corner.
  QPointF imageOrigin() const;
  QPointF sliceToWidget(const QPointF& slicePx) const;
  QPointF widgetToSlice(const QPointF& widgetPos) const;
  void moveCursorTo(const QPointF& widgetPos);
  void ensureRendered();
  void drawAnnotations(QPainter& painter);

  SliceAxis axis_;
  Volume volume_;
  QString caption_;
  SlicePlane plane_;
  std::vector<OverlayLayer> overlays_;
  OverlayOptions options_;
  WindowLevel wl_;
  Vec3 cursor_{0, 0, 0};
  int64_t slice_ = 0;
  double zoom_ = 1.0;
  QPointF pan_{0, 0};

  SliceRenderer renderer_;
  QImage image_;
  bool dirty_ = true;

  enum class Drag { None, Cursor, Pan, WindowLevel, Zoom } drag_ = Drag::None;
  QPointF dragStart_;
  WindowLevel dragStartWl_;
  QPointF dragStartPan_;
  double dragStartZoom_ = 1.0;
  int wheelAccumulator_ = 0;
  double lastPaintMs_ = 0;
  SliceTool* tool_ = nullptr;
  bool toolDrag_ = false;
};

// The colour that marks a view (and its plane in the other views), as in Slicer.
QColor axisColor(SliceAxis axis);

}  // namespace nephro::viewers
