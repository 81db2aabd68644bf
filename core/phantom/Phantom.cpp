#include "phantom/Phantom.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "common/Parallel.h"
#include "image/VolumeIO.h"
#include "phantom/PhantomAnatomy.h"

namespace nephro {

using namespace phantom_detail;

namespace {

// splitmix64: decorrelates (seed, phase, slice) into independent streams.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// xoshiro256** with Box-Muller: exact same numbers on every platform.
class NoiseStream {
 public:
  explicit NoiseStream(uint64_t seed) {
    for (auto& s : s_) s = seed = mix(seed);
  }
  double uniform() { return (next() >> 11) * (1.0 / 9007199254740992.0); }
  double gaussian() {
    if (hasSpare_) {
      hasSpare_ = false;
      return spare_;
    }
    double u1 = uniform(), u2 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
    spare_ = r * std::sin(a);
    hasSpare_ = true;
    return r * std::cos(a);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  uint64_t s_[4];
  double spare_ = 0.0;
  bool hasSpare_ = false;
};

Frame frameFor(const Geometry& g, bool realisticVessels) {
  Frame f;
  f.realisticVessels = realisticVessels;
  const double fovX = g.size[0] * g.spacing[0], fovY = g.size[1] * g.spacing[1];
  f.scale = std::min(fovX, fovY) / 400.0;
  const double maxSpacing = std::max({g.spacing[0], g.spacing[1], g.spacing[2]});
  // Thin tubes (ureters, small arteries) stay at least ~2 voxels wide.
  f.minTubeRadiusRef = (realisticVessels ? 0.55 : 0.9) * maxSpacing / f.scale;
  return f;
}

// Partial-volume blur: a separable, truncated Gaussian (radius 3 sigma) in
// voxel units, edges clamped. For the sub-voxel sigmas used here this short
// FIR is several times faster than ITK's recursive Gaussian on a full phantom.
void gaussianBlurVoxels(Volume& volume, double sigma) {
  const int radius = std::max(1, static_cast<int>(std::ceil(3.0 * sigma)));
  std::vector<float> w(2 * radius + 1);
  double sum = 0;
  for (int t = -radius; t <= radius; ++t) sum += w[t + radius] = static_cast<float>(std::exp(-0.5 * t * t / (sigma * sigma)));
  for (float& x : w) x = static_cast<float>(x / sum);
  const Geometry& g = volume.geometry();
  float* data = volume.data<float>();
  const int64_t nx = g.size[0], ny = g.size[1], nz = g.size[2];
  // Convolves `n` samples spaced `stride` apart, starting at `base`.
  auto convolveLine = [&](float* base, int64_t n, int64_t stride, std::vector<float>& line) {
    line.resize(static_cast<size_t>(n));
    for (int64_t a = 0; a < n; ++a) line[a] = base[a * stride];
    for (int64_t a = 0; a < n; ++a) {
      float acc = 0.f;
      for (int t = -radius; t <= radius; ++t) acc += w[t + radius] * line[std::clamp<int64_t>(a + t, 0, n - 1)];
      base[a * stride] = acc;
    }
  };
  parallelFor(nz, [&](int64_t k0, int64_t k1) {
    std::vector<float> line;
    for (int64_t k = k0; k < k1; ++k) {
      for (int64_t j = 0; j < ny; ++j) convolveLine(data + g.offset(0, j, k), nx, 1, line);
      for (int64_t i = 0; i < nx; ++i) convolveLine(data + g.offset(i, 0, k), ny, nx, line);
    }
  });
  parallelFor(ny, [&](int64_t j0, int64_t j1) {
    std::vector<float> line;
    for (int64_t j = j0; j < j1; ++j)
      for (int64_t i = 0; i < nx; ++i) convolveLine(data + g.offset(i, j, 0), nz, nx * ny, line);
  });
}

Volume renderPhase(const Volume& tissue, int phase, const PhantomOptions& o, const HuOverrides& overrides,
                   const Progress& progress) {
  const Geometry& g = tissue.geometry();
  const uint8_t* t = tissue.data<uint8_t>();
  Volume hu(g, PixelType::Float32);
  float* h = hu.data<float>();
  float lut[TissueCount];
  for (int i = 0; i < TissueCount; ++i) lut[i] = tissueProperties(static_cast<Tissue>(i)).hu[phase];
  parallelFor(hu.voxelCount(), [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) h[n] = lut[t[n]];
  });
  for (const auto& [offset, ov] : overrides)
    if (t[offset] == ov.tissue && !std::isnan(ov.hu[phase])) h[offset] = ov.hu[phase];
  progress.report(0.3, "phase");
  progress.throwIfCancelled();
  if (o.blurSigmaVoxels > 0.0) gaussianBlurVoxels(hu, o.blurSigmaVoxels);
  const Volume& blurred = hu;
  progress.report(0.7, "phase");
  progress.throwIfCancelled();
  Volume ct(g, PixelType::Int16);
  int16_t* c = ct.data<int16_t>();
  const float* bsrc = blurred.data<float>();
  const int64_t sliceVoxels = g.size[0] * g.size[1];
  parallelFor(g.size[2], [&](int64_t k0, int64_t k1) {
    for (int64_t k = k0; k < k1; ++k) {
      NoiseStream noise(mix(o.seed * 0x100000001b3ull + static_cast<uint64_t>(phase) * 7919 + static_cast<uint64_t>(k)));
      for (int64_t n = k * sliceVoxels; n < (k + 1) * sliceVoxels; ++n) {
        // Air outside the body gets the same noise, clamped at the scanner floor.
        const double v = bsrc[n] + (o.noiseSigmaHu > 0 ? o.noiseSigmaHu * noise.gaussian() : 0.0);
        c[n] = static_cast<int16_t>(std::clamp(std::nearbyint(v), -1024.0, 3071.0));
      }
    }
  });
  progress.report(1.0, "phase");
  return ct;
}

}  // namespace

Geometry phantomGeometry(const PhantomOptions& o) {
  Geometry g;
  if (o.size == PhantomSize::Full) {
    g.size = {512, 512, 300};
    g.spacing = {0.78125, 0.78125, 1.5};
  } else {
    g.size = {128, 128, 96};
    g.spacing = {2.5, 2.5, 3.0};
  }
  if (o.dimensions) g.size = *o.dimensions;
  if (o.spacing) g.spacing = *o.spacing;
  for (int d = 0; d < 3; ++d) {
    if (g.size[d] < 8 || g.size[d] > 2048) throw usageError("phantom dimensions must be 8..2048 voxels per axis");
    if (!(g.spacing[d] > 0.05 && g.spacing[d] < 20.0)) throw usageError("phantom spacing must be 0.05..20 mm");
    // Centre the grid on the body so the anatomy sits in the middle.
    g.origin[d] = -0.5 * (g.size[d] - 1) * g.spacing[d];
  }
  return g;
}

LabelTable phantomLabelTable() {
  LabelTable t;
  for (int v = 1; v < phantom_label::Count; ++v) {
    const LabelEntry* e = LabelTable::caseSchema().find(v);
    if (!e) throw Error(ErrorKind::Internal, "case schema lacks phantom label " + std::to_string(v));
    t.set(*e);
  }
  return t;
}

PhantomCase generatePhantom(const PhantomOptions& o, const Progress& progress) {
  const Geometry g = phantomGeometry(o);
  Frame frame = frameFor(g, o.realisticVessels);
  frame.anatomySeed = o.seed;
  progress.report(0.0, "phantom anatomy");
  HuOverrides overA, overP, overD;
  const bool withOverrides = o.realisticVessels;
  Volume tissueA = rasteriseTissue(g, frame, withOverrides ? &overA : nullptr);
  progress.throwIfCancelled();
  Volume tissueP = tissueA, tissueD = tissueA;
  overP = overA;
  overD = overA;
  if (o.misregistrationMm > 0.0) {
    // Breathing-like shifts: mostly cranio-caudal, a little antero-posterior.
    const double m = o.misregistrationMm;
    Frame fp = frame, fd = frame;
    fp.shiftMm = {0.2 * m, -0.3 * m, 0.933 * m};
    fd.shiftMm = {-0.25 * m, 0.35 * m, -0.903 * m};
    overP.clear();
    overD.clear();
    tissueP = rasteriseTissue(g, fp, withOverrides ? &overP : nullptr);
    tissueD = rasteriseTissue(g, fd, withOverrides ? &overD : nullptr);
  }
  progress.report(0.25, "phantom labels");
  PhantomCase pc;
  pc.table = phantomLabelTable();
  pc.labels = Volume(g, PixelType::UInt8);
  {
    uint8_t lut[TissueCount];
    for (int i = 0; i < TissueCount; ++i) lut[i] = tissueProperties(static_cast<Tissue>(i)).label;
    const uint8_t* t = tissueA.data<uint8_t>();
    uint8_t* l = pc.labels.data<uint8_t>();
    parallelFor(pc.labels.voxelCount(), [&](int64_t b, int64_t e) {
      for (int64_t n = b; n < e; ++n) l[n] = lut[t[n]];
    });
  }
  pc.arterial = renderPhase(tissueA, 0, o, overA, progress.sub(0.3, 0.53));
  pc.portal = renderPhase(tissueP, 1, o, overP, progress.sub(0.53, 0.76));
  pc.delayed = renderPhase(tissueD, 2, o, overD, progress.sub(0.76, 1.0));
  progress.report(1.0, "phantom done");
  return pc;
}

void writePhantom(const PhantomCase& p, const std::string& folder, const Progress& progress) {
  namespace fs = std::filesystem;
  OutputTransaction tx;
  const fs::path dir(folder);
  struct Item {
    const Volume* volume;
    const char* name;
  } items[] = {{&p.arterial, "phantom_A.nii.gz"},
               {&p.portal, "phantom_P.nii.gz"},
               {&p.delayed, "phantom_D.nii.gz"},
               {&p.labels, "phantom_labels.nii.gz"}};
  int n = 0;
  for (const Item& item : items) {
    progress.report(n / 5.0, std::string("writing ") + item.name);
    progress.throwIfCancelled();
    writeVolumeTo(*item.volume, tx.stage((dir / item.name).string()));
    ++n;
  }
  const std::string sidecar = tx.stage((dir / "phantom_labels.json").string());
  {
    FILE* f = std::fopen(sidecar.c_str(), "wb");
    if (!f) throw outputError(sidecar, "cannot write label table");
    const std::string json = p.table.toJson();
    const bool ok = std::fwrite(json.data(), 1, json.size(), f) == json.size();
    if (std::fclose(f) != 0 || !ok) throw outputError((dir / "phantom_labels.json").string(), "write failed");
  }
  progress.throwIfCancelled();
  tx.commit();
  progress.report(1.0, "phantom written");
}

}  // namespace nephro
