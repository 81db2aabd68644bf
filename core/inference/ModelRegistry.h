#pragma once
// Model manifests (models/<id>.json): which phase feeds which input channel,
// which phase's space the mask lives in, configuration, folds, tile step,
// mirroring, how the model's labels map into the case label schema, and when
// the model is valid. Plain JSON, no LibTorch.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "inference/NnunetModel.h"
#include "labels/LabelTable.h"

namespace nephro::inference {

struct ManifestInput {
  int channel = 0;
  // "A", "P" or "D", or "any": the first phase of `anyOrder` the case has.
  std::string phase;
};

struct ModelManifest {
  std::string id;
  std::string version;
  std::string description;
  std::string manifestPath;
  std::string folder;  // the nnU-Net results folder, resolved to an absolute path
  std::vector<ManifestInput> inputs;
  std::vector<std::string> anyOrder{"P", "A", "D"};
  std::string outputSpace;  // the phase whose grid the mask has ("input" = that of channel 0)
  std::string configuration;
  std::vector<int> folds;  // empty: all
  double tileStep = 0.5;
  bool mirroring = true;
  std::map<std::string, std::string> labelMap;  // dataset label name -> case schema name
  std::string validFor;                         // human-readable validity note
  std::optional<double> recommendedSpacingMm;
  bool legacy = false;

  // Phases a case must have: for "any" inputs, at least one of anyOrder.
  std::vector<std::string> requiredPhases() const;
  // The phase feeding each channel, given the phases a case has; empty if not runnable.
  std::vector<std::string> assignPhases(const std::vector<std::string>& available) const;
  // The phase whose grid the output mask uses.
  std::string outputPhase(const std::vector<std::string>& assigned) const;
};

// Files of the model folder: empty when complete, else what is missing.
std::string missingModelFiles(const ModelManifest& manifest);

ModelManifest parseManifest(const std::string& jsonText, const std::string& manifestPath);
// Every manifest in modelsDir() (sorted by id); a malformed one throws a model error.
std::vector<ModelManifest> listManifests(const std::string& directory = {});
// The manifest with this id; throws a model error listing the known ids.
ModelManifest findManifest(const std::string& id, const std::string& directory = {});

// Loads the results folder a manifest names, with its configuration and folds.
NnunetModel loadManifestModel(const ModelManifest& manifest);

// The label table of a model's mask: dataset.json labels (regions: the
// regions_class_order values), named through the manifest's label map.
LabelTable modelLabelTable(const NnunetModel& model, const std::map<std::string, std::string>& labelMap = {});

// Rough peak memory of one prediction of `model` on an image of `imageSize`
// voxels at `imageSpacing` mm (x, y, z), in bytes.
double estimateMemoryBytes(const NnunetModel& model, const std::array<int64_t, 3>& imageSize,
                           const std::array<double, 3>& imageSpacing);

// The same estimate per stage (bytes held while the stage runs); `peak` is
// what estimateMemoryBytes returns and is at least every stage.
struct MemoryStages {
  double read = 0, preprocess = 0, predict = 0, exportMask = 0, peak = 0;
};
MemoryStages estimateMemoryStages(const NnunetModel& model, const std::array<int64_t, 3>& imageSize,
                                  const std::array<double, 3>& imageSpacing);

}  // namespace nephro::inference
