// The prepared path of every post-processing step (prepare once, compute per
// parameter set) against the one-shot call on the small phantom: the same
// voxels and the same report, for the parameters it was prepared with and after
// a change of the parameters the preparation does not depend on; a change that
// it does depend on is refused.
#include <QtTest>

#include <cstring>

#include "PhantomGaps.h"
#include "common/Error.h"
#include "phantom/Phantom.h"
#include "post/PerirenalFat.h"
#include "post/TemplateSample.h"
#include "post/VesselReconnection.h"

using namespace nephro;
using namespace nephro::post;
namespace pl = phantom_label;

namespace {

bool sameVoxels(const Volume& a, const Volume& b) {
  return a.geometry().sameGrid(b.geometry()) && a.pixelType() == b.pixelType() &&
         std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

int64_t differingVoxels(const Volume& a, const Volume& b) {
  const uint8_t* pa = a.data<uint8_t>();
  const uint8_t* pb = b.data<uint8_t>();
  int64_t n = 0;
  for (int64_t i = 0; i < a.voxelCount(); ++i) n += pa[i] != pb[i];
  return n;
}

Volume without(const Volume& labels, std::initializer_list<int> drop) {
  Volume out = labels.clone();
  uint8_t* p = out.data<uint8_t>();
  for (int64_t i = 0; i < out.voxelCount(); ++i)
    for (int d : drop)
      if (p[i] == d) p[i] = 0;
  return out;
}

void compareFat(const FatResult& a, const FatResult& b) {
  QVERIFY(sameVoxels(a.fat, b.fat));
  QCOMPARE(a.volumeMl, b.volumeMl);
  QCOMPARE(a.excludedLabels, b.excludedLabels);
  QCOMPARE(a.limitsMm.size(), b.limitsMm.size());
  for (size_t i = 0; i < a.limitsMm.size(); ++i) {
    QCOMPARE(a.limitsMm[i].fat, b.limitsMm[i].fat);
    QCOMPARE(a.limitsMm[i].distanceMm, b.limitsMm[i].distanceMm);
  }
}

}  // namespace

class PostPrepared : public QObject {
  Q_OBJECT
  PhantomCase phantom_;

 private slots:
  void initTestCase() {
    PhantomOptions o;
    o.size = PhantomSize::Small;
    phantom_ = generatePhantom(o);
  }

  void fatMatchesOneShot_data() {
    QTest::addColumn<bool>("withCt");
    QTest::newRow("with CT") << true;
    QTest::newRow("without CT") << false;
  }
  void fatMatchesOneShot() {
    QFETCH(bool, withCt);
    const Volume input = without(phantom_.labels, {pl::PerirenalFatLeft, pl::PerirenalFatRight});
    const Volume* ct = withCt ? &phantom_.arterial : nullptr;
    FatParameters p;
    const PreparedFat prepared = prepareFat(input, phantom_.table, ct, p);
    QVERIFY(prepared.validFor(p));
    const FatResult first = computePerirenalFat(prepared, p);
    compareFat(first, computePerirenalFat(input, phantom_.table, ct, p));
    QVERIFY(first.volumeMl > 0);

    // Moves the preparation serves: the HU window, the closing, a small distance step.
    FatParameters q = p;
    q.huMax = -60;
    q.huMin = -170;
    q.closingRadiusMm = 2.5;
    q.distanceMm = 21.0;  // the region's pad stays in the same 5 mm step
    QVERIFY(prepared.validFor(q));
    const FatResult moved = computePerirenalFat(prepared, q);
    compareFat(moved, computePerirenalFat(input, phantom_.table, ct, q));
    if (withCt) QVERIFY(differingVoxels(first.fat, moved.fat) > 0);  // the move did change the fat

    // A preparation made for other parameters computes the same as its own one-shot.
    FatParameters r = p;
    r.distanceMm = 8.0;
    const PreparedFat other = prepareFat(input, phantom_.table, ct, r);
    compareFat(computePerirenalFat(other, r), computePerirenalFat(input, phantom_.table, ct, r));

    // What the preparation depends on: the working grid, the exclusions, a region of another size.
    FatParameters spacing = p;
    spacing.workingSpacingMm = 3.0;
    FatParameters excluded = p;
    excluded.excludedLabels = {pl::Liver};
    FatParameters far = p;
    far.distanceMm = 40.0;
    for (const FatParameters& bad : {spacing, excluded, far}) {
      QVERIFY(!prepared.validFor(bad));
      QVERIFY_THROWS_EXCEPTION(Error, computePerirenalFat(prepared, bad));
    }
    QVERIFY_THROWS_EXCEPTION(Error, computePerirenalFat(PreparedFat{}, p));
  }

  void reconnectionMatchesOneShot_data() {
    QTest::addColumn<int>("structure");
    QTest::addColumn<bool>("withCt");
    QTest::newRow("artery with CT") << int(TubularStructure::Artery) << true;
    QTest::newRow("artery without CT") << int(TubularStructure::Artery) << false;
    QTest::newRow("ureter with CT") << int(TubularStructure::Ureter) << true;
    QTest::newRow("ureter without CT") << int(TubularStructure::Ureter) << false;
  }
  void reconnectionMatchesOneShot() {
    QFETCH(int, structure);
    QFETCH(bool, withCt);
    const auto s = TubularStructure(structure);
    const Volume input = bench::withPhantomGaps(phantom_.labels);
    const Volume* ct = withCt ? (s == TubularStructure::Artery ? &phantom_.arterial : &phantom_.delayed) : nullptr;
    const ReconnectionParameters p = ReconnectionParameters::defaults(s);
    const PreparedReconnection prepared = prepareReconnection(s, input, phantom_.table, ct, p);
    QVERIFY(prepared.validFor(p));
    const ReconnectionResult first = reconnect(prepared, p);
    const ReconnectionResult oneShot = reconnect(s, input, phantom_.table, ct, p);
    QVERIFY(sameVoxels(first.mask, oneShot.mask));
    QCOMPARE(first.toJson(), oneShot.toJson());
    QVERIFY(first.voxelsPainted > 0);  // the gaps were bridged
    // The preparation is not changed by a compute: a second one gives the same.
    QVERIFY(sameVoxels(reconnect(prepared, p).mask, first.mask));

    // Moves the preparation serves.
    std::vector<ReconnectionParameters> moves;
    ReconnectionParameters q = p;
    q.maxGapMm = 14.0;  // the region's pad stays in the same 5 mm step as at 12
    q.maxAngleDeg = 20.0;
    moves.push_back(q);
    q = p;
    q.minFragmentMm3 = 200.0;
    q.keepUnjoined = false;
    q.radiusScale = 1.5;
    moves.push_back(q);
    q = p;
    q.huMin = p.huMin + 200;
    q.maxGapMm = 11.0;
    moves.push_back(q);
    int changed = 0;
    for (const ReconnectionParameters& m : moves) {
      const ReconnectionResult a = reconnect(prepared, m);
      const ReconnectionResult b = reconnect(s, input, phantom_.table, ct, m);
      QVERIFY(sameVoxels(a.mask, b.mask));
      QCOMPARE(a.toJson(), b.toJson());
      changed += differingVoxels(a.mask, first.mask) > 0;
    }
    QVERIFY(changed > 0);

    ReconnectionParameters spacing = p;
    spacing.workingSpacingMm = 2.0;
    ReconnectionParameters wide = p;
    wide.maxGapMm = 30.0;
    for (const ReconnectionParameters& bad : {spacing, wide}) {
      QVERIFY(!prepared.validFor(bad));
      QVERIFY_THROWS_EXCEPTION(Error, reconnect(prepared, bad));
    }
  }

  void sampleMatchesOneShot() {
    const Volume input = without(phantom_.labels, {pl::Artery, pl::Vein, pl::UreterLeft, pl::UreterRight});
    const TemplateCase tpl = loadTemplate();
    SampleParameters p;
    const PreparedSample prepared = prepareSample(input, phantom_.table, tpl, p);
    QVERIFY(prepared.validFor(p));
    const SampleResult first = sampleTemplate(prepared, p);
    const SampleResult oneShot = sampleTemplate(input, phantom_.table, tpl, p);
    QVERIFY(sameVoxels(first.mask, oneShot.mask));
    QCOMPARE(first.toJson(), oneShot.toJson());
    QCOMPARE(first.table.entries().size(), oneShot.table.entries().size());
    QCOMPARE(first.sides.size(), size_t(2));

    SampleParameters q = p;
    q.iterations = 15;
    q.affine = false;
    QVERIFY(prepared.validFor(q));
    const SampleResult moved = sampleTemplate(prepared, q);
    const SampleResult movedOneShot = sampleTemplate(input, phantom_.table, tpl, q);
    QVERIFY(sameVoxels(moved.mask, movedOneShot.mask));
    QCOMPARE(moved.toJson(), movedOneShot.toJson());
    QVERIFY(moved.toJson() != first.toJson());  // another registration

    SampleParameters spacing = p;
    spacing.workingSpacingMm = 3.0;
    SampleParameters clamp = p;
    clamp.distanceClampMm = 10.0;
    for (const SampleParameters& bad : {spacing, clamp}) {
      QVERIFY(!prepared.validFor(bad));
      QVERIFY_THROWS_EXCEPTION(Error, sampleTemplate(prepared, bad));
      // Remade from the first preparation: only the distance maps change, and
      // the result is the one-shot's for these parameters.
      const PreparedSample remade = prepareSample(prepared, bad);
      QVERIFY(remade.validFor(bad));
      QVERIFY(!remade.validFor(p));
      const SampleResult fromRemade = sampleTemplate(remade, bad);
      const SampleResult direct = sampleTemplate(input, phantom_.table, tpl, bad);
      QVERIFY(sameVoxels(fromRemade.mask, direct.mask));
      QCOMPARE(fromRemade.toJson(), direct.toJson());
      QVERIFY(fromRemade.toJson() != first.toJson());
    }
    // And back: a preparation remade for the first parameters gives the first result.
    const PreparedSample back = prepareSample(prepareSample(prepared, clamp), p);
    QVERIFY(sameVoxels(sampleTemplate(back, p).mask, first.mask));
    SampleParameters tooWide = p;
    tooWide.distanceClampMm = 200.0;
    try {
      prepareSample(prepared, tooWide);
      QFAIL("no error for a clamp beyond its range");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Usage);
    }
    QVERIFY_THROWS_EXCEPTION(Error, prepareSample(PreparedSample{}, p));
  }
};

QTEST_APPLESS_MAIN(PostPrepared)
#include "tst_post_prepared.moc"
