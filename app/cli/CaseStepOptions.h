#pragma once
// Options shared by `run` and `--batch` for what follows the models on a case:
// --post fat,vessel  --post-param fat.distance-mm=25  --mesh [--mesh-formats obj,glb] [--space RAS]
#include <string>
#include <vector>

#include "pipeline/CaseRunner.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace nephro::cli {

struct CaseStepOptions {
  std::vector<std::string> post;
  std::vector<std::string> postParams;
  bool mesh = false;
  std::string meshFormats = "obj";
  std::string space = "LPS";

  // Adds the options to `app`; with `needs`, each requires that option (--batch).
  void addTo(CLI::App* app, CLI::Option* needs = nullptr);
  // Checked steps; throws a usage error for an unknown step, key or value.
  pipeline::CaseSteps steps() const;
};

}  // namespace nephro::cli
