#pragma once
// A tool that takes over the left mouse button in the slice views (brush,
// scissors, ruler, ROI) and draws its overlay over the slice. One tool object
// may serve every view; the view passes itself with each event.
class QMouseEvent;
class QPainter;

namespace nephro::viewers {

class SliceView;

class SliceTool {
 public:
  virtual ~SliceTool() = default;
  // True when the event is the tool's; the view then neither moves the
  // crosshair nor pans (Shift+left, middle and right buttons stay the view's).
  virtual bool mousePress(SliceView& view, QMouseEvent& event) = 0;
  // Called for every move (with or without a button held); true when handled.
  virtual bool mouseMove(SliceView& view, QMouseEvent& event) = 0;
  // Ends what a press the tool took started.
  virtual void mouseRelease(SliceView& view, QMouseEvent& event) = 0;
  virtual void leave(SliceView& view) {}
  // Draws over the slice (widget coordinates).
  virtual void paint(SliceView& view, QPainter& painter) = 0;
};

}  // namespace nephro::viewers
