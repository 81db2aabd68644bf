// Post-processing on synthetic shapes: thinning, parameter descriptions,
// perirenal fat bands, reconnection of cut tubes, bad input.
#include <QtTest>

#include <cmath>
#include <cstring>

#include "common/Error.h"
#include "labels/LabelTable.h"
#include "post/PerirenalFat.h"
#include "post/PostSupport.h"
#include "post/TemplateSample.h"
#include "post/Thinning.h"
#include "post/VesselReconnection.h"

using namespace nephro;
using namespace nephro::post;

namespace {

Geometry grid(Index3 size, Vec3 spacing, const Mat3& direction = {1, 0, 0, 0, 1, 0, 0, 0, 1}) {
  Geometry g;
  g.size = size;
  g.spacing = spacing;
  g.direction = direction;
  g.origin = {-40.0, 25.0, 10.0};
  return g;
}

// Paints a cylinder along the grid's i axis (index space, radius in voxels) from i0 to i1.
void paintRod(Volume& v, int value, int64_t i0, int64_t i1, double cj, double ck, double radiusVoxels) {
  const Geometry& g = v.geometry();
  uint8_t* p = v.data<uint8_t>();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = i0; i < i1; ++i)
        if ((j - cj) * (j - cj) + (k - ck) * (k - ck) <= radiusVoxels * radiusVoxels) p[g.offset(i, j, k)] = value;
}

void paintBall(Volume& v, int value, const Vec3& centre, double radiusMm) {
  const Geometry& g = v.geometry();
  uint8_t* p = v.data<uint8_t>();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        const Vec3 q = g.indexToPhysical({double(i), double(j), double(k)});
        const double d = std::sqrt((q[0] - centre[0]) * (q[0] - centre[0]) + (q[1] - centre[1]) * (q[1] - centre[1]) +
                                   (q[2] - centre[2]) * (q[2] - centre[2]));
        if (d <= radiusMm) p[g.offset(i, j, k)] = value;
      }
}

int componentCount(const Volume& labels, const std::vector<int>& values) {
  int n = 0;
  detail::connectedComponents(detail::binaryOf(labels, values), &n);
  return n;
}

int64_t countValue(const Volume& v, int value) {
  int64_t n = 0;
  const uint8_t* p = v.data<uint8_t>();
  for (int64_t i = 0; i < v.voxelCount(); ++i) n += p[i] == value;
  return n;
}

LabelTable schemaSubset(std::initializer_list<const char*> names) {
  LabelTable t;
  for (const char* name : names) t.set(*LabelTable::caseSchema().findByName(name));
  return t;
}

}  // namespace

class PostShapes : public QObject {
  Q_OBJECT

 private slots:
  void simplePointRules() {
    bool cube[27] = {false};
    cube[13] = true;
    QVERIFY(!isSimplePoint(cube));  // isolated voxel: removing it deletes a component
    cube[12] = true;
    QVERIFY(isSimplePoint(cube));  // a line end
    cube[14] = true;
    QVERIFY(!isSimplePoint(cube));  // inside a line: removing it splits the line
    bool full[27];
    for (bool& b : full) b = true;
    QVERIFY(!isSimplePoint(full));  // interior point: removing it makes a cavity
  }

  void thinningKeepsOneConnectedCurve() {
    Volume v(grid({60, 21, 21}, {1.0, 1.0, 1.0}), PixelType::UInt8);
    paintRod(v, 1, 5, 55, 10, 10, 4.2);
    const Volume sk = thinToCurves(v);
    const int64_t n = detail::countNonzero(sk);
    // A rod 50 voxels long thins to a line about as long (its ends shrink by up to the radius).
    QVERIFY2(n >= 40 && n <= 52, qPrintable(QString::number(n)));
    QCOMPARE(componentCount(sk, {1}), 1);
    // One voxel wide: every skeleton voxel has at most two 26-neighbours on the line.
    const Geometry& g = sk.geometry();
    const uint8_t* p = sk.data<uint8_t>();
    int ends = 0;
    for (int64_t k = 1; k + 1 < g.size[2]; ++k)
      for (int64_t j = 1; j + 1 < g.size[1]; ++j)
        for (int64_t i = 1; i + 1 < g.size[0]; ++i) {
          if (!p[g.offset(i, j, k)]) continue;
          int nb = 0;
          for (int dz = -1; dz <= 1; ++dz)
            for (int dy = -1; dy <= 1; ++dy)
              for (int dx = -1; dx <= 1; ++dx)
                if ((dx || dy || dz) && p[g.offset(i + dx, j + dy, k + dz)]) ++nb;
          QVERIFY(nb <= 2);
          ends += nb == 1;
        }
    QCOMPARE(ends, 2);
  }

  // The closing works on the foreground's box only; it must equal the
  // closing of the whole grid, also where the foreground touches the border.
  void closingEqualsTheWholeGridClosing() {
    const Geometry g = grid({60, 50, 40}, {0.8, 0.8, 1.5});
    Volume b(g, PixelType::UInt8);
    for (const Vec3& c : {Vec3{-20, 45, 40}, Vec3{-12, 40, 38}, Vec3{-39, 30, 12}, Vec3{-25, 50, 60}})
      paintBall(b, 1, c, 4.0);
    QVERIFY(boundingBox(b).begin[0] == 0);  // one ball touches the grid's border
    Volume near(g, PixelType::UInt8);
    paintBall(near, 1, {-14, 44, 36}, 3.0);
    for (const Volume* v : {&b, &near})
      for (double r : {0.5, 1.5, 3.0, 6.0}) {
        Volume inverse = detail::dilateMm(*v, r);
        uint8_t* q = inverse.data<uint8_t>();
        for (int64_t i = 0; i < inverse.voxelCount(); ++i) q[i] = !q[i];
        Volume whole = detail::dilateMm(inverse, r);
        uint8_t* w = whole.data<uint8_t>();
        const uint8_t* in = v->data<uint8_t>();
        for (int64_t i = 0; i < whole.voxelCount(); ++i) w[i] = !w[i] | in[i];
        const Volume closed = detail::closeMm(*v, r);
        QVERIFY(std::memcmp(closed.raw(), whole.raw(), whole.byteSize()) == 0);
        QVERIFY(detail::countNonzero(closed) >= detail::countNonzero(*v));
      }
    QVERIFY(detail::countNonzero(detail::closeMm(near, 3.0)) > detail::countNonzero(near) ||
            detail::countNonzero(detail::closeMm(b, 3.0)) > detail::countNonzero(b));
  }

  void parameterDescriptionsAreConsistent() {
    auto check = [](const std::vector<ParameterInfo>& list, auto params) {
      QVERIFY(!list.empty());
      for (const ParameterInfo& info : list) {
        QVERIFY2(info.minimum <= info.defaultValue && info.defaultValue <= info.maximum, info.key.c_str());
        QVERIFY(!info.label.empty() && !info.description.empty());
        if (info.kind == ParameterKind::LabelList) continue;
        // The description's default is the struct's default, and set/get round-trip.
        QCOMPARE(params.get(info.key), info.defaultValue);
        QVERIFY(params.set(info.key, info.maximum));
        QCOMPARE(params.get(info.key), info.maximum);
      }
      QVERIFY(!params.set("no-such-parameter", 1.0));
    };
    check(FatParameters::describe(), FatParameters{});
    check(SampleParameters::describe(), SampleParameters{});
    for (TubularStructure s : {TubularStructure::Artery, TubularStructure::Ureter})
      check(ReconnectionParameters::describe(s), ReconnectionParameters::defaults(s));
    QVERIFY(ReconnectionParameters::defaults(TubularStructure::Artery).huMin !=
            ReconnectionParameters::defaults(TubularStructure::Ureter).huMin);
  }

  void fatIsABandAroundTheKidneyOutsideOtherLabels() {
    // Oblique grid: results must keep it exactly.
    const double c = std::cos(0.3), s = std::sin(0.3);
    Volume mask(grid({64, 64, 48}, {1.5, 1.5, 2.0}, {c, -s, 0, s, c, 0, 0, 0, 1}), PixelType::UInt8);
    const Geometry& g = mask.geometry();
    const Vec3 centre = g.indexToPhysical({32, 32, 24});
    paintBall(mask, 1, centre, 15.0);                                        // kidney_left
    paintBall(mask, 14, {centre[0] + 26.0, centre[1], centre[2]}, 8.0);      // liver touching the band
    const LabelTable table = schemaSubset({"kidney_left", "liver"});
    FatParameters p;
    p.distanceMm = 10.0;
    p.workingSpacingMm = 2.0;
    FatResult r = computePerirenalFat(mask, table, nullptr, p);
    QVERIFY(r.fat.geometry() == mask.geometry());
    const int fatValue = *r.table.valueOf("perirenal_fat_left");
    const uint8_t* f = r.fat.data<uint8_t>();
    const uint8_t* m = mask.data<uint8_t>();
    int64_t n = 0;
    double maxDist = 0, minDist = 1e9;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) {
          const int64_t o = g.offset(i, j, k);
          if (f[o] == 0) continue;
          QCOMPARE(int(f[o]), fatValue);
          QCOMPARE(int(m[o]), 0);  // never over the kidney or the liver
          const Vec3 q = g.indexToPhysical({double(i), double(j), double(k)});
          const double d = std::sqrt((q[0] - centre[0]) * (q[0] - centre[0]) + (q[1] - centre[1]) * (q[1] - centre[1]) +
                                     (q[2] - centre[2]) * (q[2] - centre[2]));
          maxDist = std::max(maxDist, d);
          minDist = std::min(minDist, d);
          ++n;
        }
    QVERIFY2(maxDist <= 15.0 + 10.0 + 1.5, qPrintable(QString::number(maxDist)));
    QVERIFY2(minDist >= 15.0 - 1.0, qPrintable(QString::number(minDist)));
    // The shell volume 4/3 pi (25^3 - 15^3) less the liver's share, within voxel error.
    const double shellMl = 4.0 / 3.0 * M_PI * (25.0 * 25.0 * 25.0 - 15.0 * 15.0 * 15.0) / 1000.0;
    QVERIFY2(r.volumeMl > 0.75 * shellMl && r.volumeMl < 1.05 * shellMl, qPrintable(QString::number(r.volumeMl)));
    QVERIFY(std::find(r.excludedLabels.begin(), r.excludedLabels.end(), 14) != r.excludedLabels.end());
  }

  void fatHonoursTheHuWindow() {
    Volume mask(grid({48, 48, 40}, {2.0, 2.0, 2.0}), PixelType::UInt8);
    const Geometry& g = mask.geometry();
    const Vec3 centre = g.indexToPhysical({24, 24, 20});
    paintBall(mask, 2, centre, 12.0);  // kidney_right
    // CT: fat everywhere except a soft-tissue half space (x > centre).
    Volume ct(g, PixelType::Int16);
    int16_t* h = ct.data<int16_t>();
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) h[g.offset(i, j, k)] = i > 30 ? 40 : -100;
    const LabelTable table = schemaSubset({"kidney_right"});
    FatParameters p;
    p.distanceMm = 8.0;
    p.closingRadiusMm = 0.0;
    FatResult r = computePerirenalFat(mask, table, &ct, p);
    const uint8_t* f = r.fat.data<uint8_t>();
    int64_t n = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i)
          if (f[g.offset(i, j, k)]) {
            QVERIFY(i <= 30);
            ++n;
          }
    QVERIFY(n > 500);
    QCOMPARE(*r.table.valueOf("perirenal_fat_right"), 9);
  }

  void fatRejectsBadInput() {
    Volume mask(grid({20, 20, 20}, {1, 1, 1}), PixelType::UInt8);
    paintBall(mask, 14, mask.geometry().indexToPhysical({10, 10, 10}), 5.0);
    const LabelTable table = schemaSubset({"kidney_left", "liver"});
    try {
      computePerirenalFat(mask, table, nullptr, FatParameters{}, {}, "case/mask.nii.gz");
      QFAIL("no error for a mask without kidney");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
      QVERIFY(QString(e.what()).contains("case/mask.nii.gz"));
      QVERIFY(QString(e.what()).contains("kidney"));
    }
    paintBall(mask, 1, mask.geometry().indexToPhysical({5, 5, 5}), 3.0);
    Geometry other = mask.geometry();
    other.spacing[2] = 1.25;
    Volume ct(other, PixelType::Int16);
    try {
      computePerirenalFat(mask, table, &ct, FatParameters{}, {}, "mask.nii.gz", "ct.nii.gz");
      QFAIL("no error for a CT on another grid");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
      QVERIFY(QString(e.what()).startsWith("ct.nii.gz"));
    }
  }

  void reconnectionBridgesACutTubeWithoutCt() {
    // An artery along i joined to an "aorta" block at its start, cut by a 6 mm gap.
    Volume mask(grid({90, 30, 30}, {0.8, 0.8, 1.0}), PixelType::UInt8);
    for (int64_t k = 5; k < 25; ++k)
      for (int64_t j = 5; j < 25; ++j)
        for (int64_t i = 0; i < 12; ++i) mask.data<uint8_t>()[mask.geometry().offset(i, j, k)] = 10;  // aorta
    paintRod(mask, 4, 12, 40, 15, 15, 3.2);
    paintRod(mask, 4, 48, 85, 15, 15, 3.2);  // 8 voxels * 0.8 mm = 6.4 mm gap
    // A separate piece off axis, at right angles: must not be joined.
    for (int64_t i = 60; i < 64; ++i)
      for (int64_t j = 22; j < 29; ++j)
        for (int64_t k = 26; k < 30; ++k) mask.data<uint8_t>()[mask.geometry().offset(i, j, k)] = 0;
    const LabelTable table = schemaSubset({"artery", "aorta"});
    QCOMPARE(componentCount(mask, {4, 10}), 2);
    ReconnectionParameters p = ReconnectionParameters::defaults(TubularStructure::Artery);
    p.workingSpacingMm = 0.0;
    ReconnectionResult r = reconnect(TubularStructure::Artery, mask, table, nullptr, p);
    QVERIFY(r.mask.geometry() == mask.geometry());
    QCOMPARE(componentCount(r.mask, {4, 10}), 1);
    QCOMPARE(r.fragments, 1);
    QCOMPARE(r.joined, 1);
    int bridged = 0;
    for (const Bridge& b : r.bridges)
      if (b.decision == "bridged") {
        ++bridged;
        QVERIFY2(std::abs(b.gapMm - 6.4) < 1.0, qPrintable(QString::number(b.gapMm)));
        QVERIFY(b.voxelsPainted > 0);
      }
    QCOMPARE(bridged, 1);
    // The bridge fills the gap with a tube as wide as the vessel, nothing else.
    const Geometry& g = mask.geometry();
    const uint8_t* in = mask.data<uint8_t>();
    const uint8_t* out = r.mask.data<uint8_t>();
    int64_t painted = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) {
          const int64_t o = g.offset(i, j, k);
          if (in[o] == out[o]) continue;
          QCOMPARE(int(in[o]), 0);
          QCOMPARE(int(out[o]), 4);
          QVERIFY(i >= 38 && i <= 50);
          QVERIFY((j - 15) * (j - 15) + (k - 15) * (k - 15) <= 5 * 5);
          ++painted;
        }
    // The gap holds 8 slices of a 3.2-voxel-radius disc (about 32 voxels each).
    QVERIFY2(painted >= 8 * 20 && painted <= 8 * 60, qPrintable(QString::number(painted)));
    QVERIFY(QString::fromStdString(r.toJson()).contains("\"decision\": \"bridged\""));
  }

  void reconnectionRespectsAngleGapAndOtherLabels() {
    const LabelTable table = schemaSubset({"artery", "aorta", "vein"});
    ReconnectionParameters p = ReconnectionParameters::defaults(TubularStructure::Artery);
    p.workingSpacingMm = 0.0;
    {
      // Two parallel rods offset by 12 mm: the end of one reaches the wall of
      // the other only at about 45 degrees off its direction.
      Volume mask(grid({80, 40, 20}, {1, 1, 1}), PixelType::UInt8);
      paintRod(mask, 4, 5, 35, 10, 10, 2.5);
      paintRod(mask, 4, 38, 75, 22, 10, 2.5);
      p.maxAngleDeg = 30.0;
      QCOMPARE(componentCount(reconnect(TubularStructure::Artery, mask, table, nullptr, p).mask, {4}), 2);
      p.maxAngleDeg = 60.0;
      QCOMPARE(componentCount(reconnect(TubularStructure::Artery, mask, table, nullptr, p).mask, {4}), 1);
    }
    {
      // A gap longer than the maximum stays open; unjoined fragments go when asked.
      Volume mask(grid({80, 20, 20}, {1, 1, 1}), PixelType::UInt8);
      paintRod(mask, 4, 2, 40, 10, 10, 2.5);
      paintRod(mask, 4, 58, 78, 10, 10, 2.5);  // 18 mm gap
      ReconnectionResult kept = reconnect(TubularStructure::Artery, mask, table, nullptr, p);
      QCOMPARE(componentCount(kept.mask, {4}), 2);
      p.keepUnjoined = false;
      ReconnectionResult removed = reconnect(TubularStructure::Artery, mask, table, nullptr, p);
      QCOMPARE(componentCount(removed.mask, {4}), 1);
      QCOMPARE(removed.removed, 1);
      p.maxGapMm = 20.0;
      p.keepUnjoined = true;
      ReconnectionResult longer = reconnect(TubularStructure::Artery, mask, table, nullptr, p);
      QCOMPARE(componentCount(longer.mask, {4}), 1);
      p.maxGapMm = ReconnectionParameters{}.maxGapMm;
    }
    {
      // A vein across the gap: no bridge through it.
      Volume mask(grid({80, 30, 30}, {1, 1, 1}), PixelType::UInt8);
      paintRod(mask, 4, 2, 36, 15, 15, 2.5);
      paintRod(mask, 4, 44, 78, 15, 15, 2.5);
      for (int64_t k = 0; k < 30; ++k)
        for (int64_t j = 0; j < 30; ++j)
          for (int64_t i = 38; i < 42; ++i) mask.data<uint8_t>()[mask.geometry().offset(i, j, k)] = 5;
      ReconnectionResult r = reconnect(TubularStructure::Artery, mask, table, nullptr, p);
      QCOMPARE(componentCount(r.mask, {4}), 2);
      bool sawCrossing = false;
      for (const Bridge& b : r.bridges) sawCrossing |= b.decision.find("crosses vein") != std::string::npos;
      QVERIFY(sawCrossing);
    }
  }

  void reconnectionRejectsBadInput() {
    Volume mask(grid({20, 20, 20}, {1, 1, 1}), PixelType::UInt8);
    paintBall(mask, 5, mask.geometry().indexToPhysical({10, 10, 10}), 4.0);
    const LabelTable table = schemaSubset({"artery", "vein", "ureter_left"});
    for (TubularStructure s : {TubularStructure::Artery, TubularStructure::Ureter}) {
      try {
        reconnect(s, mask, table, nullptr, ReconnectionParameters::defaults(s), {}, "m.nii.gz");
        QFAIL("no error for a mask without the structure");
      } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Input);
        QVERIFY(QString(e.what()).startsWith("m.nii.gz"));
      }
    }
    paintBall(mask, 4, mask.geometry().indexToPhysical({4, 4, 4}), 2.0);
    Geometry shifted = mask.geometry();
    shifted.origin[0] += 3.0;
    Volume ct(shifted, PixelType::Int16);
    try {
      reconnect(TubularStructure::Artery, mask, table, &ct, ReconnectionParameters{}, {}, "m.nii.gz", "a.nii.gz");
      QFAIL("no error for a CT on another grid");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
      QVERIFY(QString(e.what()).startsWith("a.nii.gz"));
    }
  }

  void cancelledStepsStop() {
    Volume mask(grid({40, 30, 30}, {1, 1, 1}), PixelType::UInt8);
    paintBall(mask, 1, mask.geometry().indexToPhysical({20, 15, 15}), 6.0);
    paintRod(mask, 4, 2, 15, 15, 15, 2.0);
    paintRod(mask, 4, 20, 38, 25, 15, 2.0);
    const LabelTable table = schemaSubset({"kidney_left", "artery"});
    auto flag = std::make_shared<std::atomic<bool>>(true);
    const Progress cancelled([](double, const std::string&) {}, flag);
    for (int step = 0; step < 2; ++step) {
      try {
        if (step == 0) computePerirenalFat(mask, table, nullptr, FatParameters{}, cancelled);
        else reconnect(TubularStructure::Artery, mask, table, nullptr, ReconnectionParameters{}, cancelled);
        QFAIL("a cancelled step ran to the end");
      } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Cancelled);
      }
    }
  }

  void sampleRejectsAMaskWithoutKidney() {
    Volume mask(grid({20, 20, 20}, {1, 1, 1}), PixelType::UInt8);
    paintBall(mask, 4, mask.geometry().indexToPhysical({10, 10, 10}), 4.0);
    const LabelTable table = schemaSubset({"artery"});
    TemplateCase tpl;
    tpl.labels = Volume(grid({10, 10, 10}, {2, 2, 2}), PixelType::UInt8);
    tpl.table = schemaSubset({"kidney_left", "kidney_right"});
    try {
      sampleTemplate(mask, table, tpl, SampleParameters{}, {}, "p.nii.gz");
      QFAIL("no error for a mask without kidney");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
      QVERIFY(QString(e.what()).startsWith("p.nii.gz"));
    }
  }
};

QTEST_APPLESS_MAIN(PostShapes)
#include "tst_post_shapes.moc"
