#pragma once
// Core-internal: the phantom's shapes (ellipsoids, spheres, tubes along
// Catmull-Rom centrelines), its seeded anatomical variation and the
// rasteriser that paints them into a tissue map, with optional per-voxel HU
// overrides (per-vessel contrast, calcified plaque, stents).
#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <unordered_map>
#include <vector>

#include "common/Parallel.h"
#include "phantom/PhantomAnatomy.h"

namespace nephro::phantom_detail {

constexpr double kPi = 3.14159265358979323846;
constexpr double deg(double d) { return d * kPi / 180.0; }

inline Vec3 add(const Vec3& a, const Vec3& b) { return {a[0] + b[0], a[1] + b[1], a[2] + b[2]}; }
inline Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
inline Vec3 mul(const Vec3& a, double s) { return {a[0] * s, a[1] * s, a[2] * s}; }
inline double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
inline double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }
inline Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
inline Vec3 normalized(const Vec3& a) { return mul(a, 1.0 / norm(a)); }
inline double mid(double a, double b) { return 0.5 * (a + b); }

// Row-major rotation; columns are the local axes in the reference frame.
using Rot = std::array<double, 9>;
inline Rot rotX(double a) { return {1, 0, 0, 0, std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a)}; }
inline Rot rotY(double a) { return {std::cos(a), 0, std::sin(a), 0, 1, 0, -std::sin(a), 0, std::cos(a)}; }
inline Rot rotZ(double a) { return {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1}; }
inline Rot matmul(const Rot& a, const Rot& b) {
  Rot r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r[i * 3 + j] += a[i * 3 + k] * b[k * 3 + j];
  return r;
}
inline Vec3 apply(const Rot& r, const Vec3& v) {
  return {r[0] * v[0] + r[1] * v[1] + r[2] * v[2], r[3] * v[0] + r[4] * v[1] + r[5] * v[2],
          r[6] * v[0] + r[7] * v[1] + r[8] * v[2]};
}
inline Vec3 applyT(const Rot& r, const Vec3& v) {
  return {r[0] * v[0] + r[3] * v[1] + r[6] * v[2], r[1] * v[0] + r[4] * v[1] + r[7] * v[2],
          r[2] * v[0] + r[5] * v[1] + r[8] * v[2]};
}

struct Ellipsoid {
  Vec3 centre;
  Vec3 axes;
  Rot rot{1, 0, 0, 0, 1, 0, 0, 0, 1};
  // Sum of squared normalised local coordinates (<= 1 inside).
  double level(const Vec3& p) const {
    Vec3 q = applyT(rot, sub(p, centre));
    return (q[0] * q[0]) / (axes[0] * axes[0]) + (q[1] * q[1]) / (axes[1] * axes[1]) +
           (q[2] * q[2]) / (axes[2] * axes[2]);
  }
  bool inside(const Vec3& p) const { return level(p) <= 1.0; }
  Ellipsoid grown(double mm) const { return {centre, {axes[0] + mm, axes[1] + mm, axes[2] + mm}, rot}; }
  double boundRadius() const { return std::max({axes[0], axes[1], axes[2]}); }
  // Surface point along direction d (reference frame) from the centre.
  Vec3 surfacePoint(const Vec3& d) const {
    Vec3 l = applyT(rot, normalized(d));
    double t = 1.0 / std::sqrt(l[0] * l[0] / (axes[0] * axes[0]) + l[1] * l[1] / (axes[1] * axes[1]) +
                               l[2] * l[2] / (axes[2] * axes[2]));
    return add(centre, mul(normalized(d), t));
  }
};

struct Sphere {
  Vec3 centre;
  double radius;
  bool inside(const Vec3& p) const {
    Vec3 d = sub(p, centre);
    return dot(d, d) <= radius * radius;
  }
};

// A tube: a dense centreline with a radius per point.
struct Tube {
  std::vector<Vec3> points;
  std::vector<double> radii;
  std::vector<float> huA;  // phase-A HU per point (empty: the tissue's own)
};

// Catmull-Rom through control points, sampled every ~`step` mm, with radius
// interpolated linearly from r0 to r1 along the length and an optional
// sinusoidal wiggle perpendicular to the path (tortuosity).
inline Tube makeTube(const std::vector<Vec3>& ctrl, double r0, double r1, double wiggleMm = 0.0,
              double wiggleCycles = 0.0, const Vec3& wiggleNormalHint = {0, 0, 1}, double step = 0.5) {
  std::vector<Vec3> dense;
  const size_t n = ctrl.size();
  for (size_t s = 0; s + 1 < n; ++s) {
    const Vec3& p0 = ctrl[s == 0 ? 0 : s - 1];
    const Vec3& p1 = ctrl[s];
    const Vec3& p2 = ctrl[s + 1];
    const Vec3& p3 = ctrl[std::min(n - 1, s + 2)];
    const int samples = std::max(2, static_cast<int>(norm(sub(p2, p1)) / step));
    for (int i = 0; i < samples; ++i) {
      const double t = double(i) / samples, t2 = t * t, t3 = t2 * t;
      Vec3 p{};
      for (int d = 0; d < 3; ++d)
        p[d] = 0.5 * ((2 * p1[d]) + (-p0[d] + p2[d]) * t + (2 * p0[d] - 5 * p1[d] + 4 * p2[d] - p3[d]) * t2 +
                      (-p0[d] + 3 * p1[d] - 3 * p2[d] + p3[d]) * t3);
      dense.push_back(p);
    }
  }
  dense.push_back(ctrl.back());
  std::vector<double> arc(dense.size(), 0.0);
  for (size_t i = 1; i < dense.size(); ++i) arc[i] = arc[i - 1] + norm(sub(dense[i], dense[i - 1]));
  const double total = std::max(arc.back(), 1e-9);
  Tube tube;
  for (size_t i = 0; i < dense.size(); ++i) {
    const double u = arc[i] / total;
    Vec3 p = dense[i];
    if (wiggleMm > 0.0) {
      const Vec3 tangent = normalized(sub(dense[std::min(i + 1, dense.size() - 1)], dense[i > 0 ? i - 1 : 0]));
      Vec3 side = cross(tangent, wiggleNormalHint);
      if (norm(side) < 1e-6) side = cross(tangent, Vec3{1, 0, 0});
      side = normalized(side);
      // Zero at both ends so the tube still meets its targets.
      p = add(p, mul(side, wiggleMm * std::sin(2 * kPi * wiggleCycles * u) * std::sin(kPi * u)));
    }
    tube.points.push_back(p);
    tube.radii.push_back(r0 + (r1 - r0) * u);
  }
  return tube;
}

// Seeded anatomical variation: each seed is another "patient".
class Jitter {
 public:
  explicit Jitter(uint64_t seed) : state_(seed * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull) {}
  double uniform(double lo, double hi) {
    state_ += 0x9e3779b97f4a7c15ull;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return lo + (hi - lo) * ((z >> 11) * (1.0 / 9007199254740992.0));
  }

 private:
  uint64_t state_;
};

using TissueMask = uint64_t;
constexpr TissueMask bit(Tissue t) { return TissueMask(1) << t; }
constexpr TissueMask kAny = ~TissueMask(0);

class Rasteriser {
 public:
  Rasteriser(const Geometry& grid, const Frame& frame) : grid_(grid), frame_(frame), tissue_(grid, PixelType::UInt8) {
    data_ = tissue_.data<uint8_t>();
  }

  // Reference-frame position of a voxel centre.
  Vec3 refOf(int64_t i, int64_t j, int64_t k) const {
    // Phantom grids are axis-aligned (identity direction).
    const Vec3 p{grid_.origin[0] + i * grid_.spacing[0], grid_.origin[1] + j * grid_.spacing[1],
                 grid_.origin[2] + k * grid_.spacing[2]};
    return {(p[0] - frame_.shiftMm[0]) / frame_.scale + frame_.refCentre[0],
            (p[1] - frame_.shiftMm[1]) / frame_.scale + frame_.refCentre[1],
            (p[2] - frame_.shiftMm[2]) / frame_.scale + frame_.refCentre[2]};
  }

  // Index box covering a reference-frame box.
  void indexBox(const Vec3& lo, const Vec3& hi, Index3& b, Index3& e) const {
    for (int d = 0; d < 3; ++d) {
      const double plo = (lo[d] - frame_.refCentre[d]) * frame_.scale + frame_.shiftMm[d];
      const double phi = (hi[d] - frame_.refCentre[d]) * frame_.scale + frame_.shiftMm[d];
      const double ilo = (plo - grid_.origin[d]) / grid_.spacing[d];
      const double ihi = (phi - grid_.origin[d]) / grid_.spacing[d];
      b[d] = std::clamp<int64_t>(static_cast<int64_t>(std::floor(std::min(ilo, ihi))) - 1, 0, grid_.size[d]);
      e[d] = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(std::max(ilo, ihi))) + 2, 0, grid_.size[d]);
    }
  }

  // Sets `tissue` wherever inside(ref) holds and the current tissue is in `over`.
  void paint(const Vec3& lo, const Vec3& hi, Tissue tissue, TissueMask over,
             const std::function<bool(const Vec3&)>& inside) {
    Index3 b, e;
    indexBox(lo, hi, b, e);
    if (b[2] >= e[2]) return;
    parallelFor(e[2] - b[2], [&](int64_t k0, int64_t k1) {
      for (int64_t k = b[2] + k0; k < b[2] + k1; ++k)
        for (int64_t j = b[1]; j < e[1]; ++j)
          for (int64_t i = b[0]; i < e[0]; ++i) {
            uint8_t& t = data_[grid_.offset(i, j, k)];
            if (!(over & bit(static_cast<Tissue>(t)))) continue;
            if (inside(refOf(i, j, k))) t = tissue;
          }
    });
  }

  void paintEllipsoid(const Ellipsoid& el, Tissue tissue, TissueMask over) {
    const double r = el.boundRadius();
    paint(sub(el.centre, {r, r, r}), add(el.centre, {r, r, r}), tissue, over,
          [&](const Vec3& p) { return el.inside(p); });
  }

  double tubeRadius(double r) const { return std::max(r, frame_.minTubeRadiusRef); }

  void paintTube(const Tube& tube, Tissue tissue, TissueMask over) {
    // Segment by segment, each over its own small box; a voxel is inside when
    // its distance to the segment is below the interpolated radius.
    for (size_t s = 0; s + 1 < tube.points.size(); ++s) {
      const Vec3 a = tube.points[s], b = tube.points[s + 1];
      const double ra = tubeRadius(tube.radii[s]), rb = tubeRadius(tube.radii[s + 1]);
      const double r = std::max(ra, rb);
      Vec3 lo, hi;
      for (int d = 0; d < 3; ++d) {
        lo[d] = std::min(a[d], b[d]) - r;
        hi[d] = std::max(a[d], b[d]) + r;
      }
      const Vec3 ab = sub(b, a);
      const double len2 = std::max(dot(ab, ab), 1e-12);
      Index3 ib, ie;
      indexBox(lo, hi, ib, ie);
      for (int64_t k = ib[2]; k < ie[2]; ++k)
        for (int64_t j = ib[1]; j < ie[1]; ++j)
          for (int64_t i = ib[0]; i < ie[0]; ++i) {
            uint8_t& t = data_[grid_.offset(i, j, k)];
            if (t == tissue || !(over & bit(static_cast<Tissue>(t)))) continue;
            const Vec3 p = refOf(i, j, k);
            const double u = std::clamp(dot(sub(p, a), ab) / len2, 0.0, 1.0);
            const Vec3 d = sub(p, add(a, mul(ab, u)));
            const double rad = ra + (rb - ra) * u;
            if (dot(d, d) <= rad * rad) {
              t = tissue;
              if (overrides_ && !tube.huA.empty()) {
                const float nan = std::numeric_limits<float>::quiet_NaN();
                const float h = static_cast<float>(tube.huA[s] + (tube.huA[s + 1] - tube.huA[s]) * u);
                (*overrides_)[grid_.offset(i, j, k)] = {static_cast<uint8_t>(tissue), {h, nan, nan}};
              }
            }
          }
    }
  }

  // Per-voxel classification of the whole grid, slice by slice: `perSlice(z)`
  // returns the classifier for the slice at reference height z (so
  // z-dependent terms are computed once per slice).
  template <class PerSlice>
  void classifyAll(const PerSlice& perSlice) {
    parallelFor(grid_.size[2], [&](int64_t k0, int64_t k1) {
      for (int64_t k = k0; k < k1; ++k) {
        const auto classify = perSlice(refOf(0, 0, k)[2]);
        for (int64_t j = 0; j < grid_.size[1]; ++j)
          for (int64_t i = 0; i < grid_.size[0]; ++i) data_[grid_.offset(i, j, k)] = classify(refOf(i, j, k));
      }
    });
  }

  // Records `hu` (all phases) for the voxels inside(ref) whose tissue is in
  // `on`, without changing their tissue (plaque, stents). Needs overrides.
  void paintHu(const Vec3& lo, const Vec3& hi, TissueMask on, const std::array<float, 3>& hu,
               const std::function<bool(const Vec3&)>& inside) {
    if (!overrides_) return;
    Index3 b, e;
    indexBox(lo, hi, b, e);
    for (int64_t k = b[2]; k < e[2]; ++k)
      for (int64_t j = b[1]; j < e[1]; ++j)
        for (int64_t i = b[0]; i < e[0]; ++i) {
          const int64_t off = grid_.offset(i, j, k);
          if (!(on & bit(static_cast<Tissue>(data_[off])))) continue;
          if (inside(refOf(i, j, k))) (*overrides_)[off] = {data_[off], hu};
        }
  }

  void setOverrides(HuOverrides* overrides) { overrides_ = overrides; }
  bool recordsOverrides() const { return overrides_ != nullptr; }
  const Frame& frame() const { return frame_; }
  double maxSpacing() const { return std::max({grid_.spacing[0], grid_.spacing[1], grid_.spacing[2]}); }

  Volume take() { return tissue_; }

 private:
  Geometry grid_;
  Frame frame_;
  Volume tissue_;
  uint8_t* data_;
  HuOverrides* overrides_ = nullptr;
};

// Body cross-section: an ellipse that widens slightly towards the pelvis.
struct Body {
  double sx = 1.0, sy = 1.0;
  double ax(double z) const { return sx * 172.0 + 8.0 * std::exp(-((z - 90.0) * (z - 90.0)) / (2 * 60.0 * 60.0)); }
  double ay(double z) const { return sy * 122.0 - 4.0 * std::sin(z / 450.0 * kPi); }
  double cy = 0.0;
};

// A kidney's shapes and its hilum (reference frame).
struct KidneyGeom {
  Ellipsoid outer, inner, pelvis;
  Vec3 hilum, hilumDir;
  double side;
};

// The realistic vessel tree (PhantomVessels.cpp): aorta, iliacs with their
// internal branches, renal and accessory renal arteries, each with calibre
// varying along it, per-vessel contrast falling off distally, calcified
// plaque and stents. Painted over `vesselOver` like the simple tree.
void paintRealisticArteries(Rasteriser& r, const Frame& frame, const KidneyGeom& left, const KidneyGeom& right,
                            TissueMask vesselOver);
// Peristaltic narrowing of a ureter: 2-3 waves along it, seeded.
void addPeristalsis(Tube& ureter, uint64_t seed);

}  // namespace nephro::phantom_detail
