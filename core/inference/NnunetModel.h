#pragma once
// An nnU-Net v2 results folder: plans.json (current and older format),
// dataset.json (labels or regions) and one TorchScript network per fold
// (fold_N/*.pt, traced at the configuration's patch size). Parsing only; no
// LibTorch here.
#include <array>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nephro::inference {

struct IntensityProperties {
  double mean = 0, std = 1, percentile005 = 0, percentile995 = 0, min = 0, max = 0, median = 0;
};

// Keyword arguments of resample_data_or_seg_to_shape.
struct ResamplingSettings {
  int order = 3;
  int orderZ = 0;
  std::optional<bool> forceSeparateZ;  // null in plans: decided from the spacings
  double anisotropyThreshold = 3.0;
};

struct Configuration {
  std::string name;
  std::vector<int64_t> patchSize;  // in transposed axis order (2 or 3 entries)
  std::vector<double> spacing;     // idem
  std::vector<std::string> normalizationSchemes;
  std::vector<bool> useMaskForNorm;
  ResamplingSettings resamplingData;
  ResamplingSettings resamplingProbabilities{1, 0, std::nullopt, 3.0};
  std::string networkClass;
  std::string previousStage;  // cascades are not supported
};

struct Plans {
  std::string datasetName;
  std::string plansName;
  std::array<int, 3> transposeForward{0, 1, 2};
  std::array<int, 3> transposeBackward{0, 1, 2};
  std::map<int, IntensityProperties> intensityProperties;  // per input channel
  std::map<std::string, Configuration> configurations;
};

struct LabelDefinition {
  std::string name;
  std::vector<int> values;  // one value, or several for a region
};

struct DatasetInfo {
  std::vector<std::string> channelNames;  // index = input channel
  std::vector<LabelDefinition> labels;    // as listed, background included
  bool hasRegions = false;
  std::vector<int> regionsClassOrder;
  std::string fileEnding = ".nii.gz";
  // Output channels of the network: labels including background, or foreground regions.
  int segmentationHeads() const;
  int maxLabelValue() const;
};

struct FoldNetwork {
  int fold = 0;
  std::string path;  // the TorchScript file
  // Mirroring axes allowed at inference (checkpoint's inference_allowed_mirroring_axes,
  // exported as fold_N/inference.json); nullopt means mirroring is not allowed.
  std::optional<std::vector<int>> mirrorAxes;
};

struct NnunetModel {
  std::string folder;
  std::string id;  // for messages: the folder name or the manifest id
  Plans plans;
  DatasetInfo dataset;
  Configuration configuration;
  std::vector<FoldNetwork> folds;
  int inputChannels() const { return static_cast<int>(dataset.channelNames.size()); }
};

Plans parsePlans(const std::string& jsonText, const std::string& sourcePath);
DatasetInfo parseDataset(const std::string& jsonText, const std::string& sourcePath);

// Reads a results folder. `configuration` empty: the only one in plans, the one
// named by fold_N/inference.json or the folder name (Trainer__Plans__Config),
// else 3d_fullres. `folds` empty: every fold_N with a network (fold_all excluded).
// Throws a model error naming the folder and file on anything missing or inconsistent.
NnunetModel loadNnunetModel(const std::string& folder, const std::string& configuration = {},
                            const std::vector<int>& folds = {}, const std::string& id = {});

}  // namespace nephro::inference
