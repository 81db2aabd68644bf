#include "phantom/PhantomAnatomy.h"
#include "phantom/PhantomShapes.h"

#include <algorithm>
#include <cmath>
#include <functional>

#include "common/Parallel.h"

namespace nephro::phantom_detail {

const TissueProperties& tissueProperties(Tissue t) {
  static const TissueProperties table[TissueCount] = {
      /* Air             */ {0, {-1000, -1000, -1000}},
      /* SubcutaneousFat */ {19, {-105, -105, -105}},
      /* MuscleWall      */ {18, {48, 55, 55}},
      /* VisceralFat     */ {0, {-92, -92, -92}},
      /* Vertebra        */ {16, {380, 380, 380}},
      /* Disc            */ {0, {85, 90, 90}},
      /* Psoas           */ {18, {46, 54, 54}},
      /* Liver           */ {14, {75, 118, 92}},
      /* Spleen          */ {15, {120, 128, 100}},
      /* Bladder         */ {17, {8, 12, 310}},
      /* Fascia          */ {0, {28, 34, 34}},
      /* PerirenalFatL   */ {8, {-98, -98, -98}},
      /* PerirenalFatR   */ {9, {-98, -98, -98}},
      /* CortexL         */ {1, {205, 175, 125}},
      /* CortexR         */ {2, {205, 175, 125}},
      /* MedullaL        */ {1, {85, 165, 130}},
      /* MedullaR        */ {2, {85, 165, 130}},
      /* PelvisL         */ {1, {12, 22, 520}},
      /* PelvisR         */ {2, {12, 22, 520}},
      /* Tumor           */ {3, {125, 92, 62}},
      /* Ivc             */ {11, {95, 172, 105}},
      /* RenalVein       */ {5, {140, 175, 105}},
      /* Aorta           */ {10, {350, 165, 95}},
      /* IliacL          */ {12, {330, 160, 92}},
      /* IliacR          */ {13, {330, 160, 92}},
      /* RenalArtery     */ {4, {310, 160, 95}},
      /* UreterL         */ {6, {22, 30, 460}},
      /* UreterR         */ {7, {22, 30, 460}},
  };
  return table[t];
}

Volume rasteriseTissue(const Geometry& grid, const Frame& frame, HuOverrides* overrides) {
  Rasteriser r(grid, frame);
  r.setOverrides(overrides);
  Jitter jit(frame.anatomySeed);
  Body body;
  body.sx = jit.uniform(0.96, 1.04);
  body.sy = jit.uniform(0.96, 1.04);

  // Body wall: skin fat, then a muscle layer, then visceral fat inside.
  r.classifyAll([&](double z) {
    const double ax = body.ax(z), ay = body.ay(z), cy = body.cy;
    auto inside = [=](const Vec3& p, double inset) {
      const double x = p[0] / (ax - inset), y = (p[1] - cy) / (ay - inset);
      return x * x + y * y <= 1.0;
    };
    return [=](const Vec3& p) -> Tissue {
      if (!inside(p, 0.0)) return Air;
      if (!inside(p, 17.0)) return SubcutaneousFat;
      if (!inside(p, 27.0)) return MuscleWall;
      return VisceralFat;
    };
  });
  const TissueMask soft = bit(VisceralFat);

  // Back muscles and psoas (the psoas widens towards the pelvis).
  for (double side : {-1.0, 1.0}) {
    r.paint({side * 40 - 30, 70, -20}, {side * 40 + 30, 115, 470}, MuscleWall, soft, [&](const Vec3& p) {
      const double x = (p[0] - side * 40) / 27.0, y = (p[1] - 104) / 16.0;
      return x * x + y * y <= 1.0;
    });
    r.paint({side * 45 - 30, 20, 60}, {side * 45 + 30, 80, 370}, Psoas, soft, [&](const Vec3& p) {
      if (p[2] > 360 || p[2] < 70) return false;
      const double rad = 8.0 + (360.0 - p[2]) / 240.0 * 16.0;
      const double x = p[0] - side * 46, y = p[1] - 56;
      return x * x + y * y <= rad * rad;
    });
  }

  // Spine: vertebral bodies (26 mm) with discs (6 mm), and posterior elements.
  r.paint({-24, 36, -20}, {24, 112, 470}, Vertebra, soft | bit(MuscleWall) | bit(Psoas), [&](const Vec3& p) {
    const double x = p[0], y = p[1] - 62;
    const bool bodyPart = x * x + y * y <= 22.0 * 22.0;
    const double xe = p[0] / 11.0, ye = (p[1] - 96.0) / 12.0;
    return bodyPart || xe * xe + ye * ye <= 1.0;
  });
  r.paint({-24, 36, -20}, {24, 88, 470}, Disc, bit(Vertebra), [&](const Vec3& p) {
    const double x = p[0], y = p[1] - 62;
    return x * x + y * y <= 22.0 * 22.0 && std::fmod(p[2] + 1000.0, 32.0) < 6.0;
  });

  // Kidneys: long axis tilted (upper pole medial and posterior), hilum facing
  // antero-medially. The right kidney sits lower, under the liver.
  auto makeKidney = [&](double side, double zc) {
    KidneyGeom k;
    k.side = side;
    const double size = jit.uniform(0.9, 1.1);
    const Rot rot = matmul(rotY(deg((-14.0 + jit.uniform(-5, 5)) * side)), rotX(deg(-10.0 + jit.uniform(-5, 5))));
    const Vec3 centre{side * (92.0 + jit.uniform(-4, 4)), 38.0 + jit.uniform(-3, 3), zc + jit.uniform(-10, 10)};
    k.outer = {centre, {27.0 * size, 22.0 * size, 54.0 * size}, rot};
    k.inner = {k.outer.centre, {27.0 * size - 7.0, 22.0 * size - 7.0, 54.0 * size - 8.0}, rot};
    k.hilumDir = normalized({-side * std::cos(deg(35.0)), -std::sin(deg(35.0)), 0.0});
    k.hilum = k.outer.surfacePoint(k.hilumDir);
    const Vec3 pc = add(k.outer.centre, mul(sub(k.hilum, k.outer.centre), 0.62));
    // The pelvis is a funnel reaching the hilum.
    const Vec3 zAxis = normalized(sub(k.hilum, k.outer.centre));
    const Vec3 up = apply(rot, {0, 0, 1});
    const Vec3 xAxis = normalized(cross(up, zAxis));
    const Vec3 yAxis = cross(zAxis, xAxis);
    const Rot prot{xAxis[0], yAxis[0], zAxis[0], xAxis[1], yAxis[1], zAxis[1], xAxis[2], yAxis[2], zAxis[2]};
    k.pelvis = {pc, {9.0, 15.0, 13.0}, prot};
    return k;
  };
  const KidneyGeom left = makeKidney(1.0, 300.0);
  const KidneyGeom right = makeKidney(-1.0, 284.0);

  // Tumour: an exophytic sphere on the lateral, lower, anterior face of the left kidney.
  const Vec3 tumourDir =
      normalized({0.78 + jit.uniform(-0.1, 0.1), -0.35 + jit.uniform(-0.15, 0.15), -0.52 + jit.uniform(-0.25, 0.25)});
  const Vec3 tumourSurface = left.outer.surfacePoint(tumourDir);
  const double tumourRadius = jit.uniform(12.0, 18.0);
  const Sphere tumour{add(tumourSurface, mul(tumourDir, 0.2 * tumourRadius)), tumourRadius};

  // Gerota's fascia: a thin shell around kidney (and tumour) enclosing the perirenal fat.
  for (const KidneyGeom* k : {&left, &right}) {
    const Ellipsoid fatInner = k->outer.grown(15.0);
    const Ellipsoid fatOuter = k->outer.grown(16.8);
    const bool hasTumour = k == &left;
    const Sphere tFat{tumour.centre, tumour.radius + 8.0}, tOut{tumour.centre, tumour.radius + 9.8};
    const double rr = fatOuter.boundRadius() + (hasTumour ? 30.0 : 0.0);
    const Tissue fat = k->side > 0 ? PerirenalFatL : PerirenalFatR;
    r.paint(sub(k->outer.centre, {rr, rr, rr}), add(k->outer.centre, {rr, rr, rr}), Fascia, soft,
            [&](const Vec3& p) { return fatOuter.inside(p) || (hasTumour && tOut.inside(p)); });
    r.paint(sub(k->outer.centre, {rr, rr, rr}), add(k->outer.centre, {rr, rr, rr}), fat, bit(Fascia),
            [&](const Vec3& p) { return fatInner.inside(p) || (hasTumour && tFat.inside(p)); });
  }

  // Liver (right upper quadrant) and spleen (left, posterior), outside the renal fascia.
  const double liverSize = jit.uniform(0.92, 1.08), spleenSize = jit.uniform(0.85, 1.15);
  const Ellipsoid liver{{-70.0 + jit.uniform(-6, 6), -8.0, 410.0 + jit.uniform(-8, 8)},
                        {92.0 * liverSize, 95.0 * liverSize, 118.0 * liverSize}, rotZ(deg(-12.0))};
  r.paintEllipsoid(liver, Liver, soft);
  const Ellipsoid spleen{{98.0, 48.0, 392.0 + jit.uniform(-8, 8)}, {34.0 * spleenSize, 46.0 * spleenSize, 58.0 * spleenSize},
                         rotZ(deg(25.0 + jit.uniform(-8, 8)))};
  r.paintEllipsoid(spleen, Spleen, soft);

  // Bladder, low and anterior.
  const double bladderSize = jit.uniform(0.85, 1.1);
  const Ellipsoid bladder{{0.0, -38.0, 72.0}, {44.0 * bladderSize, 34.0 * bladderSize, 28.0 * bladderSize}};
  r.paintEllipsoid(bladder, Bladder, soft);

  // Kidney parenchyma: cortex rim, medulla inside, pelvis at the hilum.
  const TissueMask kidneyOver = soft | bit(Fascia) | bit(PerirenalFatL) | bit(PerirenalFatR) | bit(Liver) | bit(Spleen);
  for (const KidneyGeom* k : {&left, &right}) {
    const bool isLeft = k->side > 0;
    r.paintEllipsoid(k->outer, isLeft ? CortexL : CortexR, kidneyOver);
    r.paintEllipsoid(k->inner, isLeft ? MedullaL : MedullaR, bit(isLeft ? CortexL : CortexR));
    const Ellipsoid& pel = k->pelvis;
    r.paint(sub(pel.centre, {20, 20, 20}), add(pel.centre, {20, 20, 20}), isLeft ? PelvisL : PelvisR,
            bit(isLeft ? CortexL : CortexR) | bit(isLeft ? MedullaL : MedullaR),
            [&](const Vec3& p) { return pel.inside(p) && k->outer.inside(p); });
  }
  r.paint(sub(tumour.centre, {20, 20, 20}), add(tumour.centre, {20, 20, 20}), Tumor,
          kidneyOver | bit(CortexL) | bit(MedullaL), [&](const Vec3& p) { return tumour.inside(p); });

  // Veins: renal veins from the hilum (anterior) to the IVC; the left one
  // crosses in front of the aorta. Then the IVC itself.
  const TissueMask vesselOver = soft | bit(Fascia) | bit(PerirenalFatL) | bit(PerirenalFatR);
  const Vec3 ivcAt{-24.0, 18.0, 0.0};
  for (const KidneyGeom* k : {&left, &right}) {
    const bool isLeft = k->side > 0;
    const double s = k->side;
    // Starts just inside the hilum, in front of the artery.
    const Vec3 start = add(k->hilum, Vec3{s * 4.0, -9.0, 9.0});
    const double hz = start[2];
    std::vector<Vec3> ctrl{start, add(start, {-s * 10.0, -4.0, -1.0})};
    if (isLeft) {
      ctrl.push_back({50.0, -2.0, hz - 3.0});
      ctrl.push_back({18.0, -11.0, hz - 6.0});  // in front of the aorta
      ctrl.push_back({ivcAt[0] + 8.0, ivcAt[1] - 6.0, hz - 9.0});
      ctrl.push_back({ivcAt[0], ivcAt[1], hz - 9.0});
    } else {
      ctrl.push_back({ivcAt[0] - 10.0, ivcAt[1] - 2.0, hz - 2.0});
      ctrl.push_back({ivcAt[0], ivcAt[1], hz - 3.0});
    }
    const Tube vein = makeTube(ctrl, 5.0, 6.0);
    r.paintTube(vein, RenalVein, vesselOver | bit(isLeft ? CortexL : CortexR) | bit(isLeft ? MedullaL : MedullaR) |
                                     bit(isLeft ? PelvisL : PelvisR));
  }
  // The IVC ends above the iliac bifurcation (no iliac veins in this phantom).
  const Tube ivc = makeTube({{-24.0, 18.0, 470.0}, {-24.0, 18.0, 300.0}, {-26.0, 20.0, 190.0}, {-28.0, 22.0, 160.0}},
                            12.5, 10.0);
  r.paintTube(ivc, Ivc, vesselOver | bit(RenalVein) | bit(Liver));

  if (frame.realisticVessels) {
    // The simple tree's draws, so the anatomy after it matches the simple phantom's.
    for (int q = 0; q < 4; ++q) jit.uniform(0.0, 1.0);
    paintRealisticArteries(r, frame, left, right, vesselOver);
  } else {
    // Arteries: tortuous renal arteries tapering towards the hilum, where each
    // splits into an upper and a lower branch; then the aorta and iliacs over them.
    const Vec3 aortaC{18.0, 16.0, 0.0};
    for (const KidneyGeom* k : {&left, &right}) {
      const bool isLeft = k->side > 0;
      // Ostia sit a little above the hilum, each kidney its own height.
      const double zOst = k->hilum[2] + (isLeft ? 6.0 : 12.0);
      const Vec3 ostium{aortaC[0], aortaC[1], zOst};
      const Vec3 hilumEnd = add(k->hilum, Vec3{0.0, 5.0, 0.0});
      std::vector<Vec3> ctrl;
      ctrl.push_back(ostium);
      if (isLeft) {
        ctrl.push_back({aortaC[0] + 22.0, 24.0, zOst + 2.0});
        ctrl.push_back({mid(aortaC[0] + 22.0, hilumEnd[0]), 30.0, zOst + 4.0});
      } else {
        // Behind the IVC, in front of the spine and psoas.
        ctrl.push_back({6.0, 30.0, zOst - 1.0});
        ctrl.push_back({-12.0, 35.0, zOst - 2.0});
        ctrl.push_back({-30.0, 40.0, zOst - 3.0});
        ctrl.push_back({-50.0, 36.0, zOst - 4.0});
      }
      ctrl.push_back(add(hilumEnd, {-k->side * 8.0, 2.0, 0.0}));
      ctrl.push_back(hilumEnd);
      const Tube trunk =
          makeTube(ctrl, 3.6, 2.7, (isLeft ? 3.0 : 1.5) * jit.uniform(0.6, 1.3), jit.uniform(1.5, 2.5), {0, 0, 1});
      const TissueMask artOver = vesselOver | bit(isLeft ? CortexL : CortexR) | bit(isLeft ? MedullaL : MedullaR) |
                                 bit(isLeft ? PelvisL : PelvisR) | bit(Aorta);
      r.paintTube(trunk, RenalArtery, artOver);
      // The branch split: into the renal sinus towards both poles.
      const Vec3 up = apply(k->outer.rot, {0, 0, 1});
      const Vec3 inward = normalized(sub(k->outer.centre, k->hilum));
      for (double pole : {1.0, -1.0}) {
        const Vec3 mid1 = add(hilumEnd, add(mul(inward, 9.0), mul(up, pole * 10.0)));
        const Vec3 end = add(hilumEnd, add(mul(inward, 14.0), mul(up, pole * 26.0)));
        r.paintTube(makeTube({hilumEnd, mid1, end}, 2.4, 1.8), RenalArtery, artOver);
      }
    }
    const Tube aorta = makeTube({{18.0, 16.0, 470.0}, {18.0, 16.0, 300.0}, {16.0, 14.0, 200.0}, {12.0, 12.0, 160.0}},
                                11.5, 9.5);
    const TissueMask bigArteryOver = vesselOver | bit(RenalArtery) | bit(Liver);
    r.paintTube(aorta, Aorta, bigArteryOver);
    r.paintTube(makeTube({{12.0, 12.0, 162.0}, {34.0, 16.0, 128.0}, {60.0, 26.0, 80.0}, {76.0, 34.0, 30.0}, {80.0, 36.0, -20.0}},
                         6.8, 5.6),
                IliacL, bigArteryOver | bit(Aorta));
    r.paintTube(makeTube({{12.0, 12.0, 162.0}, {-10.0, 16.0, 128.0}, {-40.0, 26.0, 80.0}, {-58.0, 34.0, 30.0}, {-62.0, 36.0, -20.0}},
                         6.8, 5.6),
                IliacR, bigArteryOver | bit(Aorta));
  }

  // Ureters: from the lower lip of each hilum down over the psoas, in front of
  // the iliac vessels, into the bladder.
  for (const KidneyGeom* k : {&left, &right}) {
    const bool isLeft = k->side > 0;
    const double s = k->side;
    const Vec3 start = add(k->hilum, Vec3{-s * 2.0, 4.0, -14.0});
    const Vec3 inside = add(k->pelvis.centre, Vec3{0.0, 0.0, -4.0});
    Tube ureter = makeTube({inside, start, add(start, {-s * 10.0, -6.0, -28.0}), {s * 58.0, 24.0, 200.0},
                                  {s * 54.0, 14.0, 150.0}, {s * 44.0, -4.0, 105.0}, {s * 28.0, -26.0, 82.0},
                                  {s * 14.0, -34.0, 70.0}},
                                 2.6, 2.4, jit.uniform(1.0, 3.0), jit.uniform(2.0, 4.0), {1, 0, 0});
    if (frame.realisticVessels) addPeristalsis(ureter, frame.anatomySeed * 2 + (isLeft ? 1 : 0));
    // Inside the kidney the tube is collecting system (kidney label, bright in
    // D); outside it is the ureter, so the two meet at the hilum.
    r.paintTube(ureter, isLeft ? PelvisL : PelvisR, bit(isLeft ? CortexL : CortexR) | bit(isLeft ? MedullaL : MedullaR));
    r.paintTube(ureter, isLeft ? UreterL : UreterR, vesselOver | bit(Bladder) | bit(Psoas));
  }
  return r.take();
}

}  // namespace nephro::phantom_detail