// nephro3d --batch IN OUT [--models a,b] [--post fat] [--mesh] [--device cpu]: every case folder of IN,
// resumable, with OUT/summary.csv; exits non-zero when any case failed.
#include <cstdio>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/CaseStepOptions.h"
#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "common/Error.h"
#include "pipeline/Batch.h"

namespace nephro::cli {
namespace {

struct BatchCommandOptions {
  std::vector<std::string> batch;  // IN OUT
  std::vector<std::string> models;
  std::string device = "auto";
  std::string shard;  // "I/N"
  int threads = 0;
  bool allowGaps = false;
  bool quiet = false;
  CaseStepOptions steps;
};

void runBatchCommand(const BatchCommandOptions& o) {
  pipeline::BatchOptions bo;
  bo.steps = o.steps.steps();  // usage errors before any case
  if (!o.shard.empty()) bo.shard = pipeline::parseShard(o.shard);
  Progress progress = terminalProgress(o.quiet);
  for (const auto& item : o.models) {
    std::stringstream ss(item);
    std::string id;
    while (std::getline(ss, id, ','))
      if (!id.empty()) bo.models.push_back(id);
  }
  bo.run.device = o.device == "cpu" ? inference::DeviceChoice::Cpu
                  : o.device == "cuda" ? inference::DeviceChoice::Cuda
                                       : inference::DeviceChoice::Auto;
  bo.run.threads = o.threads;
  bo.allowGaps = o.allowGaps;
  const bool quiet = o.quiet;
  pipeline::BatchSummary s = pipeline::runBatch(o.batch[0], o.batch[1], bo, progress, [quiet](const std::string& line) {
    if (quiet) return;
    finishProgressLine();
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  });
  finishProgressLine();
  if (!o.quiet)
    std::printf("batch%s: %d done, %d finished earlier, %d failed; summary %s\n",
                bo.shard.sharded() ? (" shard " + o.shard).c_str() : "", s.done, s.skipped, s.failed, s.csvPath.c_str());
  if (s.failed > 0)
    throw Error(ErrorKind::Input, std::to_string(s.failed) + " of " + std::to_string(s.cases.size()) + " case(s) failed (see " +
                                      s.csvPath + ")");
}

// A root-level option rather than a subcommand: `nephro3d --batch IN OUT ...`.
RegisterCommand reg(90, [](CLI::App& root) {
  auto o = std::make_shared<BatchCommandOptions>();
  CLI::Option* batch = root.add_option("--batch", o->batch, "Run every case folder of IN, results in OUT (resumable)")
                           ->expected(2)
                           ->type_name("IN OUT");
  root.add_option("--models", o->models, "With --batch: model ids, comma-separated (default: all a case can run)")
      ->needs(batch);
  root.add_option("--device", o->device, "With --batch: auto, cpu or cuda")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->needs(batch);
  root.add_option("--shard", o->shard,
                  "With --batch: run only shard I of N (0-based): the cases k of IN's sorted list with k mod N = I; "
                  "writes OUT/summary.shard-I-of-N.csv (merge with nephro3d batch-summary OUT)")
      ->type_name("I/N")
      ->needs(batch);
  root.add_flag("--allow-gaps", o->allowGaps,
                "With --batch: DICOM phases with missing slices are interpolated onto a uniform grid (recorded in "
                "provenance.json) instead of failing the case")
      ->needs(batch);
  o->steps.addTo(&root, batch);
  if (!root.get_option_no_throw("--threads"))
    root.add_option("--threads", o->threads, "CPU threads (default: all cores)")->check(CLI::Range(0, 1024));
  if (!root.get_option_no_throw("--quiet")) root.add_flag("--quiet", o->quiet, "No progress output");
  root.final_callback([o, &root] {
    if (o->batch.size() != 2) return;
    if (!root.get_subcommands().empty()) throw usageError("--batch cannot be combined with a subcommand");
    runBatchCommand(*o);
  });
});

}  // namespace
}  // namespace nephro::cli
