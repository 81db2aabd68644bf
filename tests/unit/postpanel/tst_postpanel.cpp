// The post-processing panel and its controller on the small phantom: a
// parameter change recomputes and replaces the result layer in place, a stale
// result is dropped, and missing labels or a mismatched CT give a message in
// the panel instead of a crash.
#include <QComboBox>
#include <QLabel>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QSlider>
#include <QtTest>
#include <cstring>

#include "PhantomGaps.h"
#include "phantom/Phantom.h"
#include "post/PerirenalFat.h"
#include "post/TemplateSample.h"
#include "post/VesselReconnection.h"
#include "widgets/PostController.h"
#include "widgets/PostPanelHost.h"
#include "widgets/PostRecompute.h"
#include "widgets/WorkspaceModel.h"

using namespace nephro;
using namespace nephro::widgets;
namespace pl = phantom_label;

namespace {

int64_t countValues(const Volume& mask, const LabelTable& table, const char* base) {
  const std::vector<int64_t> counts = labelVoxelCounts(mask);
  int64_t n = 0;
  for (int v : table.valuesMatching(base))
    if (size_t(v) < counts.size()) n += counts[size_t(v)];
  return n;
}

Volume without(const Volume& gt, std::initializer_list<int> drop) {
  Volume out = gt.clone();
  uint8_t* p = out.data<uint8_t>();
  for (int64_t i = 0; i < out.voxelCount(); ++i)
    if (std::find(drop.begin(), drop.end(), int(p[i])) != drop.end()) p[i] = 0;
  return out;
}

// Waits (processing events) for the step's next applied result.
bool waitApplied(PostController& c, const QString& step, int timeoutMs = 30000) {
  QSignalSpy spy(&c, &PostController::resultApplied);
  QSignalSpy failed(&c, &PostController::failed);
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < timeoutMs) {
    if (!failed.isEmpty()) return false;
    for (const auto& args : spy)
      if (args.at(0).toString() == step) return true;
    spy.wait(50);
  }
  return false;
}

// The voxels of `mask` whose value is in `keep` (uint8), the rest background.
Volume only(const Volume& mask, const std::vector<int>& keep) {
  Volume out(mask.geometry(), PixelType::UInt8);
  uint8_t* o = out.data<uint8_t>();
  const uint8_t* p = mask.data<uint8_t>();
  for (int64_t i = 0; i < mask.voxelCount(); ++i)
    if (std::find(keep.begin(), keep.end(), int(p[i])) != keep.end()) o[i] = p[i];
  return out;
}

bool sameVoxels(const Volume& a, const Volume& b) {
  return a.geometry().sameGrid(b.geometry()) && a.pixelType() == b.pixelType() &&
         std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

}  // namespace

class PostPanelTest : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void panelHasAFieldForEveryParameter();
  void ctFollowsTheInputLayersPhase();
  void parameterChangeReplacesTheResultLayer();
  void staleResultIsDropped();
  void newValueCancelsTheRunningRecompute();
  void resultOfARemovedInputIsDropped();
  void vesselReportGoesToTheLog();
  void missingLabelsGiveAMessage();
  void mismatchedCtGivesAMessage();
  void parameterMoveReusesThePreparation_data();
  void parameterMoveReusesThePreparation();
  void sampleClampMoveMatchesAFreshRun();
  void kidneyIslandMoveRemakesThePreparation();

 private:
  PhantomCase phantom_;
  Volume fatInput_;  // the ground truth less its perirenal fat
};

void PostPanelTest::initTestCase() {
  PhantomOptions o;
  o.size = PhantomSize::Small;
  o.seed = 7;
  phantom_ = generatePhantom(o);
  fatInput_ = without(phantom_.labels, {pl::PerirenalFatLeft, pl::PerirenalFatRight});
}

void PostPanelTest::panelHasAFieldForEveryParameter() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  QCOMPARE(panel.steps().size() + 0, 4);
  for (PostStep step : {PostStep::Fat, PostStep::Sample, PostStep::Vessel, PostStep::Ureter}) {
    const QString id = QString::fromStdString(postStepId(step));
    for (const post::ParameterInfo& info : postStepParameters(step)) {
      const QString name = "post_" + id + "_" + QString::fromStdString(info.key);
      QVERIFY2(panel.findChild<QWidget*>(name), qPrintable(name));
      if (info.kind == post::ParameterKind::Number || info.kind == post::ParameterKind::Integer)
        QCOMPARE(panel.values(id).value(QString::fromStdString(info.key)), info.defaultValue);
    }
  }
  // Phases become CT choices; every step that uses a CT starts on the rule `run` follows.
  ws.setPhase(Phase::Arterial, phantom_.arterial, "A.nii.gz");
  ws.setPhase(Phase::Delayed, phantom_.delayed, "D.nii.gz");
  QCOMPARE(panel.ctChoice("vessel"), QString("layer"));
  QCOMPARE(panel.ctChoice("ureter"), QString("layer"));
  QCOMPARE(panel.ctChoice("fat"), QString("layer"));
  QCOMPARE(panel.ctChoice("sample"), QString());
}

void PostPanelTest::ctFollowsTheInputLayersPhase() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  for (auto [p, v] : {std::pair{Phase::Arterial, &phantom_.arterial}, std::pair{Phase::Portal, &phantom_.portal},
                      std::pair{Phase::Delayed, &phantom_.delayed}})
    ws.setPhase(p, *v, phaseLetter(p) + ".nii.gz");
  ws.setCurrentPhase(Phase::Arterial);
  // A model output in P (the tumour model reads P first): fat reads P, not the phase on screen.
  const int tumor = ws.addLayer("tumor", fatInput_, phantom_.table);
  ws.setLayerPhase(tumor, "P");
  QCOMPARE(panel.inputLayer("fat"), tumor);
  QCOMPARE(controller.ctPhase(PostStep::Fat), QString("P"));
  auto* ct = panel.findChild<QComboBox*>("post_fat_ct");
  QVERIFY(ct);
  QVERIFY2(ct->currentText().contains("(P)"), qPrintable(ct->currentText()));
  // The user may choose another phase.
  panel.setCtChoice("fat", "D");
  QCOMPARE(controller.ctPhase(PostStep::Fat), QString("D"));
  // A mask opened from a file (phase unknown) on the grid every phase shares:
  // the step's preferred phase (A for arteries), else P, A, D — never "no CT".
  WorkspaceModel ws2;
  PostPanelHost panel2;
  PostController controller2(&ws2, &panel2);
  for (auto [p, v] : {std::pair{Phase::Arterial, &phantom_.arterial}, std::pair{Phase::Portal, &phantom_.portal},
                      std::pair{Phase::Delayed, &phantom_.delayed}})
    ws2.setPhase(p, *v, phaseLetter(p) + ".nii.gz");
  ws2.addLayer("reference", phantom_.labels, phantom_.table, "/data/reference.nii.gz");
  QCOMPARE(controller2.ctPhase(PostStep::Vessel), QString("A"));
  QCOMPARE(controller2.ctPhase(PostStep::Ureter), QString("D"));
  QCOMPARE(controller2.ctPhase(PostStep::Fat), QString("P"));
  QCOMPARE(controller2.ctPhase(PostStep::Sample), QString());
}

void PostPanelTest::parameterChangeReplacesTheResultLayer() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  controller.setDebounceMs(20);
  ws.setPhase(Phase::Arterial, phantom_.arterial, "A.nii.gz");
  const int input = ws.addLayer("truth", fatInput_, phantom_.table);
  QCOMPARE(panel.inputLayer("fat"), input);

  controller.recompute(PostStep::Fat);
  QVERIFY(waitApplied(controller, "fat"));
  const int result = controller.resultLayer(PostStep::Fat);
  QVERIFY(result != 0 && result != input);
  QCOMPARE(int(ws.layers().size()), 2);
  const Layer* r = ws.layer(result);
  QVERIFY(r->mask.geometry().sameGrid(fatInput_.geometry()));
  const int64_t wide = countValues(r->mask, r->table, "perirenal_fat");
  QVERIFY(wide > 0);
  QVERIFY(!r->meshes.empty());

  // The user drags the distance slider down: one debounced recompute, same layer, less fat.
  auto* slider = panel.findChild<QSlider*>("post_fat_distance-mm");
  QVERIFY(slider);
  slider->setValue(slider->value() - 20);  // 20 steps of 0.5 mm: 20 -> 10 mm
  QCOMPARE(panel.values("fat").value("distance-mm"), 10.0);
  QVERIFY(waitApplied(controller, "fat"));
  QCOMPARE(controller.resultLayer(PostStep::Fat), result);
  QCOMPARE(int(ws.layers().size()), 2);
  r = ws.layer(result);
  const int64_t narrow = countValues(r->mask, r->table, "perirenal_fat");
  QVERIFY2(narrow > 0 && narrow < wide, qPrintable(QString("%1 vs %2").arg(narrow).arg(wide)));
  QVERIFY(!r->meshes.empty());
  QVERIFY(panel.status("fat").contains("perirenal fat"));
  // The input list does not offer the panel's own result.
  QCOMPARE(panel.findChild<QComboBox*>("post_fat_layer")->count(), 1);
}

void PostPanelTest::staleResultIsDropped() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  ws.addLayer("truth", fatInput_, phantom_.table);
  panel.setCtChoice("fat", QString());
  QList<QPointer<BackgroundJob>> jobs;
  connect(&controller, &PostController::jobStarted, this, [&](BackgroundJob* j) { jobs << j; });

  // The first run finishes on its thread, but before its result reaches the
  // GUI thread a new value starts another run: the first result is stale.
  panel.setValue("fat", "distance-mm", 25);
  controller.recompute(PostStep::Fat);
  QCOMPARE(jobs.size(), 1);
  jobs[0]->wait();
  panel.setValue("fat", "distance-mm", 6);
  QSignalSpy dropped(&controller, &PostController::resultDropped);
  controller.recompute(PostStep::Fat);
  QVERIFY(waitApplied(controller, "fat"));
  QCOMPARE(dropped.count(), 1);
  QCOMPARE(controller.droppedCount(PostStep::Fat), 1);
  QCOMPARE(controller.appliedCount(PostStep::Fat), 1);

  // What is shown is the 6 mm result, not the 25 mm one.
  PostInputs in;
  in.mask = fatInput_;
  in.table = phantom_.table;
  PostRegionCache cache;
  auto expected = [&](double distance) {
    const PostRunResult r = runPostStep(PostStep::Fat, in, {{"distance-mm", distance}}, {}, cache, MeshOptions{});
    return countValues(r.mask, r.table, "perirenal_fat");
  };
  // Same order as the panel's runs, so the same cached region.
  const int64_t wide = expected(25), narrow = expected(6);
  QVERIFY(wide != narrow);
  const Layer* shown = ws.layer(controller.resultLayer(PostStep::Fat));
  QCOMPARE(countValues(shown->mask, shown->table, "perirenal_fat"), narrow);
}

void PostPanelTest::newValueCancelsTheRunningRecompute() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  controller.setDebounceMs(30);
  ws.addLayer("truth", fatInput_, phantom_.table);
  QList<QPointer<BackgroundJob>> jobs;
  connect(&controller, &PostController::jobStarted, this, [&](BackgroundJob* j) { jobs << j; });
  controller.recompute(PostStep::Fat);
  QCOMPARE(jobs.size(), 1);
  QVERIFY(jobs[0]->isRunning());  // its finish is only seen through the event loop
  QVERIFY(!jobs[0]->cancelRequested());
  panel.findChild<QSlider*>("post_fat_distance-mm")->setValue(0);  // the user drags to 2 mm
  QVERIFY(jobs[0]->cancelRequested());
  QVERIFY(waitApplied(controller, "fat"));
  QCOMPARE(jobs.size(), 2);
  QCOMPARE(controller.appliedCount(PostStep::Fat), 1);  // only the run with the new value is shown
  QCOMPARE(panel.values("fat").value("distance-mm"), 2.0);
}

void PostPanelTest::resultOfARemovedInputIsDropped() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  const int input = ws.addLayer("truth", fatInput_, phantom_.table);
  QList<QPointer<BackgroundJob>> jobs;
  connect(&controller, &PostController::jobStarted, this, [&](BackgroundJob* j) { jobs << j; });
  controller.recompute(PostStep::Fat);
  QCOMPARE(jobs.size(), 1);
  jobs[0]->wait();
  ws.clear();  // another study replaces this one before the result is shown
  QSignalSpy dropped(&controller, &PostController::resultDropped);
  QTRY_VERIFY_WITH_TIMEOUT(!jobs[0], 10000);  // finished and deleted
  QCOMPARE(dropped.count(), 1);
  QVERIFY(ws.layers().empty());
  QVERIFY(!ws.layer(input));
  QCOMPARE(controller.resultLayer(PostStep::Fat), 0);
}

void PostPanelTest::vesselReportGoesToTheLog() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  // Two slab gaps cut into the renal arteries.
  Volume cut = phantom_.labels.clone();
  uint8_t* c = cut.data<uint8_t>();
  const Geometry& g = cut.geometry();
  int64_t removed = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        const int64_t o = g.offset(i, j, k);
        if (c[o] != pl::Artery) continue;
        const Vec3 q = g.indexToPhysical({double(i), double(j), double(k)});
        if (std::abs(q[0] + 45) < 3 || std::abs(q[0] - 50) < 3) {
          c[o] = 0;
          ++removed;
        }
      }
  QVERIFY(removed > 0);
  ws.setPhase(Phase::Arterial, phantom_.arterial, "A.nii.gz");
  const int input = ws.addLayer("cut", cut, phantom_.table);
  QStringList log;
  connect(&controller, &PostController::logLine, this, [&](const QString& l) { log << l; });
  controller.recompute(PostStep::Vessel);
  QVERIFY(waitApplied(controller, "vessel"));
  // The summary names accepted and rejected bridges, then one line per candidate.
  QVERIFY2(!log.isEmpty() && log.front().contains(QRegularExpression("^vessel: \\d+ bridges accepted, \\d+ rejected")),
           qPrintable(log.join("\n")));
  const int accepted = QRegularExpression("(\\d+) bridges accepted").match(log.front()).captured(1).toInt();
  QCOMPARE(log.filter(": bridged").size(), accepted);
  QVERIFY(accepted > 0);
  // The result layer holds the artery alone, with the bridges painted.
  const Layer* r = ws.layer(controller.resultLayer(PostStep::Vessel));
  QVERIFY(r && r->id != input);
  const std::vector<int64_t> counts = labelVoxelCounts(r->mask);
  for (size_t v = 1; v < counts.size(); ++v)
    if (counts[v] > 0) QCOMPARE(int(v), int(pl::Artery));
  QVERIFY(countValues(r->mask, r->table, "artery") > countValues(cut, phantom_.table, "artery"));
}

void PostPanelTest::missingLabelsGiveAMessage() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  // Only the liver and spleen: no kidney, no artery, no ureter.
  Volume organs = phantom_.labels.clone();
  uint8_t* p = organs.data<uint8_t>();
  for (int64_t i = 0; i < organs.voxelCount(); ++i)
    if (p[i] != pl::Liver && p[i] != pl::Spleen) p[i] = 0;
  const int id = ws.addLayer("organs", organs, phantom_.table);
  QSignalSpy failed(&controller, &PostController::failed);
  QSignalSpy started(&controller, &PostController::jobStarted);
  for (const char* step : {"fat", "vessel", "ureter", "sample"}) {
    panel.setInputLayer(step, id);
    controller.recompute(*postStepFromId(step));
  }
  QCOMPARE(started.count(), 0);  // nothing runs on such an input
  QCOMPARE(failed.count(), 4);
  QVERIFY2(panel.status("fat").contains("no kidney label"), qPrintable(panel.status("fat")));
  QVERIFY(panel.status("sample").contains("no kidney label"));
  QVERIFY2(panel.status("vessel").contains("no renal artery label"), qPrintable(panel.status("vessel")));
  QVERIFY(panel.status("ureter").contains("no ureter label"));
  QCOMPARE(controller.resultLayer(PostStep::Fat), 0);
  QCOMPARE(int(ws.layers().size()), 1);
}

void PostPanelTest::mismatchedCtGivesAMessage() {
  WorkspaceModel ws;
  PostPanelHost panel;
  PostController controller(&ws, &panel);
  // A CT on another grid than the mask: the engine's input error lands in the panel.
  Geometry g = phantom_.arterial.geometry();
  g.size = {g.size[0] / 2, g.size[1], g.size[2]};
  Volume other(g, PixelType::Int16);
  ws.setPhase(Phase::Arterial, other, "/data/other_A.nii.gz");
  ws.addLayer("truth", fatInput_, phantom_.table);
  panel.setCtChoice("fat", "A");
  QSignalSpy failed(&controller, &PostController::failed);
  controller.recompute(PostStep::Fat);
  QVERIFY(failed.wait(20000));
  QVERIFY2(panel.status("fat").contains("other_A.nii.gz") && panel.status("fat").contains("does not match"),
           qPrintable(panel.status("fat")));
  QCOMPARE(controller.resultLayer(PostStep::Fat), 0);
}

void PostPanelTest::parameterMoveReusesThePreparation_data() {
  QTest::addColumn<QString>("step");
  QTest::addColumn<QString>("key");
  QTest::addColumn<double>("from");
  QTest::addColumn<double>("to");
  QTest::newRow("fat hu-max") << "fat" << "hu-max" << -30.0 << -60.0;
  QTest::newRow("vessel max-angle-deg") << "vessel" << "max-angle-deg" << 60.0 << 15.0;
  QTest::newRow("vessel radius-scale") << "vessel" << "radius-scale" << 1.0 << 1.8;
  QTest::newRow("ureter radius-scale") << "ureter" << "radius-scale" << 1.0 << 1.8;
  QTest::newRow("sample iterations") << "sample" << "iterations" << 60.0 << 5.0;
}

// A parameter move reuses the step's preparation and gives exactly what the
// engine's one-shot call gives on the whole mask; a label the move left
// unchanged keeps its mesh.
void PostPanelTest::parameterMoveReusesThePreparation() {
  QFETCH(QString, step);
  QFETCH(QString, key);
  QFETCH(double, from);
  QFETCH(double, to);
  const PostStep s = *postStepFromId(step.toStdString());
  PostInputs in;
  in.layerId = 1;
  in.table = phantom_.table;
  if (s == PostStep::Fat) {
    in.mask = fatInput_;
    in.ct = phantom_.arterial;
  } else if (s == PostStep::Sample) {
    in.mask = only(phantom_.labels, {pl::KidneyLeft, pl::KidneyRight, pl::Tumor});
  } else {
    in.mask = bench::withPhantomGaps(phantom_.labels);
    in.ct = s == PostStep::Vessel ? phantom_.arterial : phantom_.delayed;
  }
  PostRegionCache cache;
  const std::string k = key.toStdString();
  const PostRunResult first = runPostStep(s, in, {{k, from}}, {}, cache, MeshOptions{});
  QVERIFY(!first.timings.preparedCached);
  QVERIFY(!first.meshes.empty());
  const PostRunResult same = runPostStep(s, in, {{k, from}}, {}, cache, MeshOptions{});
  QVERIFY(same.timings.preparedCached);
  QVERIFY(sameVoxels(same.mask, first.mask));
  QCOMPARE(same.timings.meshesMade, 0);
  QCOMPARE(same.timings.meshesReused, int(first.meshes.size()));
  for (size_t m = 0; m < same.meshes.size(); ++m)
    QCOMPARE(same.meshes[m].surface.GetPointer(), first.meshes[m].surface.GetPointer());

  const PostRunResult moved = runPostStep(s, in, {{k, to}}, {}, cache, MeshOptions{});
  QVERIFY(moved.timings.preparedCached);
  QVERIFY(!sameVoxels(moved.mask, first.mask));
  QVERIFY(moved.timings.meshesMade > 0);

  // The engine's one-shot call on the whole mask, its result labels kept.
  const Volume* ct = in.ct.empty() ? nullptr : &in.ct;
  Volume expected;
  if (s == PostStep::Fat) {
    post::FatParameters p;
    p.set(k, to);
    expected = post::computePerirenalFat(in.mask, in.table, ct, p).fat;
  } else if (s == PostStep::Sample) {
    // The panel carries the template within its region around the kidneys
    // (the engine on the whole mask carries the ureters down to the bladder):
    // the same as a run that prepares afresh.
    PostRegionCache fresh;
    const PostRunResult r = runPostStep(s, in, {{k, to}}, {}, fresh, MeshOptions{});
    QVERIFY(!r.timings.preparedCached);
    expected = r.mask;
    post::SampleParameters p;
    p.set(k, to);
    const Volume whole = only(post::sampleTemplate(in.mask, in.table, post::loadTemplate(), p).mask,
                              {pl::Artery, pl::Vein, pl::UreterLeft, pl::UreterRight});
    // Within the region, what the panel carries is what the whole-mask run carries.
    const uint8_t* w = whole.data<uint8_t>();
    const uint8_t* m = moved.mask.data<uint8_t>();
    int64_t differing = 0;
    for (int64_t i = 0; i < whole.voxelCount(); ++i) differing += m[i] && w[i] != m[i];
    QCOMPARE(differing, int64_t(0));
  } else {
    const auto structure = s == PostStep::Vessel ? post::TubularStructure::Artery : post::TubularStructure::Ureter;
    auto p = post::ReconnectionParameters::defaults(structure);
    p.set(k, to);
    const post::ReconnectionResult r = post::reconnect(structure, in.mask, in.table, ct, p);
    expected = s == PostStep::Vessel ? only(r.mask, {pl::Artery}) : only(r.mask, {pl::UreterLeft, pl::UreterRight});
  }
  QVERIFY(sameVoxels(moved.mask, expected));
}

// A new clamp or working spacing for the template sample remakes its
// preparation from the kept one (the kidneys are not cut out again): the
// result is what a panel that never saw the earlier value gives.
void PostPanelTest::sampleClampMoveMatchesAFreshRun() {
  PostInputs in;
  in.layerId = 1;
  in.table = phantom_.table;
  in.mask = only(phantom_.labels, {pl::KidneyLeft, pl::KidneyRight, pl::Tumor});
  PostRegionCache cache;
  const PostRunResult first = runPostStep(PostStep::Sample, in, {{"distance-clamp-mm", 15.0}}, {}, cache, MeshOptions{});
  QVERIFY(!first.timings.preparedCached);
  for (const auto& [key, value] : std::vector<std::pair<std::string, double>>{{"distance-clamp-mm", 8.0},
                                                                               {"working-spacing-mm", 3.0}}) {
    const PostRunResult moved = runPostStep(PostStep::Sample, in, {{key, value}}, {}, cache, MeshOptions{});
    QVERIFY(!moved.timings.preparedCached);
    PostRegionCache fresh;
    const PostRunResult expected = runPostStep(PostStep::Sample, in, {{key, value}}, {}, fresh, MeshOptions{});
    QVERIFY(sameVoxels(moved.mask, expected.mask));
    QCOMPARE(moved.reportJson, expected.reportJson);
    QVERIFY(moved.reportJson != first.reportJson);
  }
}


// The kidney-island sliders change what the fat's preparation reads: a move
// prepares afresh, the log counts the islands, and the result is the engine's.
void PostPanelTest::kidneyIslandMoveRemakesThePreparation() {
  // A 27-voxel piece of kidney_left in the grid's corner furthest from the kidneys.
  Volume mask = fatInput_.clone();
  const Geometry& g = mask.geometry();
  const Box kidneys = boundingBox(mask, {pl::KidneyLeft, pl::KidneyRight});
  Index3 at{2, 2, 2};
  for (int d = 0; d < 3; ++d)
    at[d] = kidneys.begin[d] > g.size[d] - kidneys.end[d] ? 2 : g.size[d] - 3;
  uint8_t* p = mask.data<uint8_t>();
  for (int64_t k = -1; k <= 1; ++k)
    for (int64_t j = -1; j <= 1; ++j)
      for (int64_t i = -1; i <= 1; ++i) p[g.offset(at[0] + i, at[1] + j, at[2] + k)] = pl::KidneyLeft;
  PostInputs in;
  in.layerId = 1;
  in.table = phantom_.table;
  in.mask = mask;
  PostRegionCache cache;
  auto logHas = [](const PostRunResult& r, const QString& text) {
    for (const std::string& line : r.log)
      if (QString::fromStdString(line).contains(text)) return true;
    return false;
  };
  const PostRunResult first = runPostStep(PostStep::Fat, in, {{"distance-mm", 8.0}}, {}, cache, MeshOptions{});
  QVERIFY(logHas(first, "kidney islands removed first: 1"));
  const PostRunResult kept =
      runPostStep(PostStep::Fat, in, {{"distance-mm", 8.0}, {"min-kidney-island-ml", 0.0}}, {}, cache, MeshOptions{});
  QVERIFY(!kept.timings.preparedCached);
  QVERIFY(logHas(kept, "kidney islands removed first: 0"));
  QVERIFY(!sameVoxels(kept.mask, first.mask));
  post::FatParameters fp;
  fp.distanceMm = 8.0;
  fp.minKidneyIslandMl = 0.0;
  QVERIFY(sameVoxels(kept.mask, post::computePerirenalFat(in.mask, in.table, nullptr, fp).fat));
  // Back: prepared afresh again, the island gone from the fat.
  const PostRunResult again = runPostStep(PostStep::Fat, in, {{"distance-mm", 8.0}}, {}, cache, MeshOptions{});
  QVERIFY(!again.timings.preparedCached);
  QVERIFY(sameVoxels(again.mask, first.mask));
  QCOMPARE(again.mask.valueAt(at[0], at[1], at[2]), 0.0);
}

QTEST_MAIN(PostPanelTest)
#include "tst_postpanel.moc"
