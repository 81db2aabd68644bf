#include "TinyModel.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <torch/script.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace nephro::test {

void writeTinyModel(const std::string& folder, const TinyModelSpec& spec) {
  fs::create_directories(folder);
  json props = json::object();
  json schemes = json::array(), masks = json::array();
  for (int c = 0; c < spec.channels; ++c) {
    props[std::to_string(c)] = {{"mean", 50.0}, {"std", 100.0}, {"percentile_00_5", -200.0}, {"percentile_99_5", 400.0},
                                {"min", -1000.0}, {"max", 3000.0}, {"median", 40.0}};
    schemes.push_back("CTNormalization");
    masks.push_back(false);
  }
  json config{{"patch_size", spec.patch}, {"spacing", spec.spacing}, {"normalization_schemes", schemes},
              {"use_mask_for_norm", masks}, {"resampling_fn_data", "resample_data_or_seg_to_shape"},
              {"resampling_fn_data_kwargs", {{"is_seg", false}, {"order", 3}, {"order_z", 0}, {"force_separate_z", nullptr}}}};
  json plans{{"dataset_name", "Dataset999_Tiny"}, {"plans_name", "nnUNetPlans"}, {"transpose_forward", {0, 1, 2}},
             {"transpose_backward", {0, 1, 2}}};
  if (spec.oldPlansFormat) {
    config["UNet_class_name"] = "PlainConvUNet";
    config["UNet_base_num_features"] = 32;
    plans["foreground_intensity_properties_by_modality"] = props;
  } else {
    config["architecture"] = {{"network_class_name", "dynamic_network_architectures.architectures.unet.PlainConvUNet"}};
    plans["foreground_intensity_properties_per_channel"] = props;
  }
  plans["configurations"] = {{"3d_fullres", config}};
  std::ofstream(fs::path(folder) / "plans.json") << plans.dump(1);

  json channelNames = json::object();
  for (int c = 0; c < spec.channels; ++c) channelNames[std::to_string(c)] = "CT";
  json labels{{"background", 0}};
  json dataset{{"channel_names", channelNames}, {"file_ending", ".nii.gz"}};
  auto name = [&](int i) { return i - 1 < static_cast<int>(spec.labelNames.size()) ? spec.labelNames[i - 1] : "label" + std::to_string(i); };
  if (spec.regions) {
    json order = json::array();
    for (int i = 1; i <= spec.heads; ++i) {
      json region = json::array();
      for (int v = i; v <= spec.heads; ++v) region.push_back(v);
      labels[name(i)] = region.size() == 1 ? region[0] : region;
      order.push_back(i);
    }
    dataset["regions_class_order"] = order;
  } else {
    for (int i = 1; i < spec.heads; ++i) labels[name(i)] = i;
  }
  dataset["labels"] = labels;
  std::ofstream(fs::path(folder) / "dataset.json") << dataset.dump(1);

  const int inC = spec.networkChannels > 0 ? spec.networkChannels : spec.channels;
  const int outC = spec.networkHeads > 0 ? spec.networkHeads : spec.heads;
  for (int f = 0; f < spec.folds; ++f) {
    torch::manual_seed(17 + f);
    torch::jit::Module m("TinyNet");
    // Head h prefers intensities around a different level: a smooth, deterministic
    // convolution so that every label wins somewhere on a CT-like image.
    at::Tensor w = torch::randn({outC, inC, 3, 3, 3}) * 0.05;
    for (int h = 0; h < outC; ++h) w[h] += (h - (outC - 1) / 2.0) * 0.03;
    at::Tensor b = torch::linspace(-0.2, 0.2, outC);
    m.register_parameter("weight", w, false);
    m.register_parameter("bias", b, false);
    m.define(R"(
def forward(self, x):
    return torch.conv3d(x, self.weight, self.bias, [1, 1, 1], [1, 1, 1], [1, 1, 1], 1)
)");
    const fs::path dir = fs::path(folder) / ("fold_" + std::to_string(f));
    fs::create_directories(dir);
    m.save((dir / "model.pt").string());
  }
}

}  // namespace nephro::test
