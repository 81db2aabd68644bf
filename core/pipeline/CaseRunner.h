#pragma once
// Runs registered models on one case: each phase read once, preprocessing
// shared between models with the same spacing and normalisation, each mask
// written with its label table, and a provenance JSON (written last, so a
// case folder with provenance.json is complete).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPredictor.h"
#include "mesh/LabelMesher.h"
#include "pipeline/Case.h"
#include "pipeline/CasePost.h"

namespace nephro::pipeline {

// Networks kept loaded between cases: a batch loads each network once (keyed by
// model, folder, configuration, tile step and mirroring). Not thread-safe.
struct LoadedNetworks {
  std::map<std::string, std::unique_ptr<inference::NnunetPredictor>> predictors;
};

struct ModelRunOptions {
  inference::DeviceChoice device = inference::DeviceChoice::Auto;
  int threads = 0;
  bool plainNetwork = false;  // one tile per forward call, no inference optimisation (nnU-Net's arithmetic)
  // Overrides of the manifests' values.
  std::optional<double> tileStep;
  std::optional<bool> mirroring;
  std::string modelsDirectory;  // empty: modelsDir()
  std::shared_ptr<LoadedNetworks> networks;  // null: every run loads its networks
};

struct ModelRunRecord {
  std::string id, version, folder, configuration;
  std::vector<int> folds;
  double tileStep = 0.5;
  bool mirroring = true;
  std::string device;
  std::vector<std::string> inputPhases;  // per channel
  std::string outputPhase;
  std::string output;
  bool sharedPreprocessing = false;  // the whole network input came from an earlier model
  int sharedChannels = 0;            // input channels taken from an earlier model's preprocessing
  double preprocessSeconds = 0, networkSeconds = 0, exportSeconds = 0, writeSeconds = 0;
  int64_t tiles = 0;
};

// What runs on a case after its models.
struct CaseSteps {
  std::vector<post::PostStepRequest> post;  // in order; each sees the earlier results
  bool mesh = false;                        // meshes of every mask written, in outDir/meshes/<layer>/
  std::vector<MeshFormat> meshFormats{MeshFormat::Obj};
  CoordinateSpace meshSpace = CoordinateSpace::LPS;
};

struct CaseRunReport {
  std::string caseName;
  std::vector<ModelRunRecord> models;
  std::vector<PostRunRecord> post;
  std::vector<std::string> meshFiles;
  std::map<std::string, int> readsPerPhase;
  double readSeconds = 0, meshSeconds = 0, totalSeconds = 0;
  std::string provenancePath;
};

// The registered models a case can run (its phases cover their inputs), non-legacy first.
std::vector<std::string> modelsAvailableFor(const Case& c, const std::string& modelsDirectory = {},
                                            bool includeLegacy = false, bool requireFiles = true);

// Runs `modelIds` in turn and writes outDir/<id>.nii.gz (+ .json label table),
// then the post-processing steps and meshes of `steps`, and last
// outDir/provenance.json. Everything is checked before the first network runs
// (models, phases, and that each post step will find the labels it needs).
CaseRunReport runModelsOnCase(Case& c, const std::vector<std::string>& modelIds, const std::string& outDir,
                              const ModelRunOptions& options = {}, const Progress& progress = {},
                              const CaseSteps& steps = {});

// One registered model to one output file (mask + label sidecar), no provenance.
ModelRunRecord runModelToFile(Case& c, const std::string& modelId, const std::string& outPath,
                              const ModelRunOptions& options = {}, const Progress& progress = {});

// Writes `mask` and its label table (sidecar) atomically together.
void writeMaskWithTable(const Volume& mask, const LabelTable& table, const std::string& path);

}  // namespace nephro::pipeline
