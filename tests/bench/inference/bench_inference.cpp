// Inference benchmark (prints figures, asserts nothing):
//  1. wall time and peak RSS per stage (read, preprocess, network, export, write)
//     for one model on the full-size phantom;
//  2. four models in one `nephro3d run` against four separate `nephro3d infer`
//     processes (ratio; aim <= 0.7);
//  3. image reads per phase in the run (must be 1).
// Uses the registered models when their files are present; otherwise tiny
// stand-in models written by the benchmark (then the network stage is trivial
// and says so).
//
//   bench_inference [--small] [--models-dir DIR] [--threads N]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "TinyModel.h"
#include "common/Resources.h"
#include "image/VolumeIO.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPredictor.h"
#include "phantom/Phantom.h"
#include "pipeline/CaseRunner.h"

namespace fs = std::filesystem;
using namespace nephro;
using Clock = std::chrono::steady_clock;

namespace {

double peakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024.0;
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double runTimed(const std::string& cmd) {
  const auto t0 = Clock::now();
  const int rc = std::system(cmd.c_str());
  if (rc != 0) std::printf("  command failed (%d): %s\n", rc, cmd.c_str());
  return since(t0);
}

void writeStandInModels(const std::string& dir) {
  // Four manifests, two sharing spacing/normalisation (their preprocessing is shared in a run).
  struct M { const char* id; const char* inputs; const char* out; double spacing; int channels; };
  const M models[] = {{"vessel", R"([{"channel":0,"phase":"A"},{"channel":1,"phase":"P"}])", "A", 1.5, 2},
                      {"ureter", R"([{"channel":0,"phase":"D"}])", "D", 1.5, 1},
                      {"tumor", R"([{"channel":0,"phase":"any"}])", "input", 1.5, 1},
                      {"totalseg", R"([{"channel":0,"phase":"any"}])", "input", 1.5, 1}};
  for (const M& m : models) {
    test::TinyModelSpec spec;
    spec.channels = m.channels;
    spec.patch = {64, 64, 64};
    spec.spacing = {m.spacing, m.spacing, m.spacing};
    test::writeTinyModel(dir + "/" + m.id + "_folder", spec);
    std::ofstream(dir + "/" + m.id + ".json") << "{\"id\":\"" << m.id << "\",\"version\":\"stand-in\",\"folder\":\"" << m.id
                                             << "_folder\",\"inputs\":" << m.inputs << ",\"output_space\":\"" << m.out
                                             << "\",\"folds\":[0],\"tile_step\":0.5,\"mirroring\":false}";
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool small = false;
  std::string modelsDirectory;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--small") small = true;
    else if (a == "--models-dir" && i + 1 < argc) modelsDirectory = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
  }
  const std::string work = std::string(NEPHRO3D_BINARY_DIR) + "/bench-scratch/inference";
  fs::remove_all(work);
  fs::create_directories(work + "/case");

  const std::vector<std::string> wanted{"vessel", "ureter", "tumor", "totalseg"};
  bool standIn = false;
  if (modelsDirectory.empty()) {
    modelsDirectory = modelsDir();
    for (const auto& id : wanted) {
      try {
        if (!inference::missingModelFiles(inference::findManifest(id, modelsDirectory)).empty()) standIn = true;
      } catch (const std::exception&) {
        standIn = true;
      }
    }
    if (standIn) {
      modelsDirectory = work + "/models";
      fs::create_directories(modelsDirectory);
      writeStandInModels(modelsDirectory);
    }
  }
  std::printf("models: %s%s\n", modelsDirectory.c_str(), standIn ? " (stand-in one-layer networks: network times are not representative)" : "");
  std::printf("device: %s\n", inference::deviceInfo().description.c_str());

  // The phantom, written once as a case folder.
  PhantomOptions po;
  po.size = small ? PhantomSize::Small : PhantomSize::Full;
  auto t = Clock::now();
  {
    PhantomCase ph = generatePhantom(po);
    writeVolume(ph.arterial, work + "/case/phantom_A.nii.gz");
    writeVolume(ph.portal, work + "/case/phantom_P.nii.gz");
    writeVolume(ph.delayed, work + "/case/phantom_D.nii.gz");
    std::printf("phantom %s: %s (generated and written in %.1f s)\n", small ? "small" : "full",
                ph.arterial.geometry().describe().c_str(), since(t));
  }

  // 1. Stages of one model (tumor: one phase).
  std::printf("\n[1] one model (tumor) on phase P, stage by stage\n");
  std::printf("  %-11s %9s %14s\n", "stage", "wall s", "peak RSS MB");
  inference::ModelManifest manifest = inference::findManifest("tumor", modelsDirectory);
  inference::NnunetModel model = inference::loadManifestModel(manifest);
  inference::PredictorOptions options;
  options.threads = threads;
  options.tileStep = manifest.tileStep;
  options.mirroring = manifest.mirroring;
  inference::NnunetPredictor predictor(model, options);
  t = Clock::now();
  Volume p = readVolume(work + "/case/phantom_P.nii.gz");
  std::printf("  %-11s %9.2f %14.0f\n", "read", since(t), peakRssMb());
  t = Clock::now();
  inference::PreprocessedCase pre = inference::preprocessCase(model, {p});
  std::printf("  %-11s %9.2f %14.0f   (network input %lldx%lldx%lld)\n", "preprocess", since(t), peakRssMb(),
              (long long)pre.shape[0], (long long)pre.shape[1], (long long)pre.shape[2]);
  t = Clock::now();
  inference::Logits logits = predictor.predictLogits(pre);
  std::printf("  %-11s %9.2f %14.0f   (%lld tiles, %lld forward calls, %s)\n", "network", since(t), peakRssMb(),
              (long long)predictor.timings().tiles, (long long)predictor.timings().forwardCalls, predictor.deviceName().c_str());
  t = Clock::now();
  Volume mask = inference::exportSegmentation(model, logits, pre);
  std::printf("  %-11s %9.2f %14.0f\n", "export", since(t), peakRssMb());
  t = Clock::now();
  pipeline::writeMaskWithTable(mask, inference::modelLabelTable(model, manifest.labelMap), work + "/tumor_single.nii.gz");
  std::printf("  %-11s %9.2f %14.0f\n", "write", since(t), peakRssMb());

  // 2. Four models: one run vs four infer processes.
  std::printf("\n[2] four models: one `run` vs four `infer` processes\n");
  const std::string bin = std::string(NEPHRO3D_BINARY_DIR) + "/bin/nephro3d";
  const std::string env = "NEPHRO3D_MODELS_DIR='" + modelsDirectory + "' ";
  const std::string thr = threads > 0 ? " --threads " + std::to_string(threads) : "";
  const double runSeconds = runTimed(env + bin + " run --quiet --case '" + work + "/case' --models vessel,ureter,tumor,totalseg --out '" +
                                     work + "/run'" + thr);
  const std::string c = work + "/case/phantom_";
  double inferSeconds = 0;
  inferSeconds += runTimed(env + bin + " infer vessel --quiet --image-a '" + c + "A.nii.gz' --image-p '" + c + "P.nii.gz' --out '" + work + "/infer/vessel.nii.gz'" + thr);
  inferSeconds += runTimed(env + bin + " infer ureter --quiet --image-d '" + c + "D.nii.gz' --out '" + work + "/infer/ureter.nii.gz'" + thr);
  inferSeconds += runTimed(env + bin + " infer tumor --quiet --image-p '" + c + "P.nii.gz' --out '" + work + "/infer/tumor.nii.gz'" + thr);
  inferSeconds += runTimed(env + bin + " infer totalseg --quiet --image-p '" + c + "P.nii.gz' --out '" + work + "/infer/totalseg.nii.gz'" + thr);
  std::printf("  one run: %.1f s   four infer: %.1f s   ratio %.2f (aim <= 0.7)\n", runSeconds, inferSeconds,
              inferSeconds > 0 ? runSeconds / inferSeconds : 0.0);

  // 3. Reads per phase in the run.
  std::printf("\n[3] image reads per phase in the run (must be 1)\n");
  try {
    auto prov = nlohmann::json::parse(std::ifstream(work + "/run/provenance.json"));
    for (auto it = prov.at("phases").begin(); it != prov.at("phases").end(); ++it)
      std::printf("  phase %s: %d read(s)\n", it.key().c_str(), it.value().at("reads").get<int>());
    for (const auto& m : prov.at("models"))
      std::printf("  %-9s preprocess %.2f s%s, network %.2f s, export %.2f s, write %.2f s\n",
                  m.at("id").get<std::string>().c_str(), m.at("seconds").at("preprocess").get<double>(),
                  m.at("shared_preprocessing").get<bool>() ? " (shared)" : "", m.at("seconds").at("network").get<double>(),
                  m.at("seconds").at("export").get<double>(), m.at("seconds").at("write").get<double>());
  } catch (const std::exception& e) {
    std::printf("  provenance not readable: %s\n", e.what());
  }
  return 0;
}
