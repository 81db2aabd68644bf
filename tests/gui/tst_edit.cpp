// Correcting a mask in the window under Xvfb, the way a reviewer does it:
// a batch output folder is opened for review, its first unapproved case
// opens, and real mouse presses, moves and releases on the axial slice view
// drive every tool (fill between slices, brush with a locked label, eraser,
// scissors, island removal, keep largest, ruler, ellipse ROI). Undoing every
// step and redoing it gives bit-identical voxels, the session's journal
// replayed headless gives the window's result, the correction is saved as a
// new version beside the model's output, the case is approved, DICOM SEG is
// exported, and the screenshot of the correction in progress goes to
// resources/screenshots/correction.png for the README.
#include <QApplication>
#include <QDockWidget>
#include <QListWidget>
#include <QSurfaceFormat>
#include <QtTest>
#include <filesystem>
#include <fstream>

#include "TestSupport.h"
#include "edit/EditJournal.h"
#include "edit/ReviewState.h"
#include "gui/MainWindow.h"
#include "gui/Style.h"
#include "gui/WorkspacePresenter.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"
#include "widgets/edit/EditPanel.h"
#include "widgets/edit/EditPresenter.h"
#include "widgets/edit/ReviewPanel.h"

using namespace nephro;
using viewers::SliceAxis;
using viewers::ToolMode;
namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> voxels(const Volume& v) {
  const uint8_t* p = v.data<uint8_t>();
  return std::vector<uint8_t>(p, p + v.voxelCount());
}

int64_t countValue(const std::vector<uint8_t>& v, int value) {
  return std::count(v.begin(), v.end(), uint8_t(value));
}

// Voxels of `value` on index slices k0 < k < k1.
int64_t countBetween(const Volume& mask, int value, int64_t k0, int64_t k1) {
  const Geometry& g = mask.geometry();
  int64_t n = 0;
  for (int64_t k = k0 + 1; k < k1; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) n += mask.data<uint8_t>()[g.offset(i, j, k)] == value;
  return n;
}

Vec3 centroid(const Volume& mask, int value) {
  const Geometry& g = mask.geometry();
  double s[3] = {0, 0, 0};
  int64_t n = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (mask.data<uint8_t>()[g.offset(i, j, k)] == value) s[0] += i, s[1] += j, s[2] += k, ++n;
  return g.indexToPhysical({std::round(s[0] / n), std::round(s[1] / n), std::round(s[2] / n)});
}

Vec3 shifted(const Vec3& p, double dx, double dy, double dz = 0) {
  return {p[0] + dx, p[1] + dy, p[2] + dz};
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

}  // namespace

class EditWindowTest : public QObject {
  Q_OBJECT
 private slots:
  void correctsReviewsAndHandsOffACase();
};

void EditWindowTest::correctsReviewsAndHandsOffACase() {
  // A --batch output folder of two cases: the phantom's ground truth stands
  // for the model's output.
  const std::string dir = test::scratchDir("gui_edit");
  PhantomOptions options;
  options.size = PhantomSize::Small;
  const PhantomCase phantom = generatePhantom(options);
  writePhantom(phantom, dir + "/study");
  for (const char* name : {"case01", "case02"}) {
    const std::string c = dir + "/batch/" + name;
    fs::create_directories(c);
    writeVolume(phantom.labels, c + "/labels.nii.gz");
    phantom.table.writeSidecar(c + "/labels.nii.gz");
    writeText(c + "/provenance.json",
              "{\"phases\": {\"A\": {\"file\": \"" + dir + "/study/phantom_A.nii.gz\"}},"
              " \"models\": [{\"id\": \"labels\", \"output\": \"labels.nii.gz\"}]}");
  }

  auto prefs = std::make_unique<widgets::Preferences>(QString::fromStdString(dir + "/prefs.ini"));
  prefs->setReviewerName("Dr Test");
  gui::MainWindow window(std::move(prefs));
  window.resize(1600, 1000);
  window.show();
  // Leaving a case with edited layers asks first (the workspace's unsaved-layers question); the
  // correction is saved as its own version before the test steps on, so it answers Discard.
  int prompts = 0;
  window.workspacePresenter()->setPrompt([&](const QString&, const QString&, bool) {
    ++prompts;
    return gui::WorkspacePresenter::Answer::Discard;
  });
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  widgets::EditPresenter* edit = window.editPresenter();
  QVERIFY(edit);
  widgets::ReviewPanel* review = edit->reviewPanel();

  // Review: the folder lists both cases; Next opens the first unapproved one.
  QVERIFY(review->openFolder(QString::fromStdString(dir + "/batch")));
  QCOMPARE(review->cases().size(), size_t(2));
  QVERIFY(review->stepCase(true));
  QCOMPARE(*review->currentCase(), size_t(0));
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 1 &&
                               !window.workspace()->loadedPhases().empty() && !window.busy(),
                           60000);
  const widgets::Layer& layer = window.workspace()->layers().front();
  const int layerId = layer.id;
  const int tumor = phantom_label::Tumor, kidney = phantom_label::KidneyLeft;
  QVERIFY(edit->setActiveLabel(layerId, tumor));

  viewers::SliceView* axial = window.sliceView(SliceAxis::Axial);
  const Geometry& g = layer.mask.geometry();
  const Vec3 tumorAt = centroid(phantom.labels, tumor);
  // Towards the body's midline from the tumour.
  const double dx = tumorAt[0] > 0 ? -1.0 : 1.0;
  window.setCursorEverywhere(tumorAt);
  QCoreApplication::processEvents();
  auto at = [&](const Vec3& lps) { return axial->widgetPosOf(lps).toPoint(); };
  auto stroke = [&](const std::vector<Vec3>& path) {
    QTest::mousePress(axial, Qt::LeftButton, {}, at(path.front()));
    for (size_t i = 1; i < path.size(); ++i) QTest::mouseMove(axial, at(path[i]));
    QTest::mouseRelease(axial, Qt::LeftButton, {}, at(path.back()));
  };
  std::vector<std::vector<uint8_t>> states{voxels(layer.mask)};
  QVERIFY(states[0] == voxels(phantom.labels));
  widgets::EditPanel* panel = edit->panel();
  panel->setPaintOver(edit::PaintOver::Everything);
  panel->setRadiusMm(5.0);

  // Lock the left kidney from the panel's lock list: no tool may change it.
  auto* locks = panel->findChild<QListWidget*>("lockList");
  QVERIFY(locks);
  for (int i = 0; i < locks->count(); ++i)
    if (locks->item(i)->data(Qt::UserRole + 1).toInt() == kidney)
      locks->item(i)->setCheckState(Qt::Checked);
  QVERIFY(edit->session(layerId) && edit->session(layerId)->isLocked(kidney));
  const int64_t kidneyVoxels = countValue(states[0], kidney);

  // 1. Fill between slices: discs drawn on two axial slices 6 apart, then F.
  const int64_t k0 = std::llround(g.physicalToIndex(tumorAt)[2]) + 4, k1 = k0 + 6;
  QVERIFY(k1 < g.size[2]);
  // Anterior to the kidneys, so the locked kidney does not stop the brush.
  const Vec3 fillAt = shifted(tumorAt, dx * 30, -45);
  const Vec3 base = g.indexToPhysical({g.physicalToIndex(fillAt)[0], g.physicalToIndex(fillAt)[1], double(k0)});
  edit->setTool(ToolMode::Brush);
  for (int64_t k : {k0, k1}) {
    axial->setSlice(k);
    const Vec3 c = shifted(base, 0, 0, (k - k0) * g.spacing[2]);
    stroke({c, shifted(c, 3, 0, 0), shifted(c, 3, 3, 0)});
    states.push_back(voxels(layer.mask));
  }
  const int64_t between = countBetween(layer.mask, tumor, k0, k1);
  QVERIFY(states[1] != states[0] && states[2] != states[1]);
  QCOMPARE(edit->session(layerId)->editedSlices(tumor, 2), (std::vector<int64_t>{k0, k1}));
  edit->fillBetweenAction()->trigger();
  QVERIFY(panel->message().startsWith("Fill between slices tumor"));
  QVERIFY(countBetween(layer.mask, tumor, k0, k1) > between);
  states.push_back(voxels(layer.mask));

  // 2. Brush across the tumour's slice, over everything but the locked kidney.
  window.setCursorEverywhere(tumorAt);
  QCoreApplication::processEvents();
  const int64_t tumorBefore = countValue(states.back(), tumor);
  stroke({tumorAt, shifted(tumorAt, 8, 0), shifted(tumorAt, 16, 4), shifted(tumorAt, 24, 8)});
  states.push_back(voxels(layer.mask));
  QVERIFY(countValue(states.back(), tumor) > tumorBefore);
  // The label table shows the live volume and its change against the model's output.
  const widgets::LabelTableModel* table =
      static_cast<const widgets::LabelTableModel*>(window.labelTable()->model());
  const int row = table->rowOf(layerId, tumor);
  QVERIFY(row >= 0);
  const double changeMl = table->index(row, widgets::LabelTableModel::ChangeMl).data(Qt::EditRole).toDouble();
  const double expectMl =
      double(countValue(states.back(), tumor) - countValue(states[0], tumor)) * g.voxelVolumeMm3() / 1000.0;
  QVERIFY(std::abs(changeMl - expectMl) < 1e-9);
  QVERIFY(table->index(row, widgets::LabelTableModel::ChangeMl).data().toString().startsWith("+"));

  // Screenshot of the correction in progress: the Edit panel in front, the
  // brush outline over the edit.
  if (auto* dock = window.findChild<QDockWidget*>("editDock")) {
    dock->raise();
    window.resizeDocks({dock}, {400}, Qt::Horizontal);
  }
  // The body wall hidden, so the 3D view shows the kidneys and vessels.
  for (int hidden : {int(phantom_label::SubcutaneousFat), int(phantom_label::SkeletalMuscle)})
    window.workspace()->setLabelVisible(layerId, hidden, false);
  QTest::qWait(300);
  QTest::mouseMove(axial, at(shifted(tumorAt, 4, -6)));
  QCoreApplication::processEvents();
  QTest::qWait(200);
  const std::string shot = std::string(NEPHRO3D_SOURCE_DIR) + "/resources/screenshots/correction.png";
  QVERIFY(window.grab().save(QString::fromStdString(shot)));

  // 3. Eraser on the tumour.
  edit->setTool(ToolMode::Eraser);
  const int64_t tumorBeforeErase = countValue(states.back(), tumor);
  stroke({tumorAt, shifted(tumorAt, 0, 3)});
  states.push_back(voxels(layer.mask));
  QVERIFY(countValue(states.back(), tumor) < tumorBeforeErase);

  // HU range: the brush paints only where the arterial CT lies in 150..600 HU.
  edit->setTool(ToolMode::Brush);
  panel->setHuRange(true, 150, 600);
  // Across the contrast-filled aorta into the fat around it.
  const Vec3 aorta = centroid(phantom.labels, phantom_label::Aorta);
  const Vec3 aortaHere{aorta[0], aorta[1], tumorAt[2]};
  stroke({shifted(aortaHere, -15, 0), aortaHere, shifted(aortaHere, 15, 0)});
  panel->setHuRange(false);
  states.push_back(voxels(layer.mask));
  {
    const auto& before = states[states.size() - 2];
    const auto& after = states.back();
    const int16_t* hu = phantom.arterial.data<int16_t>();
    int64_t changed = 0;
    for (size_t n = 0; n < after.size(); ++n)
      if (after[n] != before[n]) {
        ++changed;
        QVERIFY(hu[n] >= 150 && hu[n] <= 600);
      }
    QVERIFY(changed > 0);
  }

  // 4. Scissors: erase inside a polygon through a 20 mm slab.
  edit->setTool(ToolMode::Scissors);
  panel->setScissors(edit::ScissorsAction::Erase, 20.0);
  const Vec3 sc = shifted(tumorAt, -10, -10);
  stroke({sc, shifted(sc, 8, 0), shifted(sc, 8, 8), shifted(sc, 0, 8), shifted(sc, 0, 1)});
  states.push_back(voxels(layer.mask));
  QVERIFY(states.back() != states[states.size() - 2]);

  // 5. Island: a stray blob of tumour is removed by clicking it.
  const Vec3 blob = shifted(tumorAt, dx * 45, -35);
  edit->setTool(ToolMode::Brush);
  stroke({blob, shifted(blob, 1, 0)});
  states.push_back(voxels(layer.mask));
  edit->setTool(ToolMode::Island);
  QTest::mouseClick(axial, Qt::LeftButton, {}, at(blob));
  states.push_back(voxels(layer.mask));
  QVERIFY(states.back() == states[states.size() - 3]);

  // 6. Keep the largest island: another blob goes.
  edit->setTool(ToolMode::Brush);
  stroke({blob, shifted(blob, 1, 0)});
  states.push_back(voxels(layer.mask));
  panel->setKeepCount(1);
  edit->keepLargestAction()->trigger();
  states.push_back(voxels(layer.mask));
  QVERIFY(countValue(states.back(), tumor) < countValue(states[states.size() - 2], tumor));
  QCOMPARE(layer.mask.data<uint8_t>()[g.offset(std::llround(g.physicalToIndex(blob)[0]),
                                               std::llround(g.physicalToIndex(blob)[1]),
                                               std::llround(g.physicalToIndex(blob)[2]))],
           states[0][g.offset(std::llround(g.physicalToIndex(blob)[0]),
                              std::llround(g.physicalToIndex(blob)[1]),
                              std::llround(g.physicalToIndex(blob)[2]))]);
  QCOMPARE(countValue(states.back(), kidney), kidneyVoxels);  // locked throughout

  // 7. Ruler and ellipse ROI: measured on the slice, nothing edited.
  edit->setTool(ToolMode::Ruler);
  const Vec3 ra = shifted(tumorAt, -20, 0), rb = shifted(tumorAt, 20, 0);
  stroke({ra, shifted(ra, 10, 0), rb});
  QVERIFY(edit->overlay()->ruler().has_value());
  const auto pa = axial->physicalAt(at(ra)), pb = axial->physicalAt(at(rb));
  QVERIFY(pa && pb);
  QCOMPARE(edit->overlay()->ruler()->mm, viewers::distanceMm(*pa, *pb));
  QVERIFY(std::abs(edit->overlay()->ruler()->mm - 40.0) < 2.0);
  edit->setTool(ToolMode::Roi);
  stroke({shifted(tumorAt, -6, -6), shifted(tumorAt, 6, 6)});
  QVERIFY(edit->overlay()->roi().has_value());
  const viewers::RoiStats& roi = edit->overlay()->roi()->stats;
  QVERIFY(roi.voxels > 10);
  QVERIFY(roi.min <= roi.mean && roi.mean <= roi.max && roi.sd >= 0);
  QVERIFY(edit->overlay()->measurementText().contains("ROI mean"));
  QVERIFY(voxels(layer.mask) == states.back());

  // Undo every step (names in Edit ▸ Undo), then redo: bit-identical each time.
  edit::EditSession* session = edit->session(layerId);
  const size_t steps = states.size() - 1;
  QCOMPARE(session->undoStore().undoCount(), steps);
  QVERIFY(edit->undoAction()->text().startsWith("&Undo Keep"));
  for (size_t i = steps; i > 0; --i) {
    edit->undoAction()->trigger();
    QVERIFY2(voxels(layer.mask) == states[i - 1], qPrintable(QString("undo to step %1").arg(i - 1)));
  }
  QVERIFY(!edit->undoAction()->isEnabled());
  QCOMPARE(layer.voxelCount(tumor), countValue(states[0], tumor));
  for (size_t i = 1; i <= steps; ++i) {
    edit->redoAction()->trigger();
    QVERIFY2(voxels(layer.mask) == states[i], qPrintable(QString("redo to step %1").arg(i)));
  }
  QCOMPARE(layer.voxelCount(tumor), countValue(states.back(), tumor));

  // The journal replayed headless equals the window's result.
  {
    const std::string maskPath = dir + "/batch/case01/labels.nii.gz";
    edit::EditSession headless(readVolume(maskPath), LabelTable::readSidecar(maskPath));
    headless.setImage(readVolume(dir + "/study/phantom_A.nii.gz"));  // for the HU range step
    const edit::ReplayReport report = edit::replayJournal(headless, session->journalJson(), "window");
    QVERIFY(report.warnings.empty());
    QVERIFY(voxels(headless.layer()) == states.back());
  }

  // Save: a new version beside the model's output, which stays as it was.
  QTRY_VERIFY_WITH_TIMEOUT(!edit->busy(), 60000);
  const QString saved = edit->saveCorrection();
  QVERIFY2(saved.endsWith("labels.corrected-1.nii.gz"), qPrintable(saved));
  QVERIFY(voxels(readVolume(saved.toStdString())) == states.back());
  QVERIFY(voxels(readVolume(dir + "/batch/case01/labels.nii.gz")) == states[0]);
  QVERIFY(fs::exists(dir + "/batch/case01/labels.corrected-1.journal.json"));

  // DICOM SEG of the corrected layer.
  const std::string seg = dir + "/case01.seg.dcm";
  QVERIFY(edit->exportDicomSeg(QString::fromStdString(seg)));
  QTRY_VERIFY_WITH_TIMEOUT(!edit->busy(), 120000);
  QVERIFY2(fs::exists(seg) && fs::file_size(seg) > 1000, qPrintable(panel->message()));
  QVERIFY(panel->message().contains("SEMIAUTOMATIC"));

  // Approve the case; Next goes to the other one, not yet approved.
  QVERIFY(review->setStatus(edit::ReviewStatus::Approved, "tumour leak removed"));
  const edit::ReviewState state = edit::readReview(dir + "/batch/case01");
  QCOMPARE(state.current.status, edit::ReviewStatus::Approved);
  QCOMPARE(state.current.reviewer, std::string("Dr Test"));
  QCOMPARE(state.current.comment, std::string("tumour leak removed"));
  QVERIFY(review->cases()[0].masks.front().find("corrected-1") != std::string::npos);
  const int promptsBefore = prompts;
  QVERIFY(review->stepCase(true));
  QCOMPARE(prompts, promptsBefore + 1);  // the edited layer was not dropped without a question
  QCOMPARE(*review->currentCase(), size_t(1));
  QVERIFY(!review->stepCase(true));  // no other case needs review
  QTRY_VERIFY_WITH_TIMEOUT(!window.busy() && window.workspace()->layers().size() == 1 &&
                               window.workspace()->layers().front().sourcePath.contains("case02"),
                           60000);
  QTRY_VERIFY_WITH_TIMEOUT(!edit->busy(), 60000);
}

int main(int argc, char** argv) {
  QSurfaceFormat::setDefaultFormat(viewers::MeshView::defaultFormat());
  QApplication app(argc, argv);
  gui::applyWorkstationStyle(app);
  EditWindowTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "tst_edit.moc"
