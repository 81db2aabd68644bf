// nephro3d phantom --out DIR: the synthetic multi-phase kidney CT with ground truth.
#include <chrono>
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "common/Error.h"
#include "phantom/Phantom.h"

namespace nephro::cli {
namespace {

struct PhantomCommandOptions {
  std::string out;
  std::string size = "small";
  uint64_t seed = 1;
  double noise = 12.0;
  bool noiseGiven = false;
  std::string vessels = "simple";
  double misregistration = 0.0;
  bool quiet = false;
};

void runPhantom(const PhantomCommandOptions& o) {
  PhantomOptions options;
  options.size = o.size == "full" ? PhantomSize::Full : PhantomSize::Small;
  options.seed = o.seed;
  options.realisticVessels = o.vessels == "realistic";
  // The realistic tree comes with a CT-like noise level unless one is given.
  options.noiseSigmaHu = options.realisticVessels && !o.noiseGiven ? 20.0 : o.noise;
  options.misregistrationMm = o.misregistration;
  Progress progress = terminalProgress(o.quiet);
  const auto t0 = std::chrono::steady_clock::now();
  PhantomCase phantom = generatePhantom(options, progress.sub(0.0, 0.6));
  writePhantom(phantom, o.out, progress.sub(0.6, 1.0));
  finishProgressLine();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!o.quiet)
    std::printf("phantom %s seed %llu: %s -> %s (%.1f s)\n", o.size.c_str(), (unsigned long long)o.seed,
                phantom.arterial.geometry().describe().c_str(), o.out.c_str(), seconds);
}

RegisterCommand reg(10, [](CLI::App& root) {
  auto o = std::make_shared<PhantomCommandOptions>();
  CLI::App* sub = root.add_subcommand("phantom", "Write the synthetic A/P/D phantom with its ground-truth labels");
  sub->add_option("--out", o->out, "Output folder")->required();
  sub->add_option("--size", o->size, "small (about 128x128x96) or full (512x512x300)")
      ->check(CLI::IsMember({"small", "full"}));
  sub->add_option("--seed", o->seed, "Random seed (same seed, same bytes)");
  sub->add_option("--noise", o->noise, "Noise standard deviation in HU")->check(CLI::Range(0.0, 200.0));
  sub->add_option("--misregistration", o->misregistration,
                  "Shift of phases P and D relative to A, in mm")->check(CLI::Range(0.0, 20.0));
  sub->add_option("--vessels", o->vessels,
                  "simple (default, what the demo models were trained on) or realistic: calibres varying along and "
                  "between vessels, bifurcations, tortuous iliacs, contrast falling off distally, plaque and stents, "
                  "ureteric peristalsis, noise 20 HU unless --noise is given")
      ->check(CLI::IsMember({"simple", "realistic"}));
  sub->add_flag("--quiet,-q", o->quiet, "No progress output");
  sub->callback([o, sub] {
    o->noiseGiven = sub->count("--noise") > 0;
    runPhantom(*o);
  });
});

}  // namespace
}  // namespace nephro::cli
