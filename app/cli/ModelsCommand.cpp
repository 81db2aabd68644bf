// nephro3d models: the model registry with availability, phases, device and memory.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "common/Error.h"
#include "common/MemoryBudget.h"
#include "common/Resources.h"
#include "image/VolumeIO.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPredictor.h"

namespace nephro::cli {
namespace {

struct ModelsOptions {
  std::string image;
  bool legacy = true;
};

std::string phasesOf(const inference::ModelManifest& m) {
  std::string s;
  for (const auto& in : m.inputs) s += (s.empty() ? "" : "+") + (in.phase == "any" ? std::string("any") : in.phase);
  return s;
}

void listModels(const ModelsOptions& o) {
  // Memory is estimated for a typical abdominal CT unless an image is given.
  std::array<int64_t, 3> size{512, 512, 300};
  std::array<double, 3> spacing{0.78125, 0.78125, 1.5};
  std::string reference = "512x512x300 CT at 0.78x0.78x1.5 mm";
  if (!o.image.empty()) {
    ImageInfo info = readImageInfo(o.image);
    size = info.geometry.size;
    spacing = info.geometry.spacing;
    reference = info.geometry.describe();
  }
  const inference::DeviceInfo device = inference::deviceInfo();
  std::printf("models in %s\ndevice: %s\nmemory estimated for %s\n\n", modelsDir().c_str(), device.description.c_str(),
              reference.c_str());
  std::printf("%-22s %-8s %-7s %-6s %-9s %s\n", "id", "version", "phases", "output", "memory", "files");
  std::vector<std::string> stageLines;
  for (const auto& m : inference::listManifests()) {
    if (m.legacy && !o.legacy) continue;
    std::string files = inference::missingModelFiles(m);
    std::string memory = "-";
    if (files.empty()) {
      try {
        inference::NnunetModel model = inference::loadManifestModel(m);
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f GB", inference::estimateMemoryBytes(model, size, spacing) / 1e9);
        memory = buf;
        const inference::MemoryStages st = inference::estimateMemoryStages(model, size, spacing);
        char line[256];
        std::snprintf(line, sizeof line, "%-22s read %-8s preprocess %-8s predict %-8s export %-8s peak %s", m.id.c_str(),
                      formatGigabytes(st.read).c_str(), formatGigabytes(st.preprocess).c_str(),
                      formatGigabytes(st.predict).c_str(), formatGigabytes(st.exportMask).c_str(),
                      formatGigabytes(st.peak).c_str());
        stageLines.push_back(line);
        files = "present (" + std::to_string(model.folds.size()) + " fold(s), " + model.configuration.name + ", " +
                std::to_string(model.dataset.segmentationHeads()) + " outputs)";
      } catch (const Error& e) {
        files = std::string("invalid: ") + e.what();
      }
    } else {
      files = "missing: " + files;
    }
    std::printf("%-22s %-8s %-7s %-6s %-9s %s\n", m.id.c_str(), m.version.c_str(), phasesOf(m).c_str(),
                m.outputSpace.c_str(), memory.c_str(), files.c_str());
  }
  // Per stage, on top of the phases a run holds (voxel bytes of each phase read).
  if (!stageLines.empty()) {
    std::printf("\nmemory per stage (GB = 1e9 bytes) for %s:\n", reference.c_str());
    for (const std::string& l : stageLines) std::printf("  %s\n", l.c_str());
  }
  const MemoryBudget budget = memoryBudget();
  std::printf("available: %s (%s); a run that needs more is refused before it starts\n",
              formatGigabytes(double(budget.availableBytes)).c_str(), budget.source.c_str());
}

RegisterCommand reg(45, [](CLI::App& root) {
  auto o = std::make_shared<ModelsOptions>();
  CLI::App* sub = root.add_subcommand("models", "List registered models: files present, phases, device, memory");
  sub->add_option("--image", o->image, "Estimate memory for this image instead of a typical CT");
  sub->callback([o] { listModels(*o); });
});

}  // namespace
}  // namespace nephro::cli
