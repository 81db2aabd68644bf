#include "viewers/WindowPresets.h"

#include <algorithm>

namespace nephro::viewers {

const std::vector<WindowPreset>& windowPresets() {
  static const std::vector<WindowPreset> presets = {
      {"Abdomen", {350, 40}}, {"Kidney", {300, 40}}, {"Fat", {200, -130}},
      {"Bone", {1000, 400}},  {"Angio", {600, 150}},
  };
  return presets;
}

std::optional<WindowLevel> findWindowPreset(const QString& name) {
  for (const auto& p : windowPresets())
    if (p.name.compare(name, Qt::CaseInsensitive) == 0) return p.value;
  return std::nullopt;
}

WindowLevel draggedWindowLevel(const WindowLevel& start, double dx, double dy) {
  // Two HU per pixel feels like Slicer on a 512 slice; the width never collapses.
  WindowLevel wl;
  wl.window = std::clamp(start.window + 2.0 * dx, 1.0, 10000.0);
  wl.level = std::clamp(start.level + 2.0 * dy, -2000.0, 5000.0);
  return wl;
}

}  // namespace nephro::viewers
