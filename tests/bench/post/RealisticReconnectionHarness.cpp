// Gap harness on the realistic phantom (PhantomOptions::realisticVessels):
// gaps of 2-12 mm cut in every calibre class (aorta 16-25 mm, iliacs 8-12 mm,
// renal arteries 4-7 mm, the accessory renal artery 2-3 mm, ureters), at
// bifurcations (the aortic and iliac bifurcations, the hilar split) and next
// to stents, on several seeds; reconnection runs with and without the CT
// (A for arteries, D for ureters). Prints, per class and per situation, the
// share of gaps bridged, the share of added voxels inside the true vessel
// dilated by one voxel, and wrong joins (artery to vein, ureter to vessel).
//   bench_post_reconnect_realistic [--seeds N] [--first S] [--runs R] [--verbose]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "PhantomGaps.h"
#include "common/Error.h"
#include "phantom/Phantom.h"
#include "post/PostSupport.h"
#include "post/Thinning.h"
#include "post/VesselReconnection.h"

using namespace nephro;
using namespace nephro::post;
namespace pl = phantom_label;

namespace {

Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }

Vec3 pointOf(const Geometry& g, int64_t off) {
  const int64_t i = off % g.size[0], j = (off / g.size[0]) % g.size[1], k = off / (g.size[0] * g.size[1]);
  return g.indexToPhysical({double(i), double(j), double(k)});
}

Vec3 principalDirection(const std::vector<Vec3>& pts) {
  Vec3 m{0, 0, 0};
  for (const Vec3& p : pts)
    for (int d = 0; d < 3; ++d) m[d] += p[d] / pts.size();
  double c[9] = {0};
  for (const Vec3& p : pts)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) c[a * 3 + b] += (p[a] - m[a]) * (p[b] - m[b]);
  Vec3 v{0.3, 0.5, 1.0};
  for (int it = 0; it < 60; ++it) {
    Vec3 w{c[0] * v[0] + c[1] * v[1] + c[2] * v[2], c[3] * v[0] + c[4] * v[1] + c[5] * v[2],
           c[6] * v[0] + c[7] * v[1] + c[8] * v[2]};
    const double n = norm(w);
    if (n < 1e-12) break;
    v = {w[0] / n, w[1] / n, w[2] / n};
  }
  return v;
}

const std::vector<int> kArteries{pl::Artery, pl::Aorta, pl::IliacArteryLeft, pl::IliacArteryRight};
const std::vector<int> kVeins{pl::Vein, pl::InferiorVenaCava};

bool isArteryLabel(int v) { return std::find(kArteries.begin(), kArteries.end(), v) != kArteries.end(); }

// A centreline point of one vessel class.
struct Site {
  int64_t voxel;
  Vec3 point;
  double diameterMm;
  double clearanceMm;  // to kidneys, bladder, other labels' junctions and branch points
  int label;
};

struct Gap {
  std::string cls;        // calibre class
  std::string situation;  // "plain", "bifurcation", "stent"
  bool ureter = false;
  std::vector<int> values;   // labels cut
  std::vector<int> connect;  // labels whose connectivity decides "bridged"
  std::vector<int> family;   // labels an added voxel may lie in (dilated by one voxel)
  std::vector<int> wrong;    // labels an added voxel must not join
  Vec3 centre{};
  double lengthMm = 0;
  std::vector<int64_t> removed;
  std::vector<int64_t> sides;  // a voxel of each fragment next to the gap
  bool broken = false;
  bool bridged[2] = {false, false};
  int64_t painted[2] = {0, 0}, inside[2] = {0, 0};
  bool wrongJoin[2] = {false, false};
};

struct Tally {
  int64_t gaps = 0, bridged = 0, painted = 0, inside = 0, wrong = 0;
  void add(const Gap& g, int m) {
    ++gaps;
    bridged += g.bridged[m];
    painted += g.painted[m];
    inside += g.inside[m];
    wrong += g.wrongJoin[m];
  }
  void print(const char* name) const {
    std::printf("  %-24s %5lld %8.1f%% %12.1f%% %8lld\n", name, (long long)gaps, gaps ? 100.0 * bridged / gaps : 0.0,
                painted ? 100.0 * inside / painted : 100.0, (long long)wrong);
  }
};

}  // namespace

int main(int argc, char** argv) {
  int seeds = 3, runs = 2;
  uint64_t first = 1;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--first") && i + 1 < argc) first = std::stoull(argv[++i]);
    else if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) runs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--verbose")) verbose = true;
    else {
      std::fprintf(stderr, "usage: bench_post_reconnect_realistic [--seeds N] [--first S] [--runs R] [--verbose]\n");
      return 2;
    }
  }
  try {
    std::vector<Gap> all;
    double seconds[2] = {0, 0};
    int notBroken = 0, reconnections = 0;
    for (uint64_t seed = first; seed < first + static_cast<uint64_t>(seeds); ++seed) {
      PhantomOptions o;
      o.seed = seed;
      o.realisticVessels = true;
      o.noiseSigmaHu = 20.0;
      o.dimensions = Index3{256, 256, 192};
      o.spacing = Vec3{1.25, 1.25, 1.5};
      const PhantomCase pc = generatePhantom(o);
      const Volume& gt = pc.labels;
      const Geometry& g = gt.geometry();
      const uint8_t* gl = gt.data<uint8_t>();
      const int16_t* delayed = pc.delayed.data<int16_t>();
      const int16_t* arterial = pc.arterial.data<int16_t>();
      if (seed == first) std::printf("realistic phantom: %s, seeds %llu..%llu, %d runs each\n", g.describe().c_str(),
                                     (unsigned long long)first, (unsigned long long)(first + seeds - 1), runs);

      // Bright (stent or plaque) artery voxels.
      std::vector<Vec3> bright;
      for (int64_t v = 0; v < gt.voxelCount(); ++v)
        if (isArteryLabel(gl[v]) && delayed[v] > 1000 && arterial[v] > 1000) bright.push_back(pointOf(g, v));
      auto nearBright = [&](const Vec3& p, double mm) {
        for (const Vec3& b : bright)
          if (norm(sub(b, p)) <= mm) return true;
        return false;
      };

      // Centreline sites per label, with branch points.
      const Volume distKidney = detail::distanceToMm(detail::binaryOf(gt, {pl::KidneyLeft, pl::KidneyRight, pl::Tumor}));
      const Volume distBladder = detail::distanceToMm(detail::binaryOf(gt, {pl::UrinaryBladder}));
      std::map<int, std::vector<Site>> sites;
      std::map<int, std::vector<Vec3>> branches;
      for (int label : {int(pl::Aorta), int(pl::IliacArteryLeft), int(pl::IliacArteryRight), int(pl::Artery),
                        int(pl::UreterLeft), int(pl::UreterRight)}) {
        const Volume bin = detail::binaryOf(gt, {label});
        const Volume inside = detail::signedDistanceMm(bin);
        // Distance to any other artery label (junctions of the tree).
        std::vector<int> others;
        for (int a : kArteries)
          if (a != label) others.push_back(a);
        const Volume distOthers = detail::distanceToMm(detail::binaryOf(gt, isArteryLabel(label) ? others : std::vector<int>{}));
        const Volume sk = thinToCurves(bin);
        const uint8_t* s = sk.data<uint8_t>();
        std::vector<int64_t> skel;
        for (int64_t v = 0; v < gt.voxelCount(); ++v)
          if (s[v]) skel.push_back(v);
        for (int64_t v : skel) {
          const int64_t i = v % g.size[0], j = (v / g.size[0]) % g.size[1], k = v / (g.size[0] * g.size[1]);
          int n = 0;
          for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx)
                if ((dx || dy || dz) && g.contains(i + dx, j + dy, k + dz) && s[g.offset(i + dx, j + dy, k + dz)]) ++n;
          if (n > 2) branches[label].push_back(pointOf(g, v));
        }
        // Real bifurcations only: three arms of centreline leave the point
        // (thinning leaves spurious junctions along a voxelised curve).
        {
          std::vector<Vec3> real;
          for (const Vec3& b : branches[label]) {
            std::vector<Vec3> shell;
            for (int64_t v : skel) {
              const double d = norm(sub(pointOf(g, v), b));
              if (d >= 6.0 && d <= 10.0) shell.push_back(pointOf(g, v));
            }
            std::vector<int> cluster(shell.size(), -1);
            int clusters = 0;
            for (size_t a = 0; a < shell.size(); ++a) {
              if (cluster[a] >= 0) continue;
              std::vector<size_t> stack{a};
              cluster[a] = clusters;
              while (!stack.empty()) {
                const size_t c = stack.back();
                stack.pop_back();
                for (size_t e = 0; e < shell.size(); ++e)
                  if (cluster[e] < 0 && norm(sub(shell[e], shell[c])) <= 2.5) cluster[e] = clusters, stack.push_back(e);
              }
              ++clusters;
            }
            bool near = false;
            for (const Vec3& r : real) near = near || norm(sub(r, b)) < 8.0;
            if (clusters >= 3 && !near) real.push_back(b);
          }
          branches[label] = real;
          if (verbose) std::printf("  seed %llu label %d: %zu centreline voxels, %zu bifurcations\n", (unsigned long long)seed,
                                   label, skel.size(), real.size());
        }
        for (int64_t v : skel) {
          const Vec3 q = pointOf(g, v);
          double clear = std::min(distKidney.data<float>()[v], distBladder.data<float>()[v]);
          if (isArteryLabel(label)) clear = std::min<double>(clear, distOthers.data<float>()[v]);
          for (const Vec3& b : branches[label]) clear = std::min(clear, norm(sub(b, q)));
          // Away from the field of view's edge.
          const int64_t k = v / (g.size[0] * g.size[1]);
          clear = std::min(clear, std::min(k, g.size[2] - 1 - k) * g.spacing[2]);
          const double diameter = 2.0 * (-inside.data<float>()[v] + 0.5 * g.spacing[0]);
          sites[label].push_back({v, q, diameter, clear, label});
        }
      }

      std::mt19937_64 rng(seed * 7919 + 101);
      const std::vector<double> lengths{2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
      int lengthAt = static_cast<int>(seed % lengths.size());
      for (int run = 0; run < runs; ++run) {
        Volume cut = gt.clone();
        std::vector<Gap> gaps;
        auto farFromOthers = [&](const Vec3& c, double length) {
          for (const Gap& other : gaps)
            if (norm(sub(other.centre, c)) < 0.5 * (other.lengthMm + length) + 25.0) return false;
          return true;
        };
        auto arteryGap = [&](const std::string& cls, const std::string& situation) {
          Gap gap;
          gap.cls = cls;
          gap.situation = situation;
          gap.connect = kArteries;
          gap.family = kArteries;
          gap.wrong = {pl::Vein, pl::InferiorVenaCava, pl::UreterLeft, pl::UreterRight};
          return gap;
        };
        auto place = [&](Gap& gap, const std::vector<Site>& pool, auto accept) {
          gap.lengthMm = lengths[lengthAt++ % lengths.size()];
          for (int attempt = 0; attempt < 400; ++attempt) {
            if (pool.empty()) return false;
            const Site& s = pool[rng() % pool.size()];
            if (!accept(s, gap.lengthMm) || !farFromOthers(s.point, gap.lengthMm)) continue;
            gap.centre = s.point;
            const bool shiftUp = gap.situation == "bifurcation" && s.label == pl::Aorta;
            // The vessel's axis from its own centreline near the site.
            std::vector<Vec3> near;
            for (const Site& t : sites[s.label])
              if (norm(sub(t.point, s.point)) <= std::max(6.0, 0.6 * s.diameterMm)) near.push_back(t.point);
            const Vec3 axis = near.size() >= 3 ? principalDirection(near) : Vec3{0, 0, 1};
            // The vessel's width there: the widest centreline point near the site
            // (a site at a junction or an end lies off the medial axis).
            double diameter = s.diameterMm;
            for (const Site& t : sites[s.label])
              if (norm(sub(t.point, s.point)) <= 12.0) diameter = std::max(diameter, t.diameterMm);
            if (shiftUp) {
              // From just below the carina up the aorta (the axis points up).
              const Vec3 up = axis[2] >= 0 ? axis : Vec3{-axis[0], -axis[1], -axis[2]};
              const double by = 0.5 * gap.lengthMm - 1.0;
              gap.centre = {gap.centre[0] + up[0] * by, gap.centre[1] + up[1] * by, gap.centre[2] + up[2] * by};
            }
            gap.removed = bench::cutSlab(cut, gap.values, gap.centre, axis, 0.5 * gap.lengthMm, 0.5 * diameter + 3.0);
            return !gap.removed.empty();
          }
          return false;
        };
        auto plain = [&](double minD, double maxD) {
          return [=](const Site& s, double length) {
            return s.diameterMm >= minD && s.diameterMm <= maxD && s.clearanceMm > 0.5 * length + 4.0 &&
                   !nearBright(s.point, 0.5 * length + 6.0);
          };
        };
        // At a bifurcation: the aortic bifurcation (aorta and both iliacs cut) or
        // the origin of an internal iliac artery.
        {
          const bool aortic = (run + seed) % 2 == 0;
          Gap gap = arteryGap(aortic ? "aorta 16-25 mm" : "iliac 8-12 mm", "bifurcation");
          std::vector<Site> pool;
          if (aortic) {
            // The carina: the lowest point where the two iliacs touch; the
            // gap starts just below it and runs up the aorta.
            gap.values = {pl::Aorta, pl::IliacArteryLeft, pl::IliacArteryRight};
            int64_t carina = -1;
            for (int64_t k = 1; k + 1 < g.size[2] && carina < 0; ++k)
              for (int64_t j = 1; j + 1 < g.size[1] && carina < 0; ++j)
                for (int64_t i = 1; i + 1 < g.size[0]; ++i) {
                  const int64_t v = g.offset(i, j, k);
                  if (gl[v] != pl::IliacArteryLeft) continue;
                  const int64_t nb[6] = {1, -1, g.size[0], -g.size[0], g.size[0] * g.size[1], -g.size[0] * g.size[1]};
                  bool touch = false;
                  for (int64_t d : nb) touch = touch || gl[v + d] == pl::IliacArteryRight;
                  if (touch) {
                    carina = v;
                    break;
                  }
                }
            if (carina >= 0) {
              const Vec3 c = pointOf(g, carina);
              const Site* nearest = nullptr;
              for (const Site& st : sites[pl::Aorta])
                if (!nearest || norm(sub(st.point, c)) < norm(sub(nearest->point, c))) nearest = &st;
              if (nearest) {
                Site st = *nearest;
                st.point = c;
                st.voxel = carina;
                st.diameterMm = 50.0;  // the whole junction, both limbs included
                pool.push_back(st);
              }
            }
          } else {
            gap.values = {pl::IliacArteryLeft, pl::IliacArteryRight};
            for (int label : {int(pl::IliacArteryLeft), int(pl::IliacArteryRight)})
              for (const Vec3& br : branches[label])
                for (const Site& st : sites[label])
                  if (norm(sub(st.point, br)) < 1.0) pool.push_back(st);
          }
          const Volume distAorta = detail::distanceToMm(detail::binaryOf(gt, {pl::Aorta}));
          auto atBranch = [&](const Site& st, double length) {
            return std::min(distKidney.data<float>()[st.voxel], distBladder.data<float>()[st.voxel]) > 0.5 * length + 2.0 &&
                   (aortic || distAorta.data<float>()[st.voxel] > 20.0);
          };
          if (place(gap, pool, atBranch)) gaps.push_back(gap);
        }
        // Next to a stent: a gap whose end faces the stent.
        {
          Gap gap = arteryGap("", "stent");
          std::vector<Site> pool;
          for (int label : {int(pl::Artery), int(pl::IliacArteryLeft), int(pl::IliacArteryRight)})
            for (const Site& s : sites[label]) pool.push_back(s);
          auto nextToStent = [&](const Site& s, double length) {
            return nearBright(s.point, 0.5 * length + 4.0) && s.clearanceMm > 0.5 * length + 3.0 &&
                   distKidney.data<float>()[s.voxel] > 0.5 * length + 4.0;
          };
          gap.values = {pl::Artery, pl::IliacArteryLeft, pl::IliacArteryRight};
          if (place(gap, pool, nextToStent)) {
            const int label = gl[gap.removed.front()];
            gap.cls = label == pl::Artery ? "renal 4-7 mm" : "iliac 8-12 mm";
            gaps.push_back(gap);
          }
        }

        // Every calibre class.
        {
          Gap gap = arteryGap("aorta 16-25 mm", "plain");
          gap.values = {pl::Aorta};
          if (place(gap, sites[pl::Aorta], plain(12.0, 30.0))) gaps.push_back(gap);
        }
        {
          const int side = (run + seed) % 2 ? pl::IliacArteryLeft : pl::IliacArteryRight;
          Gap gap = arteryGap("iliac 8-12 mm", "plain");
          gap.values = {side};
          if (place(gap, sites[side], plain(6.5, 14.0))) gaps.push_back(gap);
        }
        {
          Gap gap = arteryGap("renal 4-7 mm", "plain");
          gap.values = {pl::Artery};
          if (place(gap, sites[pl::Artery], plain(3.6, 8.0))) gaps.push_back(gap);
        }
        {
          Gap gap = arteryGap("accessory 2-3 mm", "plain");
          gap.values = {pl::Artery};
          if (place(gap, sites[pl::Artery], plain(1.0, 3.5))) gaps.push_back(gap);
        }
        for (int side : {int(pl::UreterLeft), int(pl::UreterRight)}) {
          Gap gap;
          gap.cls = "ureter";
          gap.situation = "plain";
          gap.ureter = true;
          gap.values = {side};
          const int kidney = side == pl::UreterLeft ? pl::KidneyLeft : pl::KidneyRight;
          gap.connect = {side, kidney, pl::UrinaryBladder};
          gap.family = gap.connect;
          gap.wrong = {pl::Artery, pl::Vein, pl::Aorta, pl::InferiorVenaCava, pl::IliacArteryLeft, pl::IliacArteryRight};
          if (place(gap, sites[side], plain(0.5, 20.0))) gaps.push_back(gap);
        }
        // Which gaps break their vessel, and a voxel of each fragment beside them.
        for (Gap& gap : gaps) {
          int count = 0;
          const Volume cc = detail::connectedComponents(detail::binaryOf(cut, gap.connect), &count);
          const int32_t* c = cc.data<int32_t>();
          const uint8_t* cl = cut.data<uint8_t>();
          std::map<int, int64_t> adjacent;
          for (int64_t v : gap.removed) {
            const int64_t i = v % g.size[0], j = (v / g.size[0]) % g.size[1], k = v / (g.size[0] * g.size[1]);
            for (int dz = -1; dz <= 1; ++dz)
              for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                  if (!g.contains(i + dx, j + dy, k + dz)) continue;
                  const int64_t n = g.offset(i + dx, j + dy, k + dz);
                  if (c[n] && std::find(gap.values.begin(), gap.values.end(), int(cl[n])) != gap.values.end())
                    adjacent.emplace(c[n], n);
                }
          }
          gap.broken = adjacent.size() >= 2;
          for (auto& kv : adjacent) gap.sides.push_back(kv.second);
          if (!gap.broken) ++notBroken;
          if (verbose && !gap.broken)
            std::printf("  seed %llu run %d: %s %s gap %.0f mm at (%.0f %.0f %.0f) did not break its vessel (%zu voxels cut)\n",
                        (unsigned long long)seed, run, gap.cls.c_str(), gap.situation.c_str(), gap.lengthMm, gap.centre[0],
                        gap.centre[1], gap.centre[2], gap.removed.size());
        }

        for (int withCt = 0; withCt < 2; ++withCt) {
          Volume result = cut;
          const auto t0 = std::chrono::steady_clock::now();
          for (TubularStructure type : {TubularStructure::Artery, TubularStructure::Ureter}) {
            const Volume* ct = withCt ? (type == TubularStructure::Artery ? &pc.arterial : &pc.delayed) : nullptr;
            ReconnectionResult rr = reconnect(type, result, pc.table, ct, ReconnectionParameters::defaults(type));
            result = rr.mask;
            if (verbose)
              for (const Bridge& b : rr.bridges)
                if (b.decision == "bridged" || b.gapMm < 14)
                  std::printf("    seed %llu run %d %s %s: gap %.1f mm (%.0f %.0f %.0f)->(%.0f %.0f %.0f) %s path %.1f mm angle %.0f contrast %.2f calibre %.1f..%.1f mm in lumen %.2f -> %s\n",
                              (unsigned long long)seed, run, withCt ? "CT" : "no CT", b.structure.c_str(), b.gapMm,
                              b.fromPoint[0], b.fromPoint[1], b.fromPoint[2], b.toPoint[0], b.toPoint[1], b.toPoint[2],
                              b.toKind.c_str(), b.pathLengthMm, b.angleDeg, b.contrastFraction, b.calibreFromMm,
                              b.calibreToMm, b.lumenFraction, b.decision.c_str());
          }
          ++reconnections;
          seconds[withCt] += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
          const uint8_t* rl = result.data<uint8_t>();
          const uint8_t* cl = cut.data<uint8_t>();
          for (Gap& gap : gaps) {
            if (!gap.broken) continue;
            int count = 0;
            const Volume cc = detail::connectedComponents(detail::binaryOf(result, gap.connect), &count);
            const int32_t* c = cc.data<int32_t>();
            bool joined = true;
            for (int64_t s : gap.sides) joined = joined && c[s] && c[s] == c[gap.sides.front()];
            gap.bridged[withCt] = joined;
            if (verbose)
              std::printf("  seed %llu run %d %s: %s %s gap %.0f mm at (%.0f %.0f %.0f): %s\n", (unsigned long long)seed,
                          run, withCt ? "CT" : "no CT", gap.cls.c_str(), gap.situation.c_str(), gap.lengthMm,
                          gap.centre[0], gap.centre[1], gap.centre[2], joined ? "bridged" : "NOT bridged");
          }
          // Added voxels: inside the true vessel dilated by one voxel? joined to a wrong structure?
          for (int64_t v = 0; v < gt.voxelCount(); ++v) {
            if (rl[v] == cl[v]) continue;
            const bool ureterVoxel = rl[v] == pl::UreterLeft || rl[v] == pl::UreterRight;
            const Vec3 q = pointOf(g, v);
            Gap* nearest = nullptr;
            double best = 1e30;
            for (Gap& gap : gaps)
              if (gap.ureter == ureterVoxel && norm(sub(q, gap.centre)) < best) best = norm(sub(q, gap.centre)), nearest = &gap;
            if (!nearest || best > 0.5 * nearest->lengthMm + 25.0) continue;
            const int64_t i = v % g.size[0], j = (v / g.size[0]) % g.size[1], k = v / (g.size[0] * g.size[1]);
            bool in = false, nextToWrong = false;
            for (int dz = -1; dz <= 1; ++dz)
              for (int dy = -1; dy <= 1; ++dy)
                for (int dx = -1; dx <= 1; ++dx) {
                  if (!g.contains(i + dx, j + dy, k + dz)) continue;
                  const int n = gl[g.offset(i + dx, j + dy, k + dz)];
                  if (std::find(nearest->family.begin(), nearest->family.end(), n) != nearest->family.end()) in = true;
                  if (std::find(nearest->wrong.begin(), nearest->wrong.end(), n) != nearest->wrong.end()) nextToWrong = true;
                }
            const bool overWrong = std::find(nearest->wrong.begin(), nearest->wrong.end(), int(gl[v])) != nearest->wrong.end();
            ++nearest->painted[withCt];
            nearest->inside[withCt] += in;
            if ((nextToWrong && !in) || overWrong) nearest->wrongJoin[withCt] = true;
          }
        }
        if (verbose)
          for (const Gap& gap : gaps)
            for (int m = 0; m < 2; ++m)
              if (gap.broken && gap.painted[m] > gap.inside[m])
                std::printf("  seed %llu run %d %s: %s %s gap %.0f mm at (%.0f %.0f %.0f): %lld of %lld added voxels outside\n",
                            (unsigned long long)seed, run, m ? "CT" : "no CT", gap.cls.c_str(), gap.situation.c_str(),
                            gap.lengthMm, gap.centre[0], gap.centre[1], gap.centre[2],
                            (long long)(gap.painted[m] - gap.inside[m]), (long long)gap.painted[m]);
        all.insert(all.end(), gaps.begin(), gaps.end());
      }
    }

    int broken = 0;
    for (const Gap& gap : all) broken += gap.broken;
    std::printf("%zu gaps cut (2-12 mm), %d broke their vessel and are counted, %d did not\n", all.size(), broken, notBroken);
    for (int withCt = 1; withCt >= 0; --withCt) {
      std::printf("\nreconnection %s (%.1f s per case, arteries and ureters)\n",
                  withCt ? "with the CT (A for arteries, D for ureters)" : "without a CT",
                  seconds[withCt] / std::max(1, reconnections / 2));
      std::printf("  %-24s %5s %9s %13s %8s\n", "class / situation", "gaps", "bridged", "voxels inside", "wrong");
      std::map<std::string, Tally> byClass, bySituation;
      Tally total;
      for (const Gap& gap : all) {
        if (!gap.broken) continue;
        byClass[gap.cls].add(gap, withCt);
        bySituation[gap.situation].add(gap, withCt);
        total.add(gap, withCt);
      }
      for (const char* c : {"aorta 16-25 mm", "iliac 8-12 mm", "renal 4-7 mm", "accessory 2-3 mm", "ureter"})
        if (byClass.count(c)) byClass[c].print(c);
      for (const char* s : {"plain", "bifurcation", "stent"})
        if (bySituation.count(s)) bySituation[s].print((std::string("at ") + s).c_str());
      total.print("all");
      std::printf("  targets: >= 97 %% bridged, >= 98 %% inside, 0 wrong joins: %s\n",
                  total.gaps && total.bridged * 100 >= 97 * total.gaps && total.inside * 100 >= 98 * std::max<int64_t>(1, total.painted) && !total.wrong
                      ? "met" : "NOT met");
    }
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exitCode();
  }
}
