#pragma once
// Paints one slice of a volume with its label overlays into a QImage, one
// image pixel per voxel of the reference volume. Grey values come from a
// window/level look-up table; overlays on another grid are sampled by nearest
// neighbour through the physical (LPS) position of each pixel.
#include <QImage>
#include <cstdint>
#include <vector>

#include "image/Volume.h"
#include "viewers/OverlayStyle.h"
#include "viewers/SliceGeometry.h"
#include "viewers/WindowPresets.h"

namespace nephro::viewers {

class SliceRenderer {
 public:
  // Renders slice `slice` of `base` cut along `plane`; `base` may be empty if
  // only `reference` gives the grid (then the background is black).
  QImage render(const Volume& base, const SlicePlane& plane, int64_t slice, const WindowLevel& wl,
                const std::vector<OverlayLayer>& overlays, const OverlayOptions& options);

  // Label values of an overlay on the slice grid of `reference` (0 outside the mask).
  static void sampleLabels(const Volume& mask, const Geometry& reference, const SlicePlane& plane,
                           int64_t slice, std::vector<int32_t>& out);

 private:
  void paintGrey(const Volume& base, const SlicePlane& plane, int64_t slice, const WindowLevel& wl,
                 QImage& image);

  std::vector<uint8_t> int16Lut_;  // grey for every int16 value at lutWindow_
  WindowLevel lutWindow_{-1, 0};
  std::vector<int32_t> labels_;
};

}  // namespace nephro::viewers
