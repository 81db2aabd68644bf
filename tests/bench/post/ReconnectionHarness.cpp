// Gap harness for artery and ureter reconnection. Cuts seeded gaps (2-15 mm,
// several per structure) into the phantom's ground-truth renal arteries and
// ureters, runs reconnection with and without the CT, and prints per gap-length
// bin: the share of gaps bridged, the share of bridge voxels inside the ground
// truth dilated by one voxel, and wrong joins (artery to vein, ureter to vessel).
// Gap centres lie on the centreline at least half the gap plus 4 mm away from
// the aorta, kidneys, bladder and branchings, so each gap cuts one vessel.
// With --model-masks each step sees only what its models would give it: the
// arteries with kidneys, tumour, veins, aorta and IVC; the ureters with the
// kidneys and bladder only (no vessel labels to steer clear of).
//   bench_post_reconnect [--runs N] [--seed S] [--full] [--model-masks] [--verbose]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"
#include "post/PostSupport.h"
#include "post/Thinning.h"
#include "post/VesselReconnection.h"

using namespace nephro;
using namespace nephro::post;
namespace pl = phantom_label;

namespace {

struct Structure {
  std::string name;
  TubularStructure type;
  int label;
  std::vector<int64_t> voxels;     // this vessel's ground-truth voxels
  std::vector<int64_t> centreline; // centreline voxels
  std::vector<double> clearance;   // mm from each to the nearest anchor, kidney or branching
  std::vector<int> inside;         // GT labels a bridge may lie in
  std::vector<int> wrong;          // GT labels a bridge must not reach
  std::vector<int> connect;        // labels whose connectivity decides "bridged"
};

struct Gap {
  int structure;
  double lengthMm;
  Vec3 centre;
  std::vector<int64_t> removed;
  bool broken = false;
  int64_t sideA = -1, sideB = -1;  // a voxel on each side
  // Results per mode (0 = no CT, 1 = CT).
  bool bridged[2] = {false, false};
  int64_t painted[2] = {0, 0}, inside[2] = {0, 0};
  bool wrongJoin[2] = {false, false};
};

Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }

Vec3 pointOf(const Geometry& g, int64_t off) {
  const int64_t i = off % g.size[0], j = (off / g.size[0]) % g.size[1], k = off / (g.size[0] * g.size[1]);
  return g.indexToPhysical({double(i), double(j), double(k)});
}

// Distance (mm) from every voxel to the nearest voxel with a label in `values`.
Volume distanceToLabels(const Volume& labels, const std::vector<int>& values) {
  return detail::distanceToMm(detail::binaryOf(labels, values));
}

// Principal direction of points (power iteration on the covariance).
Vec3 principalDirection(const std::vector<Vec3>& pts) {
  Vec3 m{0, 0, 0};
  for (const Vec3& p : pts)
    for (int d = 0; d < 3; ++d) m[d] += p[d] / pts.size();
  double c[9] = {0};
  for (const Vec3& p : pts)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) c[a * 3 + b] += (p[a] - m[a]) * (p[b] - m[b]);
  Vec3 v{1, 0.5, 0.25};
  for (int it = 0; it < 50; ++it) {
    Vec3 w{c[0] * v[0] + c[1] * v[1] + c[2] * v[2], c[3] * v[0] + c[4] * v[1] + c[5] * v[2],
           c[6] * v[0] + c[7] * v[1] + c[8] * v[2]};
    const double n = norm(w);
    if (n < 1e-12) break;
    v = {w[0] / n, w[1] / n, w[2] / n};
  }
  return v;
}

// Components of `values` in `labels` (26-connected), as int32.
Volume componentsOf(const Volume& labels, const std::vector<int>& values) {
  int count = 0;
  return detail::connectedComponents(detail::binaryOf(labels, values), &count);
}

const char* binName(double l) {
  if (l < 4) return " 2-4 mm";
  if (l < 6) return " 4-6 mm";
  if (l < 8) return " 6-8 mm";
  if (l <= 10) return "8-10 mm";
  if (l <= 12) return "10-12 mm";
  return "12-15 mm";
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 14;
  uint64_t seed = 1;
  bool full = false, verbose = false, modelMasks = false;
  int dumpRun = -1;
  std::string dumpDir;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--seed") && i + 1 < argc) seed = std::stoull(argv[++i]);
    else if (!std::strcmp(argv[i], "--full")) full = true;
    else if (!std::strcmp(argv[i], "--verbose")) verbose = true;
    else if (!std::strcmp(argv[i], "--model-masks")) modelMasks = true;
    else if (!std::strcmp(argv[i], "--dump") && i + 2 < argc) {
      dumpRun = std::atoi(argv[++i]);
      dumpDir = argv[++i];
    }
    else {
      std::fprintf(stderr, "usage: bench_post_reconnect [--runs N] [--seed S] [--full] [--model-masks] [--verbose]\n");
      return 2;
    }
  }
  try {
    PhantomOptions o;
    o.size = full ? PhantomSize::Full : PhantomSize::Small;
    o.seed = seed;
    const PhantomCase pc = generatePhantom(o);
    const Volume& gt = pc.labels;
    const Geometry& g = gt.geometry();
    const uint8_t* gl = gt.data<uint8_t>();
    std::printf("phantom %s: %s\n", full ? "full" : "small", g.describe().c_str());

    // The four structures: each renal artery tree (label 4 components), each ureter.
    std::vector<Structure> structures;
    {
      const Volume cc = componentsOf(gt, {pl::Artery});
      const int32_t* c = cc.data<int32_t>();
      std::vector<int64_t> a, b;
      for (int64_t i = 0; i < gt.voxelCount(); ++i) {
        if (c[i] == 1) a.push_back(i);
        if (c[i] == 2) b.push_back(i);
      }
      const bool aLeft = pointOf(g, a[a.size() / 2])[0] > pointOf(g, b[b.size() / 2])[0];
      const std::vector<int> artInside{pl::Artery, pl::Aorta}, artWrong{pl::Vein, pl::InferiorVenaCava};
      const std::vector<int> artConnect{pl::Artery, pl::Aorta};
      structures.push_back({"artery left", TubularStructure::Artery, pl::Artery, aLeft ? a : b, {}, {}, artInside, artWrong, artConnect});
      structures.push_back({"artery right", TubularStructure::Artery, pl::Artery, aLeft ? b : a, {}, {}, artInside, artWrong, artConnect});
      const std::vector<int> vessels{pl::Artery, pl::Vein, pl::Aorta, pl::InferiorVenaCava, pl::IliacArteryLeft, pl::IliacArteryRight};
      for (int side = 0; side < 2; ++side) {
        Structure s;
        s.name = side ? "ureter right" : "ureter left";
        s.type = TubularStructure::Ureter;
        s.label = side ? pl::UreterRight : pl::UreterLeft;
        for (int64_t i = 0; i < gt.voxelCount(); ++i)
          if (gl[i] == s.label) s.voxels.push_back(i);
        const int kidney = side ? pl::KidneyRight : pl::KidneyLeft;
        s.inside = {s.label, kidney, pl::UrinaryBladder};
        s.wrong = vessels;
        s.connect = {s.label, kidney, pl::UrinaryBladder};
        structures.push_back(s);
      }
    }

    // Gap centres: centreline voxels away from branchings, anchors, the kidney and other labels' junctions.
    const Volume distAorta = distanceToLabels(gt, {pl::Aorta});
    const Volume distKidney = distanceToLabels(gt, {pl::KidneyLeft, pl::KidneyRight, pl::Tumor});
    const Volume distBladder = distanceToLabels(gt, {pl::UrinaryBladder});
    for (Structure& s : structures) {
      Volume bin(g, PixelType::UInt8);
      for (int64_t v : s.voxels) bin.data<uint8_t>()[v] = 1;
      const Volume sk = thinToCurves(bin);
      const uint8_t* p = sk.data<uint8_t>();
      std::vector<int64_t> skel;
      for (int64_t v : s.voxels)
        if (p[v]) skel.push_back(v);
      // Branch points: skeleton voxels with more than two skeleton neighbours.
      std::vector<Vec3> branches;
      for (int64_t v : skel) {
        const int64_t i = v % g.size[0], j = (v / g.size[0]) % g.size[1], k = v / (g.size[0] * g.size[1]);
        int n = 0;
        for (int dz = -1; dz <= 1; ++dz)
          for (int dy = -1; dy <= 1; ++dy)
            for (int dx = -1; dx <= 1; ++dx)
              if ((dx || dy || dz) && g.contains(i + dx, j + dy, k + dz) && p[g.offset(i + dx, j + dy, k + dz)]) ++n;
        if (n > 2) branches.push_back(pointOf(g, v));
      }
      for (int64_t v : skel) {
        const Vec3 q = pointOf(g, v);
        double clear = std::min({distKidney.data<float>()[v], distAorta.data<float>()[v], distBladder.data<float>()[v]});
        for (const Vec3& b : branches) clear = std::min(clear, norm(sub(b, q)));
        if (clear > 4.0) {
          s.centreline.push_back(v);
          s.clearance.push_back(clear);
        }
      }
      std::printf("%-13s %6zu voxels, %4zu centreline voxels\n", s.name.c_str(), s.voxels.size(),
                  s.centreline.size());
    }

    std::mt19937_64 rng(seed * 7919 + 17);
    const std::vector<double> lengths{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    std::vector<Gap> all;
    struct ModeStats {
      int64_t painted = 0, inside = 0, elsewhere = 0, wrongElsewhere = 0;
      double seconds = 0;
    } mode[2];
    int notBroken = 0;
    for (int run = 0; run < runs; ++run) {
      Volume cut = gt.clone();
      uint8_t* cl = cut.data<uint8_t>();
      std::vector<Gap> gaps;
      for (size_t si = 0; si < structures.size(); ++si) {
        const Structure& s = structures[si];
        const int perStructure = s.type == TubularStructure::Ureter ? 2 : 1;
        for (int q = 0; q < perStructure && !s.centreline.empty(); ++q) {
          Gap gap;
          gap.structure = static_cast<int>(si);
          gap.lengthMm = lengths[(run * perStructure + q + si * 5) % lengths.size()];
          // A centre far from this run's other gaps.
          bool placed = false;
          for (int attempt = 0; attempt < 200 && !placed; ++attempt) {
            const size_t pick = rng() % s.centreline.size();
            if (s.clearance[pick] < 0.5 * gap.lengthMm + 4.0) continue;
            const Vec3 c = pointOf(g, s.centreline[pick]);
            bool clear = true;
            for (const Gap& other : gaps)
              if (norm(sub(other.centre, c)) < 0.5 * (other.lengthMm + gap.lengthMm) + 20.0) clear = false;
            if (!clear) continue;
            gap.centre = c;
            placed = true;
          }
          if (!placed) continue;
          std::vector<Vec3> near;
          for (int64_t v : s.voxels)
            if (norm(sub(pointOf(g, v), gap.centre)) <= 6.0) near.push_back(pointOf(g, v));
          const Vec3 t = principalDirection(near);
          for (int64_t v : s.voxels) {
            const Vec3 d = sub(pointOf(g, v), gap.centre);
            const double along = dot(d, t);
            const double across = std::sqrt(std::max(0.0, dot(d, d) - along * along));
            if (std::abs(along) <= 0.5 * gap.lengthMm && across <= 9.0 && cl[v] == s.label) {
              cl[v] = 0;
              gap.removed.push_back(v);
            }
          }
          gaps.push_back(gap);
        }
      }
      // Which gaps really break their structure, and a voxel on each side.
      for (Gap& gap : gaps) {
        const Structure& s = structures[gap.structure];
        const Volume cc = componentsOf(cut, s.connect);
        const int32_t* c = cc.data<int32_t>();
        std::map<int, int64_t> adjacent;
        for (int64_t v : gap.removed) {
          const int64_t i = v % g.size[0], j = (v / g.size[0]) % g.size[1], k = v / (g.size[0] * g.size[1]);
          for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                if (!g.contains(i + dx, j + dy, k + dz)) continue;
                const int64_t n = g.offset(i + dx, j + dy, k + dz);
                if (c[n] && cl[n] == s.label) adjacent.emplace(c[n], n);
              }
        }
        gap.broken = adjacent.size() >= 2 && !gap.removed.empty();
        if (gap.broken) {
          gap.sideA = adjacent.begin()->second;
          gap.sideB = std::next(adjacent.begin())->second;
        } else {
          ++notBroken;
        }
      }
      if (run == dumpRun) {
        writeVolume(cut, dumpDir + "/cut.nii.gz");
        pc.table.writeSidecar(dumpDir + "/cut.nii.gz");
        writeVolume(pc.arterial, dumpDir + "/A.nii.gz");
        writeVolume(pc.delayed, dumpDir + "/D.nii.gz");
      }
      for (int withCt = 0; withCt < 2; ++withCt) {
        Volume result = cut;
        const auto t0 = std::chrono::steady_clock::now();
        for (TubularStructure type : {TubularStructure::Artery, TubularStructure::Ureter}) {
          const Volume* ct = nullptr;
          if (withCt) ct = type == TubularStructure::Artery ? &pc.arterial : &pc.delayed;
          Volume input = result;
          if (modelMasks) {
            // Only the labels this step's models deliver; the rest is put back afterwards.
            const std::vector<int> keep = type == TubularStructure::Artery
                ? std::vector<int>{pl::KidneyLeft, pl::KidneyRight, pl::Tumor, pl::Artery, pl::Vein, pl::Aorta, pl::InferiorVenaCava}
                : std::vector<int>{pl::KidneyLeft, pl::KidneyRight, pl::UreterLeft, pl::UreterRight, pl::UrinaryBladder};
            input = result.clone();
            uint8_t* ip = input.data<uint8_t>();
            for (int64_t v = 0; v < input.voxelCount(); ++v)
              if (std::find(keep.begin(), keep.end(), ip[v]) == keep.end()) ip[v] = 0;
          }
          ReconnectionResult rr = reconnect(type, input, pc.table, ct, ReconnectionParameters::defaults(type));
          if (modelMasks) {
            // Painted voxels go back into the whole mask (over what the step did not see).
            Volume merged = result.clone();
            uint8_t* mp = merged.data<uint8_t>();
            const uint8_t* before = input.data<uint8_t>();
            const uint8_t* after = rr.mask.data<uint8_t>();
            for (int64_t v = 0; v < merged.voxelCount(); ++v)
              if (after[v] != before[v]) mp[v] = after[v];
            result = merged;
          } else {
            result = rr.mask;
          }
          if (run == dumpRun)
            writeFileAtomically(dumpDir + "/report_" + (type == TubularStructure::Artery ? "artery" : "ureter") +
                                    (withCt ? "_ct" : "") + ".json", rr.toJson());
          if (verbose)
            for (const Bridge& b : rr.bridges)
              if (b.decision == "bridged" || b.gapMm < 16)
                std::printf("    run %d %s %s: gap %.1f mm angle %.0f cost %.1f contrast %.2f -> %s (%lld voxels)\n", run,
                            withCt ? "CT" : "no CT", b.structure.c_str(), b.gapMm, b.angleDeg, b.cost,
                            b.contrastFraction, b.decision.c_str(), (long long)b.voxelsPainted);
        }
        mode[withCt].seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const uint8_t* rl = result.data<uint8_t>();
        // Bridged: both sides of a gap in one component afterwards.
        for (Gap& gap : gaps) {
          if (!gap.broken) continue;
          const Volume cc = componentsOf(result, structures[gap.structure].connect);
          const int32_t* c = cc.data<int32_t>();
          gap.bridged[withCt] = c[gap.sideA] && c[gap.sideA] == c[gap.sideB];
          if (verbose)
            std::printf("  run %d %s gap %s %.0f mm at (%.0f %.0f %.0f): %s\n", run, withCt ? "CT" : "no CT",
                        structures[gap.structure].name.c_str(), gap.lengthMm, gap.centre[0], gap.centre[1],
                        gap.centre[2], gap.bridged[withCt] ? "bridged" : "NOT bridged");
        }
        // Painted voxels: inside the GT dilated by one voxel? next to a wrong structure?
        for (int64_t v = 0; v < gt.voxelCount(); ++v) {
          if (rl[v] == cl[v]) continue;
          const Vec3 q = pointOf(g, v);
          Gap* nearest = nullptr;
          double best = 1e30;
          for (Gap& gap : gaps) {
            const TubularStructure type = structures[gap.structure].type;
            const bool sameType = (rl[v] == pl::Artery) == (type == TubularStructure::Artery);
            const double d = norm(sub(q, gap.centre));
            if (sameType && d < best) best = d, nearest = &gap;
          }
          const int64_t i = v % g.size[0], j = (v / g.size[0]) % g.size[1], k = v / (g.size[0] * g.size[1]);
          const std::vector<int>& insideLabels =
              rl[v] == pl::Artery ? structures[0].inside : structures[rl[v] == pl::UreterLeft ? 2 : 3].inside;
          const std::vector<int>& wrongLabels = rl[v] == pl::Artery ? structures[0].wrong : structures[2].wrong;
          bool in = false, wrong = false;
          for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx) {
                if (!g.contains(i + dx, j + dy, k + dz)) continue;
                const int n = gl[g.offset(i + dx, j + dy, k + dz)];
                if (std::find(insideLabels.begin(), insideLabels.end(), n) != insideLabels.end()) in = true;
                if (std::find(wrongLabels.begin(), wrongLabels.end(), n) != wrongLabels.end()) wrong = true;
              }
          ++mode[withCt].painted;
          mode[withCt].inside += in;
          // Next to another structure and off this one, or painted right over another: a wrong join.
          const bool overWrong = std::find(wrongLabels.begin(), wrongLabels.end(), int(gl[v])) != wrongLabels.end();
          const bool wrongVoxel = (wrong && !in) || overWrong;
          if (!nearest || best > 0.5 * nearest->lengthMm + 12.0) {
            ++mode[withCt].elsewhere;
            mode[withCt].wrongElsewhere += wrongVoxel;
            continue;
          }
          ++nearest->painted[withCt];
          nearest->inside[withCt] += in;
          if (wrongVoxel) nearest->wrongJoin[withCt] = true;
        }
      }
      all.insert(all.end(), gaps.begin(), gaps.end());
    }

    // Per bin and mode.
    std::printf("\n%d runs, %zu gaps cut, %d did not break their structure (left out); input: %s\n", runs, all.size(),
                notBroken, modelMasks ? "model masks (arteries with veins, ureters without any vessel)" : "the whole ground-truth mask");
    for (int withCt = 1; withCt >= 0; --withCt) {
      std::printf("\nreconnection %s (%.2f s per run, both structures)\n", withCt ? "with CT (A for arteries, D for ureters)" : "without CT",
                  mode[withCt].seconds / std::max(1, runs));
      std::printf("  %-9s %-8s %6s %9s %13s %11s\n", "bin", "kind", "gaps", "bridged", "voxels inside", "wrong joins");
      for (const char* kind : {"artery", "ureter", "all"}) {
        std::map<std::string, std::array<int64_t, 5>> bins;  // gaps, bridged, painted, inside, wrong
        for (const Gap& gap : all) {
          if (!gap.broken) continue;
          const bool isArtery = structures[gap.structure].type == TubularStructure::Artery;
          if ((!std::strcmp(kind, "artery") && !isArtery) || (!std::strcmp(kind, "ureter") && isArtery)) continue;
          auto& b = bins[binName(gap.lengthMm)];
          b[0] += 1;
          b[1] += gap.bridged[withCt];
          b[2] += gap.painted[withCt];
          b[3] += gap.inside[withCt];
          b[4] += gap.wrongJoin[withCt];
        }
        for (const char* name : {" 2-4 mm", " 4-6 mm", " 6-8 mm", "8-10 mm", "10-12 mm", "12-15 mm"}) {
          auto it = bins.find(name);
          if (it == bins.end()) continue;
          const auto& b = it->second;
          std::printf("  %-9s %-8s %6lld %8.1f%% %12.1f%% %11lld\n", name, kind, (long long)b[0], 100.0 * b[1] / b[0],
                      b[2] ? 100.0 * b[3] / b[2] : 100.0, (long long)b[4]);
        }
      }
      int64_t upTo10 = 0, bridged10 = 0, wrong = 0;
      for (const Gap& gap : all) {
        if (!gap.broken) continue;
        wrong += gap.wrongJoin[withCt];
        if (gap.lengthMm <= 10.0) {
          ++upTo10;
          bridged10 += gap.bridged[withCt];
        }
      }
      std::printf("  gaps <= 10 mm bridged: %.1f%% (%lld/%lld); bridge voxels inside GT+1 voxel: %.1f%% (%lld/%lld); "
                  "painted away from every gap: %lld voxels (%lld touching another structure); wrong joins: %lld\n",
                  upTo10 ? 100.0 * bridged10 / upTo10 : 0.0, (long long)bridged10, (long long)upTo10,
                  mode[withCt].painted ? 100.0 * mode[withCt].inside / mode[withCt].painted : 100.0,
                  (long long)mode[withCt].inside, (long long)mode[withCt].painted, (long long)mode[withCt].elsewhere,
                  (long long)mode[withCt].wrongElsewhere,
                  (long long)wrong);
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exitCode();
  }
}
