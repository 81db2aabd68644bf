// Reconnection, stage 2: which fragments are noise, and the candidate bridges
// (fragment end to fragment end, or end to the wall of another component).
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "post/ReconnectionInternal.h"

namespace nephro::post::reconnection {

namespace {

// The end's direction (its centreline stretch, or the axis of its voxels just
// behind it) that agrees better with `chord`: on a curving or branching
// vessel one of the two is off, and it is not always the same one.
Vec3 directionTowards(const End& e, const Vec3& chord) {
  if (norm(e.directionNear) == 0) return e.direction;
  if (norm(e.direction) == 0) return e.directionNear;
  return angleDeg(e.directionNear, chord) < angleDeg(e.direction, chord) ? e.directionNear : e.direction;
}

// The radius of the vessel of `component` near its wall point `q`: the
// deepest of its structure voxels within `ballMm` (0 when it has none there,
// e.g. the aorta as the anchor of the renal arteries).
double wallRadius(const Region& r, int component, const Vec3& q, double ballMm) {
  const Geometry& w = r.work;
  const int32_t* comp = r.components.data<int32_t>();
  const float* inside = r.insideDistance.data<float>();
  const Vec3 c = w.physicalToIndex(q);
  Index3 lo, hi;
  for (int d = 0; d < 3; ++d) {
    lo[d] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(c[d] - ballMm / w.spacing[d])));
    hi[d] = std::min<int64_t>(w.size[d] - 1, static_cast<int64_t>(std::ceil(c[d] + ballMm / w.spacing[d])));
  }
  double deepest = -1.0;
  for (int64_t k = lo[2]; k <= hi[2]; ++k)
    for (int64_t j = lo[1]; j <= hi[1]; ++j)
      for (int64_t i = lo[0]; i <= hi[0]; ++i) {
        const int64_t o = w.offset(i, j, k);
        if (comp[o] != component || !r.structure[o] || -inside[o] <= deepest) continue;
        if (norm(sub(w.indexToPhysical({double(i), double(j), double(k)}), q)) <= ballMm) deepest = -inside[o];
      }
  // Distances run between voxel centres; the wall lies half a voxel further.
  return deepest < 0 ? 0.0 : deepest + 0.5 * minSpacing(w);
}

}  // namespace

Bridging classifyFragments(const GroupPrep& gp, const ReconnectionParameters& p) {
  const int nc = gp.r.componentCount;
  const double minVoxels = p.minFragmentMm3 / gp.r.work.voxelVolumeMm3();
  Bridging b;
  b.isNoise.assign(nc + 1, 0);
  for (int c = 1; c <= nc; ++c) {
    if (gp.isMain[c]) continue;
    if (gp.sCount[c] < minVoxels) b.isNoise[c] = 1;
    else ++b.fragmentsBefore;
  }
  for (const End& e : gp.ends)
    if (!b.isNoise[e.component]) b.ends.push_back(e);
  return b;
}

std::vector<Candidate> findCandidates(const GroupPrep& gp, const Bridging& bridging, const ReconnectionParameters& p) {
  const Group& grp = gp.grp;
  const Region& r = gp.r;
  const Geometry& w = r.work;
  const std::vector<Vec3>& centroid = gp.centroid;
  const int32_t* comp = r.components.data<int32_t>();
  const int nc = r.componentCount;
  const std::vector<uint8_t>& isNoise = bridging.isNoise;
  const std::vector<End>& ends = bridging.ends;

  // Rank along the ureter for the consecutive-fragment rule.
  std::vector<int> rank(nc + 1, 0);
  if (grp.ordered) {
    std::vector<int> order;
    for (int c = 1; c <= nc; ++c)
      if (!isNoise[c]) order.push_back(c);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
      return dot(centroid[a], grp.orderAxis) < dot(centroid[b], grp.orderAxis);
    });
    for (size_t q = 0; q < order.size(); ++q) rank[order[q]] = static_cast<int>(q);
  }
  auto allowedPair = [&](int a, int b) { return !grp.ordered || std::abs(rank[a] - rank[b]) == 1; };

  const double maxAngle = p.maxAngleDeg;
  const double shortGap = 1.5 * minSpacing(w);
  std::vector<Candidate> candidates;
  // End to end.
  for (size_t a = 0; a < ends.size(); ++a)
    for (size_t b = a + 1; b < ends.size(); ++b) {
      const End& ea = ends[a];
      const End& eb = ends[b];
      if (ea.component == eb.component || !allowedPair(ea.component, eb.component)) continue;
      const Vec3 chord = sub(eb.face, ea.face);
      const double gap = axialGap(w, ea, eb);
      if (!withinMaxGap(w, gap, chord, p.maxGapMm)) continue;
      const Vec3 da = directionTowards(ea, chord), db = directionTowards(eb, mul(chord, -1.0));
      double angle;
      if (gap < shortGap) angle = 0.5 * angleDeg(ea.direction, mul(eb.direction, -1.0));
      else angle = std::max(angleDeg(da, chord), angleDeg(db, mul(chord, -1.0)));
      Candidate cd;
      cd.fromEnd = static_cast<int>(a);
      cd.toEnd = static_cast<int>(b);
      cd.bridge.fromComponent = ea.component;
      cd.bridge.toComponent = eb.component;
      cd.bridge.toKind = "end";
      cd.bridge.fromPoint = ea.face;
      cd.bridge.toPoint = eb.face;
      cd.bridge.gapMm = gap;
      cd.bridge.angleDeg = angle;
      cd.radiusFrom = ea.radiusMm;
      cd.radiusTo = eb.radiusMm;
      cd.bridge.calibreFromMm = 2.0 * p.radiusScale * cd.radiusFrom;
      cd.bridge.calibreToMm = 2.0 * p.radiusScale * cd.radiusTo;
      cd.tangentFrom = mul(da, gap);
      cd.tangentTo = mul(db, -gap);
      cd.bridge.cost = gap * (1.0 + angle / maxAngle);
      if (angle > maxAngle) {
        cd.viable = false;
        cd.bridge.decision = "rejected: direction differs by more than the maximum angle";
      }
      candidates.push_back(cd);
    }
  // End to the wall of another component (a side branch, the aorta, the kidney or bladder).
  for (size_t a = 0; a < ends.size(); ++a) {
    const End& ea = ends[a];
    if (norm(ea.direction) == 0) continue;
    const double reach = p.maxGapMm + 2.0 * std::max({w.spacing[0], w.spacing[1], w.spacing[2]});
    const Vec3 c = w.physicalToIndex(ea.face);
    Index3 lo, hi;
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(c[d] - reach / w.spacing[d])));
      hi[d] = std::min<int64_t>(w.size[d] - 1, static_cast<int64_t>(std::ceil(c[d] + reach / w.spacing[d])));
    }
    std::unordered_map<int, Candidate> best;
    for (int64_t k = lo[2]; k <= hi[2]; ++k)
      for (int64_t j = lo[1]; j <= hi[1]; ++j)
        for (int64_t i = lo[0]; i <= hi[0]; ++i) {
          const int64_t off = w.offset(i, j, k);
          const int oc = comp[off];
          if (!oc || oc == ea.component || isNoise[oc] || !allowedPair(ea.component, oc)) continue;
          const Vec3 q = w.indexToPhysical({double(i), double(j), double(k)});
          const Vec3 chord = sub(q, ea.face);
          const double gap = faceGap(w, chord);
          if (!withinMaxGap(w, gap, chord, p.maxGapMm)) continue;
          const Vec3 da = directionTowards(ea, chord);
          const double angle = gap < shortGap ? 0.0 : angleDeg(da, chord);
          if (angle > maxAngle) continue;
          // Side joins rank behind end-to-end joins of the same length.
          const double cost = 1.25 * gap * (1.0 + angle / maxAngle);
          auto it = best.find(oc);
          if (it != best.end() && it->second.bridge.cost <= cost) continue;
          Candidate cd;
          cd.fromEnd = static_cast<int>(a);
          cd.bridge.fromComponent = ea.component;
          cd.bridge.toComponent = oc;
          cd.bridge.toKind = "side";
          cd.bridge.fromPoint = ea.face;
          cd.bridge.toPoint = q;
          cd.bridge.gapMm = gap;
          cd.bridge.angleDeg = angle;
          cd.bridge.cost = cost;
          cd.radiusFrom = ea.radiusMm;
          cd.radiusTo = ea.radiusMm;
          cd.bridge.calibreFromMm = cd.bridge.calibreToMm = 2.0 * p.radiusScale * ea.radiusMm;
          cd.tangentFrom = mul(da, gap);
          cd.tangentTo = chord;
          best[oc] = cd;
        }
    for (auto& kv : best) {
      // At the wall the tube is no wider than the vessel it joins: a wide
      // end joined to a narrower branch (the aorta to an iliac limb at the
      // bifurcation) would otherwise spill over the branch's wall.
      Candidate& cd = kv.second;
      const double target = wallRadius(r, kv.first, cd.bridge.toPoint, std::max(3.0, ea.radiusMm));
      if (target > 0) cd.radiusTo = std::min(cd.radiusTo, std::max(target, 0.5 * minSpacing(w)));
      cd.bridge.calibreToMm = 2.0 * p.radiusScale * cd.radiusTo;
      candidates.push_back(cd);
    }
  }
  return candidates;
}

}  // namespace nephro::post::reconnection
