// nephro3d infer <model> --image ... [--image-p ...] --out mask.nii.gz
// nephro3d infer --model-dir DIR [--configuration C] [--folds 0,1] [--step 0.5]
//                [--no-mirroring] --image ch0 [--image ch1 ...] --out mask.nii.gz
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "common/Error.h"
#include "image/Resample.h"
#include "image/VolumeIO.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPredictor.h"
#include "pipeline/CaseRunner.h"

namespace nephro::cli {
namespace {

struct InferOptions {
  std::string model;
  std::string modelDir;
  std::string configuration;
  std::string folds;
  double step = -1;
  bool noMirroring = false;
  std::vector<std::string> images;
  std::string imageA, imageP, imageD;
  std::string out;
  std::string device = "auto";
  int threads = 0;
  bool plainNetwork = false;
  bool quiet = false;
};

inference::DeviceChoice parseDevice(const std::string& d) {
  if (d == "cpu") return inference::DeviceChoice::Cpu;
  if (d == "cuda") return inference::DeviceChoice::Cuda;
  return inference::DeviceChoice::Auto;
}

std::vector<int> parseFolds(const std::string& text) {
  std::vector<int> folds;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    try {
      size_t used = 0;
      folds.push_back(std::stoi(item, &used));
      if (used != item.size()) throw std::invalid_argument(item);
    } catch (const std::exception&) {
      throw usageError("--folds expects numbers separated by commas, got '" + text + "'");
    }
  }
  return folds;
}

// Any nnU-Net results folder, no manifest: channels in order, resampled onto channel 0's grid.
void inferModelDir(const InferOptions& o) {
  Progress progress = terminalProgress(o.quiet);
  inference::NnunetModel model = inference::loadNnunetModel(o.modelDir, o.configuration, parseFolds(o.folds));
  if (static_cast<int>(o.images.size()) != model.inputChannels())
    throw usageError("model " + model.id + " needs " + std::to_string(model.inputChannels()) + " --image (one per channel), got " +
                     std::to_string(o.images.size()));
  inference::PredictorOptions po;
  po.device = parseDevice(o.device);
  po.threads = o.threads;
  if (o.plainNetwork) {
    po.optimizeForInference = false;
    po.maxBatch = 1;
  }
  if (o.step > 0) po.tileStep = o.step;
  po.mirroring = !o.noMirroring;
  const auto t0 = std::chrono::steady_clock::now();
  inference::NnunetPredictor predictor(model, po);
  std::vector<Volume> channels;
  for (size_t i = 0; i < o.images.size(); ++i) {
    Volume v = readVolume(o.images[i], {}, progress.sub(0.0, 0.05));
    if (i > 0 && !(v.geometry().size == channels[0].geometry().size && v.geometry().sameGrid(channels[0].geometry()))) {
      if (!gridsOverlap(v.geometry(), channels[0].geometry()))
        throw inputError(o.images[i], "does not overlap " + o.images[0] + " in space");
      v = resampleToGrid(v, channels[0].geometry(), Interpolation::Linear, v.range().first);
    }
    channels.push_back(std::move(v));
  }
  Volume mask = predictor.predict(channels, progress.sub(0.05, 0.97));
  pipeline::writeMaskWithTable(mask, inference::modelLabelTable(model), o.out);
  finishProgressLine();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!o.quiet)
    std::printf("%s (%s, %zu fold(s), %s): %s (%.1f s; preprocess %.1f s, network %.1f s, export %.1f s)\n", model.id.c_str(),
                model.configuration.name.c_str(), model.folds.size(), predictor.deviceName().c_str(), o.out.c_str(), seconds,
                predictor.timings().preprocess, predictor.timings().network, predictor.timings().exportSeg);
}

void inferRegistered(const InferOptions& o) {
  Progress progress = terminalProgress(o.quiet);
  inference::ModelManifest manifest = inference::findManifest(o.model);
  if (!o.configuration.empty() || !o.folds.empty())
    throw usageError("--configuration and --folds apply to --model-dir; a registered model takes them from its manifest");
  // --image feeds the model's first input; --image-a/-p/-d name phases explicitly.
  std::map<std::string, std::string> files;
  if (!o.imageA.empty()) files["A"] = o.imageA;
  if (!o.imageP.empty()) files["P"] = o.imageP;
  if (!o.imageD.empty()) files["D"] = o.imageD;
  if (o.images.size() > 1) throw usageError("a registered model takes one --image; use --image-a/--image-p/--image-d for more phases");
  if (!o.images.empty()) {
    std::string phase = manifest.inputs.front().phase;
    if (phase == "any") phase = manifest.anyOrder.empty() ? "A" : manifest.anyOrder.front();
    if (files.count(phase)) throw usageError("--image and --image-" + phase + " both give phase " + phase);
    files[phase] = o.images.front();
  }
  if (files.empty()) throw usageError("give the input image with --image (and --image-p etc. for more phases)");
  pipeline::Case c = pipeline::Case::fromFiles(files);
  pipeline::ModelRunOptions ro;
  ro.device = parseDevice(o.device);
  ro.threads = o.threads;
  ro.plainNetwork = o.plainNetwork;
  if (o.step > 0) ro.tileStep = o.step;
  if (o.noMirroring) ro.mirroring = false;
  const auto t0 = std::chrono::steady_clock::now();
  pipeline::ModelRunRecord r = pipeline::runModelToFile(c, o.model, o.out, ro, progress);
  finishProgressLine();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!o.quiet)
    std::printf("%s (%s): %s in %s space (%.1f s; preprocess %.1f s, network %.1f s, export %.1f s, write %.1f s)\n",
                r.id.c_str(), r.device.c_str(), o.out.c_str(), r.outputPhase.c_str(), seconds, r.preprocessSeconds,
                r.networkSeconds, r.exportSeconds, r.writeSeconds);
}

RegisterCommand reg(40, [](CLI::App& root) {
  auto o = std::make_shared<InferOptions>();
  CLI::App* sub = root.add_subcommand("infer", "Run one nnU-Net model (registered, or any results folder with --model-dir)");
  sub->add_option("model", o->model, "Registered model id (see nephro3d models)");
  sub->add_option("--model-dir", o->modelDir, "An nnU-Net v2 results folder with TorchScript folds (no manifest needed)");
  sub->add_option("--configuration", o->configuration, "Configuration in plans.json (with --model-dir)");
  sub->add_option("--folds", o->folds, "Folds to average, e.g. 0,1 (with --model-dir; default: all)");
  sub->add_option("--step", o->step, "Tile step as a fraction of the patch (default 0.5 or the manifest's)")
      ->check(CLI::Range(0.01, 1.0));
  sub->add_flag("--no-mirroring", o->noMirroring, "Disable test-time mirroring");
  sub->add_flag("--plain-network", o->plainNetwork,
                "Run the network as nnU-Net does (one tile per call, not optimised): bit-identical logits, slower on CPU");
  sub->add_option("--image", o->images, "Input image (registered: the model's first phase; --model-dir: one per channel)");
  sub->add_option("--image-a", o->imageA, "Arterial phase image");
  sub->add_option("--image-p", o->imageP, "Portal phase image");
  sub->add_option("--image-d", o->imageD, "Delayed phase image");
  sub->add_option("--out", o->out, "Output mask (.nii.gz, .nrrd, ...); a label table .json is written beside it")->required();
  sub->add_option("--device", o->device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  sub->add_option("--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  sub->add_flag("--quiet,-q", o->quiet, "No progress output");
  sub->callback([o] {
    if (o->model.empty() == o->modelDir.empty()) throw usageError("infer needs either a model id or --model-dir DIR");
    if (!o->modelDir.empty()) {
      if (o->images.empty()) throw usageError("--model-dir needs --image (one per input channel)");
      inferModelDir(*o);
    } else {
      inferRegistered(*o);
    }
  });
});

}  // namespace
}  // namespace nephro::cli
