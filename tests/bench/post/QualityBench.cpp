// Quality of perirenal fat and template sample on phantoms: prints Dice
// figures against the ground truth.
//   bench_post_quality [--full] [--seeds 2,3,4] [--sample key=value ...]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/Error.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"
#include "post/PerirenalFat.h"
#include "post/PostSupport.h"
#include "post/TemplateSample.h"

using namespace nephro;
using namespace nephro::post;

namespace {
double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double fatDice(const Volume& fat, const Volume& gt, int fatValue, int gtValue) {
  const uint8_t* a = fat.data<uint8_t>();
  const uint8_t* b = gt.data<uint8_t>();
  int64_t na = 0, nb = 0, both = 0;
  for (int64_t i = 0; i < gt.voxelCount(); ++i) {
    const bool x = a[i] == fatValue, y = b[i] == gtValue;
    na += x;
    nb += y;
    both += x && y;
  }
  if (std::getenv("POST_BENCH_DETAIL")) {
    std::vector<int64_t> fpBy(32, 0), fnBy(32, 0);
    for (int64_t i = 0; i < gt.voxelCount(); ++i) {
      if (a[i] == fatValue && b[i] != gtValue) ++fpBy[b[i]];
      if (a[i] != fatValue && b[i] == gtValue) ++fnBy[a[i]];
    }
    std::printf("  fat %d: result %lld gt %lld both %lld; false positives by GT label:", fatValue, (long long)na, (long long)nb, (long long)both);
    for (int v = 0; v < 32; ++v) if (fpBy[v]) std::printf(" %d:%lld", v, (long long)fpBy[v]);
    std::printf("; misses by result label:");
    for (int v = 0; v < 32; ++v) if (fnBy[v]) std::printf(" %d:%lld", v, (long long)fnBy[v]);
    std::printf("\n");
  }
  return na + nb ? 2.0 * both / double(na + nb) : 0.0;
}
}  // namespace

int main(int argc, char** argv) {
  bool full = false;
  std::vector<uint64_t> seeds{2, 3};
  SampleParameters sampleParameters;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--full")) full = true;
    else if (!std::strcmp(argv[i], "--sample") && i + 1 < argc) {
      const std::string kv = argv[++i];
      const auto eq = kv.find('=');
      if (eq == std::string::npos || !sampleParameters.set(kv.substr(0, eq), std::stod(kv.substr(eq + 1)))) {
        std::fprintf(stderr, "bad --sample %s\n", kv.c_str());
        return 2;
      }
    }
    else if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc) {
      seeds.clear();
      for (char* s = std::strtok(argv[++i], ","); s; s = std::strtok(nullptr, ",")) seeds.push_back(std::stoull(s));
    }
  }
  try {
    const TemplateCase tpl = loadTemplate();
    for (uint64_t seed : seeds) {
      PhantomOptions o;
      o.size = full ? PhantomSize::Full : PhantomSize::Small;
      o.seed = seed;
      PhantomCase pc = generatePhantom(o);
      const char* dump = std::getenv("POST_BENCH_DUMP");
      if (dump) writePhantom(pc, dump);
      // Perirenal fat from the labels without the fat itself.
      Volume input = pc.labels.clone();
      uint8_t* p = input.data<uint8_t>();
      for (int64_t i = 0; i < input.voxelCount(); ++i)
        if (p[i] == phantom_label::PerirenalFatLeft || p[i] == phantom_label::PerirenalFatRight) p[i] = 0;
      for (int withCt = 1; withCt >= 0; --withCt) {
        FatParameters fp;
        auto t0 = std::chrono::steady_clock::now();
        FatResult fr = computePerirenalFat(input, pc.table, withCt ? &pc.arterial : nullptr, fp);
        const double s = seconds(t0);
        if (dump) writeVolume(fr.fat, std::string(dump) + (withCt ? "/fat_ct.nii.gz" : "/fat_noct.nii.gz"));
        const double dl = fatDice(fr.fat, pc.labels, *fr.table.valueOf("perirenal_fat_left"), phantom_label::PerirenalFatLeft);
        const double dr = fatDice(fr.fat, pc.labels, *fr.table.valueOf("perirenal_fat_right"), phantom_label::PerirenalFatRight);
        std::printf("fat    %s seed %llu %-7s Dice left %.3f right %.3f  (%.2f s)\n", full ? "full" : "small",
                    (unsigned long long)seed, withCt ? "with CT" : "no CT", dl, dr, s);
        for (const auto& l : fr.limitsMm) std::printf("         limit %s around %s: %.1f mm\n", l.fat.c_str(), l.part.c_str(), l.distanceMm);
      }
      // Template sample from the kidneys and tumour alone (what the panel passes):
      // the kidneys' overlap after registration, then how close the carried
      // arteries, veins and ureters come to the phantom's own.
      Volume kidneys = pc.labels.clone();
      uint8_t* kp = kidneys.data<uint8_t>();
      for (int64_t i = 0; i < kidneys.voxelCount(); ++i)
        if (kp[i] != phantom_label::KidneyLeft && kp[i] != phantom_label::KidneyRight && kp[i] != phantom_label::Tumor) kp[i] = 0;
      auto t0 = std::chrono::steady_clock::now();
      SampleResult sr = sampleTemplate(kidneys, pc.table, tpl, sampleParameters);
      const double s = seconds(t0);
      for (const SideRegistration& side : sr.sides)
        std::printf("sample %s seed %llu %-12s Dice after moments %.3f, after registration %.3f, scale %.3f (%.2f s)\n",
                    full ? "full" : "small", (unsigned long long)seed, side.kidney.c_str(), side.diceBefore, side.dice,
                    side.scale, s);
      const struct {
        const char* name;
        int gtValue;
      } carried[] = {{"artery", phantom_label::Artery},
                     {"vein", phantom_label::Vein},
                     {"ureter_left", phantom_label::UreterLeft},
                     {"ureter_right", phantom_label::UreterRight}};
      for (const auto& c : carried) {
        const auto value = sr.table.valueOf(c.name);
        if (!value) continue;
        const Volume got = detail::binaryOf(sr.mask, {*value});
        const Volume truth = detail::binaryOf(pc.labels, {c.gtValue});
        const Volume toTruth = detail::distanceToMm(truth);
        const uint8_t* g = got.data<uint8_t>();
        const float* d = toTruth.data<float>();
        int64_t n = 0, within = 0;
        double sum = 0;
        for (int64_t i = 0; i < got.voxelCount(); ++i)
          if (g[i]) {
            ++n;
            sum += d[i];
            within += d[i] <= 5.0f;
          }
        std::printf("sample %s seed %llu carried %-12s Dice %.3f, mean distance to the phantom's %.1f mm, within 5 mm %.0f %%\n",
                    full ? "full" : "small", (unsigned long long)seed, c.name, detail::dice(got, truth),
                    n ? sum / double(n) : 0.0, n ? 100.0 * double(within) / double(n) : 0.0);
      }
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exitCode();
  }
}
