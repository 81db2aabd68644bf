// The phantom's realistic vessel tree (PhantomOptions::realisticVessels):
// calibres that vary along each vessel and from vessel to vessel (aorta
// 16-25 mm, common iliacs 10-12 mm narrowing to 8-9 mm, renal arteries
// 4-7 mm, an accessory renal artery of 2-3 mm), bifurcations (aorta, iliacs
// with their internal branches, renal arteries at the hilum), tortuous iliacs,
// arterial-phase contrast per vessel that falls off distally, calcified plaque
// and stents (1000-3000 HU in every phase), and peristaltic narrowing of the
// ureters. Deterministic by seed; draws from its own stream, so the rest of
// the anatomy is the same as the simple phantom's of the same seed.
#include <cmath>

#include "phantom/PhantomShapes.h"

namespace nephro::phantom_detail {

namespace {

// Arc-length fraction (0..1) of every point of a tube.
std::vector<double> arcFractions(const Tube& t) {
  std::vector<double> u(t.points.size(), 0.0);
  for (size_t i = 1; i < t.points.size(); ++i) u[i] = u[i - 1] + norm(sub(t.points[i], t.points[i - 1]));
  const double total = std::max(u.empty() ? 0.0 : u.back(), 1e-9);
  for (double& x : u) x /= total;
  return u;
}

// Calibre varying along the tube: radius x (1 + amplitude sin(2 pi (cycles u + phase))).
void varyCalibre(Tube& t, double amplitude, double cycles, double phase) {
  const std::vector<double> u = arcFractions(t);
  for (size_t i = 0; i < t.radii.size(); ++i) t.radii[i] *= 1.0 + amplitude * std::sin(2 * kPi * (cycles * u[i] + phase));
}

// Arterial-phase HU from `hu0` at the start, falling off by `falloff` (share) to the end.
void setContrast(Tube& t, double hu0, double falloff) {
  const std::vector<double> u = arcFractions(t);
  t.huA.resize(t.points.size());
  for (size_t i = 0; i < u.size(); ++i) t.huA[i] = static_cast<float>(hu0 * (1.0 - falloff * u[i]));
}

// Unit vector perpendicular to `d`, turned by `angle` around it.
Vec3 perpendicular(const Vec3& d, double angle) {
  Vec3 a = cross(d, Vec3{0, 0, 1});
  if (norm(a) < 1e-6) a = cross(d, Vec3{1, 0, 0});
  a = normalized(a);
  const Vec3 b = normalized(cross(d, a));
  return add(mul(a, std::cos(angle)), mul(b, std::sin(angle)));
}

// A stent: the outer shell (thickness `wall`) of the painted lumen between
// arc fractions u0 and u1, bright in every phase.
void paintStent(Rasteriser& r, const Tube& t, Tissue tissue, double u0, double u1, double wall, float hu) {
  const std::vector<double> u = arcFractions(t);
  for (size_t s = 0; s + 1 < t.points.size(); ++s) {
    if (u[s] < u0 || u[s + 1] > u1) continue;
    const Vec3 a = t.points[s], b = t.points[s + 1];
    const double ra = r.tubeRadius(t.radii[s]), rb = r.tubeRadius(t.radii[s + 1]);
    const double m = std::max(ra, rb);
    Vec3 lo, hi;
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::min(a[d], b[d]) - m;
      hi[d] = std::max(a[d], b[d]) + m;
    }
    const Vec3 ab = sub(b, a);
    const double len2 = std::max(dot(ab, ab), 1e-12);
    r.paintHu(lo, hi, bit(tissue), {hu, hu, hu}, [&](const Vec3& p) {
      const double v = dot(sub(p, a), ab) / len2;
      if (v < 0.0 || v > 1.0) return false;
      const double dist = norm(sub(p, add(a, mul(ab, v))));
      const double rad = ra + (rb - ra) * v;
      return dist <= rad && dist >= rad - wall;
    });
  }
}

// Calcified plaque: a small sphere against the wall at point `at` of the tube.
void paintPlaque(Rasteriser& r, const Tube& t, Tissue tissue, size_t at, double angle, double radius, float hu) {
  const size_t next = std::min(at + 1, t.points.size() - 1), prev = at > 0 ? at - 1 : 0;
  const Vec3 dir = normalized(sub(t.points[next], t.points[prev]));
  const double wallR = r.tubeRadius(t.radii[at]);
  const Sphere s{add(t.points[at], mul(perpendicular(dir, angle), std::max(0.0, wallR - 0.4 * radius))), radius};
  r.paintHu(sub(s.centre, {radius, radius, radius}), add(s.centre, {radius, radius, radius}), bit(tissue), {hu, hu, hu},
            [&](const Vec3& p) { return s.inside(p); });
}

}  // namespace

void addPeristalsis(Tube& ureter, uint64_t seed) {
  Jitter jit(seed * 0x2545f4914f6cdd1dull + 77);
  const std::vector<double> u = arcFractions(ureter);
  const int waves = jit.uniform(0, 1) < 0.5 ? 2 : 3;
  std::vector<double> centre(waves), width(waves), depth(waves);
  for (int w = 0; w < waves; ++w) {
    centre[w] = 0.25 + (0.65 / waves) * (w + jit.uniform(0.2, 0.8));
    width[w] = jit.uniform(0.025, 0.045);
    depth[w] = jit.uniform(0.35, 0.5);
  }
  for (size_t i = 0; i < u.size(); ++i) {
    double narrowing = 0.0;
    for (int w = 0; w < waves; ++w) narrowing += depth[w] * std::exp(-std::pow((u[i] - centre[w]) / width[w], 2));
    ureter.radii[i] *= std::max(0.45, 1.0 - narrowing);
  }
}

void paintRealisticArteries(Rasteriser& r, const Frame& frame, const KidneyGeom& left, const KidneyGeom& right,
                            TissueMask vesselOver) {
  Jitter jit(frame.anatomySeed * 0x51ed270b27ull + 0x2545f4914f6cdd1dull);
  const double scale = frame.scale;
  auto ref = [&](double mm) { return mm / scale; };  // physical mm -> reference mm
  const Vec3 aortaC{18.0, 16.0, 0.0};
  const double aortaHu = jit.uniform(300.0, 450.0);
  const double aortaFalloff = jit.uniform(0.03, 0.08);
  // The aorta's HU at a reference height (it runs from z 470 down to 160).
  auto aortaHuAt = [&](double z) { return aortaHu * (1.0 - aortaFalloff * std::clamp((470.0 - z) / 310.0, 0.0, 1.0)); };

  // Renal arteries: 4-7 mm at the ostium, 4-5 mm at the hilum, tortuous, with a
  // two-branch split at the hilum; then an accessory artery to one lower pole.
  std::vector<Tube> renal;
  std::vector<Tissue> renalKidney;
  for (const KidneyGeom* k : {&left, &right}) {
    const bool isLeft = k->side > 0;
    const double zOst = k->hilum[2] + (isLeft ? 6.0 : 12.0);
    const Vec3 ostium{aortaC[0], aortaC[1], zOst};
    const Vec3 hilumEnd = add(k->hilum, Vec3{0.0, 5.0, 0.0});
    std::vector<Vec3> ctrl{ostium};
    if (isLeft) {
      ctrl.push_back({aortaC[0] + 22.0, 24.0, zOst + 2.0});
      ctrl.push_back({mid(aortaC[0] + 22.0, hilumEnd[0]), 30.0, zOst + 4.0});
    } else {
      ctrl.push_back({6.0, 30.0, zOst - 1.0});
      ctrl.push_back({-12.0, 35.0, zOst - 2.0});
      ctrl.push_back({-30.0, 40.0, zOst - 3.0});
      ctrl.push_back({-50.0, 36.0, zOst - 4.0});
    }
    ctrl.push_back(add(hilumEnd, {-k->side * 8.0, 2.0, 0.0}));
    ctrl.push_back(hilumEnd);
    Tube trunk = makeTube(ctrl, ref(0.5 * jit.uniform(5.0, 7.0)), ref(0.5 * jit.uniform(4.2, 5.0)),
                          (isLeft ? 3.0 : 1.5) * jit.uniform(0.6, 1.3), jit.uniform(1.5, 2.5), {0, 0, 1});
    varyCalibre(trunk, 0.07, jit.uniform(1.0, 2.5), jit.uniform(0.0, 1.0));
    const double trunkHu = aortaHuAt(zOst) * jit.uniform(0.85, 0.97);
    const double trunkFalloff = jit.uniform(0.1, 0.25);
    setContrast(trunk, trunkHu, trunkFalloff);
    const TissueMask artOver = vesselOver | bit(isLeft ? CortexL : CortexR) | bit(isLeft ? MedullaL : MedullaR) |
                               bit(isLeft ? PelvisL : PelvisR) | bit(Aorta);
    r.paintTube(trunk, RenalArtery, artOver);
    const Vec3 up = apply(k->outer.rot, {0, 0, 1});
    const Vec3 inward = normalized(sub(k->outer.centre, k->hilum));
    const double hilumHu = trunkHu * (1.0 - trunkFalloff);
    for (double pole : {1.0, -1.0}) {
      const Vec3 mid1 = add(hilumEnd, add(mul(inward, 9.0), mul(up, pole * 10.0)));
      const Vec3 end = add(hilumEnd, add(mul(inward, 14.0), mul(up, pole * 26.0)));
      Tube branch = makeTube({hilumEnd, mid1, end}, ref(0.5 * jit.uniform(3.6, 4.2)), ref(0.5 * jit.uniform(2.8, 3.4)));
      setContrast(branch, hilumHu, jit.uniform(0.05, 0.15));
      r.paintTube(branch, RenalArtery, artOver);
    }
    renal.push_back(trunk);
    renalKidney.push_back(isLeft ? CortexL : CortexR);
  }
  {
    // Accessory renal artery (2-3 mm) to the lower pole, in front of the ureter.
    const KidneyGeom& k = jit.uniform(0.0, 1.0) < 0.5 ? left : right;
    const bool isLeft = k.side > 0;
    const double s = k.side;
    const Vec3 target = k.outer.surfacePoint({-s * 0.45, -0.55, -0.7});
    const Vec3 inward = normalized(sub(k.outer.centre, target));
    const double z = target[2] + 12.0;
    const Tube acc = [&] {
      Tube t = makeTube({{aortaC[0], aortaC[1], z}, {aortaC[0] + s * 16.0, 4.0, z - 2.0}, {s * 70.0, 2.0, z - 6.0},
                         add(target, mul(inward, -6.0)), add(target, mul(inward, 4.0))},
                        ref(0.5 * jit.uniform(2.6, 3.0)), ref(0.5 * jit.uniform(2.0, 2.4)));
      setContrast(t, aortaHuAt(z) * jit.uniform(0.75, 0.9), jit.uniform(0.2, 0.35));
      return t;
    }();
    r.paintTube(acc, RenalArtery,
                vesselOver | bit(isLeft ? CortexL : CortexR) | bit(isLeft ? MedullaL : MedullaR) | bit(Aorta));
  }

  // Aorta: 19-25 mm below the diaphragm, 16-18 mm at the bifurcation.
  Tube aorta = makeTube({{18.0, 16.0, 470.0}, {18.0, 16.0, 300.0}, {16.0, 14.0, 200.0}, {12.0, 12.0, 160.0}},
                        ref(0.5 * jit.uniform(19.0, 25.0)), ref(0.5 * jit.uniform(16.0, 18.0)));
  varyCalibre(aorta, 0.04, jit.uniform(1.0, 2.0), jit.uniform(0.0, 1.0));
  setContrast(aorta, aortaHu, aortaFalloff);
  const TissueMask bigArteryOver = vesselOver | bit(RenalArtery) | bit(Liver);
  r.paintTube(aorta, Aorta, bigArteryOver);

  // Common iliacs (10-12 mm) narrowing into the external iliacs (8-9 mm),
  // tortuous, each with an internal iliac branch (5-6 mm).
  std::vector<Tube> iliacs;
  for (double side : {1.0, -1.0}) {
    const Tissue tissue = side > 0 ? IliacL : IliacR;
    const std::vector<Vec3> ctrl =
        side > 0 ? std::vector<Vec3>{{12.0, 12.0, 162.0}, {34.0, 16.0, 128.0}, {60.0, 26.0, 80.0}, {76.0, 34.0, 30.0}, {80.0, 36.0, -20.0}}
                 : std::vector<Vec3>{{12.0, 12.0, 162.0}, {-10.0, 16.0, 128.0}, {-40.0, 26.0, 80.0}, {-58.0, 34.0, 30.0}, {-62.0, 36.0, -20.0}};
    Tube iliac = makeTube(ctrl, ref(0.5 * jit.uniform(10.0, 12.0)), ref(0.5 * jit.uniform(8.0, 9.0)),
                          jit.uniform(5.0, 8.0), jit.uniform(1.5, 2.5), {0, 1, 0});
    varyCalibre(iliac, 0.05, jit.uniform(1.0, 2.0), jit.uniform(0.0, 1.0));
    const double iliacHu = aortaHuAt(160.0) * jit.uniform(0.9, 0.98);
    const double iliacFalloff = jit.uniform(0.15, 0.3);
    setContrast(iliac, iliacHu, iliacFalloff);
    r.paintTube(iliac, tissue, bigArteryOver | bit(Aorta));
    // The internal iliac leaves at about 40 % of the length, backwards and inwards.
    const size_t at = iliac.points.size() * 2 / 5;
    const Vec3 p = iliac.points[at];
    Tube internal = makeTube({p, add(p, {-side * 6.0, 12.0, -16.0}), add(p, {-side * 10.0, 22.0, -40.0})},
                             ref(0.5 * jit.uniform(5.0, 6.0)), ref(0.5 * jit.uniform(3.5, 4.5)));
    setContrast(internal, iliac.huA[at], jit.uniform(0.1, 0.25));
    r.paintTube(internal, tissue, vesselOver);
    iliacs.push_back(iliac);
  }

  // Calcified plaque: 4-6 spots on the infrarenal aorta and the common iliacs.
  const int plaques = 4 + static_cast<int>(jit.uniform(0.0, 2.999));
  for (int q = 0; q < plaques; ++q) {
    const double which = jit.uniform(0.0, 1.0);
    const Tube& t = which < 0.5 ? aorta : iliacs[which < 0.75 ? 0 : 1];
    const Tissue tissue = which < 0.5 ? Aorta : (which < 0.75 ? IliacL : IliacR);
    const double u = which < 0.5 ? jit.uniform(0.45, 0.95) : jit.uniform(0.05, 0.35);
    const size_t at = std::min(t.points.size() - 1, static_cast<size_t>(u * (t.points.size() - 1)));
    paintPlaque(r, t, tissue, at, jit.uniform(0.0, 2 * kPi), ref(jit.uniform(1.5, 3.0)),
                static_cast<float>(jit.uniform(1000.0, 3000.0)));
  }
  // Stents: one in a renal artery (proximal), one in a common iliac.
  const double wall = std::max(ref(0.8), 0.5 * r.maxSpacing() / scale);
  const size_t stentedRenal = jit.uniform(0.0, 1.0) < 0.5 ? 0 : 1;
  paintStent(r, renal[stentedRenal], RenalArtery, 0.1, 0.1 + jit.uniform(0.25, 0.35), wall,
             static_cast<float>(jit.uniform(1500.0, 2800.0)));
  const size_t stentedIliac = jit.uniform(0.0, 1.0) < 0.5 ? 0 : 1;
  paintStent(r, iliacs[stentedIliac], stentedIliac == 0 ? IliacL : IliacR, 0.08, 0.08 + jit.uniform(0.2, 0.3), wall,
             static_cast<float>(jit.uniform(1500.0, 2800.0)));
}

}  // namespace nephro::phantom_detail
