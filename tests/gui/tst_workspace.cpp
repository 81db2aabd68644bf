// The workstation as a daily tool, under Xvfb: a workspace saved and opened
// again (layers, visibility, colours, window/level, camera), the question
// before unsaved layers are dropped or a running job is cut short, the error
// banner, a `run` output folder opened as a workspace, the label table at
// 1366x768 and 1600x1000 with three model layers and a reference mask (the
// README screenshots), and `nephro3d --screenshot`.
#include <vtkCamera.h>
#include <vtkRenderer.h>
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QDockWidget>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLineEdit>
#include <QProcess>
#include <QSurfaceFormat>
#include <QtTest>
#include <cmath>

#include "TestSupport.h"
#include "common/OutputTransaction.h"
#include "gui/MainWindow.h"
#include "gui/Style.h"
#include "gui/StudyPresenter.h"
#include "gui/WorkspacePresenter.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"
#include "widgets/ErrorBanner.h"
#include "widgets/WorkspaceFile.h"
#include "widgets/edit/EditPresenter.h"
#include "widgets/edit/ReviewPanel.h"

using namespace nephro;
namespace pl = phantom_label;
using Answer = gui::WorkspacePresenter::Answer;

namespace {

// A mask of the phantom's ground truth keeping `labels` (phantom value -> name).
void writeModelMask(const PhantomCase& ph, const std::vector<std::pair<int, std::string>>& labels,
                    const std::string& path) {
  Volume mask(ph.labels.geometry(), PixelType::UInt8);
  LabelTable table;
  std::vector<uint8_t> lut(256, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    table.set(LabelTable::schemaEntry(labels[i].second, int(i + 1)));
    lut[size_t(labels[i].first)] = uint8_t(i + 1);
  }
  const uint8_t* gt = ph.labels.data<uint8_t>();
  uint8_t* out = mask.data<uint8_t>();
  for (int64_t v = 0; v < mask.voxelCount(); ++v) out[v] = lut[gt[v]];
  writeVolume(mask, path);
  writeFileAtomically(LabelTable::sidecarPath(path), table.toJson());
}

// A study folder and, in DIR/run, what `nephro3d run --models vessel,tumor,ureter` leaves:
// three masks with their tables and provenance.json.
QString makeRunFolder(const std::string& dir) {
  PhantomOptions options;
  options.size = PhantomSize::Small;
  options.seed = 3;
  const PhantomCase ph = generatePhantom(options);
  writePhantom(ph, dir);
  const std::string run = dir + "/run";
  QDir().mkpath(QString::fromStdString(run));
  writeModelMask(ph, {{pl::KidneyLeft, "kidney_left"}, {pl::KidneyRight, "kidney_right"}, {pl::Artery, "artery"},
                      {pl::Vein, "vein"}},
                 run + "/vessel.nii.gz");
  writeModelMask(ph, {{pl::KidneyLeft, "kidney"}, {pl::Tumor, "tumor"}}, run + "/tumor.nii.gz");
  writeModelMask(ph, {{pl::UreterLeft, "ureter_left"}, {pl::UreterRight, "ureter_right"},
                      {pl::KidneyRight, "kidney_right"}},
                 run + "/ureter.nii.gz");
  QJsonObject phases;
  for (const char* p : {"A", "P", "D"})
    phases[p] = QJsonObject{{"file", QString::fromStdString(dir + "/phantom_" + p + ".nii.gz")}, {"reads", 1}};
  QJsonArray models;
  for (auto [id, phase] : {std::pair{"vessel", "A"}, std::pair{"tumor", "P"}, std::pair{"ureter", "D"}})
    models.append(QJsonObject{{"id", id}, {"output", QString::fromStdString(run + "/" + id + ".nii.gz")},
                              {"output_phase", phase}});
  const QJsonObject prov{{"format", "nephro3d-provenance"}, {"version", 1}, {"case", "phantom"},
                         {"phases", phases}, {"models", models}};
  writeFileAtomically(run + "/provenance.json", QJsonDocument(prov).toJson().toStdString());
  return QString::fromStdString(run);
}

bool waitIdle(gui::MainWindow& w, int ms = 60000) {
  QElapsedTimer t;
  t.start();
  int quiet = 0;
  while (t.elapsed() < ms) {
    QTest::qWait(50);
    quiet = w.busy() ? 0 : quiet + 1;
    if (quiet >= 6) return true;
  }
  return false;
}

std::unique_ptr<widgets::Preferences> prefs(const std::string& dir, const char* name) {
  return std::make_unique<widgets::Preferences>(QString::fromStdString(dir + "/" + name));
}

// Label rows the table shows whole.
int visibleRows(QTableView* table) {
  const int h = table->viewport()->height();
  const int row = table->verticalHeader()->defaultSectionSize();
  return std::min(table->model()->rowCount(), h / std::max(1, row));
}

}  // namespace

class WorkspaceTest : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() { runDir_ = makeRunFolder(dir_ = test::scratchDir("gui_workspace")); }
  void runFolderOpensAsWorkspace();
  void saveAndOpenRoundTrip();
  void unsavedLayersPrompt();
  void errorBannerAndCancel();
  void labelTableAtTwoScreenSizes_data();
  void labelTableAtTwoScreenSizes();
  void screenshotCommand();

 private:
  std::string dir_;
  QString runDir_;
};

void WorkspaceTest::runFolderOpensAsWorkspace() {
  gui::MainWindow window(prefs(dir_, "a.ini"));
  window.show();
  QSignalSpy opened(window.workspacePresenter(), &gui::WorkspacePresenter::opened);
  window.openPaths({runDir_});  // a run folder: no import dialog, a workspace
  QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
  QVERIFY(waitIdle(window));
  QCOMPARE(int(window.workspace()->loadedPhases().size()), 3);
  QCOMPARE(int(window.workspace()->layers().size()), 3);
  // Each layer knows the phase it lives in, so post steps read that phase's CT.
  std::map<QString, QString> phaseOf;
  for (const auto& l : window.workspace()->layers()) phaseOf[l.name] = l.phase;
  QCOMPARE(phaseOf["vessel"], QString("A"));
  QCOMPARE(phaseOf["tumor"], QString("P"));
  QCOMPARE(phaseOf["ureter"], QString("D"));
  QCOMPARE(window.workspacePresenter()->folder(), QFileInfo(runDir_).absoluteFilePath());
  QVERIFY(!window.workspacePresenter()->isDirty());
  QVERIFY(!window.meshView()->meshKeys().isEmpty());
}

void WorkspaceTest::saveAndOpenRoundTrip() {
  const QString folder = QString::fromStdString(dir_ + "/saved");
  int reference = 0;
  viewers::MeshView::Camera camera;
  {
    gui::MainWindow window(prefs(dir_, "b.ini"));
    window.resize(1400, 900);
    window.show();
    window.workspacePresenter()->open(runDir_);
    QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 3, 60000);
    QVERIFY(waitIdle(window));
    // A layer without a file (as a post-processing result is) and a reference mask file.
    widgets::WorkspaceModel* ws = window.workspace();
    const widgets::Layer* vessel = &ws->layers().front();
    const int made = ws->addLayer("post: fat", vessel->mask, vessel->table);
    window.openStudy({{QString::fromStdString(dir_ + "/phantom_labels.nii.gz"), widgets::FileRole::Mask}});
    QTRY_VERIFY_WITH_TIMEOUT(ws->layers().size() == 5, 30000);
    QVERIFY(waitIdle(window));
    reference = ws->layers().back().id;
    ws->setLayerVisible(made, false);
    ws->setLabelVisible(reference, pl::Liver, false);
    ws->setLabelOpacity(reference, pl::Spleen, 0.35);
    ws->setLabelColor(reference, pl::Tumor, QColor("#12ab34"));
    window.setWindowLevel({420, 55});
    window.setViewLayout(widgets::ViewLayout::Grid2x2);
    // The vessel layer's kidney_left is drawn, not the newer reference mask's.
    const int vesselId = ws->layers().front().id;
    ws->setDrawnCopy("kidney_left", vesselId);
    QVERIFY(ws->isDrawn(vesselId, *ws->layers().front().table.valueOf("kidney_left")));
    QVERIFY(!ws->isDrawn(reference, pl::KidneyLeft));
    // The review state of the workspace, set in the Review panel.
    widgets::ReviewPanel* review = window.editPresenter()->reviewPanel();
    QVERIFY(review->showsWorkspace());
    review->findChild<QLineEdit*>("reviewerName")->setText("Dr Round");
    QVERIFY(review->setStatus(edit::ReviewStatus::NeedsFix, "lower pole of the left kidney"));
    camera = window.meshView()->camera();
    camera.position = {camera.focalPoint[0] + 300, camera.focalPoint[1] - 200, camera.focalPoint[2] + 100};
    window.meshView()->setCamera(camera);
    camera = window.meshView()->camera();
    QVERIFY(window.workspacePresenter()->isDirty());
    QVERIFY(window.workspacePresenter()->saveTo(folder));
    QVERIFY(!window.workspacePresenter()->isDirty());
    QVERIFY(QFileInfo::exists(folder + "/workspace.json"));
    // The layer without a file now has one in the workspace, with its table.
    QVERIFY(QFileInfo::exists(folder + "/layers/post_fat.nii.gz"));
    QVERIFY(QFileInfo::exists(folder + "/layers/post_fat.json"));
    QVERIFY(QDir(folder).entryList({"*.tmp*", ".*tmp*"}, QDir::Files | QDir::Hidden).isEmpty());
    QVERIFY(QFileInfo::exists(folder + "/review.json"));
  }
  gui::MainWindow window(prefs(dir_, "c.ini"));
  window.show();
  QSignalSpy opened(window.workspacePresenter(), &gui::WorkspacePresenter::opened);
  window.workspacePresenter()->open(folder);
  QTRY_VERIFY_WITH_TIMEOUT(opened.count() == 1, 60000);
  QVERIFY(waitIdle(window));
  widgets::WorkspaceModel* ws = window.workspace();
  QCOMPARE(int(ws->layers().size()), 5);
  QStringList names;
  for (const auto& l : ws->layers()) names << l.name;
  QCOMPARE(names, QStringList({"vessel", "tumor", "ureter", "post: fat", "phantom_labels"}));
  QVERIFY(!ws->layers()[3].visible);
  QVERIFY(ws->layers()[0].visible);
  const int ref = ws->layers()[4].id;
  QVERIFY(!ws->labelDisplay(ref, pl::Liver)->visible);
  QCOMPARE(ws->labelDisplay(ref, pl::Spleen)->opacity, 0.35);
  QCOMPARE(ws->labelDisplay(ref, pl::Tumor)->color, QColor("#12ab34"));
  QCOMPARE(ws->layers()[1].phase, QString("P"));
  QCOMPARE(window.windowLevel().window, 420.0);
  QCOMPARE(window.windowLevel().level, 55.0);
  QCOMPARE(window.viewLayout(), widgets::ViewLayout::Grid2x2);
  // The camera stays where it was saved, meshes arriving or not.
  const auto c = window.meshView()->camera();
  for (int i = 0; i < 3; ++i) {
    QVERIFY(std::abs(c.position[size_t(i)] - camera.position[size_t(i)]) < 1e-3);
    QVERIFY(std::abs(c.focalPoint[size_t(i)] - camera.focalPoint[size_t(i)]) < 1e-3);
  }
  // The drawn copy of the overlapping kidney_left, and the review state in the Review panel.
  QCOMPARE(ws->chosenCopy("kidney_left"), ws->layers()[0].id);
  QVERIFY(ws->isDrawn(ws->layers()[0].id, *ws->layers()[0].table.valueOf("kidney_left")));
  QVERIFY(!ws->isDrawn(ref, pl::KidneyLeft));
  // The views follow: the vessel layer's kidney overlay and mesh are drawn, the reference's are not.
  const int vesselKidney = *ws->layers()[0].table.valueOf("kidney_left");
  auto overlayDrawn = [&](size_t layerIndex, int value) {
    const auto& overlays = window.sliceView(viewers::SliceAxis::Axial)->overlays();
    return layerIndex < overlays.size() && size_t(value) < overlays[layerIndex].styles.size() &&
           overlays[layerIndex].styles[size_t(value)].visible;
  };
  QVERIFY(overlayDrawn(0, vesselKidney));
  QVERIFY(!overlayDrawn(4, pl::KidneyLeft));
  QVERIFY(overlayDrawn(4, pl::Spleen));
  const QString vesselKey = QString("%1:%2").arg(ws->layers()[0].id).arg(vesselKidney);
  const QString refKey = QString("%1:%2").arg(ref).arg(pl::KidneyLeft);
  QTRY_VERIFY_WITH_TIMEOUT(window.meshView()->hasMesh(vesselKey) && window.meshView()->hasMesh(refKey), 30000);
  QVERIFY(window.meshView()->meshVisible(vesselKey));
  QVERIFY(!window.meshView()->meshVisible(refKey));
  widgets::ReviewPanel* review = window.editPresenter()->reviewPanel();
  QVERIFY(review->showsWorkspace());
  QCOMPARE(review->folder(), QFileInfo(folder).absoluteFilePath());
  QCOMPARE(int(review->cases().size()), 1);
  QCOMPARE(review->cases()[0].review.status, edit::ReviewStatus::NeedsFix);
  QCOMPARE(review->cases()[0].review.reviewer, std::string("Dr Round"));
  QCOMPARE(review->cases()[0].review.comment, std::string("lower pole of the left kidney"));
  QCOMPARE(review->findChild<QLineEdit*>("reviewComment")->text(), QString("lower pole of the left kidney"));
  QVERIFY(!window.workspacePresenter()->isDirty());
  // A new state is written into the workspace, its history kept.
  review->findChild<QLineEdit*>("reviewerName")->setText("Dr Round");
  QVERIFY(review->setStatus(edit::ReviewStatus::Approved, "fixed"));
  const edit::ReviewState st = edit::readReview(folder.toStdString());
  QCOMPARE(st.current.status, edit::ReviewStatus::Approved);
  QCOMPARE(int(st.history.size()), 1);
  // Removing the chosen layer: the newest copy is drawn again.
  ws->removeLayer(ws->layers()[0].id);
  QCOMPARE(ws->chosenCopy("kidney_left"), 0);
  QVERIFY(ws->isDrawn(ref, pl::KidneyLeft));
  QVERIFY(window.meshView()->meshVisible(refKey));
  QVERIFY(overlayDrawn(3, pl::KidneyLeft));
}

void WorkspaceTest::unsavedLayersPrompt() {
  gui::MainWindow window(prefs(dir_, "d.ini"));
  window.show();
  QStringList asked;
  Answer answer = Answer::Cancel;
  window.workspacePresenter()->setPrompt([&](const QString& title, const QString& text, bool) {
    asked << title + ": " + text;
    return answer;
  });
  window.workspacePresenter()->open(runDir_);
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 3, 60000);
  QVERIFY(waitIdle(window));
  // Nothing changed since the folder was opened: closing asks nothing.
  QVERIFY(window.workspacePresenter()->confirmDiscard("Close study"));
  QVERIFY(asked.isEmpty());
  const auto& first = window.workspace()->layers().front();
  window.workspace()->addLayer("post: fat", first.mask, first.table);
  // Cancel keeps everything.
  QVERIFY(!window.studyPresenter()->closeStudy());
  QCOMPARE(asked.size(), 1);
  QVERIFY2(asked[0].contains("post: fat"), qPrintable(asked[0]));
  QCOMPARE(int(window.workspace()->layers().size()), 4);
  // Quitting asks too, and Cancel keeps the window open.
  QVERIFY(!window.close());
  QCOMPARE(asked.size(), 2);
  QVERIFY(window.isVisible());
  // A running job: quitting says so first.
  answer = Answer::Cancel;
  window.buildMeshes(window.workspace()->layers().front().id);
  QVERIFY(window.busy());
  QVERIFY(!window.workspacePresenter()->confirmQuit());
  QVERIFY2(asked.last().contains("job is still running"), qPrintable(asked.last()));
  QVERIFY(waitIdle(window));
  // Save writes the workspace and closes; Discard drops the layers.
  answer = Answer::Save;
  const QString saveFolder = QString::fromStdString(dir_ + "/prompt-saved");
  window.workspacePresenter()->saveTo(saveFolder);
  window.workspace()->setLayerVisible(window.workspace()->layers().front().id, false);
  QVERIFY(window.studyPresenter()->closeStudy());
  QVERIFY(QFileInfo::exists(saveFolder + "/workspace.json"));
  QCOMPARE(int(window.workspace()->layers().size()), 0);
  // The second save (from the question) wrote the hidden layer.
  QVERIFY(!widgets::readWorkspace(saveFolder).layers.front().visible);
}

void WorkspaceTest::errorBannerAndCancel() {
  gui::MainWindow window(prefs(dir_, "e.ini"));
  window.show();
  // A truncated image: the banner names the file and the problem, the details hold the message.
  const std::string broken = dir_ + "/broken_A.nii.gz";
  {
    QFile in(QString::fromStdString(dir_ + "/phantom_A.nii.gz"));
    QVERIFY(in.open(QIODevice::ReadOnly));
    QFile out(QString::fromStdString(broken));
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(in.read(in.size() / 3));
  }
  window.openStudy({{QString::fromStdString(broken), widgets::FileRole::Arterial}});
  widgets::ErrorBanner* banner = window.errorBanner();
  QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 30000);
  QCOMPARE(banner->kind(), widgets::ErrorBanner::Kind::Error);
  QVERIFY2(banner->headline().contains("broken_A.nii.gz"), qPrintable(banner->headline()));
  QVERIFY(!banner->details().isEmpty());
  QVERIFY(!banner->detailsShown());
  banner->setDetailsShown(true);
  QVERIFY(banner->detailsShown());
  // A cancelled job is logged and shown.
  window.workspacePresenter()->open(runDir_);
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 3, 60000);
  QVERIFY(waitIdle(window));
  window.buildMeshes(window.workspace()->layers().front().id);
  window.jobPanel()->cancelAll();
  QVERIFY(waitIdle(window));
  QCOMPARE(banner->kind(), widgets::ErrorBanner::Kind::Notice);
  QVERIFY2(banner->headline().contains("cancelled"), qPrintable(banner->headline()));
  QVERIFY(window.jobPanel()->logText().contains("cancelled"));
}

void WorkspaceTest::labelTableAtTwoScreenSizes_data() {
  QTest::addColumn<QSize>("size");
  QTest::newRow("1366x768") << QSize(1366, 768);
  QTest::newRow("1600x1000") << QSize(1600, 1000);
}

void WorkspaceTest::labelTableAtTwoScreenSizes() {
  QFETCH(QSize, size);
  gui::MainWindow window(prefs(dir_, "f.ini"));
  window.resize(size);
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));
  window.resetLayout();
  window.workspacePresenter()->open(runDir_);
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 3, 60000);
  window.openStudy({{QString::fromStdString(dir_ + "/phantom_labels.nii.gz"), widgets::FileRole::Mask}});
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 4, 60000);
  QVERIFY(waitIdle(window));
  QTest::qWait(300);
  // The window fits the screen and the label table shows at least eight whole rows.
  QVERIFY2(window.frameGeometry().height() <= 1000 && window.width() <= size.width(),
           qPrintable(QString("%1x%2").arg(window.width()).arg(window.height())));
  auto* table = window.labelTable();
  const int rows = visibleRows(table);
  qInfo("%dx%d: %d label rows of %d visible, label name column %d px", size.width(), size.height(), rows,
        table->model()->rowCount(), table->columnWidth(widgets::LabelTableModel::Name));
  QVERIFY2(rows >= 8, qPrintable(QString("%1 rows").arg(rows)));
  const QString path = QString("%1/resources/screenshots/workstation-%2x%3.png")
                           .arg(NEPHRO3D_SOURCE_DIR)
                           .arg(size.width())
                           .arg(size.height());
  QVERIFY(window.grab().toImage().save(path, "PNG"));
  qInfo("screenshot: %s", qPrintable(path));
  // Label names are not cut to a few letters, and the tools (post-processing sliders) keep their width.
  QVERIFY2(table->columnWidth(widgets::LabelTableModel::Name) >= 90,
           qPrintable(QString::number(table->columnWidth(widgets::LabelTableModel::Name))));
  QVERIFY(window.findChild<QDockWidget*>("toolsDock")->width() >= 320);
}

void WorkspaceTest::screenshotCommand() {
  const QString out = QString::fromStdString(dir_ + "/shot.png");
  QProcess p;
  p.start(QString::fromStdString(test::nephro3dBinary()),
          {"--screenshot", out, "--layout", "2x2", "--size", "1280x800", runDir_});
  QVERIFY(p.waitForFinished(120000));
  QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
  const QImage shot(out);
  QCOMPARE(shot.size(), QSize(1280, 800));
  // Bad input: one line naming the path, exit code 3, no file.
  QProcess bad;
  bad.start(QString::fromStdString(test::nephro3dBinary()),
            {"--screenshot", QString::fromStdString(dir_ + "/none.png"), QString::fromStdString(dir_ + "/missing")});
  QVERIFY(bad.waitForFinished(60000));
  QCOMPARE(bad.exitCode(), 3);
  QVERIFY(QString(bad.readAllStandardError()).contains("missing"));
  QVERIFY(!QFileInfo::exists(QString::fromStdString(dir_ + "/none.png")));
}

int main(int argc, char** argv) {
  QSurfaceFormat::setDefaultFormat(viewers::MeshView::defaultFormat());
  QApplication app(argc, argv);
  gui::applyWorkstationStyle(app);
  WorkspaceTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "tst_workspace.moc"
