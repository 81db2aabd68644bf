#pragma once
// Connects the model panel to the engine. LibTorch must not share a process
// with the Qt 6 window, so models run in the headless engine as a child
// process (EngineProcess.h): the catalog comes from the manifests (plain JSON)
// refined by what `nephro3d-engine models` reports (files present, device),
// and a run is one `nephro3d-engine run` over all the chosen models (NEPHRO3D_ENGINE
// names another engine binary).
#include <QString>
#include <QStringList>
#include <map>
#include <string>
#include <vector>

#include "common/Progress.h"

#include "widgets/ModelCatalog.h"

namespace nephro::gui {

class MainWindow;

class EngineCatalog : public widgets::ModelCatalog {
 public:
  // Manifests only (the engine not asked yet): models whose folder is missing are unavailable.
  explicit EngineCatalog(const QString& modelsDir);
  // Takes the engine's `models` listing into account: its file problems and its device.
  void applyEngineListing(const QString& listing);
  std::vector<widgets::ModelDescription> models() const override { return models_; }
  std::vector<widgets::ComputeDevice> devices() const override { return devices_; }

 private:
  std::vector<widgets::ModelDescription> models_;
  std::vector<widgets::ComputeDevice> devices_;
};

// Gives the window the registry's models and the ability to run them.
void installInferenceEngine(MainWindow& window);

// `nephro3d-engine run` arguments for the models on the phase files ("A" -> path).
QStringList engineRunArguments(const std::vector<std::string>& modelIds,
                               const std::map<std::string, std::string>& phaseFiles,
                               const std::string& device, const std::string& outDir);

// Passes the engine's progress on and calls written(id, outDir/<id>.nii.gz) once
// per model of modelIds when its "<id>: written" stage arrives.
Progress watchWrittenModels(const Progress& progress, const std::vector<std::string>& modelIds,
                            const std::string& outDir,
                            std::function<void(const std::string&, const std::string&)> written);

}  // namespace nephro::gui
