#pragma once
// Core-internal: the state shared by the stages of artery and ureter
// reconnection (ReconnectionEnds: skeleton and free ends; ReconnectionCandidates:
// candidate bridges; ReconnectionPaths: path search; ReconnectionPaint: choice
// and painting). Not part of the post library's interface.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Crop.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "post/VesselReconnection.h"

namespace nephro::post::reconnection {

inline Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
inline Vec3 add(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
inline Vec3 mul(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
inline double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
inline double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
constexpr double kPi = 3.14159265358979323846;

// Angle in degrees between two directions (0 when either is undefined).
inline double angleDeg(const Vec3& a, const Vec3& b) {
  const double na = norm(a), nb = norm(b);
  if (na < 1e-9 || nb < 1e-9) return 0.0;
  return std::acos(std::clamp(dot(a, b) / (na * nb), -1.0, 1.0)) * 180.0 / kPi;
}

// A lumen HU window.
struct HuWindow {
  double low = 0.0, high = 0.0;  // high <= low: no upper bound
  bool contains(double hu) const { return hu >= low && (high <= low || hu <= high); }
};

struct Group {
  std::string name;
  int paintValue = 0;
  std::vector<int> structure;  // the labels reconnected
  std::vector<int> anchors;    // what the main tree is joined to (aorta; kidney and bladder)
  std::vector<int> passable;   // other labels a path may cross without being painted
  bool ordered = false;        // ureter: only consecutive fragments are joined
  bool ownLabels = false;      // a bridge paints its fragment's own label (aorta, iliacs), not paintValue
  Vec3 orderAxis{0, 0, -1};
};

struct End {
  int64_t voxel = 0;  // working-grid offset of the skeleton end
  int component = 0;
  Vec3 point{};       // skeleton end, LPS
  Vec3 face{};        // where the vessel stops along `direction`
  Vec3 direction{};   // unit, outwards; zero when undefined
  Vec3 directionNear{};  // the axis of the vessel's voxels just behind the end (zero when undefined)
  double radiusMm = 1.0;
};

struct Candidate {
  Bridge bridge;
  int fromEnd = -1, toEnd = -1;  // toEnd < 0: side target
  double radiusFrom = 1.0, radiusTo = 1.0;
  HuWindow window;  // with a CT
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

inline Vec3 physicalOf(const Geometry& g, int64_t offset) {
  const int64_t i = offset % g.size[0], j = (offset / g.size[0]) % g.size[1], k = offset / (g.size[0] * g.size[1]);
  return g.indexToPhysical({double(i), double(j), double(k)});
}

inline int64_t nearestOffset(const Geometry& g, const Vec3& p) {
  const Vec3 c = g.physicalToIndex(p);
  Index3 idx;
  for (int d = 0; d < 3; ++d) idx[d] = std::clamp<int64_t>(std::llround(c[d]), 0, g.size[d] - 1);
  return g.offset(idx[0], idx[1], idx[2]);
}

inline bool insideGrid(const Geometry& g, const Vec3& p) {
  const Vec3 c = g.physicalToIndex(p);
  for (int d = 0; d < 3; ++d)
    if (c[d] < -0.5 || c[d] > g.size[d] - 0.5) return false;
  return true;
}

inline double minSpacing(const Geometry& g) { return std::min({g.spacing[0], g.spacing[1], g.spacing[2]}); }

// The width of one voxel along a direction.
inline double voxelWidth(const Geometry& g, const Vec3& along) {
  const double len = norm(along);
  if (len < 1e-9) return 0.0;
  double width = 0;
  for (int a = 0; a < 3; ++a) {
    // The grid axis a in LPS is direction column a.
    const Vec3 axis{g.direction[a], g.direction[3 + a], g.direction[6 + a]};
    width += std::abs(dot(along, axis)) / len * g.spacing[a];
  }
  return width;
}

// The gap between two voxels' faces along their chord: the centre distance less
// one voxel width along it (half at each end), so a cut of n slices measures n slices.
inline double faceGap(const Geometry& g, const Vec3& chord) {
  return std::max(0.0, norm(chord) - voxelWidth(g, chord));
}

// Whether a gap is within the maximum. A cut plane lies somewhere within the
// voxel beyond each face, so a cut of the maximum length leaves faces up to one
// voxel further apart than the maximum: the gap is compared less that voxel.
inline bool withinMaxGap(const Geometry& g, double gapMm, const Vec3& chord, double maxGapMm) {
  return gapMm - voxelWidth(g, chord) <= maxGapMm;
}

// The gap between two end faces along the vessel's axis: where the cut faces
// overlap seen along the ends' common axis (their centres closer sideways
// than the smaller end's radius), the gap is the distance along that axis, so
// a slab cut across a wide vessel measures the slab's thickness however the
// skeleton ends sit on its faces; otherwise (and for ends not facing each
// other) the face-to-face chord.
inline double axialGap(const Geometry& g, const End& a, const End& b) {
  const Vec3 chord = sub(b.face, a.face);
  const double direct = faceGap(g, chord);
  if (norm(a.direction) == 0 || norm(b.direction) == 0) return direct;
  // a's direction points towards b and b's towards a when they face each other.
  Vec3 axis = sub(a.direction, b.direction);
  if (norm(axis) < 1.7) return direct;  // more than about 60 degrees from facing each other
  axis = mul(axis, 1.0 / norm(axis));
  const double along = dot(chord, axis);
  if (along <= 0) return direct;
  const double lateral = norm(sub(chord, mul(axis, along)));
  if (lateral > std::min(a.radiusMm, b.radiusMm)) return direct;
  return std::min(direct, faceGap(g, mul(axis, along)));
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
  std::vector<int> componentLabel;       // most frequent structure label per component
  std::vector<double> componentHuLevel;  // upper-quartile HU per component (NaN without a CT)
};

// Unit principal axis of points (power iteration), pointing along `hint`;
// zero for fewer than three points or a degenerate set.
inline Vec3 principalAxis(const std::vector<Vec3>& pts, const Vec3& hint) {
  if (pts.size() < 3) return {0, 0, 0};
  Vec3 mean{0, 0, 0};
  for (const Vec3& q : pts) mean = add(mean, mul(q, 1.0 / pts.size()));
  double cov[9] = {0};
  for (const Vec3& q : pts)
    for (int a = 0; a < 3; ++a)
      for (int b = 0; b < 3; ++b) cov[a * 3 + b] += (q[a] - mean[a]) * (q[b] - mean[b]);
  Vec3 axis = norm(hint) > 1e-6 ? hint : Vec3{1, 0, 0};
  for (int it = 0; it < 30; ++it) {
    const Vec3 nx{cov[0] * axis[0] + cov[1] * axis[1] + cov[2] * axis[2], cov[3] * axis[0] + cov[4] * axis[1] + cov[5] * axis[2],
                  cov[6] * axis[0] + cov[7] * axis[1] + cov[8] * axis[2]};
    if (norm(nx) < 1e-12) return {0, 0, 0};
    axis = mul(nx, 1.0 / norm(nx));
  }
  if (dot(axis, hint) < 0) axis = mul(axis, -1.0);
  return axis;
}

// The lumen's HU window for a bridge between components a and b (b < 0: a
// alone): learned from their HU levels (the lower bound a little under half
// the dimmer one's level, never under `floorHu`; no upper bound, so stents and
// calcified plaque count as lumen), or the parameters' fixed window.
HuWindow bridgeWindow(const GroupPrep& gp, int a, int b, const ReconnectionParameters& p);

// The bridging state of one structure for one set of parameters: which
// components are noise and which ends may be bridged.
struct Bridging {
  std::vector<uint8_t> isNoise;  // per component
  int fragmentsBefore = 0;       // fragments (not main, not noise) before bridging
  std::vector<End> ends;         // the free ends of non-noise components
};

// ---------------------------------------------------------------- the stages

// Skeleton and ends (ReconnectionEnds.cpp): the working region, components,
// per-component skeletons and every free end with its radius and direction.
void prepareGroup(GroupPrep& gp, const ReconnectionParameters& p, const Progress& progress);

// Candidates (ReconnectionCandidates.cpp): noise and the free ends, then
// end-to-end and end-to-wall candidate bridges within the maximum gap.
Bridging classifyFragments(const GroupPrep& gp, const ReconnectionParameters& p);
std::vector<Candidate> findCandidates(const GroupPrep& gp, const Bridging& bridging, const ReconnectionParameters& p);

// Path search (ReconnectionPaths.cpp): the path of every viable candidate
// (through contrast with a CT, a Hermite curve without), rejected when it
// leaves the contrast window or crosses another structure.
std::vector<Vec3> hermite(const Vec3& a, const Vec3& ta, const Vec3& b, const Vec3& tb, double stepMm);
double pathLength(const std::vector<Vec3>& pts);
std::vector<Vec3> contrastPath(const Region& r, const Vec3& from, const Vec3& to, const HuWindow& window,
                               double padMm, double* costOut, double* contrastOut);
void traceCandidatePaths(const GroupPrep& gp, std::vector<Candidate>& candidates, const LabelTable& table,
                         const ReconnectionParameters& p);

// Painting (ReconnectionPaint.cpp): greedy choice by cost (each end once, no
// loop), the tubes painted into `labelsFine`, joins counted, and unjoined
// fragments removed when they are not to be kept.
// With `ct` (float, the labels' grid), voxels off the path's core are painted
// only inside `window` (the HU averaged with the six face neighbours), and
// `inLumen` counts the painted voxels inside it.
int64_t paintTube(Volume& labels, const std::vector<Vec3>& path, double r0, double r1, int value,
                  const std::vector<uint8_t>& paintable, const Volume* ct = nullptr, const HuWindow& window = {},
                  int64_t* inLumen = nullptr);
void chooseAndPaint(const GroupPrep& gp, const Bridging& bridging, std::vector<Candidate>& candidates,
                    Volume& labelsFine, const ReconnectionParameters& p, ReconnectionResult& totals);

}  // namespace nephro::post::reconnection
