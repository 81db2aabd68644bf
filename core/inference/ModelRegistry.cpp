#include "inference/ModelRegistry.h"

#include "common/PhaseRules.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/Resources.h"
#include "inference/NnunetResampling.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nephro::inference {
namespace {

bool isPhase(const std::string& p) { return p == "A" || p == "P" || p == "D"; }

bool has(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

}  // namespace

std::vector<std::string> ModelManifest::requiredPhases() const {
  std::vector<std::string> out;
  for (const auto& in : inputs)
    if (in.phase != "any" && !has(out, in.phase)) out.push_back(in.phase);
  return out;
}

std::vector<std::string> ModelManifest::assignPhases(const std::vector<std::string>& available) const {
  std::vector<std::string> assigned(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ManifestInput& in = inputs[i];
    std::string phase;
    if (in.phase == "any") {
      phase = anyPhaseChoice(anyOrder, available);
    } else if (has(available, in.phase)) {
      phase = in.phase;
    }
    if (phase.empty()) return {};
    assigned[static_cast<size_t>(in.channel)] = phase;
  }
  return assigned;
}

std::string ModelManifest::outputPhase(const std::vector<std::string>& assigned) const {
  if (isPhase(outputSpace)) return outputSpace;
  return assigned.empty() ? std::string() : assigned.front();
}

ModelManifest parseManifest(const std::string& jsonText, const std::string& manifestPath) {
  json j;
  try {
    j = json::parse(jsonText);
  } catch (const json::exception& e) {
    throw modelError(manifestPath, std::string("manifest is not valid JSON (") + e.what() + ")");
  }
  ModelManifest m;
  m.manifestPath = manifestPath;
  try {
    m.id = j.at("id").get<std::string>();
    m.version = j.value("version", "");
    m.description = j.value("description", "");
    std::string folder = j.at("folder").get<std::string>();
    fs::path fp(folder);
    if (fp.is_relative()) fp = fs::path(manifestPath).parent_path() / fp;
    m.folder = fp.lexically_normal().string();
    for (const auto& in : j.at("inputs")) {
      ManifestInput mi;
      mi.channel = in.at("channel").get<int>();
      mi.phase = in.at("phase").get<std::string>();
      if (!isPhase(mi.phase) && mi.phase != "any")
        throw modelError(manifestPath, "input phase '" + mi.phase + "' is not A, P, D or any");
      m.inputs.push_back(mi);
    }
    std::sort(m.inputs.begin(), m.inputs.end(), [](const ManifestInput& a, const ManifestInput& b) { return a.channel < b.channel; });
    for (size_t i = 0; i < m.inputs.size(); ++i)
      if (m.inputs[i].channel != static_cast<int>(i)) throw modelError(manifestPath, "input channels must be numbered 0, 1, ...");
    if (m.inputs.empty()) throw modelError(manifestPath, "manifest lists no inputs");
    if (j.contains("any_phase_order")) m.anyOrder = j.at("any_phase_order").get<std::vector<std::string>>();
    m.outputSpace = j.value("output_space", "input");
    m.configuration = j.value("configuration", "");
    if (j.contains("folds")) m.folds = j.at("folds").get<std::vector<int>>();
    m.tileStep = j.value("tile_step", 0.5);
    m.mirroring = j.value("mirroring", true);
    if (j.contains("label_map")) m.labelMap = j.at("label_map").get<std::map<std::string, std::string>>();
    m.validFor = j.value("valid_for", "");
    if (j.contains("recommended_spacing_mm")) m.recommendedSpacingMm = j.at("recommended_spacing_mm").get<double>();
    m.legacy = j.value("legacy", false);
  } catch (const json::exception& e) {
    throw modelError(manifestPath, std::string("manifest is malformed (") + e.what() + ")");
  }
  if (!(m.tileStep > 0 && m.tileStep <= 1)) throw modelError(manifestPath, "tile_step must be in (0, 1]");
  return m;
}

std::vector<ModelManifest> listManifests(const std::string& directory) {
  const fs::path dir = directory.empty() ? fs::path(modelsDir()) : fs::path(directory);
  std::vector<ModelManifest> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream ss;
    ss << in.rdbuf();
    out.push_back(parseManifest(ss.str(), entry.path().string()));
  }
  std::sort(out.begin(), out.end(), [](const ModelManifest& a, const ModelManifest& b) { return a.id < b.id; });
  return out;
}

ModelManifest findManifest(const std::string& id, const std::string& directory) {
  std::string known;
  for (auto& m : listManifests(directory)) {
    if (m.id == id) return m;
    known += (known.empty() ? "" : ", ") + m.id;
  }
  throw modelError(id, "no such model in the registry (known: " + (known.empty() ? std::string("none") : known) + ")");
}

std::string missingModelFiles(const ModelManifest& manifest) {
  const fs::path dir(manifest.folder);
  if (!fs::is_directory(dir)) return manifest.folder + " is missing";
  for (const char* f : {"plans.json", "dataset.json"})
    if (!fs::is_regular_file(dir / f)) return (dir / f).string() + " is missing";
  std::vector<int> folds = manifest.folds;
  if (folds.empty()) {
    bool any = false;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
      if (e.is_directory() && e.path().filename().string().rfind("fold_", 0) == 0) any = true;
    if (!any) return manifest.folder + " has no fold_N folder";
    return {};
  }
  for (int f : folds) {
    const fs::path fd = dir / ("fold_" + std::to_string(f));
    bool pt = false;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fd, ec))
      if (e.path().extension() == ".pt") pt = true;
    if (!pt) return fd.string() + " has no TorchScript network (*.pt)";
  }
  return {};
}

NnunetModel loadManifestModel(const ModelManifest& manifest) {
  const std::string missing = missingModelFiles(manifest);
  if (!missing.empty()) throw modelError(manifest.id, missing);
  NnunetModel model = loadNnunetModel(manifest.folder, manifest.configuration, manifest.folds, manifest.id);
  if (model.inputChannels() != static_cast<int>(manifest.inputs.size()))
    throw modelError(manifest.id, manifest.manifestPath + " lists " + std::to_string(manifest.inputs.size()) +
                                      " input(s) but dataset.json has " + std::to_string(model.inputChannels()) + " channel(s)");
  for (const auto& [from, to] : manifest.labelMap) {
    bool found = false;
    for (const auto& l : model.dataset.labels) found = found || l.name == from;
    if (!found) throw modelError(manifest.id, manifest.manifestPath + " maps label '" + from + "' that dataset.json does not define");
  }
  return model;
}

LabelTable modelLabelTable(const NnunetModel& model, const std::map<std::string, std::string>& labelMap) {
  LabelTable table;
  auto rename = [&](const std::string& name) {
    auto it = labelMap.find(name);
    return it == labelMap.end() ? name : it->second;
  };
  const DatasetInfo& ds = model.dataset;
  if (!ds.hasRegions) {
    for (const auto& l : ds.labels)
      if (l.values.front() != 0) table.set(LabelTable::schemaEntry(rename(l.name), l.values.front()));
  } else {
    // Region i is written with value regions_class_order[i].
    int i = 0;
    for (const auto& l : ds.labels) {
      if (l.values.size() == 1 && l.values[0] == 0) continue;
      if (i < static_cast<int>(ds.regionsClassOrder.size()))
        table.set(LabelTable::schemaEntry(rename(l.name), ds.regionsClassOrder[static_cast<size_t>(i)]));
      ++i;
    }
  }
  return table;
}

double estimateMemoryBytes(const NnunetModel& model, const std::array<int64_t, 3>& imageSize,
                           const std::array<double, 3>& imageSpacing) {
  return estimateMemoryStages(model, imageSize, imageSpacing).peak;
}

MemoryStages estimateMemoryStages(const NnunetModel& model, const std::array<int64_t, 3>& imageSize,
                                  const std::array<double, 3>& imageSpacing) {
  // In the model's (z, y, x) frame; transposition does not change the volume.
  const auto& sp = model.configuration.spacing;
  double voxels = 1.0;
  const std::array<double, 3> zyxSpacing{imageSpacing[2], imageSpacing[1], imageSpacing[0]};
  const std::array<int64_t, 3> zyxSize{imageSize[2], imageSize[1], imageSize[0]};
  double inputVoxels = 1.0;
  for (int k = 0; k < 3; ++k) {
    const int t = model.plans.transposeForward[k];
    const double n = std::max<double>(static_cast<double>(model.configuration.patchSize[k]),
                                      std::nearbyint(zyxSpacing[t] / sp[k] * static_cast<double>(zyxSize[t])));
    voxels *= n;
    inputVoxels *= static_cast<double>(zyxSize[t]);
  }
  const double channels = model.inputChannels();
  const double heads = model.dataset.segmentationHeads();
  const auto& p = model.configuration.patchSize;
  const double patchVoxels = static_cast<double>(p[0] * p[1] * p[2]);
  const double image = inputVoxels * channels * (2.0 + 4.0);  // the read image and its float copy
  const double resampling = voxels * 8.0 * 2.0;               // float64 work arrays of one channel
  const double networkInput = voxels * channels * 4.0;
  const double accumulators = voxels * (heads + 1.0) * 2.0 * 2.0;  // fp16 logits and counts, plus the fold sum
  const double network = patchVoxels * 32.0 * 4.0 * 6.0 * 8.0;     // activations of a batch of 8 mirrored tiles
  const double exportWork = inputVoxels * (8.0 + 4.0 + 2.0);
  // What the stage terms leave out, from bench_clinical_memory on 512x512x600:
  // the engine is ~190 MiB resident before it reads an image (`models`), and
  // LibTorch's allocator and per-thread scratch held up to ~110 MiB more than
  // the terms above (ureter model), so 320 MiB are added to every stage.
  const double runtime = 320.0 * 1048576.0;
  MemoryStages m;
  m.read = runtime + image;
  m.preprocess = runtime + image + resampling;
  m.predict = runtime + image + networkInput + accumulators + network;
  m.exportMask = runtime + image + accumulators + exportWork;
  m.peak = runtime + image + std::max(resampling, networkInput + accumulators + network) + exportWork;
  return m;
}

}  // namespace nephro::inference
