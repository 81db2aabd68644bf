// nephro3d dataset --runs DIR --out DatasetNNN_Name: reviewed run outputs as an
// nnU-Net v2 raw dataset (imagesTr, labelsTr, dataset.json) for training the
// next version of a model; corrected versions replace the model's masks.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "pipeline/NnunetDataset.h"

namespace nephro::cli {
namespace {

struct DatasetCommandOptions {
  pipeline::DatasetOptions dataset;
  bool quiet = false;
};

void runDataset(const DatasetCommandOptions& o) {
  const pipeline::DatasetReport r =
      pipeline::writeNnunetDataset(o.dataset, terminalProgress(o.quiet));
  finishProgressLine();
  for (const std::string& s : r.skipped)
    std::fprintf(stderr, "nephro3d dataset: skipped %s\n", s.c_str());
  if (o.quiet) return;
  for (const auto& c : r.cases) {
    std::string phases;
    for (const auto& p : c.phases) phases += (phases.empty() ? "" : ",") + p;
    std::printf("  %-24s %-10s %-8s %s\n", c.name.c_str(), c.review.c_str(), phases.c_str(),
                c.labels.c_str());
  }
  std::printf("dataset: %zu cases for model %s -> %s (%zu skipped)\n", r.cases.size(),
              r.model.c_str(), r.folder.c_str(), r.skipped.size());
}

RegisterCommand reg(93, [](CLI::App& root) {
  auto o = std::make_shared<DatasetCommandOptions>();
  CLI::App* sub =
      root.add_subcommand("dataset", "Reviewed run outputs as an nnU-Net v2 raw dataset");
  sub->add_option("--runs", o->dataset.runs, "Run output or --batch output folder (repeatable)")
      ->required();
  sub->add_option("--out", o->dataset.out, "New dataset folder, named DatasetNNN_Name")->required();
  sub->add_option("--model", o->dataset.model,
                  "Model whose labels the dataset holds (default: the one every case ran)");
  sub->add_flag("--approved-only", o->dataset.approvedOnly,
                "Only approved cases (default: all but needs_fix)");
  sub->add_flag("--quiet,-q", o->quiet, "No progress output");
  sub->callback([o] { runDataset(*o); });
});

}  // namespace
}  // namespace nephro::cli
