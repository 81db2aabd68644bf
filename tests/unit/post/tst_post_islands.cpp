// Kidney islands before the perirenal fat: a small piece far from the kidney
// is removed (and the fat no longer wraps it); a small piece near the kidney
// and a large piece far from it stay; the preparation follows the parameters.
#include <QtTest>

#include <cmath>

#include "labels/LabelTable.h"
#include "post/KidneyIslands.h"
#include "post/PerirenalFat.h"
#include "post/PostSteps.h"

using namespace nephro;
using namespace nephro::post;

namespace {

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

// Main kidney (r 14 mm) at x 30; a 0.27 mL piece 5 mm from it (z 50); a
// 0.27 mL piece 50 mm away (x 100); a 9 mL piece far away (x 140) with a
// 0.1 mL piece 5 mm from it (z 51). 1 mm grid.
struct Scene {
  Volume mask;
  LabelTable table;
  int kidney = 0;
};

Scene scene() {
  Scene s;
  Geometry g;
  g.size = {160, 60, 64};
  g.spacing = {1.0, 1.0, 1.0};
  s.mask = Volume(g, PixelType::UInt8);
  s.table.set(*LabelTable::caseSchema().findByName("kidney_left"));
  s.kidney = *s.table.valueOf("kidney_left");
  paintBall(s.mask, s.kidney, {30, 30, 30}, 14.0);
  paintBall(s.mask, s.kidney, {30, 30, 53}, 4.0);   // near: 5 mm gap to z 44
  paintBall(s.mask, s.kidney, {100, 30, 30}, 4.0);  // far and small
  paintBall(s.mask, s.kidney, {140, 30, 30}, 13.0); // far and large: a main piece too
  paintBall(s.mask, s.kidney, {140, 30, 51}, 3.0);  // small, 5 mm from the large piece
  return s;
}

bool fatAt(const FatResult& r, int64_t i, int64_t j, int64_t k) { return r.fat.valueAt(i, j, k) != 0; }

}  // namespace

class PostIslands : public QObject {
  Q_OBJECT

 private slots:
  void removesOnlySmallFarPieces() {
    const Scene s = scene();
    const KidneyIslandRemoval r = removeKidneyIslands(s.mask, {{"kidney_left", s.kidney}}, 5.0, 20.0);
    QCOMPARE(int(r.removed.size()), 1);
    QCOMPARE(r.removed[0].label, std::string("kidney_left"));
    const double ballMl = 4.0 / 3.0 * M_PI * 64.0 / 1000.0;
    QVERIFY2(std::abs(r.removedMl() - ballMl) < 0.3 * ballMl, qPrintable(QString::number(r.removedMl())));
    QVERIFY(!r.mask.empty());
    QCOMPARE(r.mask.valueAt(100, 30, 30), 0.0);          // the far small piece is gone
    QCOMPARE(r.mask.valueAt(30, 30, 53), double(s.kidney));   // the near piece stays
    QCOMPARE(r.mask.valueAt(140, 30, 30), double(s.kidney));  // the large piece stays
    QCOMPARE(r.mask.valueAt(140, 30, 51), double(s.kidney));  // and so does the piece near it
    QCOMPARE(r.mask.valueAt(30, 30, 30), double(s.kidney));
    QCOMPARE(s.mask.valueAt(100, 30, 30), double(s.kidney));  // the input is untouched

    // Off, or a distance limit beyond the far piece: nothing removed.
    QVERIFY(removeKidneyIslands(s.mask, {{"kidney_left", s.kidney}}, 0.0, 20.0).removed.empty());
    QVERIFY(removeKidneyIslands(s.mask, {{"kidney_left", s.kidney}}, 5.0, 80.0).removed.empty());
    // A volume limit above the large piece removes it and the piece near it too.
    QCOMPARE(int(removeKidneyIslands(s.mask, {{"kidney_left", s.kidney}}, 20.0, 20.0).removed.size()), 3);
  }

  void fatNoLongerWrapsTheFarIsland() {
    const Scene s = scene();
    FatParameters p;
    p.distanceMm = 6.0;
    p.workingSpacingMm = 1.0;
    const FatResult r = computePerirenalFat(s.mask, s.table, nullptr, p);
    QCOMPARE(int(r.removedIslands.size()), 1);
    QVERIFY(!fatAt(r, 100, 30, 36));  // 2 mm beside the removed island
    QVERIFY(fatAt(r, 30, 30, 59));    // 2 mm beyond the near piece (13 mm from the main kidney)
    QVERIFY(fatAt(r, 140, 30, 45));   // beside the large piece
    QVERIFY(fatAt(r, 30, 30, 46));    // beside the main kidney
    // The removed island is no excluded label any more: its voxels may be fat.
    p.minKidneyIslandMl = 0.0;
    const FatResult kept = computePerirenalFat(s.mask, s.table, nullptr, p);
    QVERIFY(kept.removedIslands.empty());
    QVERIFY(fatAt(kept, 100, 30, 36));
    QVERIFY(kept.volumeMl > r.volumeMl);
  }

  void preparationFollowsTheIslandParameters() {
    const Scene s = scene();
    FatParameters p;
    p.distanceMm = 6.0;
    const PreparedFat prepared = prepareFat(s.mask, s.table, nullptr, p);
    QVERIFY(prepared.validFor(p));
    FatParameters q = p;
    q.minKidneyIslandMl = 1.0;
    QVERIFY(!prepared.validFor(q));
    q = p;
    q.kidneyIslandDistanceMm = 60.0;
    QVERIFY(!prepared.validFor(q));
    // The island result of a preparation is the one-shot call's.
    const FatResult a = computePerirenalFat(prepared, p);
    const FatResult b = computePerirenalFat(s.mask, s.table, nullptr, p);
    QCOMPARE(a.removedIslands.size(), b.removedIslands.size());
    QCOMPARE(a.volumeMl, b.volumeMl);
  }

  void stepReportCountsIslands() {
    const Scene s = scene();
    PostStepRequest request{PostStep::Fat, {{"distance-mm", "6"}, {"kidney-island-distance-mm", "21"}}, {}};
    const PostStepOutcome out = runPostStep(request, s.mask, s.table, nullptr);
    QVERIFY2(out.reportJson.find("\"kidneyIslandsRemoved\": 1") != std::string::npos, out.reportJson.c_str());
    QVERIFY2(out.summary.find("1 kidney island") != std::string::npos, out.summary.c_str());
    request.values["min-kidney-island-ml"] = "60";
    QVERIFY_EXCEPTION_THROWN(checkPostValues(request), std::exception);
    // The `run --post` syntax.
    const auto steps = parsePostSteps({"fat"}, {"fat.min-kidney-island-ml=2", "fat.kidney-island-distance-mm=30"});
    QCOMPARE(steps.at(0).values.at("min-kidney-island-ml"), std::string("2"));
    QCOMPARE(steps.at(0).values.at("kidney-island-distance-mm"), std::string("30"));
    QVERIFY_EXCEPTION_THROWN(parsePostSteps({"fat"}, {"fat.kidney-island-distance-mm=-1"}), std::exception);
  }
};

QTEST_APPLESS_MAIN(PostIslands)
#include "tst_post_islands.moc"
