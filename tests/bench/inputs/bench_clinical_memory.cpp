// Clinical-size memory benchmark (prints figures, asserts nothing): a
// 512x512x600 three-phase phantom, then one engine process per stage, each
// with its peak RSS (wait4) next to the voxel bytes of the phases it holds and
// the engine's own up-front estimate:
//   read      `info` of each phase (one full read);
//   <model>   `run --models <model>` for each registered model;
//   all       `run --models <all of them>` (each phase read once).
//
//   bench_clinical_memory [--slices N] [--models a,b] [--keep]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "common/MemoryBudget.h"
#include "image/VolumeIO.h"
#include "inference/ModelRegistry.h"
#include "phantom/Phantom.h"

namespace fs = std::filesystem;
using namespace nephro;
using Clock = std::chrono::steady_clock;

namespace {

struct Measured {
  int code = -1;
  double seconds = 0, peakMiB = 0;
};

// Runs argv in a child with output to `log`; peak RSS from wait4.
Measured runMeasured(const std::vector<std::string>& args, const std::string& log) {
  Measured m;
  const auto t0 = Clock::now();
  std::fflush(stdout);  // the child must not repeat what is still buffered
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    dup2(fileno(stdout), fileno(stderr));
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  rusage u{};
  wait4(pid, &status, 0, &u);
  m.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  m.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  m.peakMiB = u.ru_maxrss / 1024.0;
  return m;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string x; std::getline(in, x, ',');)
    if (!x.empty()) out.push_back(x);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t slices = 600;
  std::string modelList;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--slices" && i + 1 < argc) slices = std::atoll(argv[++i]);
    else if (a == "--models" && i + 1 < argc) modelList = argv[++i];
    else if (a == "--keep") keep = true;
  }
  const std::string bin = std::string(NEPHRO3D_BINARY_DIR) + "/bin/nephro3d-engine";
  const std::string work = std::string(NEPHRO3D_BINARY_DIR) + "/bench-scratch/clinical-memory";
  fs::remove_all(work);
  fs::create_directories(work + "/case");

  std::vector<std::string> models = split(modelList);
  if (models.empty())
    for (const auto& m : inference::listManifests())
      if (!m.legacy && inference::missingModelFiles(m).empty()) models.push_back(m.id);

  PhantomOptions po;
  po.size = PhantomSize::Full;
  po.dimensions = Index3{512, 512, slices};
  po.spacing = Vec3{0.78125, 0.78125, 0.75};
  auto t = Clock::now();
  Geometry grid;
  double phaseBytes = 0;
  {
    PhantomCase ph = generatePhantom(po);
    grid = ph.arterial.geometry();
    for (const auto& [name, v] : {std::pair<const char*, const Volume*>{"A", &ph.arterial}, {"P", &ph.portal}, {"D", &ph.delayed}}) {
      writeVolume(*v, work + "/case/phantom_" + name + ".nii.gz");
      phaseBytes += double(v->byteSize());
    }
  }
  const MemoryBudget budget = memoryBudget();
  std::printf("phantom %s, three phases int16: %.0f MiB of voxels (%.0f MiB each); written in %.0f s\n",
              grid.describe().c_str(), phaseBytes / 1048576.0, phaseBytes / 3 / 1048576.0,
              std::chrono::duration<double>(Clock::now() - t).count());
  std::printf("memory available to the engine: %s (%s)\n\n", formatGigabytes(double(budget.availableBytes)).c_str(),
              budget.source.c_str());
  std::printf("%-10s %6s %9s %13s %15s %14s %10s\n", "stage", "exit", "wall s", "peak RSS MiB", "phase MiB held",
              "estimate MiB", "RSS/voxels");

  const std::string a = work + "/case/phantom_A.nii.gz", p = work + "/case/phantom_P.nii.gz", d = work + "/case/phantom_D.nii.gz";
  double readPeak = 0;
  for (const std::string& f : {a, p, d}) {
    const Measured m = runMeasured({bin, "info", f}, work + "/info.log");
    readPeak = std::max(readPeak, m.peakMiB);
    std::printf("%-10s %6d %9.1f %13.0f %15.0f %14s %10.2f\n", ("read " + fs::path(f).stem().stem().string().substr(8)).c_str(), m.code,
                m.seconds, m.peakMiB, phaseBytes / 3 / 1048576.0, "-", m.peakMiB / (phaseBytes / 3 / 1048576.0));
  }
  for (const std::string& id : models) {
    double estimate = 0;
    try {
      const inference::NnunetModel model = inference::loadManifestModel(inference::findManifest(id));
      estimate = inference::estimateMemoryBytes(model, grid.size, grid.spacing) / 1048576.0;
    } catch (const std::exception&) {
    }
    const Measured m = runMeasured({bin, "run", "--image-a", a, "--image-p", p, "--image-d", d, "--models", id, "--out",
                                    work + "/out_" + id},
                                   work + "/run_" + id + ".log");
    std::printf("%-10s %6d %9.1f %13.0f %15s %14.0f %10.2f\n", id.c_str(), m.code, m.seconds, m.peakMiB, "(its phases)", estimate,
                m.peakMiB / (phaseBytes / 1048576.0));
  }
  if (models.size() > 1) {
    std::string all;
    for (const auto& id : models) all += (all.empty() ? "" : ",") + id;
    const Measured m = runMeasured({bin, "run", "--image-a", a, "--image-p", p, "--image-d", d, "--models", all, "--out",
                                    work + "/out_all"},
                                   work + "/run_all.log");
    std::printf("%-10s %6d %9.1f %13.0f %15.0f %14s %10.2f\n", "all", m.code, m.seconds, m.peakMiB, phaseBytes / 1048576.0, "-",
                m.peakMiB / (phaseBytes / 1048576.0));
  }
  std::printf("\nexit 3 = refused up front by the memory estimate (see %s/run_<model>.log)\n", work.c_str());
  if (!keep) fs::remove_all(work + "/case");
  return 0;
}
