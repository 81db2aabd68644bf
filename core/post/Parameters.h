#pragma once
// Self-describing parameters of the post-processing steps: every parameter
// struct lists its fields (name, range, default, unit) so a panel of sliders
// or a command line can be generated from it, and sets them by name.
#include <string>
#include <vector>

namespace nephro::post {

enum class ParameterKind { Number, Integer, Flag, LabelList };

struct ParameterInfo {
  std::string key;          // machine name, also the command-line option: "distance-mm"
  std::string label;        // what a panel shows: "Distance"
  std::string description;  // one sentence for a tooltip or --help
  ParameterKind kind = ParameterKind::Number;
  double minimum = 0.0;
  double maximum = 1.0;
  double defaultValue = 0.0;
  double step = 1.0;  // a sensible slider step
  std::string unit;   // "mm", "HU", "mm3", "deg", "" (none)
};

}  // namespace nephro::post
