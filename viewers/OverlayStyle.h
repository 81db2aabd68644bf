#pragma once
// What the slice views need to draw label layers: the mask and, per label
// value, its colour, opacity and visibility (taken from the label table).
#include <QColor>
#include <QString>
#include <vector>

#include "image/Volume.h"

namespace nephro::viewers {

struct LabelStyle {
  QColor color = QColor(128, 128, 128);
  double opacity = 1.0;  // multiplies the view's fill opacity (and the outline's)
  bool visible = true;
};

struct OverlayLayer {
  Volume mask;                     // integer label map, any grid (resampled by nearest neighbour)
  std::vector<LabelStyle> styles;  // index = label value; values beyond are not drawn
  double opacity = 1.0;            // whole layer
  bool visible = true;
};

struct OverlayOptions {
  double fillOpacity = 0.5;  // Slicer's 2D fill default
  bool fill = true;
  bool outline = true;  // outline drawn at full label opacity
};

}  // namespace nephro::viewers
