#include "post/VesselReconnection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>
#include <unordered_map>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "image/Crop.h"
#include "image/Resample.h"
#include "post/PostSupport.h"
#include "post/Thinning.h"

namespace nephro::post {

using namespace detail;

// ---------------------------------------------------------------- parameters

ReconnectionParameters ReconnectionParameters::defaults(TubularStructure structure) {
  ReconnectionParameters p;
  if (structure == TubularStructure::Artery) {
    // Arterial phase: arteries ~300 HU (less in thin ones through partial
    // volume); renal veins stay below ~140 HU.
    p.huMin = 140.0;
    p.huMax = 1000.0;
  } else {
    // Delayed phase: excreted contrast in the collecting system and ureters.
    p.huMin = 150.0;
    p.huMax = 2000.0;
  }
  return p;
}

std::vector<ParameterInfo> ReconnectionParameters::describe(TubularStructure structure) {
  const ReconnectionParameters d = defaults(structure);
  return {
      {"max-gap-mm", "Maximum gap", "Longest gap between fragment faces that is bridged",
       ParameterKind::Number, 1.0, 40.0, d.maxGapMm, 0.5, "mm"},
      {"min-fragment-mm3", "Minimum fragment", "Smaller fragments are noise and never bridged",
       ParameterKind::Number, 0.0, 500.0, d.minFragmentMm3, 1.0, "mm3"},
      {"max-angle-deg", "Maximum angle", "Largest angle between a bridge and the vessel direction at its ends",
       ParameterKind::Number, 5.0, 120.0, d.maxAngleDeg, 1.0, "deg"},
      {"hu-min", "Lowest contrast HU", "Lower end of the contrast window for the path (with a CT only)",
       ParameterKind::Number, -100.0, 1000.0, d.huMin, 5.0, "HU"},
      {"hu-max", "Highest contrast HU", "Upper end of the contrast window for the path (with a CT only)",
       ParameterKind::Number, 100.0, 3000.0, d.huMax, 5.0, "HU"},
      {"radius-scale", "Radius scale", "Bridge tube radius relative to the vessel radius at its ends",
       ParameterKind::Number, 0.3, 2.0, d.radiusScale, 0.05, ""},
      {"keep-unjoined", "Keep unjoined fragments", "Keep fragments that could not be joined (else remove them)",
       ParameterKind::Flag, 0.0, 1.0, d.keepUnjoined ? 1.0 : 0.0, 1.0, ""},
      {"working-spacing-mm", "Working spacing", "Grid of the skeleton and the path search (0 = the mask's)",
       ParameterKind::Number, 0.0, 3.0, d.workingSpacingMm, 0.25, "mm"},
  };
}

bool ReconnectionParameters::set(const std::string& key, double value) {
  if (key == "max-gap-mm") maxGapMm = value;
  else if (key == "min-fragment-mm3") minFragmentMm3 = value;
  else if (key == "max-angle-deg") maxAngleDeg = value;
  else if (key == "hu-min") huMin = value;
  else if (key == "hu-max") huMax = value;
  else if (key == "radius-scale") radiusScale = value;
  else if (key == "keep-unjoined") keepUnjoined = value != 0.0;
  else if (key == "working-spacing-mm") workingSpacingMm = value;
  else return false;
  return true;
}

double ReconnectionParameters::get(const std::string& key) const {
  if (key == "max-gap-mm") return maxGapMm;
  if (key == "min-fragment-mm3") return minFragmentMm3;
  if (key == "max-angle-deg") return maxAngleDeg;
  if (key == "hu-min") return huMin;
  if (key == "hu-max") return huMax;
  if (key == "radius-scale") return radiusScale;
  if (key == "keep-unjoined") return keepUnjoined ? 1.0 : 0.0;
  if (key == "working-spacing-mm") return workingSpacingMm;
  throw usageError("unknown reconnection parameter '" + key + "'");
}

std::string ReconnectionResult::toJson() const {
  nlohmann::json j;
  j["fragments"] = fragments;
  j["joined"] = joined;
  j["removed"] = removed;
  j["voxelsPainted"] = voxelsPainted;
  auto& list = j["bridges"] = nlohmann::json::array();
  for (const Bridge& b : bridges) {
    list.push_back({{"structure", b.structure},
                    {"from", {{"component", b.fromComponent}, {"pointMm", b.fromPoint}}},
                    {"to", {{"component", b.toComponent}, {"kind", b.toKind}, {"pointMm", b.toPoint}}},
                    {"gapMm", b.gapMm},
                    {"pathLengthMm", b.pathLengthMm},
                    {"angleDeg", b.angleDeg},
                    {"cost", b.cost},
                    {"contrastFraction", b.contrastFraction},
                    {"decision", b.decision},
                    {"voxelsPainted", b.voxelsPainted}});
  }
  return j.dump(2);
}

// ---------------------------------------------------------------- geometry helpers

namespace {

Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
Vec3 add(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
Vec3 mul(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
constexpr double kPi = 3.14159265358979323846;

// Angle in degrees between two directions (0 when either is undefined).
double angleDeg(const Vec3& a, const Vec3& b) {
  const double na = norm(a), nb = norm(b);
  if (na < 1e-9 || nb < 1e-9) return 0.0;
  return std::acos(std::clamp(dot(a, b) / (na * nb), -1.0, 1.0)) * 180.0 / kPi;
}

// ---------------------------------------------------------------- the structures

struct Group {
  std::string name;
  int paintValue = 0;
  std::vector<int> structure;  // the labels reconnected
  std::vector<int> anchors;    // what the main tree is joined to (aorta; kidney and bladder)
  std::vector<int> passable;   // other labels a path may cross without being painted
  bool ordered = false;        // ureter: only consecutive fragments are joined
  Vec3 orderAxis{0, 0, -1};
};

struct End {
  int64_t voxel = 0;  // working-grid offset of the skeleton end
  int component = 0;
  Vec3 point{};       // skeleton end, LPS
  Vec3 face{};        // where the vessel stops along `direction`
  Vec3 direction{};   // unit, outwards; zero when undefined
  double radiusMm = 1.0;
};

struct Candidate {
  Bridge bridge;
  int fromEnd = -1, toEnd = -1;  // toEnd < 0: side target
  double radiusFrom = 1.0, radiusTo = 1.0;
  Vec3 tangentFrom{}, tangentTo{};
  std::vector<Vec3> path;
  bool viable = true;
};

struct UnionFind {
  std::vector<int> parent;
  explicit UnionFind(int n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  int find(int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); }
  void unite(int a, int b) { parent[find(a)] = find(b); }
};

// A working region: the crop, its coarse grid and the per-voxel facts.
struct Region {
  Geometry work;
  Volume labels;        // int32 on `work`
  Volume ct;            // float on `work` (empty without a CT)
  std::vector<uint8_t> structure, anchor, forbidden;  // per working voxel
  Volume components;    // int32 components of structure ∪ anchor
  int componentCount = 0;
  Volume insideDistance;  // float, mm to the structure's surface (negative inside)
};

Vec3 physicalOf(const Geometry& g, int64_t offset) {
  const int64_t i = offset % g.size[0], j = (offset / g.size[0]) % g.size[1], k = offset / (g.size[0] * g.size[1]);
  return g.indexToPhysical({double(i), double(j), double(k)});
}

int64_t nearestOffset(const Geometry& g, const Vec3& p) {
  const Vec3 c = g.physicalToIndex(p);
  Index3 idx;
  for (int d = 0; d < 3; ++d) idx[d] = std::clamp<int64_t>(std::llround(c[d]), 0, g.size[d] - 1);
  return g.offset(idx[0], idx[1], idx[2]);
}

bool insideGrid(const Geometry& g, const Vec3& p) {
  const Vec3 c = g.physicalToIndex(p);
  for (int d = 0; d < 3; ++d)
    if (c[d] < -0.5 || c[d] > g.size[d] - 0.5) return false;
  return true;
}

double minSpacing(const Geometry& g) { return std::min({g.spacing[0], g.spacing[1], g.spacing[2]}); }

// The gap between two voxels' faces along their chord: the centre distance less
// one voxel width along it (half at each end), so a cut of n slices measures n slices.
double faceGap(const Geometry& g, const Vec3& chord) {
  const double len = norm(chord);
  if (len < 1e-9) return 0.0;
  double width = 0;
  for (int a = 0; a < 3; ++a) {
    // The grid axis a in LPS is direction column a.
    const Vec3 axis{g.direction[a], g.direction[3 + a], g.direction[6 + a]};
    width += std::abs(dot(chord, axis)) / len * g.spacing[a];
  }
  return std::max(0.0, len - width);
}

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
std::vector<Vec3> contrastPath(const Region& r, const Vec3& from, const Vec3& to, double huMin, double huMax,
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
    if (h >= huMin && h <= huMax) return 1.0;
    const double outside = h < huMin ? huMin - h : h - huMax;
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
    bool enhanced = hu[off] >= huMin && hu[off] <= huMax;
    for (int n = 0; n < 6 && !enhanced; ++n) {
      const int64_t o = off + faceStep[n];
      if (o < 0 || o >= g.voxelCount() || r.forbidden[o]) continue;
      enhanced = hu[o] >= huMin && hu[o] <= huMax;
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

// Paints a tube along `path` into voxels of `labels` (int32, fine grid) that are
// background or a label the structure may run through (`paintable`).
int64_t paintTube(Volume& labels, const std::vector<Vec3>& path, double r0, double r1, int value,
                  const std::vector<uint8_t>& paintable) {
  const Geometry& g = labels.geometry();
  int32_t* lab = labels.data<int32_t>();
  const double total = std::max(pathLength(path), 1e-9);
  double along = 0;
  int64_t painted = 0;
  for (size_t q = 0; q < path.size(); ++q) {
    if (q) along += norm(sub(path[q], path[q - 1]));
    const double t = along / total;
    const double r = std::max(0.3 * minSpacing(g), r0 + (r1 - r0) * t);
    const Vec3 c = g.physicalToIndex(path[q]);
    // The voxel nearest the path is always painted: a tube thinner than a
    // voxel still leaves a 26-connected line.
    if (insideGrid(g, path[q])) {
      const int64_t off = nearestOffset(g, path[q]);
      const int32_t v = lab[off];
      if (v != value && (v == 0 || (v > 0 && v < static_cast<int32_t>(paintable.size()) && paintable[v]))) {
        lab[off] = value;
        ++painted;
      }
    }
    Index3 lo, hi;
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::max<int64_t>(0, static_cast<int64_t>(std::floor(c[d] - r / g.spacing[d])));
      hi[d] = std::min<int64_t>(g.size[d] - 1, static_cast<int64_t>(std::ceil(c[d] + r / g.spacing[d])));
    }
    for (int64_t k = lo[2]; k <= hi[2]; ++k)
      for (int64_t j = lo[1]; j <= hi[1]; ++j)
        for (int64_t i = lo[0]; i <= hi[0]; ++i) {
          const int64_t off = g.offset(i, j, k);
          const int32_t v = lab[off];
          if (v == value) continue;
          if (v != 0 && (v < 0 || v >= static_cast<int32_t>(paintable.size()) || !paintable[v])) continue;
          const Vec3 p = g.indexToPhysical({double(i), double(j), double(k)});
          if (norm(sub(p, path[q])) <= r) {
            lab[off] = value;
            ++painted;
          }
        }
  }
  return painted;
}

// ---------------------------------------------------------------- one structure

// Everything of one structure that no bridge parameter changes: the working
// region, its components, their skeletons and the free ends found on them.
struct GroupPrep {
  Group grp;
  Box box;            // where the crop lies in the mask
  Volume labelsFine;  // int32 crop of the mask, as given
  Volume ctFine;      // float crop (empty without a CT)
  Region r;
  int maxLabel = 0;
  std::vector<uint8_t> isStructure, isAnchor, isPassable;
  std::vector<int64_t> sCount;
  std::vector<Vec3> centroid;
  std::vector<uint8_t> isMain;
  std::vector<End> ends;  // of every component; those of noise are left out when bridging
};

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
    boost::dijkstra_shortest_paths(graph, static_cast<int>(v), boost::distance_map(geodesic.data()));
    // The vessel radius: the upper quartile of the centreline's inside distance
    // near the end (the end itself is thinned by the cut face).
    std::vector<double> radii;
    for (size_t u = 0; u < vertexVoxel.size(); ++u)
      if (geodesic[u] <= dirMaxMm + 1.0) radii.push_back(-inside[vertexVoxel[u]]);
    std::sort(radii.begin(), radii.end());
    // Distances run between voxel centres; the wall lies half a voxel further.
    const double rq = (radii.empty() ? 0.0 : radii[radii.size() * 3 / 4]) + 0.5 * minSpacing(w);
    e.radiusMm = std::max(0.5 * minSpacing(w), rq);
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
      if (norm(outward) > 0.25 * minSpacing(w)) e.direction = axis;
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
  gp.maxLabel = maxLabel;
  gp.isStructure = std::move(isStructure);
  gp.isAnchor = std::move(isAnchor);
  gp.isPassable = std::move(isPassable);
  gp.sCount = std::move(sCount);
  gp.centroid = std::move(centroid);
  gp.isMain = std::move(isMain);
  gp.ends = std::move(ends);
}

void computeGroup(const GroupPrep& gp, Volume& labelsFine, const LabelTable& table,
                  const ReconnectionParameters& p, std::vector<Bridge>& report, ReconnectionResult& totals,
                  const Progress& progress) {
  const Group& grp = gp.grp;
  const Region& r = gp.r;
  const Geometry& fine = labelsFine.geometry();
  const Geometry& w = r.work;
  const Volume* ctFine = gp.ctFine.empty() ? nullptr : &gp.ctFine;
  const int maxLabel = gp.maxLabel;
  const std::vector<uint8_t>& isStructure = gp.isStructure;
  const std::vector<uint8_t>& isAnchor = gp.isAnchor;
  const std::vector<uint8_t>& isPassable = gp.isPassable;
  const std::vector<int64_t>& sCount = gp.sCount;
  const std::vector<Vec3>& centroid = gp.centroid;
  const std::vector<uint8_t>& isMain = gp.isMain;
  const int32_t* comp = r.components.data<int32_t>();
  const int nc = r.componentCount;
  const double minVoxels = p.minFragmentMm3 / r.work.voxelVolumeMm3();
  std::vector<uint8_t> isNoise(nc + 1, 0);
  int fragmentsBefore = 0;
  for (int c = 1; c <= nc; ++c) {
    if (isMain[c]) continue;
    if (sCount[c] < minVoxels) isNoise[c] = 1;
    else ++fragmentsBefore;
  }
  std::vector<End> ends;
  for (const End& e : gp.ends)
    if (!isNoise[e.component]) ends.push_back(e);
  progress.report(0.4, "reconnect " + grp.name + ": candidates");
  progress.throwIfCancelled();

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
      const double gap = faceGap(w, chord);
      if (gap > p.maxGapMm) continue;
      double angle;
      if (gap < shortGap) angle = 0.5 * angleDeg(ea.direction, mul(eb.direction, -1.0));
      else angle = std::max(angleDeg(ea.direction, chord), angleDeg(eb.direction, mul(chord, -1.0)));
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
      cd.tangentFrom = mul(ea.direction, gap);
      cd.tangentTo = mul(eb.direction, -gap);
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
          if (gap > p.maxGapMm) continue;
          const double angle = gap < shortGap ? 0.0 : angleDeg(ea.direction, chord);
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
          cd.tangentFrom = mul(ea.direction, gap);
          cd.tangentTo = chord;
          best[oc] = cd;
        }
    for (auto& kv : best) candidates.push_back(kv.second);
  }

  // Paths: through contrast with a CT, a smooth curve without.
  for (Candidate& cd : candidates) {
    cd.bridge.structure = grp.name;
    if (!cd.viable) continue;
    if (ctFine) {
      double cost = 0, contrast = 0;
      cd.path = contrastPath(r, cd.bridge.fromPoint, cd.bridge.toPoint, p.huMin, p.huMax,
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
  progress.report(0.7, "reconnect " + grp.name + ": bridges");
  progress.throwIfCancelled();

  // Greedy by cost: each end bridged once, never closing a loop.
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return candidates[a].bridge.cost < candidates[b].bridge.cost; });
  UnionFind sets(nc + 1);
  std::vector<uint8_t> endUsed(ends.size(), 0);
  for (size_t idx : order) {
    Candidate& cd = candidates[idx];
    if (!cd.viable) continue;
    if (endUsed[cd.fromEnd] || (cd.toEnd >= 0 && endUsed[cd.toEnd])) {
      cd.bridge.decision = "rejected: end already bridged";
      continue;
    }
    if (sets.find(cd.bridge.fromComponent) == sets.find(cd.bridge.toComponent)) {
      cd.bridge.decision = "rejected: already connected";
      continue;
    }
    sets.unite(cd.bridge.fromComponent, cd.bridge.toComponent);
    endUsed[cd.fromEnd] = 1;
    if (cd.toEnd >= 0) endUsed[cd.toEnd] = 1;
    cd.bridge.voxelsPainted = paintTube(labelsFine, cd.path, p.radiusScale * cd.radiusFrom,
                                        p.radiusScale * cd.radiusTo, grp.paintValue, isPassable);
    cd.bridge.decision = "bridged";
    totals.voxelsPainted += cd.bridge.voxelsPainted;
  }
  for (Candidate& cd : candidates) report.push_back(cd.bridge);

  // Fragments joined to the main tree now.
  std::vector<uint8_t> mainSet(nc + 1, 0);
  for (int c = 1; c <= nc; ++c)
    if (isMain[c]) mainSet[sets.find(c)] = 1;
  for (int c = 1; c <= nc; ++c) {
    if (isMain[c] || isNoise[c]) continue;
    if (mainSet[sets.find(c)]) ++totals.joined;
  }
  totals.fragments += fragmentsBefore;

  // Unjoined fragments (and noise) go when they are not to be kept.
  if (!p.keepUnjoined) {
    int32_t* lf = labelsFine.data<int32_t>();
    Volume sFine(fine, PixelType::UInt8), saFine(fine, PixelType::UInt8);
    uint8_t* psf = sFine.data<uint8_t>();
    uint8_t* psaf = saFine.data<uint8_t>();
    std::vector<uint8_t> anchorFine(fine.voxelCount(), 0);
    for (int64_t i = 0; i < fine.voxelCount(); ++i) {
      const int v = lf[i];
      if (v <= 0 || v > maxLabel) continue;
      psf[i] = isStructure[v];
      anchorFine[i] = isAnchor[v];
      psaf[i] = isStructure[v] || isAnchor[v];
    }
    int count = 0;
    Volume cc = connectedComponents(saFine, &count);
    const int32_t* pc = cc.data<int32_t>();
    std::vector<uint8_t> keep(count + 1, 0);
    bool anyAnchor = false;
    for (int64_t i = 0; i < fine.voxelCount(); ++i)
      if (pc[i] && anchorFine[i]) keep[pc[i]] = 1, anyAnchor = true;
    if (!anyAnchor && count >= 1) keep[1] = 1;  // the largest
    std::vector<uint8_t> dropped(count + 1, 0);
    for (int64_t i = 0; i < fine.voxelCount(); ++i)
      if (psf[i] && !keep[pc[i]]) {
        lf[i] = 0;
        dropped[pc[i]] = 1;
      }
    for (int c = 1; c <= count; ++c) totals.removed += dropped[c];
  }
  progress.report(1.0, "reconnect " + grp.name + ": done");
}

// ---------------------------------------------------------------- entry point

// The region's pad around the structure, rounded up to 5 mm so that a
// preparation serves nearby gaps (and the one-shot call uses the same region).
double regionPadMm(const ReconnectionParameters& p) { return std::ceil((p.maxGapMm + 10.0) / 5.0) * 5.0; }

void checkParameters(const ReconnectionParameters& p, bool withCt) {
  if (!(p.maxGapMm > 0)) throw usageError("maximum gap must be positive");
  if (withCt && !(p.huMin < p.huMax)) throw usageError("contrast HU window is empty");
}

}  // namespace

struct PreparedReconnection::State {
  double padMm = 0;
  double workingSpacingMm = 0;
  bool withCt = false;
  Volume mask;  // the input, copied
  LabelTable table;
  std::vector<GroupPrep> groups;
};

double reconnectionRegionPadMm(const ReconnectionParameters& p) { return regionPadMm(p); }

bool PreparedReconnection::validFor(const ReconnectionParameters& p) const {
  return state_ && state_->workingSpacingMm == p.workingSpacingMm && regionPadMm(p) == state_->padMm;
}

PreparedReconnection prepareReconnection(TubularStructure structure, const Volume& mask, const LabelTable& table,
                                         const Volume* ct, const ReconnectionParameters& p, const Progress& progress,
                                         const std::string& maskName, const std::string& ctName) {
  requireLabelImage(mask, maskName);
  if (ct) requireSameGrid(mask, *ct, maskName, ctName);
  checkParameters(p, ct != nullptr);
  const std::vector<int> present = labelValuesPresent(mask);
  auto has = [&](const std::string& name) -> std::optional<int> {
    auto v = table.valueOf(name);
    if (v && std::find(present.begin(), present.end(), *v) != present.end()) return v;
    return std::nullopt;
  };
  std::vector<Group> groups;
  const std::vector<int> kidneys = presentValues(table, "kidney", present);
  const std::vector<int> tumors = presentValues(table, "tumor", present);
  // Vessels and ureters run through the perirenal fat.
  const std::vector<int> fat = presentValues(table, "perirenal_fat", present);
  if (structure == TubularStructure::Artery) {
    Group grp;
    grp.name = "artery";
    grp.structure = presentValues(table, "artery", present);
    if (grp.structure.empty())
      throw inputError(maskName, "has no artery label: artery reconnection needs one");
    grp.paintValue = grp.structure.front();
    grp.anchors = presentValues(table, "aorta", present);
    grp.passable = kidneys;
    grp.passable.insert(grp.passable.end(), tumors.begin(), tumors.end());
    grp.passable.insert(grp.passable.end(), fat.begin(), fat.end());
    groups.push_back(grp);
  } else {
    const auto bladder = has("urinary_bladder");
    for (const char* side : {"_left", "_right", ""}) {
      const auto ureter = has(std::string("ureter") + side);
      if (!ureter) continue;
      Group grp;
      grp.name = table.find(*ureter)->name;
      grp.structure = {*ureter};
      grp.paintValue = *ureter;
      grp.ordered = true;
      if (*side) {
        if (auto k = has(std::string("kidney") + side)) grp.anchors.push_back(*k);
      } else {
        grp.anchors = kidneys;
      }
      if (bladder) grp.anchors.push_back(*bladder);
      grp.passable = tumors;
      grp.passable.insert(grp.passable.end(), fat.begin(), fat.end());
      // From the kidney towards the bladder (or downwards without one).
      if (!grp.anchors.empty() && bladder && grp.anchors.front() != *bladder) {
        const Box kb = boundingBox(mask, {grp.anchors.front()}), bb = boundingBox(mask, {*bladder});
        auto centre = [&](const Box& b) {
          return mask.geometry().indexToPhysical({0.5 * (b.begin[0] + b.end[0] - 1), 0.5 * (b.begin[1] + b.end[1] - 1),
                                                  0.5 * (b.begin[2] + b.end[2] - 1)});
        };
        const Vec3 axis = sub(centre(bb), centre(kb));
        if (norm(axis) > 1e-6) grp.orderAxis = mul(axis, 1.0 / norm(axis));
      }
      groups.push_back(grp);
    }
    if (groups.empty())
      throw inputError(maskName, "has no ureter label (ureter_left, ureter_right or ureter): ureter reconnection needs one");
  }

  auto st = std::make_shared<PreparedReconnection::State>();
  st->padMm = regionPadMm(p);
  st->workingSpacingMm = p.workingSpacingMm;
  st->withCt = ct != nullptr;
  st->mask = mask.clone();
  st->table = table;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    GroupPrep gp;
    gp.grp = groups[gi];
    // The region: the structure plus the reach of a bridge (anchors beyond it do not matter).
    gp.box = padBoxMm(boundingBox(mask, gp.grp.structure), st->padMm, mask.geometry());
    gp.labelsFine = castVolume(crop(mask, gp.box), PixelType::Int32);
    if (ct) gp.ctFine = castVolume(crop(*ct, gp.box), PixelType::Float32);
    prepareGroup(gp, p, progress.sub(double(gi) / groups.size(), double(gi + 1) / groups.size()));
    st->groups.push_back(std::move(gp));
  }
  PreparedReconnection prepared;
  prepared.state_ = std::move(st);
  return prepared;
}

ReconnectionResult reconnect(const PreparedReconnection& prepared, const ReconnectionParameters& p,
                             const Progress& progress) {
  if (!prepared.validFor(p))
    throw Error(ErrorKind::Internal, "reconnection prepared for other parameters (region or spacing)");
  const PreparedReconnection::State& st = *prepared.state_;
  checkParameters(p, st.withCt);
  ReconnectionResult result;
  result.table = st.table;
  result.mask = st.mask.clone();
  for (size_t gi = 0; gi < st.groups.size(); ++gi) {
    const GroupPrep& gp = st.groups[gi];
    const Progress sub = progress.sub(double(gi) / st.groups.size(), double(gi + 1) / st.groups.size());
    Volume labelsC = gp.labelsFine.clone();
    computeGroup(gp, labelsC, st.table, p, result.bridges, result, sub);
    paste(castVolume(labelsC, result.mask.pixelType()), gp.box, result.mask);
  }
  return result;
}

ReconnectionResult reconnect(TubularStructure structure, const Volume& mask, const LabelTable& table,
                             const Volume* ct, const ReconnectionParameters& p, const Progress& progress,
                             const std::string& maskName, const std::string& ctName) {
  const PreparedReconnection prepared =
      prepareReconnection(structure, mask, table, ct, p, progress.sub(0.0, 0.6), maskName, ctName);
  return reconnect(prepared, p, progress.sub(0.6, 1.0));
}

}  // namespace nephro::post
