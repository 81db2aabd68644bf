#include "inference/NnunetPredictor.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/script.h>

#include "common/Error.h"
#include "common/HeapTuning.h"

namespace nephro::inference {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::string firstLine(const std::string& s) {
  const size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

bool isOutOfMemory(const std::exception& e) {
  const std::string what = e.what();
  return what.find("out of memory") != std::string::npos || what.find("CUDA error: out of memory") != std::string::npos;
}

// CUDA autocast for the duration of a scope (nnU-Net runs the network under
// torch.autocast('cuda'); on CPU it does not).
class AutocastScope {
 public:
  explicit AutocastScope(bool enable) : enabled_(enable) {
    if (enabled_) {
      at::autocast::set_enabled(true);
      at::autocast::increment_nesting();
    }
  }
  ~AutocastScope() {
    if (enabled_) {
      if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
      at::autocast::set_enabled(false);
    }
  }

 private:
  bool enabled_;
};

// itertools.combinations of the mirror axes (as tensor dims), sizes 1..n in order.
std::vector<std::vector<int64_t>> mirrorCombinations(const std::vector<int>& axes) {
  std::vector<std::vector<int64_t>> out;
  const int n = static_cast<int>(axes.size());
  for (int k = 1; k <= n; ++k) {
    std::vector<int> idx(k);
    for (int i = 0; i < k; ++i) idx[i] = i;
    while (true) {
      std::vector<int64_t> combo;
      for (int i : idx) combo.push_back(axes[i] + 2);
      out.push_back(combo);
      int i = k - 1;
      while (i >= 0 && idx[i] == n - k + i) --i;
      if (i < 0) break;
      ++idx[i];
      for (int j = i + 1; j < k; ++j) idx[j] = idx[j - 1] + 1;
    }
  }
  return out;
}

}  // namespace

DeviceInfo deviceInfo() {
  DeviceInfo info;
  info.cudaAvailable = torch::cuda::is_available();
  if (info.cudaAvailable)
    info.description = "CUDA (" + std::to_string(torch::cuda::device_count()) + " device(s))";
  else
    info.description = "CPU (" + std::to_string(std::max(1u, std::thread::hardware_concurrency())) + " threads)";
  return info;
}

struct NnunetPredictor::Impl {
  NnunetModel model;
  PredictorOptions options;
  std::vector<torch::jit::Module> networks;
  torch::Device device{torch::kCPU};
  bool accumulateOnDevice = true;
  bool outOfMemoryFallback = false;
  int64_t firstFeatures = 32;
  bool outputChecked = false;
  PredictionTimings timings;

  at::Tensor forward(size_t fold, const at::Tensor& x) {
    try {
      torch::jit::IValue out = networks[fold].forward({x});
      at::Tensor t;
      if (out.isTensor()) {
        t = out.toTensor();
      } else if (out.isTuple()) {
        t = out.toTuple()->elements().at(0).toTensor();
      } else if (out.isList()) {
        t = out.toList().get(0).toTensor();
      } else {
        throw modelError(model.id, model.folds[fold].path + " returns neither a tensor nor a tuple of tensors");
      }
      ++timings.forwardCalls;
      if (!outputChecked) {
        const auto& patch = model.configuration.patchSize;
        const int heads = model.dataset.segmentationHeads();
        if (t.dim() != 5 || t.size(1) != heads)
          throw modelError(model.id, model.folds[fold].path + " outputs " + std::to_string(t.dim() == 5 ? t.size(1) : -1) +
                                         " channels but dataset.json defines " + std::to_string(heads) + " segmentation heads");
        if (t.size(2) != patch[0] || t.size(3) != patch[1] || t.size(4) != patch[2])
          throw modelError(model.id, model.folds[fold].path + " output does not have the patch size of plans.json");
        outputChecked = true;
      }
      return t;
    } catch (const c10::Error& e) {
      if (isOutOfMemory(e)) throw;
      throw modelError(model.id, model.folds[fold].path + " failed on a " + std::to_string(x.size(1)) +
                                     "-channel patch of plans.json's size (" + firstLine(e.what_without_backtrace()) + ")");
    }
  }

  int64_t batchLimit() const {
    if (options.maxBatch > 0) return options.maxBatch;
    const auto& p = model.configuration.patchSize;
    const double voxels = static_cast<double>(p[0] * p[1] * p[2]);
    // Rough peak activation memory of one network input: a few full-resolution feature maps.
    const double perInput = voxels * static_cast<double>(firstFeatures) * 4.0 * 6.0;
    const double budget = device.is_cuda() ? 4e9 : 1.5e9;
    return std::clamp<int64_t>(static_cast<int64_t>(budget / perInput), 1, 8);
  }

  // One fold's sliding window over the padded input; fp16 logits [heads, padded] on `resultsDevice`.
  at::Tensor slidingWindow(size_t fold, const at::Tensor& padded, const std::vector<std::array<int64_t, 3>>& tiles,
                           const at::Tensor& gaussianCpu, torch::Device resultsDevice, const Progress& progress) {
    const auto& patch = model.configuration.patchSize;
    const int heads = model.dataset.segmentationHeads();
    const bool cuda = device.is_cuda();
    at::Tensor data = padded.to(resultsDevice);
    std::vector<int64_t> accShape{heads, padded.size(1), padded.size(2), padded.size(3)};
    at::Tensor acc = torch::zeros(accShape, torch::TensorOptions().dtype(torch::kHalf).device(resultsDevice));
    at::Tensor count = torch::zeros({padded.size(1), padded.size(2), padded.size(3)},
                                    torch::TensorOptions().dtype(torch::kHalf).device(resultsDevice));
    at::Tensor gaussian = gaussianCpu.to(resultsDevice);

    std::vector<std::vector<int64_t>> combos;
    const auto& axes = model.folds[fold].mirrorAxes;
    if (options.mirroring && axes && !axes->empty()) combos = mirrorCombinations(*axes);
    const int64_t batch = batchLimit();
    using torch::indexing::Slice;
    auto tileOf = [&](const at::Tensor& t, const std::array<int64_t, 3>& pos) {
      return t.index({Slice(), Slice(pos[0], pos[0] + patch[0]), Slice(pos[1], pos[1] + patch[1]),
                      Slice(pos[2], pos[2] + patch[2])});
    };
    auto accumulate = [&](at::Tensor prediction, const std::array<int64_t, 3>& pos) {
      prediction = prediction.to(resultsDevice);
      prediction.mul_(gaussian);
      tileOf(acc, pos).add_(prediction);
      tileOf(count.unsqueeze(0), pos).squeeze(0).add_(gaussian);
    };

    AutocastScope autocast(cuda);
    size_t next = 0;
    while (next < tiles.size()) {
      progress.throwIfCancelled();
      if (!combos.empty()) {
        // One tile and its mirrored copies, in as few forward calls as memory allows.
        at::Tensor x = tileOf(data, tiles[next]).unsqueeze(0).to(device);
        std::vector<at::Tensor> variants{x};
        for (const auto& c : combos) variants.push_back(torch::flip(x, c));
        std::vector<at::Tensor> outputs;
        for (size_t b = 0; b < variants.size(); b += static_cast<size_t>(batch)) {
          const size_t e = std::min(variants.size(), b + static_cast<size_t>(batch));
          std::vector<at::Tensor> chunk(variants.begin() + b, variants.begin() + e);
          at::Tensor out = forward(fold, chunk.size() == 1 ? chunk[0] : torch::cat(chunk, 0));
          for (int64_t i = 0; i < out.size(0); ++i) outputs.push_back(out.narrow(0, i, 1));
        }
        // prediction = net(x); prediction += flip(net(flip(x, axes)), axes) ...; prediction /= n
        at::Tensor prediction = outputs[0].clone();
        for (size_t i = 0; i < combos.size(); ++i) prediction += torch::flip(outputs[i + 1], combos[i]);
        prediction /= static_cast<int64_t>(combos.size() + 1);
        accumulate(prediction[0], tiles[next]);
        ++next;
        ++timings.tiles;
      } else {
        // Several tiles per forward call; accumulated one by one in nnU-Net's order.
        const size_t e = std::min(tiles.size(), next + static_cast<size_t>(batch));
        std::vector<at::Tensor> chunk;
        for (size_t t = next; t < e; ++t) chunk.push_back(tileOf(data, tiles[t]).unsqueeze(0).to(device));
        at::Tensor out = forward(fold, chunk.size() == 1 ? chunk[0] : torch::cat(chunk, 0));
        for (size_t t = next; t < e; ++t) accumulate(out[static_cast<int64_t>(t - next)], tiles[t]);
        timings.tiles += static_cast<int64_t>(e - next);
        next = e;
      }
      progress.report(static_cast<double>(next) / static_cast<double>(tiles.size()), "network");
    }
    at::Tensor result = acc.div(count);
    if (torch::isinf(result).any().item<bool>())
      throw Error(ErrorKind::Internal, "model " + model.id + ": fp16 overflow in the accumulated logits");
    return result;
  }
};

NnunetPredictor::NnunetPredictor(NnunetModel model, PredictorOptions options) : impl_(std::make_unique<Impl>()) {
  keepLargeBuffersInHeap();  // the network's activations are reallocated on every forward call
  impl_->model = std::move(model);
  impl_->options = options;
  const NnunetModel& m = impl_->model;
  if (!(options.tileStep > 0.0 && options.tileStep <= 1.0)) throw usageError("tile step must be in (0, 1]");
  const bool cuda = options.device == DeviceChoice::Cuda ||
                    (options.device == DeviceChoice::Auto && torch::cuda::is_available());
  if (options.device == DeviceChoice::Cuda && !torch::cuda::is_available())
    throw usageError("CUDA was requested but no CUDA device is available to this build");
  impl_->device = cuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);

  for (const FoldNetwork& fold : m.folds) {
    torch::jit::Module net;
    try {
      net = torch::jit::load(fold.path, torch::kCPU);
    } catch (const std::exception& e) {
      throw modelError(m.id, fold.path + " is not a readable TorchScript network (" + firstLine(e.what()) + ")");
    }
    net.eval();
    for (const at::Tensor& p : net.parameters()) {
      if (p.dim() != 5) continue;
      if (p.size(1) != m.inputChannels())
        throw modelError(m.id, fold.path + " expects " + std::to_string(p.size(1)) + " input channel(s) but dataset.json lists " +
                                   std::to_string(m.inputChannels()));
      impl_->firstFeatures = p.size(0);
      break;
    }
    try {
      if (cuda) {
        net.to(impl_->device);
      } else if (options.optimizeForInference) {
        net = torch::jit::optimize_for_inference(net);
      }
    } catch (const std::exception& e) {
      throw modelError(m.id, fold.path + " could not be prepared for inference (" + firstLine(e.what()) + ")");
    }
    impl_->networks.push_back(std::move(net));
  }
}

NnunetPredictor::~NnunetPredictor() = default;

const NnunetModel& NnunetPredictor::model() const { return impl_->model; }
const PredictorOptions& NnunetPredictor::options() const { return impl_->options; }
const PredictionTimings& NnunetPredictor::timings() const { return impl_->timings; }

std::string NnunetPredictor::deviceName() const {
  if (!impl_->device.is_cuda()) return "cpu";
  return impl_->outOfMemoryFallback ? "cuda (cpu accumulation)" : "cuda";
}

Logits NnunetPredictor::predictLogits(const PreprocessedCase& pre, const Progress& progress) {
  const auto t0 = Clock::now();
  Impl& d = *impl_;
  const NnunetModel& m = d.model;
  c10::InferenceMode inferenceMode;
  const auto& patch = m.configuration.patchSize;
  const int heads = m.dataset.segmentationHeads();
  if (pre.channels != m.inputChannels()) throw modelError(m.id, "preprocessed case has the wrong channel count");

  at::Tensor input = torch::from_blob(const_cast<float*>(pre.data.data()),
                                      {pre.channels, pre.shape[0], pre.shape[1], pre.shape[2]}, torch::kFloat);
  // pad_nd_image: only axes smaller than the patch, centred, zeros in normalised space.
  std::array<int64_t, 3> below{}, paddedShape{};
  std::vector<int64_t> pad;  // last axis first, as constant_pad_nd wants
  bool needsPad = false;
  for (int k = 0; k < 3; ++k) {
    const int64_t diff = std::max<int64_t>(0, patch[k] - pre.shape[k]);
    below[k] = diff / 2;
    paddedShape[k] = pre.shape[k] + diff;
    needsPad = needsPad || diff > 0;
  }
  for (int k = 2; k >= 0; --k) {
    const int64_t diff = paddedShape[k] - pre.shape[k];
    pad.push_back(below[k]);
    pad.push_back(diff - below[k]);
  }
  at::Tensor padded = needsPad ? torch::constant_pad_nd(input, pad, 0) : input;

  const auto s0 = slidingWindowSteps(paddedShape[0], patch[0], d.options.tileStep);
  const auto s1 = slidingWindowSteps(paddedShape[1], patch[1], d.options.tileStep);
  const auto s2 = slidingWindowSteps(paddedShape[2], patch[2], d.options.tileStep);
  std::vector<std::array<int64_t, 3>> tiles;
  for (int64_t a : s0)
    for (int64_t b : s1)
      for (int64_t c : s2) tiles.push_back({a, b, c});

  std::vector<uint16_t> gaussianBits = gaussianImportanceMap({patch[0], patch[1], patch[2]});
  at::Tensor gaussian = torch::from_blob(gaussianBits.data(), {patch[0], patch[1], patch[2]}, torch::kHalf).clone();

  d.timings.tiles = 0;
  d.timings.forwardCalls = 0;
  at::Tensor sum;
  const size_t folds = d.networks.size();
  for (size_t f = 0; f < folds; ++f) {
    const Progress foldProgress = progress.sub(static_cast<double>(f) / folds, static_cast<double>(f + 1) / folds);
    at::Tensor logits;
    const bool onDevice = d.device.is_cuda() && d.accumulateOnDevice;
    try {
      logits = d.slidingWindow(f, padded, tiles, gaussian, onDevice ? d.device : torch::Device(torch::kCPU), foldProgress);
    } catch (const c10::Error& e) {
      if (!onDevice || !isOutOfMemory(e)) throw Error(ErrorKind::Internal, "model " + m.id + ": " + firstLine(e.what_without_backtrace()));
      // GPU memory ran out for the accumulators: same computation, accumulated on the CPU.
      d.accumulateOnDevice = false;
      d.outOfMemoryFallback = true;
      logits = d.slidingWindow(f, padded, tiles, gaussian, torch::Device(torch::kCPU), foldProgress);
    }
    logits = logits.to(torch::kCPU);
    if (!sum.defined())
      sum = logits;
    else
      sum += logits;
  }
  if (folds > 1) sum /= static_cast<int64_t>(folds);
  using torch::indexing::Slice;
  sum = sum.index({Slice(), Slice(below[0], below[0] + pre.shape[0]), Slice(below[1], below[1] + pre.shape[1]),
                   Slice(below[2], below[2] + pre.shape[2])})
            .contiguous();
  Logits out;
  out.heads = heads;
  out.shape = pre.shape;
  out.values.resize(static_cast<size_t>(sum.numel()));
  std::memcpy(out.values.data(), sum.data_ptr(), out.values.size() * sizeof(uint16_t));
  d.timings.network = secondsSince(t0);
  return out;
}

Volume NnunetPredictor::predict(const std::vector<Volume>& channels, const Progress& progress) {
  PreprocessedCase pre = preprocessCase(impl_->model, channels, progress.sub(0.0, 0.1));
  impl_->timings.preprocess = pre.seconds;
  Logits logits = predictLogits(pre, progress.sub(0.1, 0.9));
  const auto t0 = Clock::now();
  Volume mask = exportSegmentation(impl_->model, logits, pre, progress.sub(0.9, 1.0));
  impl_->timings.exportSeg = secondsSince(t0);
  return mask;
}

}  // namespace nephro::inference
