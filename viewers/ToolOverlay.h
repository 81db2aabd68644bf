#pragma once
// The editing and measuring tools of the slice views, shared by all three:
// the brush outline follows the mouse (a circle in the view under the mouse;
// in the other views the disc's trace or the sphere's cut), strokes and
// clicks become signals in LPS millimetres, scissors draw a freehand polygon,
// the ruler measures a distance and the ellipse ROI gives HU statistics of
// the phase shown. What a signal does to a label layer is up to its receiver.
#include <QObject>
#include <QLineF>
#include <QPointer>
#include <QRect>
#include <array>
#include <optional>
#include <vector>

#include "viewers/Measurements.h"
#include "viewers/SliceTool.h"

namespace nephro::viewers {

enum class ToolMode { Navigate, Brush, Eraser, Scissors, Island, Ruler, Roi };
const char* toolName(ToolMode mode);

class ToolOverlay : public QObject, public SliceTool {
  Q_OBJECT
 public:
  explicit ToolOverlay(QObject* parent = nullptr);

  // Installs the tool on the views (they repaint together as the brush moves).
  void attach(const std::array<SliceView*, 3>& views);
  void setMode(ToolMode mode);
  ToolMode mode() const { return mode_; }
  void setBrush(double radiusMm, bool sphere);
  double brushRadiusMm() const { return radiusMm_; }
  bool brushSphere() const { return sphere_; }

  struct Ruler {
    Vec3 a{0, 0, 0}, b{0, 0, 0};
    double mm = 0;
  };
  struct Roi {
    Vec3 a{0, 0, 0}, b{0, 0, 0};  // corners of the ellipse's rectangle
    RoiStats stats;
  };
  const std::optional<Ruler>& ruler() const { return ruler_; }
  const std::optional<Roi>& roi() const { return roi_; }
  // The LPS point the brush outline is drawn at, if the mouse is over a slice.
  const std::optional<Vec3>& hover() const { return hover_; }
  // "Distance 42.3 mm", "ROI mean 41.2 HU, SD 7.9, min 12, max 77 (318 mm²)"
  QString measurementText() const;

  bool mousePress(SliceView& view, QMouseEvent& event) override;
  bool mouseMove(SliceView& view, QMouseEvent& event) override;
  void mouseRelease(SliceView& view, QMouseEvent& event) override;
  void leave(SliceView& view) override;
  void paint(SliceView& view, QPainter& painter) override;

 signals:
  // Brush and eraser: a press, each move with the button held, the release.
  // `normal` is the LPS normal of the view drawn in.
  void strokeStarted(const nephro::Vec3& lps, const nephro::Vec3& normal);
  void strokeMoved(const nephro::Vec3& lps);
  void strokeFinished();
  // Scissors: the closed polygon (LPS, on the view's slice).
  void polygonDrawn(const std::vector<nephro::Vec3>& polygon, const nephro::Vec3& normal);
  // Island tool: a click.
  void pointClicked(const nephro::Vec3& lps, const nephro::Vec3& normal);
  void measured(const QString& text);

 private:
  // The brush outline in a view: a circle, or the disc's trace as a line.
  struct Outline {
    QPointF centre;
    double radius = 0;
    bool isLine = false;
    QLineF line;
    QRect bounds() const;
  };
  std::optional<Outline> outlineIn(const SliceView& view) const;
  void repaintAll();
  void updateOutlines();
  void paintBrush(SliceView& view, QPainter& painter);

  std::array<QPointer<SliceView>, 3> views_{};
  ToolMode mode_ = ToolMode::Navigate;
  double radiusMm_ = 3.0;
  bool sphere_ = false;
  std::optional<Vec3> hover_;
  std::array<QRect, 3> outlineRects_{};
  SliceView* hoverView_ = nullptr;
  Vec3 hoverNormal_{0, 0, 1};
  bool pressed_ = false;
  SliceView* pressView_ = nullptr;
  std::vector<Vec3> polygon_;
  std::optional<Ruler> ruler_;
  std::optional<Roi> roi_;
  SliceView* measureView_ = nullptr;
  int64_t measureSlice_ = -1;
};

}  // namespace nephro::viewers
