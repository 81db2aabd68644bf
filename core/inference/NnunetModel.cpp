#include "inference/NnunetModel.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/Error.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nephro::inference {
namespace {

std::string readText(const fs::path& path, const std::string& modelId) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw modelError(modelId, path.string() + " is missing or unreadable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json parseJson(const std::string& text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw modelError(source, std::string("is not valid JSON (") + e.what() + ")");
  }
}

[[noreturn]] void bad(const std::string& source, const std::string& problem) {
  throw modelError(source, problem);
}

std::array<int, 3> readPermutation(const json& j, const char* key, const std::string& source) {
  std::array<int, 3> p{0, 1, 2};
  if (!j.contains(key)) return p;
  const json& v = j.at(key);
  if (!v.is_array() || v.size() != 3) bad(source, std::string(key) + " must list 3 axes");
  for (int i = 0; i < 3; ++i) p[i] = v[i].get<int>();
  std::array<int, 3> sorted = p;
  std::sort(sorted.begin(), sorted.end());
  if (sorted != std::array<int, 3>{0, 1, 2}) bad(source, std::string(key) + " is not a permutation of 0,1,2");
  return p;
}

ResamplingSettings readResampling(const json& cfg, const char* fnKey, const char* kwKey,
                                  ResamplingSettings defaults, const std::string& source) {
  ResamplingSettings r = defaults;
  if (cfg.contains(fnKey) && cfg.at(fnKey).is_string()) {
    std::string fn = cfg.at(fnKey).get<std::string>();
    if (fn != "resample_data_or_seg_to_shape")
      bad(source, std::string(fnKey) + " '" + fn + "' is not supported (only resample_data_or_seg_to_shape)");
  }
  if (cfg.contains(kwKey) && cfg.at(kwKey).is_object()) {
    const json& kw = cfg.at(kwKey);
    if (kw.contains("order")) r.order = kw.at("order").get<int>();
    if (kw.contains("order_z")) r.orderZ = kw.at("order_z").get<int>();
    if (kw.contains("force_separate_z")) {
      const json& f = kw.at("force_separate_z");
      r.forceSeparateZ = f.is_null() ? std::nullopt : std::optional<bool>(f.get<bool>());
    }
    if (kw.contains("separate_z_anisotropy_threshold"))
      r.anisotropyThreshold = kw.at("separate_z_anisotropy_threshold").get<double>();
  }
  if (r.order != 0 && r.order != 1 && r.order != 3) bad(source, "resampling order " + std::to_string(r.order) + " is not supported (0, 1 or 3)");
  if (r.orderZ != 0) bad(source, "order_z " + std::to_string(r.orderZ) + " is not supported (0)");
  return r;
}

// Resolves inherits_from: the parent's keys, then the child's on top.
json resolveConfiguration(const json& configs, const std::string& name, const std::string& source, int depth = 0) {
  if (depth > 16) bad(source, "configuration " + name + ": inherits_from loops");
  if (!configs.contains(name)) bad(source, "has no configuration '" + name + "'");
  json child = configs.at(name);
  if (!child.is_object()) bad(source, "configuration " + name + " is not an object");
  if (child.contains("inherits_from") && child.at("inherits_from").is_string()) {
    json merged = resolveConfiguration(configs, child.at("inherits_from").get<std::string>(), source, depth + 1);
    for (auto it = child.begin(); it != child.end(); ++it) merged[it.key()] = it.value();
    return merged;
  }
  return child;
}

Configuration readConfiguration(const json& cfg, const std::string& name, const std::string& source) {
  Configuration c;
  c.name = name;
  const std::string where = source + " configuration " + name;
  try {
    if (!cfg.contains("patch_size") || !cfg.contains("spacing")) bad(where, "lacks patch_size or spacing");
    c.patchSize = cfg.at("patch_size").get<std::vector<int64_t>>();
    c.spacing = cfg.at("spacing").get<std::vector<double>>();
    if (cfg.contains("normalization_schemes"))
      c.normalizationSchemes = cfg.at("normalization_schemes").get<std::vector<std::string>>();
    if (cfg.contains("use_mask_for_norm")) c.useMaskForNorm = cfg.at("use_mask_for_norm").get<std::vector<bool>>();
    c.resamplingData = readResampling(cfg, "resampling_fn_data", "resampling_fn_data_kwargs", {3, 0, std::nullopt, 3.0}, where);
    c.resamplingProbabilities =
        readResampling(cfg, "resampling_fn_probabilities", "resampling_fn_probabilities_kwargs", {1, 0, std::nullopt, 3.0}, where);
    if (cfg.contains("architecture") && cfg.at("architecture").contains("network_class_name"))
      c.networkClass = cfg.at("architecture").at("network_class_name").get<std::string>();
    else if (cfg.contains("UNet_class_name"))  // older plans format
      c.networkClass = cfg.at("UNet_class_name").get<std::string>();
    if (cfg.contains("previous_stage") && cfg.at("previous_stage").is_string())
      c.previousStage = cfg.at("previous_stage").get<std::string>();
  } catch (const json::exception& e) {
    bad(where, std::string("has a malformed entry (") + e.what() + ")");
  }
  if (c.patchSize.size() != 3 && c.patchSize.size() != 2) bad(where, "patch_size must have 2 or 3 entries");
  if (c.spacing.size() != c.patchSize.size()) bad(where, "spacing and patch_size differ in length");
  for (int64_t p : c.patchSize)
    if (p < 1 || p > 4096) bad(where, "patch_size has an absurd entry");
  for (double s : c.spacing)
    if (!(s > 0) || s > 1e4) bad(where, "spacing has an absurd entry");
  return c;
}

bool isFoldDirName(const std::string& name, int& fold) {
  if (name.rfind("fold_", 0) != 0 || name.size() <= 5) return false;
  const std::string digits = name.substr(5);
  if (!std::all_of(digits.begin(), digits.end(), ::isdigit) || digits.size() > 4) return false;
  fold = std::stoi(digits);
  return true;
}

std::string findNetworkFile(const fs::path& foldDir) {
  for (const char* preferred : {"checkpoint_final.pt", "model.pt"})
    if (fs::is_regular_file(foldDir / preferred)) return (foldDir / preferred).string();
  std::vector<std::string> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(foldDir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".pt") candidates.push_back(entry.path().string());
  std::sort(candidates.begin(), candidates.end());
  return candidates.empty() ? std::string() : candidates.front();
}

}  // namespace

int DatasetInfo::segmentationHeads() const {
  if (!hasRegions) return static_cast<int>(labels.size());
  int n = 0;
  for (const auto& l : labels)
    if (!(l.values.size() == 1 && l.values[0] == 0)) ++n;
  return n;
}

int DatasetInfo::maxLabelValue() const {
  int m = 0;
  if (hasRegions) {
    for (int v : regionsClassOrder) m = std::max(m, v);
  } else {
    for (const auto& l : labels)
      for (int v : l.values) m = std::max(m, v);
  }
  return m;
}

Plans parsePlans(const std::string& jsonText, const std::string& sourcePath) {
  json j = parseJson(jsonText, sourcePath);
  if (!j.is_object()) bad(sourcePath, "is not a JSON object");
  Plans p;
  p.datasetName = j.value("dataset_name", "");
  p.plansName = j.value("plans_name", "");
  p.transposeForward = readPermutation(j, "transpose_forward", sourcePath);
  p.transposeBackward = readPermutation(j, "transpose_backward", sourcePath);
  const char* propsKey = j.contains("foreground_intensity_properties_per_channel")
                             ? "foreground_intensity_properties_per_channel"
                             : "foreground_intensity_properties_by_modality";
  if (j.contains(propsKey)) {
    try {
      for (auto it = j.at(propsKey).begin(); it != j.at(propsKey).end(); ++it) {
        const json& v = it.value();
        IntensityProperties ip;
        ip.mean = v.value("mean", 0.0);
        ip.std = v.value("std", 1.0);
        ip.percentile005 = v.value("percentile_00_5", 0.0);
        ip.percentile995 = v.value("percentile_99_5", 0.0);
        ip.min = v.value("min", 0.0);
        ip.max = v.value("max", 0.0);
        ip.median = v.value("median", 0.0);
        p.intensityProperties[std::stoi(it.key())] = ip;
      }
    } catch (const std::exception& e) {
      bad(sourcePath, std::string(propsKey) + " is malformed (" + e.what() + ")");
    }
  }
  if (!j.contains("configurations") || !j.at("configurations").is_object() || j.at("configurations").empty())
    bad(sourcePath, "has no configurations");
  const json& configs = j.at("configurations");
  for (auto it = configs.begin(); it != configs.end(); ++it) {
    json resolved = resolveConfiguration(configs, it.key(), sourcePath);
    p.configurations[it.key()] = readConfiguration(resolved, it.key(), sourcePath);
  }
  return p;
}

DatasetInfo parseDataset(const std::string& jsonText, const std::string& sourcePath) {
  // Key order matters: regions are the network's outputs in the order dataset.json lists them.
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(jsonText);
  } catch (const std::exception& e) {
    bad(sourcePath, std::string("is not valid JSON (") + e.what() + ")");
  }
  if (!j.is_object()) bad(sourcePath, "is not a JSON object");
  DatasetInfo d;
  const char* chKey = j.contains("channel_names") ? "channel_names" : "modality";
  if (!j.contains(chKey) || !j.at(chKey).is_object() || j.at(chKey).empty()) bad(sourcePath, "has no channel_names");
  std::map<int, std::string> channels;
  try {
    for (auto it = j.at(chKey).begin(); it != j.at(chKey).end(); ++it) channels[std::stoi(it.key())] = it.value().get<std::string>();
  } catch (const std::exception&) {
    bad(sourcePath, "channel_names must map \"0\", \"1\", ... to names");
  }
  int expect = 0;
  for (const auto& [index, name] : channels) {
    if (index != expect++) bad(sourcePath, "channel_names are not numbered 0, 1, ...");
    d.channelNames.push_back(name);
  }
  if (!j.contains("labels") || !j.at("labels").is_object() || j.at("labels").empty()) bad(sourcePath, "has no labels");
  try {
    for (auto it = j.at("labels").begin(); it != j.at("labels").end(); ++it) {
      LabelDefinition l;
      l.name = it.key();
      if (l.name == "ignore") continue;  // the ignore label is no network output
      if (it.value().is_array()) {
        l.values = it.value().get<std::vector<int>>();
        if (l.values.size() > 1) d.hasRegions = true;
      } else {
        l.values = {it.value().get<int>()};
      }
      if (l.values.empty()) bad(sourcePath, "label " + l.name + " has no value");
      d.labels.push_back(l);
    }
  } catch (const nlohmann::ordered_json::exception& e) {
    bad(sourcePath, std::string("labels are malformed (") + e.what() + ")");
  }
  // Plain labels: sorted by value, so that output index == label value.
  if (!d.hasRegions)
    std::stable_sort(d.labels.begin(), d.labels.end(),
                     [](const LabelDefinition& a, const LabelDefinition& b) { return a.values.front() < b.values.front(); });
  if (d.hasRegions) {
    if (!j.contains("regions_class_order")) bad(sourcePath, "has regions but no regions_class_order");
    d.regionsClassOrder = j.at("regions_class_order").get<std::vector<int>>();
    if (static_cast<int>(d.regionsClassOrder.size()) != d.segmentationHeads())
      bad(sourcePath, "regions_class_order lists " + std::to_string(d.regionsClassOrder.size()) + " entries for " +
                          std::to_string(d.segmentationHeads()) + " regions");
  } else {
    for (size_t i = 0; i < d.labels.size(); ++i)
      if (d.labels[i].values[0] != static_cast<int>(i))
        bad(sourcePath, "labels must be consecutive from 0 (background); found " + std::to_string(d.labels[i].values[0]) +
                            " for " + d.labels[i].name);
  }
  if (d.maxLabelValue() > 65535) bad(sourcePath, "label values above 65535 are not supported");
  d.fileEnding = j.value("file_ending", ".nii.gz");
  return d;
}

NnunetModel loadNnunetModel(const std::string& folder, const std::string& configuration, const std::vector<int>& folds,
                            const std::string& id) {
  NnunetModel m;
  m.folder = folder;
  fs::path dir(folder);
  m.id = id.empty() ? dir.filename().string() : id;
  if (m.id.empty()) m.id = folder;
  if (!fs::is_directory(dir)) throw modelError(m.id, folder + " is not a folder");
  const fs::path plansPath = dir / "plans.json", datasetPath = dir / "dataset.json";
  m.plans = parsePlans(readText(plansPath, m.id), plansPath.string());
  m.dataset = parseDataset(readText(datasetPath, m.id), datasetPath.string());

  // Fold folders with a network.
  std::map<int, fs::path> foldDirs;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    int f = 0;
    if (entry.is_directory() && isFoldDirName(entry.path().filename().string(), f)) foldDirs[f] = entry.path();
  }
  std::vector<int> wanted = folds;
  if (wanted.empty())
    for (const auto& [f, p] : foldDirs)
      if (!findNetworkFile(p).empty()) wanted.push_back(f);
  if (wanted.empty()) throw modelError(m.id, folder + " has no fold_N folder with a TorchScript network (*.pt)");

  std::string configFromFold;
  for (int f : wanted) {
    auto it = foldDirs.find(f);
    if (it == foldDirs.end()) throw modelError(m.id, (dir / ("fold_" + std::to_string(f))).string() + " is missing");
    FoldNetwork fn;
    fn.fold = f;
    fn.path = findNetworkFile(it->second);
    if (fn.path.empty()) throw modelError(m.id, it->second.string() + " holds no TorchScript network (*.pt)");
    fn.mirrorAxes = std::vector<int>{0, 1, 2};
    const fs::path infoPath = it->second / "inference.json";
    if (fs::is_regular_file(infoPath)) {
      json info = parseJson(readText(infoPath, m.id), infoPath.string());
      try {
        if (info.contains("inference_allowed_mirroring_axes")) {
          const json& axes = info.at("inference_allowed_mirroring_axes");
          fn.mirrorAxes = axes.is_null() ? std::nullopt : std::optional<std::vector<int>>(axes.get<std::vector<int>>());
        }
        if (info.contains("configuration") && configFromFold.empty())
          configFromFold = info.at("configuration").get<std::string>();
      } catch (const json::exception& e) {
        throw modelError(m.id, infoPath.string() + " is malformed (" + e.what() + ")");
      }
    }
    m.folds.push_back(fn);
  }

  std::string configName = configuration;
  if (configName.empty()) {
    if (m.plans.configurations.size() == 1) {
      configName = m.plans.configurations.begin()->first;
    } else if (!configFromFold.empty()) {
      configName = configFromFold;
    } else {
      const std::string name = dir.filename().string();
      const size_t pos = name.rfind("__");
      if (pos != std::string::npos && m.plans.configurations.count(name.substr(pos + 2)))
        configName = name.substr(pos + 2);
      else
        configName = "3d_fullres";
    }
  }
  auto cit = m.plans.configurations.find(configName);
  if (cit == m.plans.configurations.end()) {
    std::string known;
    for (const auto& [k, v] : m.plans.configurations) known += (known.empty() ? "" : ", ") + k;
    throw modelError(m.id, plansPath.string() + " has no configuration '" + configName + "' (has " + known + ")");
  }
  m.configuration = cit->second;
  if (m.configuration.patchSize.size() != 3)
    throw modelError(m.id, plansPath.string() + " configuration " + configName + " is 2D; only 3D configurations are supported");
  if (!m.configuration.previousStage.empty())
    throw modelError(m.id, plansPath.string() + " configuration " + configName + " is a cascade stage; cascades are not supported");
  const size_t channels = m.dataset.channelNames.size();
  if (m.configuration.normalizationSchemes.size() != channels)
    throw modelError(m.id, plansPath.string() + " lists " + std::to_string(m.configuration.normalizationSchemes.size()) +
                               " normalization schemes for " + std::to_string(channels) + " channels in dataset.json");
  for (size_t c = 0; c < channels; ++c) {
    const std::string& scheme = m.configuration.normalizationSchemes[c];
    if (scheme != "CTNormalization" && scheme != "ZScoreNormalization" && scheme != "NoNormalization")
      throw modelError(m.id, plansPath.string() + " normalization scheme '" + scheme + "' is not supported");
    if (scheme == "CTNormalization" && !m.plans.intensityProperties.count(static_cast<int>(c)))
      throw modelError(m.id, plansPath.string() + " lacks foreground intensity properties for channel " + std::to_string(c));
  }
  if (m.configuration.useMaskForNorm.empty()) m.configuration.useMaskForNorm.assign(channels, false);
  if (m.configuration.useMaskForNorm.size() != channels)
    throw modelError(m.id, plansPath.string() + " use_mask_for_norm does not match the channel count");
  return m;
}

}  // namespace nephro::inference
