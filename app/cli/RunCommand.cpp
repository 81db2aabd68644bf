// nephro3d run --case DIR --models vessel,ureter [--post fat,vessel] [--mesh] --out DIR:
// every chosen model on one read of the case, then post-processing and meshes.
#include <cstdio>
#include <cctype>
#include <map>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/CaseStepOptions.h"
#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "common/Error.h"
#include "pipeline/CaseRunner.h"

namespace nephro::cli {
namespace {

struct RunOptions {
  std::string caseDir;
  std::map<std::string, std::string> phaseFiles;  // --image-a/-p/-d instead of --case
  std::vector<std::string> models;
  std::string out;
  std::string device = "auto";
  int threads = 0;
  bool plainNetwork = false;
  bool allowGaps = false;
  bool quiet = false;
  CaseStepOptions steps;
};

void runCase(const RunOptions& o) {
  const pipeline::CaseSteps steps = o.steps.steps();  // usage errors before any read
  Progress progress = terminalProgress(o.quiet);
  if (o.caseDir.empty() == o.phaseFiles.empty())
    throw usageError("run needs either --case DIR or the phase images (--image-a/--image-p/--image-d)");
  pipeline::Case c = o.caseDir.empty() ? pipeline::Case::fromFiles(o.phaseFiles) : pipeline::Case::fromFolder(o.caseDir);
  c.setAllowGaps(o.allowGaps);
  const std::string caseName = o.caseDir.empty() ? o.phaseFiles.begin()->second : o.caseDir;
  std::vector<std::string> models;
  for (const auto& item : o.models) {
    std::stringstream ss(item);
    std::string id;
    while (std::getline(ss, id, ','))
      if (!id.empty()) models.push_back(id);
  }
  if (models.empty() || (models.size() == 1 && models[0] == "all")) {
    models = pipeline::modelsAvailableFor(c);
    if (models.empty()) throw inputError(caseName, "no registered model with files present can run on this case's phases");
  }
  pipeline::ModelRunOptions ro;
  ro.device = o.device == "cpu" ? inference::DeviceChoice::Cpu
              : o.device == "cuda" ? inference::DeviceChoice::Cuda
                                   : inference::DeviceChoice::Auto;
  ro.threads = o.threads;
  ro.plainNetwork = o.plainNetwork;
  pipeline::CaseRunReport report = pipeline::runModelsOnCase(c, models, o.out, ro, progress, steps);
  finishProgressLine();
  if (o.quiet) return;
  std::printf("case %s: %zu model(s) in %.1f s (reading %.1f s)\n", report.caseName.c_str(), report.models.size(),
              report.totalSeconds, report.readSeconds);
  for (const auto& r : report.models)
    std::printf("  %-20s %s  preprocess %.1f s%s, network %.1f s, export %.1f s, write %.1f s\n", r.id.c_str(),
                r.output.c_str(), r.preprocessSeconds,
                r.sharedPreprocessing ? " (shared)" : r.sharedChannels ? " (channels shared)" : "", r.networkSeconds,
                r.exportSeconds, r.writeSeconds);
  for (const auto& p : report.post)
    std::printf("  post %-15s %s  on %s%s, %.1f s: %s\n", p.step.c_str(), p.output.c_str(), p.primary.c_str(),
                p.ctPhase.empty() ? " (no CT)" : (" with CT " + p.ctPhase).c_str(), p.seconds, p.summary.c_str());
  if (!report.meshFiles.empty())
    std::printf("  meshes: %zu files in %s/meshes (%.1f s)\n", report.meshFiles.size(), o.out.c_str(), report.meshSeconds);
  for (const auto& [phase, reads] : report.readsPerPhase) std::printf("  phase %s read %d time(s)\n", phase.c_str(), reads);
  std::printf("  provenance: %s\n", report.provenancePath.c_str());
}

RegisterCommand reg(41, [](CLI::App& root) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* sub = root.add_subcommand("run", "Run several models on one case, reading each phase once");
  sub->add_option("--case", o->caseDir, "Case folder (*_A/_P/_D or *_0000/_0001/_0002 images)");
  for (const char* phase : {"A", "P", "D"}) {
    const std::string ph = phase;
    sub->add_option_function<std::string>(
        "--image-" + std::string(1, static_cast<char>(std::tolower(phase[0]))),
        [o, ph](const std::string& path) { o->phaseFiles[ph] = path; }, "Phase " + ph + " image (instead of --case)");
  }
  sub->add_option("--models", o->models, "Model ids, comma-separated (default: every model the case can run)");
  sub->add_option("--out", o->out, "Output folder: <model>.nii.gz + .json per model, provenance.json")->required();
  sub->add_option("--device", o->device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  sub->add_option("--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  sub->add_flag("--plain-network", o->plainNetwork,
                "Run networks as nnU-Net does (one tile per call, not optimised): bit-identical logits, slower on CPU");
  sub->add_flag("--allow-gaps", o->allowGaps,
                "DICOM phases: interpolate missing slices onto a uniform grid (recorded in provenance.json) instead of refusing");
  o->steps.addTo(sub);
  sub->add_flag("--quiet,-q", o->quiet, "No progress output");
  sub->callback([o] { runCase(*o); });
});

}  // namespace
}  // namespace nephro::cli
