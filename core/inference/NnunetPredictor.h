#pragma once
// nnU-Net v2's sliding-window predictor on TorchScript fold networks: centred
// zero padding to the patch, nnU-Net's tile positions and order, the fp16
// Gaussian, fp16 accumulation of Gaussian-weighted logits, mirroring, fold
// averaging in fp16. LibTorch stays inside the .cpp.
#include <memory>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"
#include "inference/NnunetModel.h"
#include "inference/NnunetPreprocessing.h"

namespace nephro::inference {

enum class DeviceChoice { Auto, Cpu, Cuda };

struct PredictorOptions {
  double tileStep = 0.5;  // fraction of the patch, (0, 1]
  bool mirroring = true;  // test-time mirroring where the checkpoint allows it
  DeviceChoice device = DeviceChoice::Auto;
  int threads = 0;                    // CPU threads; 0 = every core
  bool optimizeForInference = true;   // torch.jit.optimize_for_inference on CPU
  int maxBatch = 0;                   // network inputs per forward call; 0 = by memory
};

struct DeviceInfo {
  bool cudaAvailable = false;
  std::string description;  // "CPU (16 threads)" or "CUDA (n devices)"
};
DeviceInfo deviceInfo();

// Timings of the last prediction, in seconds.
struct PredictionTimings {
  double preprocess = 0, network = 0, exportSeg = 0;
  int64_t tiles = 0, forwardCalls = 0;
};

class NnunetPredictor {
 public:
  // Loads every fold network and checks it; throws a model error naming the file.
  explicit NnunetPredictor(NnunetModel model, PredictorOptions options = {});
  ~NnunetPredictor();
  NnunetPredictor(const NnunetPredictor&) = delete;
  NnunetPredictor& operator=(const NnunetPredictor&) = delete;

  const NnunetModel& model() const;
  const PredictorOptions& options() const;
  // "cpu" or "cuda"; after a GPU out-of-memory fallback "cuda (cpu accumulation)".
  std::string deviceName() const;
  const PredictionTimings& timings() const;

  // Fold-averaged logits of a preprocessed case (progress per tile, cancel between tiles).
  Logits predictLogits(const PreprocessedCase& pre, const Progress& progress = {});
  // Preprocess, predict and export: the mask in the geometry of channels[0].
  Volume predict(const std::vector<Volume>& channels, const Progress& progress = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nephro::inference
