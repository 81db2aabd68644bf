#pragma once
// CT window/level presets (width and centre in HU).
#include <QString>
#include <optional>
#include <vector>

namespace nephro::viewers {

struct WindowLevel {
  double window = 350.0;  // width in HU
  double level = 40.0;    // centre in HU
  bool operator==(const WindowLevel& o) const { return window == o.window && level == o.level; }
};

struct WindowPreset {
  QString name;
  WindowLevel value;
};

// Abdomen 350/40, kidney 300/40, fat 200/-130, bone 1000/400, angio 600/150.
const std::vector<WindowPreset>& windowPresets();
std::optional<WindowLevel> findWindowPreset(const QString& name);
// Lowest and highest HU shown with a window/level (the grey ramp runs between them).
inline double windowLow(const WindowLevel& wl) {
  return wl.level - wl.window / 2.0;
}
inline double windowHigh(const WindowLevel& wl) {
  return wl.level + wl.window / 2.0;
}
// A window/level after a drag of (dx, dy) pixels: right widens, down raises the level.
WindowLevel draggedWindowLevel(const WindowLevel& start, double dx, double dy);

}  // namespace nephro::viewers
