#pragma once
// Writes small nnU-Net results folders for the inference tests: plans.json,
// dataset.json and fold_N/model.pt holding a one-layer TorchScript network
// (3x3x3 convolution), so no Python is needed.
#include <string>
#include <vector>

namespace nephro::test {

struct TinyModelSpec {
  int channels = 1;
  int heads = 3;                    // output channels; labels background + heads-1
  std::vector<int64_t> patch{16, 16, 16};
  std::vector<double> spacing{2.0, 2.0, 2.0};
  int folds = 1;
  bool oldPlansFormat = false;
  bool regions = false;             // heads foreground regions instead of labels
  int networkChannels = -1;         // network's real input channels (-1: = channels)
  int networkHeads = -1;            // network's real outputs (-1: = heads)
  std::vector<std::string> labelNames;  // foreground names (default label1, label2, ...)
};

void writeTinyModel(const std::string& folder, const TinyModelSpec& spec);

}  // namespace nephro::test
