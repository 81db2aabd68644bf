// Reconnection, stage 3: the path of each candidate bridge, a minimal-cost
// path through contrast-enhanced voxels with a CT (a Hermite curve without),
// and the checks that reject it.
#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>

#include "post/ReconnectionInternal.h"

namespace nephro::post::reconnection {

// Cubic Hermite curve from a to b with the given end tangents.
std::vector<Vec3> hermite(const Vec3& a, const Vec3& ta, const Vec3& b, const Vec3& tb, double stepMm) {
  const double chord = norm(sub(b, a));
  const int n = std::max(2, static_cast<int>(std::ceil(chord * 1.3 / stepMm)));
  std::vector<Vec3> pts;
  for (int s = 0; s <= n; ++s) {
    const double t = double(s) / n, t2 = t * t, t3 = t2 * t;
    const double h00 = 2 * t3 - 3 * t2 + 1, h10 = t3 - 2 * t2 + t, h01 = -2 * t3 + 3 * t2, h11 = t3 - t2;
    pts.push_back(add(add(mul(a, h00), mul(ta, h10)), add(mul(b, h01), mul(tb, h11))));
  }
  return pts;
}

double pathLength(const std::vector<Vec3>& pts) {
  double l = 0;
  for (size_t i = 1; i < pts.size(); ++i) l += norm(sub(pts[i], pts[i - 1]));
  return l;
}

// Minimal-cost 26-connected path on the working grid between two points,
// cheap through voxels in the contrast window or of the structure itself.
HuWindow bridgeWindow(const GroupPrep& gp, int a, int b, const ReconnectionParameters& p) {
  if (!p.learnHuWindow) return {p.huMin, p.huMax};
  // Partial volume puts a vessel's boundary voxels about half-way between its
  // lumen and the fat around it; a little under half the lumen's level keeps
  // them, and the floor keeps unenhanced soft tissue (and veins in the
  // arterial phase) out.
  const double floorHu = std::min(p.huMin, 100.0);
  double level = std::numeric_limits<double>::infinity();
  for (int c : {a, b})
    if (c > 0 && c < static_cast<int>(gp.componentHuLevel.size()) && !std::isnan(gp.componentHuLevel[c]))
      level = std::min(level, gp.componentHuLevel[c]);
  if (!std::isfinite(level)) return {p.huMin, 0.0};
  return {std::max(floorHu, 0.45 * level), 0.0};
}

std::vector<Vec3> contrastPath(const Region& r, const Vec3& from, const Vec3& to, const HuWindow& window,
                               double padMm, double* costOut, double* contrastOut) {
  const Geometry& g = r.work;
  const Vec3 ca = g.physicalToIndex(from), cb = g.physicalToIndex(to);
  Index3 lo, hi;
  for (int d = 0; d < 3; ++d) {
    const double pad = padMm / g.spacing[d] + 1;
    lo[d] = std::clamp<int64_t>(static_cast<int64_t>(std::floor(std::min(ca[d], cb[d]) - pad)), 0, g.size[d] - 1);
    hi[d] = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(std::max(ca[d], cb[d]) + pad)), 0, g.size[d] - 1);
  }
  const Index3 n{hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1};
  const int64_t count = n[0] * n[1] * n[2];
  auto local = [&](int64_t gi, int64_t gj, int64_t gk) { return (gi - lo[0]) + n[0] * ((gj - lo[1]) + n[1] * (gk - lo[2])); };
  const int64_t start = nearestOffset(g, from), goal = nearestOffset(g, to);
  auto split = [&](int64_t off, int64_t& i, int64_t& j, int64_t& k) {
    i = off % g.size[0];
    j = (off / g.size[0]) % g.size[1];
    k = off / (g.size[0] * g.size[1]);
  };
  const float* hu = r.ct.data<float>();
  // Voxel weight: 1 inside the window or the structure, growing with the HU distance outside.
  auto weight = [&](int64_t off) -> double {
    if (r.forbidden[off]) return std::numeric_limits<double>::infinity();
    if (r.structure[off] || r.anchor[off]) return 1.0;
    const double h = hu[off];
    if (window.contains(h)) return 1.0;
    const double outside = h < window.low ? window.low - h : h - window.high;
    return 1.0 + 20.0 * std::min(1.0, outside / 150.0);
  };
  std::vector<double> dist(static_cast<size_t>(count), std::numeric_limits<double>::infinity());
  std::vector<int64_t> prev(static_cast<size_t>(count), -1);
  using Item = std::pair<double, int64_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> queue;
  int64_t si, sj, sk, gi, gj, gk;
  split(start, si, sj, sk);
  split(goal, gi, gj, gk);
  const int64_t ls = local(si, sj, sk), lg = local(gi, gj, gk);
  dist[ls] = 0;
  queue.push({0.0, start});
  double stepLength[27];
  for (int dz = -1; dz <= 1; ++dz)
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        stepLength[(dx + 1) + 3 * (dy + 1) + 9 * (dz + 1)] =
            std::sqrt(dx * dx * g.spacing[0] * g.spacing[0] + dy * dy * g.spacing[1] * g.spacing[1] +
                      dz * dz * g.spacing[2] * g.spacing[2]);
  while (!queue.empty()) {
    auto [d, off] = queue.top();
    queue.pop();
    int64_t i, j, k;
    split(off, i, j, k);
    const int64_t l = local(i, j, k);
    if (d > dist[l]) continue;
    if (l == lg) break;
    for (int dz = -1; dz <= 1; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          if (!dx && !dy && !dz) continue;
          const int64_t ni = i + dx, nj = j + dy, nk = k + dz;
          if (ni < lo[0] || nj < lo[1] || nk < lo[2] || ni > hi[0] || nj > hi[1] || nk > hi[2]) continue;
          const int64_t noff = g.offset(ni, nj, nk);
          const double w = weight(noff);
          if (!std::isfinite(w)) continue;
          const double nd = d + stepLength[(dx + 1) + 3 * (dy + 1) + 9 * (dz + 1)] * w;
          const int64_t nl = local(ni, nj, nk);
          if (nd < dist[nl]) {
            dist[nl] = nd;
            prev[nl] = off;
            queue.push({nd, noff});
          }
        }
  }
  if (!std::isfinite(dist[lg])) return {};
  std::vector<int64_t> offsets;
  for (int64_t off = goal;;) {
    offsets.push_back(off);
    if (off == start) break;
    int64_t i, j, k;
    split(off, i, j, k);
    off = prev[local(i, j, k)];
    if (off < 0) return {};
  }
  std::reverse(offsets.begin(), offsets.end());
  // A gap voxel counts as enhanced when it or a face neighbour is in the window:
  // a vessel one or two voxels wide loses much of its HU to partial volume.
  int gapVoxels = 0, inWindow = 0;
  const int64_t faceStep[6] = {1, -1, g.size[0], -g.size[0], g.size[0] * g.size[1], -g.size[0] * g.size[1]};
  for (int64_t off : offsets) {
    if (r.structure[off] || r.anchor[off]) continue;
    ++gapVoxels;
    bool enhanced = window.contains(hu[off]);
    for (int n = 0; n < 6 && !enhanced; ++n) {
      const int64_t o = off + faceStep[n];
      if (o < 0 || o >= g.voxelCount() || r.forbidden[o]) continue;
      enhanced = window.contains(hu[o]);
    }
    inWindow += enhanced;
  }
  *costOut = dist[lg];
  *contrastOut = gapVoxels ? double(inWindow) / gapVoxels : 1.0;
  std::vector<Vec3> pts;
  pts.push_back(from);
  for (size_t s = 1; s + 1 < offsets.size(); ++s) pts.push_back(physicalOf(g, offsets[s]));
  pts.push_back(to);
  // Two passes of [1 2 1] smoothing take the staircase out; the ends stay.
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<Vec3> s = pts;
    for (size_t q = 1; q + 1 < pts.size(); ++q) s[q] = mul(add(add(pts[q - 1], mul(pts[q], 2.0)), pts[q + 1]), 0.25);
    pts.swap(s);
  }
  // Dense resampling so the painted tube has no beads.
  std::vector<Vec3> dense;
  const double step = 0.25 * minSpacing(g);
  for (size_t q = 0; q + 1 < pts.size(); ++q) {
    const double len = norm(sub(pts[q + 1], pts[q]));
    const int m = std::max(1, static_cast<int>(std::ceil(len / step)));
    for (int s = 0; s < m; ++s) dense.push_back(add(pts[q], mul(sub(pts[q + 1], pts[q]), double(s) / m)));
  }
  dense.push_back(pts.back());
  return dense;
}

void traceCandidatePaths(const GroupPrep& gp, std::vector<Candidate>& candidates, const LabelTable& table,
                         const ReconnectionParameters& p) {
  const Group& grp = gp.grp;
  const Region& r = gp.r;
  const Volume& labelsFine = gp.labelsFine;
  const Geometry& fine = labelsFine.geometry();
  const Geometry& w = r.work;
  const Volume* ctFine = gp.ctFine.empty() ? nullptr : &gp.ctFine;
  const int maxLabel = gp.maxLabel;
  const std::vector<uint8_t>& isStructure = gp.isStructure;
  const std::vector<uint8_t>& isAnchor = gp.isAnchor;
  const std::vector<uint8_t>& isPassable = gp.isPassable;
  const double maxAngle = p.maxAngleDeg;
  // Paths: through contrast with a CT, a smooth curve without.
  for (Candidate& cd : candidates) {
    cd.bridge.structure = grp.name;
    if (grp.ownLabels)
      if (const LabelEntry* e = table.find(gp.componentLabel[cd.bridge.fromComponent])) cd.bridge.structure = e->name;
    if (!cd.viable) continue;
    if (ctFine) {
      double cost = 0, contrast = 0;
      cd.window = bridgeWindow(gp, cd.bridge.fromComponent, cd.bridge.toComponent, p);
      cd.bridge.huLow = cd.window.low;
      cd.bridge.huHigh = cd.window.high;
      cd.path = contrastPath(r, cd.bridge.fromPoint, cd.bridge.toPoint, cd.window,
                             std::max(3.0, 0.5 * cd.bridge.gapMm), &cost, &contrast);
      if (cd.path.empty()) {
        cd.viable = false;
        cd.bridge.decision = "rejected: no path around other structures";
        continue;
      }
      cd.bridge.contrastFraction = contrast;
      cd.bridge.cost = cost * (1.0 + cd.bridge.angleDeg / maxAngle) * (cd.toEnd < 0 ? 1.25 : 1.0);
      // A gap of a voxel or two is bridged on geometry alone; the CT judges longer ones.
      const double shortGapMm = 1.5 * std::max({w.spacing[0], w.spacing[1], w.spacing[2]});
      if (contrast < 0.5 && cd.bridge.gapMm > shortGapMm) {
        cd.viable = false;
        cd.bridge.decision = "rejected: the path leaves the contrast window";
      }
    } else {
      cd.path = hermite(cd.bridge.fromPoint, cd.tangentFrom, cd.bridge.toPoint, cd.tangentTo,
                        0.25 * minSpacing(fine));
    }
    cd.bridge.pathLengthMm = pathLength(cd.path);
    if (!cd.viable) continue;
    // Never through another structure's voxels.
    const int32_t* lf = labelsFine.data<int32_t>();
    for (const Vec3& q : cd.path) {
      if (!insideGrid(fine, q)) continue;
      const int v = lf[nearestOffset(fine, q)];
      if (v > 0 && v <= maxLabel && !isStructure[v] && !isAnchor[v] && !isPassable[v]) {
        cd.viable = false;
        const LabelEntry* e = table.find(v);
        cd.bridge.decision = "rejected: crosses " + (e ? e->name : std::to_string(v));
        break;
      }
      if (v > maxLabel) {
        cd.viable = false;
        cd.bridge.decision = "rejected: crosses label " + std::to_string(v);
        break;
      }
    }
  }
}

}  // namespace nephro::post::reconnection
