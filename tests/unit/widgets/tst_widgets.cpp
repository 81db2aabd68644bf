// The presenter layer and panels without a display: label table model, label
// volumes, HU histograms, model availability, background job cancel,
// preferences, study file roles.
#include <QCheckBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QGroupBox>
#include <QPushButton>
#include <QSlider>
#include <QTreeWidget>
#include <QtTest>
#include <filesystem>
#include <thread>

#include "TestSupport.h"
#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "image/VolumeIO.h"
#include "labels/SegNrrd.h"
#include "widgets/BackgroundJob.h"
#include "widgets/JobPanel.h"
#include "widgets/LabelTableModel.h"
#include "widgets/LayerExport.h"
#include "widgets/ModelPanel.h"
#include "widgets/PlotsPanel.h"
#include "widgets/PostPanelHost.h"
#include "widgets/Preferences.h"
#include "widgets/StudyFiles.h"
#include "widgets/StudyPanel.h"
#include "widgets/WorkspaceModel.h"

using namespace nephro;
using namespace nephro::widgets;

namespace {

// 10x10x10 voxels of 2x2x2 mm (8 mm3): label 1 fills a 5x5x5 cube (125 voxels
// = 1 mL), label 2 one slab of 10x10x1 (100 voxels = 0.8 mL).
Volume testMask() {
  Geometry g;
  g.size = {10, 10, 10};
  g.spacing = {2, 2, 2};
  Volume m(g, PixelType::UInt8);
  for (int k = 0; k < 5; ++k)
    for (int j = 0; j < 5; ++j)
      for (int i = 0; i < 5; ++i) m.data<uint8_t>()[g.offset(i, j, k)] = 1;
  for (int j = 0; j < 10; ++j)
    for (int i = 0; i < 10; ++i) m.data<uint8_t>()[g.offset(i, j, 9)] = 2;
  return m;
}

LabelTable testTable() {
  LabelEntry kidney{1, "kidney_left", "Left kidney", Rgb{185, 102, 83}, "", ""};
  LabelEntry artery{2, "artery", "Renal artery", Rgb{216, 101, 79}, "", ""};
  LabelEntry absent{3, "tumor", "Kidney tumor", Rgb{144, 238, 144}, "", ""};
  return LabelTable({kidney, artery, absent});
}

void writeText(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(text);
}

}  // namespace

class WidgetsTest : public QObject {
  Q_OBJECT
 private slots:
  void labelTableListsEveryLabelWithItsVolume();
  void labelTableEditsReachTheWorkspace();
  void labelTableFollowsLayers();
  void histogramCountsHuInsideEachLabel();
  void modelAvailabilityRules();
  void modelPanelGreysOutWithReason();
  void cancelStopsWithinASecondAndLeavesNoFile();
  void failedJobReportsTheError();
  void preferencesPersist();
  void studyFileRolesFromNames();
  void postPanelBuildsSliders();
  void exportedMaskKeepsGeometryAndEditedColours();
  void studyPanelShowsAndHidesLayers();
  void labelTableShowsLiveVolumeAndChange();
};

void WidgetsTest::labelTableShowsLiveVolumeAndChange() {
  WorkspaceModel ws;
  const int id = ws.addLayer("truth", testMask(), testTable());
  LabelTableModel model(&ws);
  QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
  QCOMPARE(model.index(0, LabelTableModel::ChangeMl).data().toString(), QString());
  // An edit in place: 100 voxels of label 1 became label 2 (voxel volume from the mask).
  const double ml = 100 * ws.layer(id)->mask.geometry().voxelVolumeMm3() / 1000.0;
  ws.addVoxelCounts(id, {{1, -100}, {2, 100}});
  QVERIFY(changed.count() >= 1);
  QCOMPARE(model.index(0, LabelTableModel::VolumeMl).data(Qt::EditRole).toDouble(), 1.0 - ml);
  QCOMPARE(model.index(0, LabelTableModel::ChangeMl).data(Qt::EditRole).toDouble(), -ml);
  QCOMPARE(model.index(0, LabelTableModel::ChangeMl).data().toString(), QString::asprintf("%+.2f", -ml));
  QCOMPARE(model.index(1, LabelTableModel::ChangeMl).data(Qt::EditRole).toDouble(), ml);
  // Undone: no change shown.
  ws.addVoxelCounts(id, {{1, 100}, {2, -100}});
  QCOMPARE(model.index(0, LabelTableModel::ChangeMl).data().toString(), QString());
}

void WidgetsTest::labelTableListsEveryLabelWithItsVolume() {
  WorkspaceModel ws;
  ws.addLayer("truth", testMask(), testTable());
  LabelTableModel model(&ws);
  QCOMPARE(model.rowCount(), 3);
  QCOMPARE(model.columnCount(), int(LabelTableModel::ColumnCount));
  QCOMPARE(model.index(0, LabelTableModel::Name).data().toString(), QString("Left kidney"));
  QCOMPARE(model.index(0, LabelTableModel::VolumeMl).data(Qt::EditRole).toDouble(), 1.0);
  QCOMPARE(model.index(0, LabelTableModel::VolumeMl).data().toString(), QString("1.00"));
  QCOMPARE(model.index(1, LabelTableModel::VolumeMl).data(Qt::EditRole).toDouble(), 0.8);
  QCOMPARE(model.index(2, LabelTableModel::VolumeMl).data(Qt::EditRole).toDouble(), 0.0);
  QCOMPARE(model.index(0, LabelTableModel::Color).data(Qt::DecorationRole).value<QColor>(),
           QColor(185, 102, 83));
  QCOMPARE(model.index(0, LabelTableModel::Visible).data(Qt::CheckStateRole).toInt(),
           int(Qt::Checked));
  QCOMPARE(model.index(0, LabelTableModel::Opacity).data(Qt::EditRole).toInt(), 100);
  QCOMPARE(model.index(1, 0).data(LabelTableModel::LabelValueRole).toInt(), 2);
  QVERIFY(model.flags(model.index(0, LabelTableModel::Visible)) & Qt::ItemIsUserCheckable);
  QVERIFY(model.flags(model.index(0, LabelTableModel::Color)) & Qt::ItemIsEditable);
  QVERIFY(!(model.flags(model.index(0, LabelTableModel::VolumeMl)) & Qt::ItemIsEditable));
}

void WidgetsTest::labelTableEditsReachTheWorkspace() {
  WorkspaceModel ws;
  const int id = ws.addLayer("truth", testMask(), testTable());
  LabelTableModel model(&ws);
  QSignalSpy display(&ws, &WorkspaceModel::labelDisplayChanged);
  QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

  QVERIFY(
      model.setData(model.index(1, LabelTableModel::Visible), Qt::Unchecked, Qt::CheckStateRole));
  QVERIFY(!ws.labelDisplay(id, 2)->visible);
  QVERIFY(model.setData(model.index(1, LabelTableModel::Color), QColor(10, 20, 30), Qt::EditRole));
  QCOMPARE(ws.labelDisplay(id, 2)->color, QColor(10, 20, 30));
  QVERIFY(model.setData(model.index(1, LabelTableModel::Opacity), 40, Qt::EditRole));
  QCOMPARE(ws.labelDisplay(id, 2)->opacity, 0.4);
  QVERIFY(model.setData(model.index(1, LabelTableModel::Opacity), 250, Qt::EditRole));
  QCOMPARE(ws.labelDisplay(id, 2)->opacity, 1.0);  // clamped
  QVERIFY(!model.setData(model.index(1, LabelTableModel::Color), QColor(), Qt::EditRole));
  QVERIFY(!model.setData(model.index(1, LabelTableModel::VolumeMl), 3.0, Qt::EditRole));
  QCOMPARE(display.count(), 4);
  QCOMPARE(changed.count(), 4);
  QCOMPARE(display.at(0).at(0).toInt(), id);
  QCOMPARE(display.at(0).at(1).toInt(), 2);
  // Other labels are untouched.
  QVERIFY(ws.labelDisplay(id, 1)->visible);
  QCOMPARE(ws.labelDisplay(id, 1)->color, QColor(185, 102, 83));
}

void WidgetsTest::labelTableFollowsLayers() {
  WorkspaceModel ws;
  LabelTableModel model(&ws);
  QCOMPARE(model.rowCount(), 0);
  // A value missing from the table still gets a row, so it can be seen and hidden.
  Volume mask = testMask();
  mask.data<uint8_t>()[0] = 7;
  const int a = ws.addLayer("a", mask, testTable());
  QCOMPARE(model.rowCount(), 4);
  QCOMPARE(model.rowOf(a, 7), 3);
  // Label 2 is in the mask but not in b's table: it gets a row too.
  const int b = ws.addLayer("b", testMask(), LabelTable({testTable().entries()[0]}));
  QCOMPARE(model.rowCount(), 6);
  // Rows of the same structure are grouped: b's label 1 follows a's.
  QCOMPARE(model.rowOf(a, 1), 0);
  QCOMPARE(model.rowOf(b, 1), 1);
  QCOMPARE(model.index(1, LabelTableModel::LayerName).data().toString(), QString("b"));
  ws.removeLayer(a);
  QCOMPARE(model.rowCount(), 2);
  QCOMPARE(model.rowOf(b, 1), 0);
}

void WidgetsTest::histogramCountsHuInsideEachLabel() {
  const Volume mask = testMask();
  Volume ct(mask.geometry(), PixelType::Int16);
  for (int64_t i = 0; i < ct.voxelCount(); ++i) ct.data<int16_t>()[i] = 30;
  // Inside label 2's slab, half the voxels at 200 HU.
  for (int i = 0; i < 10; ++i)
    for (int j = 0; j < 5; ++j) ct.data<int16_t>()[mask.geometry().offset(i, j, 9)] = 200;
  const auto h = labelHistograms(ct, mask, {1, 2}, -100, 10, 50);
  QCOMPARE(int(h.size()), 2);
  QCOMPARE(h[0][13], int64_t(125));  // 30 HU -> bin (30+100)/10 = 13
  QCOMPARE(h[1][13], int64_t(50));
  QCOMPARE(h[1][30], int64_t(50));  // 200 HU -> bin 30
  int64_t total = 0;
  for (auto c : h[0]) total += c;
  QCOMPARE(total, int64_t(125));
  // A CT on a finer grid covering the same field: the mask samples the nearest CT voxel.
  Geometry fine = mask.geometry();
  fine.size = {20, 20, 20};
  fine.spacing = {1, 1, 1};
  fine.origin = {-0.5, -0.5, -0.5};
  Volume fineCt(fine, PixelType::Int16);
  for (int64_t i = 0; i < fineCt.voxelCount(); ++i) fineCt.data<int16_t>()[i] = -50;
  const auto hf = labelHistograms(fineCt, mask, {1}, -100, 10, 50);
  QCOMPARE(hf[0][5], int64_t(125));
}

void WidgetsTest::modelAvailabilityRules() {
  ModelDescription vessel{"vessel", "vessel", "", {"A", "P"}, false, {}};
  ModelDescription tumor{"tumor", "tumor", "", {}, true, {}};
  ModelDescription broken{"ureter", "ureter", "", {"D"}, false, "Model files missing: /x"};
  QVERIFY(modelAvailability(vessel, {"A", "P"}).available);
  const auto noP = modelAvailability(vessel, {"A", "D"});
  QVERIFY(!noP.available);
  QVERIFY2(noP.reason.contains("P"), qPrintable(noP.reason));
  QVERIFY(!modelAvailability(tumor, {}).available);
  QVERIFY(modelAvailability(tumor, {"D"}).available);
  const auto b = modelAvailability(broken, {"A", "P", "D"});
  QVERIFY(!b.available);
  QCOMPARE(b.reason, QString("Model files missing: /x"));
}

void WidgetsTest::modelPanelGreysOutWithReason() {
  const QString dir = QString::fromStdString(test::scratchDir("widgets_models"));
  QDir().mkpath(dir + "/demo/vessel");
  writeText(dir + "/vessel.json",
            R"({"id": "vessel", "folder": "demo/vessel", "description": "Kidney and vessels",
                "inputs": [{"channel": 0, "phase": "A"}, {"channel": 1, "phase": "P"}]})");
  writeText(dir + "/ureter.json", R"({"id": "ureter", "folder": "demo/ureter",
                                       "inputs": [{"channel": 0, "phase": "D"}]})");
  writeText(dir + "/tumor.json", R"({"id": "tumor", "inputs": [{"channel": 0, "phase": "any"}]})");
  writeText(dir + "/bad.json", "{ not json");
  ModelPanel panel;
  panel.setCatalog(std::make_shared<ManifestCatalog>(dir));
  panel.setRunnable(true);
  panel.setLoadedPhases({"A"});
  QVERIFY(!panel.isModelEnabled("vessel"));
  QVERIFY(panel.modelToolTip("vessel").contains("lacks P"));
  QVERIFY(!panel.isModelEnabled("ureter"));  // files missing, whatever the phases
  QVERIFY(panel.modelToolTip("ureter").contains("missing"));
  QVERIFY(panel.isModelEnabled("tumor"));
  QVERIFY(!panel.isModelEnabled("bad"));
  QVERIFY(panel.modelToolTip("bad").contains("bad.json"));

  panel.setLoadedPhases({"A", "P", "D"});
  QVERIFY(panel.isModelEnabled("vessel"));
  QCOMPARE(panel.modelToolTip("vessel"), QString("Kidney and vessels"));
  QVERIFY(!panel.isModelEnabled("ureter"));
  panel.setModelChecked("vessel", true);
  panel.setModelChecked("tumor", true);
  QSignalSpy run(&panel, &ModelPanel::runRequested);
  auto* button = panel.findChild<QPushButton*>("runModels");
  QVERIFY(button && button->isEnabled());
  button->click();
  QCOMPARE(run.count(), 1);
  QCOMPARE(run.at(0).at(0).toStringList(), QStringList({"tumor", "vessel"}));
  QCOMPARE(run.at(0).at(1).toString(), QString("cpu"));
  // Refilling the catalog keeps the chosen device and does not report a change.
  QSignalSpy deviceChanges(&panel, &ModelPanel::deviceChanged);
  panel.setCatalog(std::make_shared<ManifestCatalog>(dir));
  QCOMPARE(deviceChanges.count(), 0);
  QCOMPARE(panel.currentDevice(), QString("cpu"));
  panel.setLoadedPhases({"A", "P", "D"});
  panel.setModelChecked("tumor", true);
  // Losing the phase unticks and greys the model out again.
  panel.setLoadedPhases({"A"});
  QCOMPARE(panel.checkedModels(), QStringList({"tumor"}));
  panel.setRunnable(false, "no engine");
  QVERIFY(!button->isEnabled());
}

void WidgetsTest::cancelStopsWithinASecondAndLeavesNoFile() {
  const std::string dir = test::scratchDir("widgets_cancel");
  const std::string target = dir + "/result.nii.gz";
  BackgroundJob job("writing");
  JobPanel panel;
  panel.track(&job);
  QSignalSpy finished(&job, &BackgroundJob::finished);
  QSignalSpy progressed(&job, &BackgroundJob::progressed);
  // Writes a staged output piece by piece, as the engine's steps do; never commits in time.
  job.start([target](const Progress& progress) {
    OutputTransaction tx;
    const std::string staged = tx.stage(target);
    FILE* f = std::fopen(staged.c_str(), "wb");
    for (int i = 0; i < 3000; ++i) {
      progress.throwIfCancelled();
      std::fputs("partial ", f);
      std::fflush(f);
      progress.report(i / 3000.0, "writing");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::fclose(f);
    tx.commit();
  });
  QTRY_VERIFY_WITH_TIMEOUT(progressed.count() > 0, 5000);
  QVERIFY(job.isRunning());
  QElapsedTimer clock;
  clock.start();
  panel.cancelAll();
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 1000);
  qInfo("cancel took %lld ms", clock.elapsed());
  QCOMPARE(finished.at(0).at(0).value<BackgroundJob::Outcome>(), BackgroundJob::Outcome::Cancelled);
  QVERIFY(!job.isRunning());
  job.wait();
  // Nothing was left behind: no result and no temporary.
  QVERIFY(std::filesystem::is_empty(dir));
  QVERIFY(panel.logText().contains("writing cancelled"));
}

void WidgetsTest::failedJobReportsTheError() {
  BackgroundJob job("reading");
  QSignalSpy finished(&job, &BackgroundJob::finished);
  job.start([](const Progress&) { throw inputError("/data/ct.nii.gz", "is truncated"); });
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 5000);
  QCOMPARE(finished.at(0).at(0).value<BackgroundJob::Outcome>(), BackgroundJob::Outcome::Failed);
  QVERIFY(finished.at(0).at(1).toString().contains("/data/ct.nii.gz"));
  QVERIFY(finished.at(0).at(1).toString().contains("is truncated"));
}

void WidgetsTest::preferencesPersist() {
  const QString ini = QString::fromStdString(test::scratchDir("widgets_prefs")) + "/prefs.ini";
  {
    Preferences p(ini);
    QCOMPARE(p.defaultLayout(), ViewLayout::OneLargeThreeSmall);
    QCOMPARE(p.overlayOpacity(), 0.5);
    QCOMPARE(p.smoothingFactor(), 0.5);
    QCOMPARE(p.device(), QString("cpu"));
    QVERIFY(p.overlayOutline());
    p.setDefaultLayout(ViewLayout::Grid2x2);
    p.setOverlayOpacity(0.3);
    p.setOverlayOutline(false);
    p.setSmoothingFactor(0.75);
    p.setDevice("cuda:0");
    for (int i = 0; i < 12; ++i) p.addRecentStudy(QString("/studies/%1").arg(i));
    p.addRecentStudy("/studies/5");
    p.sync();
  }
  Preferences again(ini);
  QCOMPARE(again.defaultLayout(), ViewLayout::Grid2x2);
  QCOMPARE(again.overlayOpacity(), 0.3);
  QVERIFY(!again.overlayOutline());
  QCOMPARE(again.smoothingFactor(), 0.75);
  QCOMPARE(again.device(), QString("cuda:0"));
  const QStringList recent = again.recentStudies();
  QCOMPARE(recent.size(), Preferences::kMaxRecent);
  QCOMPARE(recent.front(), QString("/studies/5"));
  QCOMPARE(recent.count("/studies/5"), 1);
  QCOMPARE(recent.at(1), QString("/studies/11"));
  again.setOverlayOpacity(7);  // out of range values are clamped
  QCOMPARE(again.overlayOpacity(), 1.0);
}

void WidgetsTest::studyFileRolesFromNames() {
  QCOMPARE(phaseFromFileName("/x/case_A.nii.gz"), std::optional<Phase>(Phase::Arterial));
  QCOMPARE(phaseFromFileName("case-P.nrrd"), std::optional<Phase>(Phase::Portal));
  QCOMPARE(phaseFromFileName("case_0002.nii.gz"), std::optional<Phase>(Phase::Delayed));
  QCOMPARE(phaseFromFileName("case_0000.nii"), std::optional<Phase>(Phase::Arterial));
  QCOMPARE(phaseFromFileName("ct_portal_venous.mha"), std::optional<Phase>(Phase::Portal));
  QCOMPARE(phaseFromFileName("DATA.nii.gz"), std::optional<Phase>());
  QCOMPARE(imageBaseName("/a/b/mask.seg.nrrd"), QString("mask"));
  QVERIFY(looksLikeMask("/a/b/kidney.seg.nrrd"));
  QVERIFY(looksLikeMask("case_labels.nii.gz"));
  QVERIFY(!looksLikeMask("case_A.nii.gz"));

  const auto files = classifyStudyFiles({"/s/x_D.nii.gz", "/s/unnamed.nii.gz", "/s/x_A.nii.gz",
                                         "/s/other_A.nii.gz", "/s/x_labels.nii.gz"});
  QCOMPARE(int(files.size()), 5);
  QCOMPARE(files[0].role, FileRole::Delayed);
  QCOMPARE(files[1].role, FileRole::Portal);  // first free phase after the named ones
  QCOMPARE(files[2].role, FileRole::Arterial);
  QCOMPARE(files[3].role, FileRole::Ignore);  // every phase is taken
  QCOMPARE(files[4].role, FileRole::Mask);
}

void WidgetsTest::postPanelBuildsSliders() {
  PostPanelHost host;
  QVERIFY(host.steps().isEmpty());
  host.addStep("fat", "Perirenal fat",
               {{"distance-mm", "Distance", "", 0, 30, 10, 0.5, 1, "mm"},
                {"low-hu", "Lowest HU", "", -300, 0, -190, 1, 0, "HU"}});
  QCOMPARE(host.steps(), QStringList({"fat"}));
  QCOMPARE(host.values("fat").value("distance-mm"), 10.0);
  host.setValue("fat", "low-hu", -150);
  QCOMPARE(host.values("fat").value("low-hu"), -150.0);
  auto* slider = host.findChild<QGroupBox*>("post_fat")->findChildren<QSlider*>().at(0);
  slider->setValue(slider->value() + 4);  // 4 steps of 0.5 mm
  QCOMPARE(host.values("fat").value("distance-mm"), 12.0);
  QSignalSpy run(&host, &PostPanelHost::runRequested);
  host.findChild<QGroupBox*>("post_fat")->findChild<QPushButton*>()->click();
  QCOMPARE(run.count(), 1);
  QCOMPARE(run.at(0).at(0).toString(), QString("fat"));
}

void WidgetsTest::exportedMaskKeepsGeometryAndEditedColours() {
  const std::string dir = test::scratchDir("widgets_export");
  WorkspaceModel ws;
  Volume mask = testMask();
  Geometry g = mask.geometry();
  g.origin = {-12.5, 30, 7};
  mask.setGeometry(g);
  const int id = ws.addLayer("truth", mask, testTable());
  ws.setLabelColor(id, 1, QColor(1, 2, 3));
  const LabelTable table = displayedTable(*ws.layer(id));
  QCOMPARE(table.find(1)->color, (Rgb{1, 2, 3}));
  QCOMPARE(table.find(2)->color, (Rgb{216, 101, 79}));

  exportMaskLayer(mask, table, dir + "/truth.nii.gz");
  const Volume back = readVolume(dir + "/truth.nii.gz");
  QVERIFY(back.geometry().sameGrid(mask.geometry()));
  QCOMPARE(labelVoxelCounts(back), labelVoxelCounts(mask));
  const LabelTable sidecar = LabelTable::readSidecar(dir + "/truth.nii.gz");
  QCOMPARE(sidecar.find(1)->color, (Rgb{1, 2, 3}));
  QCOMPARE(QString::fromStdString(sidecar.find(1)->name), QString("kidney_left"));

  exportMaskLayer(mask, table, dir + "/truth.seg.nrrd");
  const auto [segMask, segTable] = readSegNrrd(dir + "/truth.seg.nrrd");
  QVERIFY(segMask.geometry().sameGrid(mask.geometry()));
  QCOMPARE(segTable.find(1)->color, (Rgb{1, 2, 3}));
  // The exported files and no temporaries.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  QCOMPARE(files, 3);  // truth.nii.gz + truth.json, truth.seg.nrrd (table in its header)
}

void WidgetsTest::studyPanelShowsAndHidesLayers() {
  WorkspaceModel ws;
  StudyPanel panel(&ws);
  const int id = ws.addLayer("truth", testMask(), testTable());
  QTreeWidgetItem* layers = panel.tree()->topLevelItem(1);
  QCOMPARE(layers->childCount(), 1);
  QTreeWidgetItem* item = layers->child(0);
  QVERIFY(item->text(0).startsWith("truth"));
  QSignalSpy visibility(&ws, &WorkspaceModel::layerVisibilityChanged);
  item->setCheckState(0, Qt::Unchecked);
  QCOMPARE(visibility.count(), 1);
  QVERIFY(!ws.layer(id)->visible);
  panel.tree()->topLevelItem(1)->child(0)->setSelected(true);
  QCOMPARE(panel.selectedLayer(), id);
  QSignalSpy rebuild(&panel, &StudyPanel::rebuildMeshesRequested);
  panel.findChildren<QPushButton*>().at(0)->click();
  QCOMPARE(rebuild.count(), 1);
  panel.findChildren<QPushButton*>().at(1)->click();  // remove
  QVERIFY(ws.layers().empty());
}

QTEST_MAIN(WidgetsTest)
#include "tst_widgets.moc"
