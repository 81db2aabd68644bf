// nephro3d batch-summary OUT: merges the summaries of a --batch output folder
// (one per --shard, e.g. from a SLURM array) into OUT/summary.csv; exits 7 when
// a case of the batch failed or no shard has reported it.
#include <cstdio>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "common/Error.h"
#include "pipeline/BatchShard.h"

namespace nephro::cli {
namespace {

// README "Exit codes": 7 = a case of the batch failed or is missing.
constexpr ErrorKind kIncomplete = static_cast<ErrorKind>(7);

struct BatchSummaryOptions {
  std::string folder;
  bool quiet = false;
};

void runBatchSummary(const BatchSummaryOptions& o) {
  const pipeline::MergedSummary m = pipeline::mergeBatchSummaries(o.folder);
  if (!o.quiet) {
    for (const auto& c : m.cases)
      if (c.status == "failed" || c.status == "missing")
        std::printf("%s: %s (%s)\n", c.name.c_str(), c.status.c_str(), c.message.c_str());
    std::printf("batch-summary: %zu case(s): %d complete, %d failed, %d missing; from %zu summary file(s); %s\n",
                m.cases.size(), m.complete, m.failed, m.missing, m.sources.size(), m.csvPath.c_str());
  }
  if (m.failed > 0 || m.missing > 0)
    throw Error(kIncomplete, o.folder + ": " + std::to_string(m.failed) + " case(s) failed and " +
                                           std::to_string(m.missing) + " missing of " + std::to_string(m.cases.size()) +
                                           " (see " + m.csvPath + ")");
}

RegisterCommand reg(91, [](CLI::App& root) {
  auto o = std::make_shared<BatchSummaryOptions>();
  CLI::App* sub = root.add_subcommand(
      "batch-summary", "Merge the shard summaries of a --batch output folder into summary.csv (exit 7 when a case failed or is missing)");
  sub->add_option("folder", o->folder, "The OUT folder of nephro3d --batch IN OUT [--shard I/N]")->required();
  sub->add_flag("--quiet", o->quiet, "Print nothing but errors");
  sub->callback([o] { runBatchSummary(*o); });
});

}  // namespace
}  // namespace nephro::cli
