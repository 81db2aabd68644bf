// Timings and peak memory of every post-processing step on the full phantom
// (512x512x300). Each step runs in its own process so its peak RSS is its own.
//   bench_post_full [--dir DIR]     (DIR caches the phantom; default bench/post-full-phantom)
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/Error.h"
#include "image/VolumeIO.h"
#include "labels/LabelTable.h"
#include "phantom/Phantom.h"
#include "post/PerirenalFat.h"
#include "post/TemplateSample.h"
#include "post/VesselReconnection.h"
#include "PhantomGaps.h"

extern char** environ;

using namespace nephro;
using namespace nephro::post;
namespace pl = phantom_label;
namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }
// Peak resident memory of this process image (VmHWM; unlike ru_maxrss it does
// not carry over from the parent across exec).
double peakRssMiB() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  double kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (!std::strncmp(line, "VmHWM:", 6)) kib = std::atof(line + 6);
  std::fclose(f);
  return kib / 1024.0;
}

int runStep(const std::string& step, const std::string& dir) {
  const auto t0 = Clock::now();
  const std::string labelsPath = dir + "/phantom_labels.nii.gz";
  Volume labels = readVolume(labelsPath);
  const LabelTable table = LabelTable::readSidecar(labelsPath);
  Volume ct;
  const bool withCt = step.find("+ct") != std::string::npos;
  if (withCt) ct = readVolume(dir + (step.rfind("ureter", 0) == 0 ? "/phantom_D.nii.gz" : "/phantom_A.nii.gz"));
  // The input each step would get from the models.
  uint8_t* p = labels.data<uint8_t>();
  if (step.rfind("fat", 0) == 0) {
    for (int64_t i = 0; i < labels.voxelCount(); ++i)
      if (p[i] == pl::PerirenalFatLeft || p[i] == pl::PerirenalFatRight) p[i] = 0;
  } else if (step == "sample") {
    for (int64_t i = 0; i < labels.voxelCount(); ++i)
      if (p[i] != pl::KidneyLeft && p[i] != pl::KidneyRight && p[i] != pl::Tumor) p[i] = 0;
  } else {
    labels = bench::withPhantomGaps(labels);
  }
  const double readSeconds = since(t0);
  const double rssAfterRead = peakRssMiB();
  const auto t1 = Clock::now();
  // With --stages, each progress report prints the time since the step began.
  Progress progress;
  if (std::getenv("POST_BENCH_STAGES"))
    progress = Progress([t1](double f, const std::string& stage) {
      std::fprintf(stderr, "    %6.2f s  %3.0f%%  %s\n", since(t1), 100 * f, stage.c_str());
    });
  std::string detail;
  if (step.rfind("fat", 0) == 0) {
    FatResult r = computePerirenalFat(labels, table, withCt ? &ct : nullptr, FatParameters{}, progress);
    detail = std::to_string(r.volumeMl).substr(0, 5) + " mL";
  } else if (step == "sample") {
    const TemplateCase tpl = loadTemplate();
    SampleResult r = sampleTemplate(labels, table, tpl, SampleParameters{}, progress);
    for (const auto& s : r.sides) detail += s.kidney + " Dice " + std::to_string(s.dice).substr(0, 5) + " ";
  } else {
    const TubularStructure type = step.rfind("ureter", 0) == 0 ? TubularStructure::Ureter : TubularStructure::Artery;
    ReconnectionResult r = reconnect(type, labels, table, withCt ? &ct : nullptr, ReconnectionParameters::defaults(type), progress);
    int bridged = 0;
    for (const auto& b : r.bridges) bridged += b.decision == "bridged";
    detail = std::to_string(bridged) + " bridges, " + std::to_string(r.joined) + "/" + std::to_string(r.fragments) +
             " fragments joined";
  }
  const double seconds = since(t1);
  std::printf("  %-10s %8.2f s  (reading inputs %5.1f s)  peak RSS %7.0f MiB (%5.0f MiB after reading)  %s\n",
              step.c_str(), seconds, readSeconds, peakRssMiB(), rssAfterRead, detail.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = std::string(NEPHRO3D_BINARY_DIR) + "/bench/post-full-phantom";
  std::string step;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
    else if (!std::strcmp(argv[i], "--step") && i + 1 < argc) step = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_post_full [--dir DIR]\n");
      return 2;
    }
  }
  try {
    if (!step.empty()) return runStep(step, dir);
    if (!fs::exists(dir + "/phantom_labels.nii.gz")) {
      std::printf("writing the full phantom to %s ...\n", dir.c_str());
      PhantomOptions o;
      o.size = PhantomSize::Full;
      writePhantom(generatePhantom(o), dir);
    }
    std::printf("post-processing on the full phantom (%s), one process per step:\n",
                readImageInfo(dir + "/phantom_labels.nii.gz").geometry.describe().c_str());
    for (const char* s : {"fat", "fat+ct", "sample", "vessel", "vessel+ct", "ureter", "ureter+ct"}) {
      std::fflush(stdout);
      std::vector<std::string> args{argv[0], "--dir", dir, "--step", s};
      std::vector<char*> cargs;
      for (auto& a : args) cargs.push_back(a.data());
      cargs.push_back(nullptr);
      pid_t pid;
      if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, cargs.data(), environ) != 0) {
        std::fprintf(stderr, "cannot start the step %s\n", s);
        return 6;
      }
      int status = 0;
      waitpid(pid, &status, 0);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::printf("  %-10s FAILED\n", s);
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exitCode();
  }
}
