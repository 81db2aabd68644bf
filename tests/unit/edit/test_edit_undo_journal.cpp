// Undo and redo of every kind of step give bit-identical layers; the journal
// replayed on the original layer gives the session's final voxels; the undo
// budget drops the oldest steps; bad journals are one-line errors.
#include <QtTest>

#include <nlohmann/json.hpp>

#include "EditTestData.h"
#include "common/Error.h"
#include "edit/EditSession.h"
#include "phantom/Phantom.h"

using namespace nephro;
using namespace nephro::edit;
using nephro::test::sameVoxels;
namespace pl = phantom_label;

namespace {

// LPS centre of the voxels holding `value`.
Vec3 centroid(const Volume& v, int value) {
  const Geometry& g = v.geometry();
  double s[3] = {0, 0, 0};
  int64_t n = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (v.data<uint8_t>()[g.offset(i, j, k)] == value) {
          s[0] += i;
          s[1] += j;
          s[2] += k;
          ++n;
        }
  return g.indexToPhysical({std::round(s[0] / n), std::round(s[1] / n), std::round(s[2] / n)});
}

Vec3 plus(const Vec3& a, double x, double y, double z) {
  return {a[0] + x, a[1] + y, a[2] + z};
}

// One of every kind of step on the phantom, with the layer after each.
std::vector<EditOperation> everyKindOfStep(const PhantomCase& ph) {
  const Vec3 tumor = centroid(ph.labels, pl::Tumor);
  const Vec3 kidney = centroid(ph.labels, pl::KidneyLeft);
  const Vec3 aorta = centroid(ph.labels, pl::Aorta);
  std::vector<EditOperation> ops;
  BrushStroke b;
  b.label = pl::Tumor;
  b.radiusMm = 6.0;
  b.rule.over = PaintOver::Label;
  b.rule.overLabel = pl::KidneyLeft;
  b.dabs = {kidney, plus(kidney, 8, 3, 0), plus(kidney, 15, 9, 0)};
  ops.push_back(b);
  BrushStroke sphere;
  sphere.label = pl::Artery;
  sphere.shape = BrushShape::Sphere;
  sphere.radiusMm = 9.0;
  sphere.rule.over = PaintOver::Everything;
  sphere.rule.huRange = std::array<double, 2>{150, 600};
  sphere.dabs = {aorta, plus(aorta, 0, 0, 12)};
  ops.push_back(sphere);
  BrushStroke eraser;
  eraser.radiusMm = 5.0;
  eraser.rule.over = PaintOver::Everything;
  eraser.axis = 1;
  eraser.dabs = {plus(tumor, -4, 0, 0), plus(tumor, 4, 0, 3)};
  ops.push_back(eraser);
  ScissorsCut cut;
  cut.rule.over = PaintOver::Label;
  cut.rule.overLabel = pl::KidneyLeft;
  cut.polygon = {plus(kidney, -20, -20, 0), plus(kidney, 0, -25, 0), plus(kidney, 5, 5, 0),
                 plus(kidney, -15, 10, 0)};
  ops.push_back(cut);
  ScissorsCut fill;
  fill.action = ScissorsAction::Fill;
  fill.label = pl::Vein;
  fill.axis = 1;
  fill.slabMm = 8.0;
  fill.polygon = {plus(aorta, -30, 0, -30), plus(aorta, 30, 0, -30), plus(aorta, 0, 0, 25)};
  ops.push_back(fill);
  BrushStroke stray;  // a kidney island far from the kidney
  stray.label = pl::KidneyLeft;
  stray.shape = BrushShape::Sphere;
  stray.radiusMm = 4.0;
  stray.rule.over = PaintOver::Everything;
  stray.dabs = {plus(kidney, 0, 0, 60)};
  ops.push_back(stray);
  RemoveIsland island;
  island.seed = plus(tumor, 0, 5, 0);
  ops.push_back(island);
  KeepLargestIslands keep;
  keep.label = pl::KidneyLeft;
  ops.push_back(keep);
  // The vein slab's drawing slice and one six slices on: the vein between is replaced.
  FillBetweenSlices between;
  between.label = pl::Vein;
  between.axis = 1;
  const int64_t c =
      static_cast<int64_t>(std::floor(ph.labels.geometry().physicalToIndex(aorta)[1] + 0.5));
  between.keySlices = {c, c + 6};
  ops.push_back(between);
  return ops;
}

PhantomCase smallPhantom() {
  PhantomOptions o;
  o.seed = 3;
  return generatePhantom(o);
}

std::string journalWith(const std::string& operationsJson) {
  return "{\"format\": \"nephro3d-edit-journal\", \"version\": 1, \"operations\": " +
         operationsJson + "}";
}

void expectError(EditSession& s, const std::string& journal, ErrorKind kind,
                 const std::string& fragment) {
  try {
    replayJournal(s, journal, "bad.json");
    QFAIL(("accepted: " + journal).c_str());
  } catch (const Error& e) {
    const std::string msg = e.what();
    QVERIFY2(e.kind() == kind, msg.c_str());
    QVERIFY2(msg.rfind("bad.json: ", 0) == 0, msg.c_str());
    QVERIFY2(msg.find(fragment) != std::string::npos, msg.c_str());
    QVERIFY2(msg.find('\n') == std::string::npos, msg.c_str());
  }
}

}  // namespace

class TestEditUndoJournal : public QObject {
  Q_OBJECT
  PhantomCase ph_;

 private slots:
  void initTestCase() { ph_ = smallPhantom(); }

  void undoThenRedoEveryStepIsBitIdentical() {
    EditSession s(ph_.labels.clone(), ph_.table);
    s.setImage(ph_.arterial);
    std::vector<Volume> states{s.layer().clone()};
    std::vector<std::string> names;
    for (const EditOperation& op : everyKindOfStep(ph_)) {
      const EditResult r = s.apply(op);
      QVERIFY2(r.changed, std::to_string(states.size()).c_str());
      QCOMPARE(s.undoName(), r.name);
      names.push_back(r.name);
      states.push_back(s.layer().clone());
    }
    QCOMPARE(s.undoStore().undoNames().front(), names.back());
    QVERIFY(s.modifiedSinceSave());
    // Undo every step: each gives back the layer before it, and the live counts follow.
    for (size_t n = names.size(); n > 0; --n) {
      QCOMPARE(s.undoName(), names[n - 1]);
      const EditResult r = s.undo();
      QVERIFY(r.changed);
      QVERIFY2(sameVoxels(s.layer(), states[n - 1]), names[n - 1].c_str());
    }
    QVERIFY(!s.canUndo());
    QVERIFY(!s.modifiedSinceSave());
    for (int v = 0; v < pl::Count; ++v) QCOMPARE(s.voxelCount(v), s.originalVoxelCount(v));
    for (size_t n = 0; n < names.size(); ++n) {
      QCOMPARE(s.redoName(), names[n]);
      s.redo();
      QVERIFY2(sameVoxels(s.layer(), states[n + 1]), names[n].c_str());
    }
    QVERIFY(!s.canRedo());
    const std::vector<int64_t> counts = labelVoxelCounts(s.layer());
    for (size_t v = 0; v < counts.size(); ++v)
      QCOMPARE(s.voxelCount(static_cast<int>(v)), counts[v]);
  }

  void journalReplayEqualsTheSession() {
    EditSession s(ph_.labels.clone(), ph_.table, {0, "phantom_labels.nii.gz"});
    s.setImage(ph_.arterial, "phantom_A.nii.gz");
    const auto ops = everyKindOfStep(ph_);
    for (size_t i = 0; i < 5; ++i) s.apply(ops[i]);
    s.undo();
    s.undo();
    s.redo();
    s.setLocked(pl::Tumor, true);
    LabelEntry extra = LabelTable::schemaEntry("ureter", 21);
    s.addLabel(extra);
    BrushStroke ureter;
    ureter.label = 21;
    ureter.radiusMm = 4;
    ureter.rule.over = PaintOver::Everything;
    ureter.dabs = {centroid(ph_.labels, pl::Tumor), plus(centroid(ph_.labels, pl::Tumor), 0, 0, 9)};
    s.apply(ureter);  // the locked tumour keeps its voxels
    s.setLocked(pl::Tumor, false);
    for (size_t i = 5; i < ops.size(); ++i) s.apply(ops[i]);
    s.undo();  // the last step is undone and never redone

    const std::string text = s.journalJson();
    const auto doc = nlohmann::json::parse(text);
    QCOMPARE(doc["format"].get<std::string>(), std::string("nephro3d-edit-journal"));
    QCOMPARE(doc["layer"].get<std::string>(), std::string("phantom_labels.nii.gz"));
    QCOMPARE(doc["operations"][0]["op"].get<std::string>(), std::string("brush"));
    QCOMPARE(doc["operations"][0]["label"]["name"].get<std::string>(), std::string("tumor"));
    QCOMPARE(doc["operations"][5]["op"].get<std::string>(), std::string("undo"));

    EditSession replay(ph_.labels.clone(), ph_.table);
    replay.setImage(ph_.arterial);
    const ReplayReport report = replayJournal(replay, text, "journal.json");
    QVERIFY(report.warnings.empty());
    QCOMPARE(report.undos, size_t(3));
    QCOMPARE(report.redos, size_t(1));
    QCOMPARE(report.locks, size_t(2));
    QCOMPARE(report.labelsAdded, size_t(1));
    QVERIFY(sameVoxels(replay.layer(), s.layer()));
    QCOMPARE(replay.undoStore().undoNames(), s.undoStore().undoNames());
    QCOMPARE(replay.redoName(), s.redoName());
    QVERIFY(replay.labels().findByName("ureter"));
    QVERIFY(!replay.isLocked(pl::Tumor));
    // Its own journal is the same document again.
    QCOMPARE(nlohmann::json::parse(replay.journalJson())["operations"], doc["operations"]);
  }

  void budgetDropsTheOldestSteps() {
    const Geometry g = test::editGrid();
    EditSession s(Volume(g, PixelType::UInt8), test::editTable());
    std::vector<Volume> states{s.layer().clone()};
    size_t stepBytes = 0;
    for (int n = 0; n < 10; ++n) {
      BrushStroke b;
      b.label = 1 + n % 3;
      b.radiusMm = 3.0;
      b.rule.over = PaintOver::Everything;
      b.dabs = {test::at(g, 4 + 4 * n, 10, n), test::at(g, 4 + 4 * n, 30, n)};
      s.apply(b);
      states.push_back(s.layer().clone());
      if (n == 0) stepBytes = s.undoStore().bytes();
    }
    QCOMPARE(s.undoStore().undoCount(), size_t(10));
    s.setUndoBudget(stepBytes * 4 + stepBytes / 2);
    const size_t kept = s.undoStore().undoCount();
    QVERIFY2(kept >= 3 && kept <= 5, std::to_string(kept).c_str());
    QCOMPARE(s.undoStore().evictedCount(), 10 - kept);
    QVERIFY(s.undoStore().bytes() <= s.undoStore().budget());
    for (size_t n = 0; n < kept; ++n) s.undo();
    QVERIFY(!s.canUndo());
    QVERIFY(sameVoxels(s.layer(), states[10 - kept]));  // the newest steps were the ones kept
    // Even a step larger than the budget stays undoable.
    s.setUndoBudget(1);
    QCOMPARE(s.undoStore().undoCount() + s.undoStore().redoCount(), size_t(1));
    QVERIFY(s.canRedo());
  }

  void anEditThatChangesNothingStoresNothing() {
    const Geometry g = test::editGrid();
    Volume full(g, PixelType::UInt8);
    test::fillBox(full, {0, 0, 0}, {48, 40, 20}, 1);
    EditSession s(full, test::editTable());
    BrushStroke b;
    b.label = 2;
    b.rule.over = PaintOver::Background;
    b.dabs = {test::at(g, 10, 10, 10)};
    const EditResult r = s.apply(b);
    QVERIFY(!r.changed);
    QVERIFY(!s.canUndo());
    QCOMPARE(s.journal().size(), size_t(0));
    QCOMPARE(s.undoStore().bytes(), size_t(0));
    // A stroke given up half way puts everything back.
    b.rule.over = PaintOver::Everything;
    s.beginStroke(b);
    s.continueStroke(test::at(g, 30, 30, 10));
    QVERIFY(s.voxelCount(2) > 0);
    const EditResult c = s.cancelStroke();
    QVERIFY(c.changed);
    QCOMPARE(s.voxelCount(2), int64_t(0));
    QCOMPARE(test::countValue(s.layer(), 1), full.voxelCount());
    QVERIFY(!s.canUndo());
  }

  void badJournalsAreOneLineErrors() {
    EditSession s(ph_.labels.clone(), ph_.table);
    const std::string dab = "\"axis\": 2, \"radius_mm\": 3, \"dabs_lps\": [[0, 0, 0]]";
    expectError(s, "{\"format\": ", ErrorKind::Input, "is not valid JSON");
    expectError(s, "{\"operations\": []}", ErrorKind::Input, "not a Nephro3D edit journal");
    expectError(
        s,
        journalWith("[{\"op\": \"brush\", \"label\": {\"name\": \"tumour\", \"value\": 3}, " + dab +
                    "}]"),
        ErrorKind::Input, "operation 1: names label 'tumour', which the layer's label table lacks");
    expectError(
        s,
        journalWith("[{\"op\": \"brush\", \"label\": {\"name\": \"tumor\", \"value\": 9}, " + dab +
                    "}]"),
        ErrorKind::Input, "is 9 in the journal but 3");
    expectError(
        s,
        journalWith(
            "[{\"op\": \"undo\"}, {\"op\": \"scissors\", \"action\": \"erase\", \"axis\": 2, "
            "\"polygon_lps\": [[900, 900, 0], [950, 900, 0], [950, 950, 0]]}]"),
        ErrorKind::Input, "operation 1: there is no step to undo");
    expectError(s,
                journalWith("[{\"op\": \"scissors\", \"action\": \"erase\", \"axis\": 2, "
                            "\"polygon_lps\": [[900, 900, 0], [950, 900, 0], [950, 950, 0]]}]"),
                ErrorKind::Input, "operation 1: scissors polygon lies outside the volume");
    expectError(s,
                journalWith("[{\"op\": \"brush\", \"label\": {\"name\": \"tumor\", \"value\": 3}, "
                            "\"hu_range\": [150, "
                            "600], " +
                            dab + "}]"),
                ErrorKind::Usage, "give the CT");
    expectError(s, journalWith("[{\"op\": \"paint\"}]"), ErrorKind::Input,
                "unknown operation 'paint'");
    expectError(s,
                journalWith("[{\"op\": \"brush\", \"label\": {\"name\": \"tumor\"}, \"axis\": 7}]"),
                ErrorKind::Input, "axis must be 0, 1 or 2");
    expectError(s,
                "{\"format\": \"nephro3d-edit-journal\", \"version\": 1, \"grid\": {\"size\": [10, "
                "10, 10], "
                "\"spacing\": [1, 1, 1], \"origin\": [0, 0, 0], \"direction\": [1, 0, 0, 0, 1, 0, "
                "0, 0, 1]}, "
                "\"operations\": []}",
                ErrorKind::Input, "was recorded on the grid 10x10x10");
    QVERIFY(sameVoxels(s.layer(), ph_.labels));
  }
};

QTEST_GUILESS_MAIN(TestEditUndoJournal)
#include "test_edit_undo_journal.moc"
