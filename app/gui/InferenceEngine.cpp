#include "gui/InferenceEngine.h"

#include "common/Error.h"
#include "gui/MainWindow.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPredictor.h"
#include "pipeline/Case.h"
#include "pipeline/CaseRunner.h"

namespace nephro::gui {

RegistryCatalog::RegistryCatalog() {
  devices_.push_back({"cpu", QObject::tr("CPU")});
  try {
    const inference::DeviceInfo info = inference::deviceInfo();
    if (info.cudaAvailable) devices_.push_back({"cuda", QString::fromStdString(info.description)});
  } catch (const std::exception&) {
    // No usable GPU runtime: the CPU remains.
  }
  std::vector<inference::ModelManifest> manifests;
  try {
    manifests = inference::listManifests();
  } catch (const std::exception& e) {
    widgets::ModelDescription broken;
    broken.id = "models";
    broken.title = QObject::tr("(model manifests)");
    broken.problem = QString::fromStdString(e.what());
    models_.push_back(broken);
    return;
  }
  for (const auto& m : manifests) {
    widgets::ModelDescription d;
    d.id = QString::fromStdString(m.id);
    d.title = m.legacy ? QObject::tr("%1 (legacy)").arg(d.id) : d.id;
    d.description = QString::fromStdString(m.description);
    if (!m.validFor.empty()) d.description += "\n" + QString::fromStdString(m.validFor);
    for (const auto& p : m.requiredPhases()) d.inputPhases << QString::fromStdString(p);
    d.anyPhase = d.inputPhases.isEmpty() && !m.inputs.empty();
    const std::string missing = inference::missingModelFiles(m);
    if (!missing.empty()) d.problem = QString::fromStdString(missing);
    models_.push_back(d);
  }
}

void installInferenceEngine(MainWindow& window) {
  window.setModelEngine(
      std::make_shared<RegistryCatalog>(),
      [](const std::string& modelId, const std::map<std::string, std::string>& phaseFiles,
         const std::string& device, const std::string& outPath, const Progress& progress) {
        pipeline::Case study = pipeline::Case::fromFiles(phaseFiles);
        pipeline::ModelRunOptions options;
        options.device =
            device == "cpu" ? inference::DeviceChoice::Cpu : inference::DeviceChoice::Cuda;
        pipeline::runModelToFile(study, modelId, outPath, options, progress);
      });
}

}  // namespace nephro::gui
