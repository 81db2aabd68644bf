#pragma once
// Connects the model panel to the engine: the model registry's manifests and
// the compute devices as a ModelCatalog, and a run function that runs one
// registered model on the study's phase files.
#include <memory>

#include "widgets/ModelCatalog.h"

namespace nephro::gui {

class MainWindow;

class RegistryCatalog : public widgets::ModelCatalog {
 public:
  RegistryCatalog();
  std::vector<widgets::ModelDescription> models() const override { return models_; }
  std::vector<widgets::ComputeDevice> devices() const override { return devices_; }

 private:
  std::vector<widgets::ModelDescription> models_;
  std::vector<widgets::ComputeDevice> devices_;
};

// Gives the window the registry's models and the ability to run them.
void installInferenceEngine(MainWindow& window);

}  // namespace nephro::gui
