// Reconnection, stage 1: the working region of one structure, its components,
// their skeletons (Boost Graph) and every free end with radius and direction.
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>

#include "image/Resample.h"
#include "post/PostSupport.h"
#include "post/ReconnectionInternal.h"
#include "post/Thinning.h"

namespace nephro::post::reconnection {

using namespace detail;

void prepareGroup(GroupPrep& gp, const ReconnectionParameters& p, const Progress& progress) {
  const Group& grp = gp.grp;
  const Volume& labelsFine = gp.labelsFine;
  const Volume* ctFine = gp.ctFine.empty() ? nullptr : &gp.ctFine;
  Region& r = gp.r;
  const Geometry& fine = labelsFine.geometry();
  r.work = workingGrid(fine, p.workingSpacingMm);
  r.labels = resampleToGrid(labelsFine, r.work, Interpolation::Nearest);
  if (ctFine) r.ct = resampleToGrid(*ctFine, r.work, Interpolation::Linear, -1000.0);
  const int64_t nw = r.work.voxelCount();
  const int32_t* lw = r.labels.data<int32_t>();
  int maxLabel = 0;
  {
    const int32_t* lf = labelsFine.data<int32_t>();
    for (int64_t i = 0; i < fine.voxelCount(); ++i) maxLabel = std::max(maxLabel, lf[i]);
  }
  std::vector<uint8_t> isStructure = valueSet(grp.structure, std::max(maxLabel, 1));
  std::vector<uint8_t> isAnchor = valueSet(grp.anchors, std::max(maxLabel, 1));
  std::vector<uint8_t> isPassable = valueSet(grp.passable, std::max(maxLabel, 1));
  r.structure.assign(nw, 0);
  r.anchor.assign(nw, 0);
  r.forbidden.assign(nw, 0);
  Volume sOnly(r.work, PixelType::UInt8);
  uint8_t* ps = sOnly.data<uint8_t>();
  for (int64_t i = 0; i < nw; ++i) {
    const int v = lw[i];
    if (v <= 0) continue;
    r.structure[i] = isStructure[v];
    r.anchor[i] = isAnchor[v];
    r.forbidden[i] = !isStructure[v] && !isAnchor[v] && !isPassable[v];
    ps[i] = r.structure[i];
  }
  // Components on the mask's own grid, carried to the working grid: coarsening
  // must neither close a one-voxel gap nor merge two fragments.
  {
    const int32_t* lf = labelsFine.data<int32_t>();
    Volume saFine(fine, PixelType::UInt8);
    uint8_t* q = saFine.data<uint8_t>();
    for (int64_t i = 0; i < fine.voxelCount(); ++i) {
      const int v = lf[i];
      q[i] = v > 0 && v <= maxLabel && (isStructure[v] || isAnchor[v]);
    }
    r.components = resampleToGrid(connectedComponents(saFine, &r.componentCount), r.work, Interpolation::Nearest);
  }
  const int32_t* comp = r.components.data<int32_t>();
  const int nc = r.componentCount;
  std::vector<int64_t> sCount(nc + 1, 0);
  std::vector<uint8_t> anchored(nc + 1, 0);
  std::vector<Vec3> centroid(nc + 1, Vec3{0, 0, 0});
  std::vector<int64_t> allCount(nc + 1, 0);
  std::vector<Vec3> allCentroid(nc + 1, Vec3{0, 0, 0});
  for (int64_t i = 0; i < nw; ++i) {
    const int c = comp[i];
    if (!c) continue;
    const Vec3 pt = physicalOf(r.work, i);
    allCentroid[c] = add(allCentroid[c], pt);
    ++allCount[c];
    if (r.anchor[i]) anchored[c] = 1;
    if (r.structure[i]) {
      ++sCount[c];
      centroid[c] = add(centroid[c], pt);
    }
  }
  for (int c = 1; c <= nc; ++c)
    centroid[c] = sCount[c] ? mul(centroid[c], 1.0 / sCount[c]) : mul(allCentroid[c], 1.0 / std::max<int64_t>(1, allCount[c]));
  std::vector<uint8_t> isMain(nc + 1, 0);
  bool anyAnchored = false;
  for (int c = 1; c <= nc; ++c)
    if (anchored[c]) isMain[c] = 1, anyAnchored = true;
  if (!anyAnchored && nc >= 1) {
    int largest = 1;
    for (int c = 1; c <= nc; ++c)
      if (sCount[c] > sCount[largest]) largest = c;
    isMain[largest] = 1;
  }
  progress.report(0.1, "reconnect " + grp.name + ": skeleton");
  progress.throwIfCancelled();

  // Skeleton graph (Boost Graph): vertices are skeleton voxels, edges their 26-neighbours.
  // Each component is thinned on its own, so fragments that touch on the
  // working grid keep their own ends.
  Volume skeleton(r.work, PixelType::UInt8);
  for (int c = 1; c <= nc; ++c) {
    if (!sCount[c]) continue;
    const Box box = padBox(boundingBox(r.components, {c}), 1, r.work);
    if (box.empty()) continue;
    Volume part = crop(sOnly, box);
    const Volume partComp = crop(r.components, box);
    uint8_t* pp = part.data<uint8_t>();
    const int32_t* pc = partComp.data<int32_t>();
    for (int64_t i = 0; i < part.voxelCount(); ++i) pp[i] = pp[i] && pc[i] == c;
    const Volume thin = thinToCurves(part, progress);
    const Geometry& bg = thin.geometry();
    const uint8_t* t = thin.data<uint8_t>();
    uint8_t* sk = skeleton.data<uint8_t>();
    for (int64_t k = 0; k < bg.size[2]; ++k)
      for (int64_t j = 0; j < bg.size[1]; ++j)
        for (int64_t i = 0; i < bg.size[0]; ++i)
          if (t[bg.offset(i, j, k)]) sk[r.work.offset(box.begin[0] + i, box.begin[1] + j, box.begin[2] + k)] = 1;
  }
  r.insideDistance = signedDistanceMm(sOnly);
  const float* inside = r.insideDistance.data<float>();
  const uint8_t* sk = skeleton.data<uint8_t>();
  std::unordered_map<int64_t, int> vertexOf;
  std::vector<int64_t> vertexVoxel;
  for (int64_t i = 0; i < nw; ++i)
    if (sk[i]) {
      vertexOf[i] = static_cast<int>(vertexVoxel.size());
      vertexVoxel.push_back(i);
    }
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                      boost::property<boost::edge_weight_t, double>>;
  Graph graph(vertexVoxel.size());
  const Geometry& w = r.work;
  std::vector<int> degree(vertexVoxel.size(), 0);
  for (size_t v = 0; v < vertexVoxel.size(); ++v) {
    const int64_t off = vertexVoxel[v];
    const int64_t i = off % w.size[0], j = (off / w.size[0]) % w.size[1], k = off / (w.size[0] * w.size[1]);
    for (int dz = -1; dz <= 1; ++dz)
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) {
          if (!dx && !dy && !dz) continue;
          if (!w.contains(i + dx, j + dy, k + dz)) continue;
          const int64_t n = w.offset(i + dx, j + dy, k + dz);
          if (!sk[n] || comp[n] != comp[off]) continue;
          ++degree[v];
          const int u = vertexOf[n];
          if (u <= static_cast<int>(v)) continue;
          const double len = std::sqrt(dx * dx * w.spacing[0] * w.spacing[0] + dy * dy * w.spacing[1] * w.spacing[1] +
                                       dz * dz * w.spacing[2] * w.spacing[2]);
          boost::add_edge(static_cast<int>(v), u, len, graph);
        }
  }

  // Free ends: skeleton ends of non-noise components that do not touch an anchor.
  std::vector<End> ends;
  const double dirMaxMm = 7.0;
  std::vector<double> geodesic(vertexVoxel.size());
  std::vector<size_t> predecessor(vertexVoxel.size());
  for (size_t v = 0; v < vertexVoxel.size(); ++v) {
    if (degree[v] > 1) continue;
    const int64_t off = vertexVoxel[v];
    const int c = comp[off];
    if (!c) continue;
    const int64_t i = off % w.size[0], j = (off / w.size[0]) % w.size[1], k = off / (w.size[0] * w.size[1]);
    bool touchesAnchor = false;
    for (int dz = -1; dz <= 1 && !touchesAnchor; ++dz)
      for (int dy = -1; dy <= 1 && !touchesAnchor; ++dy)
        for (int dx = -1; dx <= 1; ++dx)
          if (w.contains(i + dx, j + dy, k + dz) && r.anchor[w.offset(i + dx, j + dy, k + dz)]) {
            touchesAnchor = true;
            break;
          }
    if (touchesAnchor) continue;
    End e;
    e.voxel = off;
    e.component = c;
    e.point = physicalOf(w, off);
    boost::dijkstra_shortest_paths(graph, static_cast<int>(v),
                                   boost::distance_map(geodesic.data()).predecessor_map(predecessor.data()));
    // The vessel radius: the upper quartile of the centreline's inside distance
    // near the end (the end itself is thinned by the cut face).
    std::vector<double> radii;
    for (size_t u = 0; u < vertexVoxel.size(); ++u)
      if (geodesic[u] <= dirMaxMm + 1.0) radii.push_back(-inside[vertexVoxel[u]]);
    std::sort(radii.begin(), radii.end());
    // Distances run between voxel centres; the wall lies half a voxel further.
    const double rq = (radii.empty() ? 0.0 : radii[radii.size() * 3 / 4]) + 0.5 * minSpacing(w);
    e.radiusMm = std::max(0.5 * minSpacing(w), rq);
    // The local calibre from the distance map: the deepest voxel of this
    // fragment within 8 mm of the end. Thinning leaves spurs to the rim of a
    // wide vessel's cut face, whose centreline near the end is thin; the
    // distance map there still knows the vessel's width.
    {
      const double ball = 8.0;
      const Vec3 ci = w.physicalToIndex(e.point);
      double deepest = 0.0;
      for (int64_t kk = std::max<int64_t>(0, static_cast<int64_t>(std::floor(ci[2] - ball / w.spacing[2])));
           kk <= std::min<int64_t>(w.size[2] - 1, static_cast<int64_t>(std::ceil(ci[2] + ball / w.spacing[2]))); ++kk)
        for (int64_t jj = std::max<int64_t>(0, static_cast<int64_t>(std::floor(ci[1] - ball / w.spacing[1])));
             jj <= std::min<int64_t>(w.size[1] - 1, static_cast<int64_t>(std::ceil(ci[1] + ball / w.spacing[1]))); ++jj)
          for (int64_t ii = std::max<int64_t>(0, static_cast<int64_t>(std::floor(ci[0] - ball / w.spacing[0])));
               ii <= std::min<int64_t>(w.size[0] - 1, static_cast<int64_t>(std::ceil(ci[0] + ball / w.spacing[0]))); ++ii) {
            const int64_t o = w.offset(ii, jj, kk);
            if (!r.structure[o] || comp[o] != c || -inside[o] <= deepest) continue;
            if (norm(sub(w.indexToPhysical({double(ii), double(jj), double(kk)}), e.point)) <= ball) deepest = -inside[o];
          }
      e.radiusMm = std::max(e.radiusMm, deepest + 0.5 * minSpacing(w));
    }
    // Direction: the principal axis of the vessel's voxels near the end,
    // pointing out of the vessel. Thin vessels give short, spurred skeleton
    // ends, so the voxels are steadier than the skeleton here.
    std::vector<Vec3> local;
    const double reach = dirMaxMm + e.radiusMm;
    const Vec3 ci = w.physicalToIndex(e.point);
    Index3 lo, hi;
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(ci[d] - reach / w.spacing[d])));
      hi[d] = std::min<int64_t>(w.size[d] - 1, static_cast<int64_t>(std::ceil(ci[d] + reach / w.spacing[d])));
    }
    for (int64_t kk = lo[2]; kk <= hi[2]; ++kk)
      for (int64_t jj = lo[1]; jj <= hi[1]; ++jj)
        for (int64_t ii = lo[0]; ii <= hi[0]; ++ii) {
          const int64_t o = w.offset(ii, jj, kk);
          if (!r.structure[o] || comp[o] != c) continue;
          const Vec3 q = w.indexToPhysical({double(ii), double(jj), double(kk)});
          if (norm(sub(q, e.point)) <= reach) local.push_back(q);
        }
    Vec3 mean{0, 0, 0};
    for (const Vec3& q : local) mean = add(mean, mul(q, 1.0 / local.size()));
    const Vec3 outward = sub(e.point, mean);
    if (local.size() >= 3) {
      double cov[9] = {0};
      for (const Vec3& q : local)
        for (int a = 0; a < 3; ++a)
          for (int b = 0; b < 3; ++b) cov[a * 3 + b] += (q[a] - mean[a]) * (q[b] - mean[b]);
      Vec3 axis = norm(outward) > 1e-6 ? outward : Vec3{1, 0, 0};
      for (int it = 0; it < 30; ++it) {
        const Vec3 nx{cov[0] * axis[0] + cov[1] * axis[1] + cov[2] * axis[2],
                      cov[3] * axis[0] + cov[4] * axis[1] + cov[5] * axis[2],
                      cov[6] * axis[0] + cov[7] * axis[1] + cov[8] * axis[2]};
        if (norm(nx) < 1e-12) break;
        axis = mul(nx, 1.0 / norm(nx));
      }
      // Elongated neighbourhoods only: a blob has no direction.
      if (dot(axis, outward) < 0) axis = mul(axis, -1.0);
      if (norm(outward) > 0.25 * minSpacing(w)) e.direction = e.directionNear = axis;
    }
    // A longer stretch of centreline where the skeleton has one: the path from
    // the end to the furthest skeleton voxel within three radii (10..24 mm),
    // smoothed by a line fit. It follows one path through a bifurcation
    // instead of averaging both branches, and gives wide vessels (whose
    // voxels near a cut end form a squat cylinder) their axis. Short, spurred
    // ends of thin vessels keep the voxels' axis above.
    {
      const double stretch = std::clamp(3.0 * e.radiusMm, 10.0, 24.0);
      size_t far = v;
      for (size_t u = 0; u < vertexVoxel.size(); ++u)
        if (geodesic[u] <= stretch && geodesic[u] > geodesic[far]) far = u;
      if (geodesic[far] >= 0.6 * stretch) {
        std::vector<Vec3> path;
        for (size_t u = far; u != v && path.size() <= vertexVoxel.size(); u = predecessor[u])
          path.push_back(physicalOf(w, vertexVoxel[u]));
        path.push_back(e.point);
        const Vec3 axis = principalAxis(path, sub(e.point, path.front()));
        if (norm(axis) > 0) e.direction = axis;
      }
    }
    // The face: the furthest vessel voxel near the end along the direction.
    e.face = e.point;
    if (norm(e.direction) > 0) {
      double best = 0;
      for (const Vec3& q : local) {
        const Vec3 d = sub(q, e.point);
        const double along = dot(d, e.direction);
        const double across = std::sqrt(std::max(0.0, dot(d, d) - along * along));
        if (across <= e.radiusMm + 0.5 * minSpacing(w) && along > best) best = along;
      }
      e.face = add(e.point, mul(e.direction, best));
    }
    ends.push_back(e);
  }
  // One end per cut face: ends of one fragment closer than 1.5 radii are the
  // spurs thinning leaves on a wide face; the deepest (nearest the axis) stays.
  {
    std::vector<uint8_t> drop(ends.size(), 0);
    auto depth = [&](const End& e) { return -inside[e.voxel]; };
    for (size_t a = 0; a < ends.size(); ++a)
      for (size_t b = 0; b < ends.size(); ++b) {
        if (a == b || drop[a] || drop[b] || ends[a].component != ends[b].component) continue;
        const double reach = 1.5 * std::max(ends[a].radiusMm, ends[b].radiusMm);
        if (norm(sub(ends[a].point, ends[b].point)) > reach) continue;
        const bool aDeeper = depth(ends[a]) > depth(ends[b]) || (depth(ends[a]) == depth(ends[b]) && a < b);
        drop[aDeeper ? b : a] = 1;
      }
    std::vector<End> kept;
    for (size_t a = 0; a < ends.size(); ++a)
      if (!drop[a]) kept.push_back(ends[a]);
    ends.swap(kept);
  }
  // Per component: its most frequent structure label (what a bridge from it
  // paints when the group paints each fragment's own label) and, with a CT,
  // the upper quartile of its voxels' HU (the lumen's level, for the window).
  {
    std::vector<std::unordered_map<int, int64_t>> labelCount(nc + 1);
    std::vector<std::vector<float>> hu(nc + 1);
    const float* ct = r.ct.empty() ? nullptr : r.ct.data<float>();
    for (int64_t q = 0; q < nw; ++q) {
      const int c = comp[q];
      if (!c || !r.structure[q]) continue;
      ++labelCount[c][lw[q]];
      if (ct) hu[c].push_back(ct[q]);
    }
    gp.componentLabel.assign(nc + 1, grp.paintValue);
    gp.componentHuLevel.assign(nc + 1, std::numeric_limits<double>::quiet_NaN());
    for (int c = 1; c <= nc; ++c) {
      int64_t best = 0;
      for (const auto& [label, count] : labelCount[c])
        if (count > best || (count == best && label < gp.componentLabel[c])) best = count, gp.componentLabel[c] = label;
      if (hu[c].size() >= 4) {
        const size_t at = hu[c].size() * 3 / 4;
        std::nth_element(hu[c].begin(), hu[c].begin() + static_cast<std::ptrdiff_t>(at), hu[c].end());
        gp.componentHuLevel[c] = hu[c][at];
      }
    }
  }
  gp.maxLabel = maxLabel;
  gp.isStructure = std::move(isStructure);
  gp.isAnchor = std::move(isAnchor);
  gp.isPassable = std::move(isPassable);
  gp.sCount = std::move(sCount);
  gp.centroid = std::move(centroid);
  gp.isMain = std::move(isMain);
  gp.ends = std::move(ends);
}

}  // namespace nephro::post::reconnection
