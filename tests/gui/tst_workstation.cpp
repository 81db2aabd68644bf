// The whole window under Xvfb: the small phantom (three phases and its ground
// truth, written to disk and opened like a user would) appears in the slice
// views with overlays, its meshes appear one by one in the 3D view while the
// event loop keeps running, and the window screenshot goes to
// resources/screenshots/workstation.png for the README.
#include <vtkCamera.h>
#include <vtkRenderer.h>
#include <QApplication>
#include <QElapsedTimer>
#include <QSurfaceFormat>
#include <QTimer>
#include <QtTest>
#include <cmath>
#include <map>

#include "TestSupport.h"
#include "gui/InferenceEngine.h"
#include "gui/MainWindow.h"
#include "gui/Style.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"

using namespace nephro;
using viewers::SliceAxis;

namespace {

// Mean LPS position of the voxels of `value`.
Vec3 labelCentroid(const Volume& mask, int value) {
  const Geometry& g = mask.geometry();
  const uint8_t* m = mask.data<uint8_t>();
  double s[3] = {0, 0, 0};
  int64_t n = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (m[g.offset(i, j, k)] == value) s[0] += i, s[1] += j, s[2] += k, ++n;
  return g.indexToPhysical({s[0] / n, s[1] / n, s[2] / n});
}

// Voxels of `value` on slice k whose 5x5 in-plane neighbourhood is all `value`
// (inside the label, away from its outline).
std::vector<Index3> interiorVoxels(const Volume& mask, int value, int64_t sliceK) {
  const Geometry& g = mask.geometry();
  const uint8_t* m = mask.data<uint8_t>();
  std::vector<Index3> out;
  for (int64_t j = 3; j < g.size[1] - 3; ++j)
    for (int64_t i = 3; i < g.size[0] - 3; ++i) {
      bool inside = true;
      for (int dj = -2; dj <= 2 && inside; ++dj)
        for (int di = -2; di <= 2 && inside; ++di)
          inside = m[g.offset(i + di, j + dj, sliceK)] == value;
      if (inside) out.push_back(Index3{i, j, sliceK});
    }
  return out;
}

bool nearColor(const QColor& c, int r, int g, int b, int tolerance) {
  return std::abs(c.red() - r) <= tolerance && std::abs(c.green() - g) <= tolerance &&
         std::abs(c.blue() - b) <= tolerance;
}

// Hue-like test that survives shading: the channel ratios of a lit surface stay
// close to those of its colour.
bool shadedLike(const QColor& c, const QColor& base) {
  if (c.red() + c.green() + c.blue() < 40) return false;
  const double s = c.redF() + c.greenF() + c.blueF();
  const double t = base.redF() + base.greenF() + base.blueF();
  return std::abs(c.redF() / s - base.redF() / t) < 0.06 &&
         std::abs(c.greenF() / s - base.greenF() / t) < 0.06 &&
         std::abs(c.blueF() / s - base.blueF() / t) < 0.06;
}

}  // namespace

class WorkstationTest : public QObject {
  Q_OBJECT
 private slots:
  void opensPhantomBuildsMeshesAndShowsThem();
  void engineListingRefinesTheModelCatalog();
  void chosenModelsRunInOneEngineRun();
  void ranModelsBecomeLayers();
};

void WorkstationTest::ranModelsBecomeLayers() {
  // The window's whole path: the model panel's request, one engine run as a
  // child process, each mask read back as a layer in its phase's geometry.
  const std::string dir = test::scratchDir("gui_run_models");
  PhantomOptions options;
  options.size = PhantomSize::Small;
  options.seed = 1;
  writePhantom(generatePhantom(options), dir);
  qputenv("NEPHRO3D_ENGINE", QByteArray(NEPHRO3D_BINARY_DIR) + "/bin/nephro3d-engine");
  auto prefs = std::make_unique<widgets::Preferences>(QString::fromStdString(dir + "/prefs.ini"));
  gui::MainWindow window(std::move(prefs));
  gui::installInferenceEngine(window);
  std::vector<widgets::StudyFile> phases;
  for (const auto& f : widgets::classifyStudyFiles({QString::fromStdString(dir)}))
    if (widgets::phaseOfRole(f.role).has_value()) phases.push_back(f);
  window.openStudy(phases);
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->loadedPhases().size() == 3 && !window.busy(), 60000);
  emit window.modelPanel()->runRequested({"ureter", "vessel"}, "cpu");
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 2, 180000);
  QTRY_VERIFY_WITH_TIMEOUT(!window.busy(), 60000);
  const Geometry a = readVolume(dir + "/phantom_A.nii.gz").geometry();
  const Geometry d = readVolume(dir + "/phantom_D.nii.gz").geometry();
  std::map<QString, const widgets::Layer*> byName;
  for (const auto& l : window.workspace()->layers()) byName[l.name] = &l;
  QVERIFY(byName.count("ureter") && byName.count("vessel"));
  QVERIFY(byName["ureter"]->mask.geometry() == d);
  QVERIFY(byName["vessel"]->mask.geometry() == a);
  // The label tables came with the masks.
  QVERIFY(byName["vessel"]->table.findByName("artery") != nullptr);
  QVERIFY(!byName["ureter"]->meshes.empty());
}

void WorkstationTest::chosenModelsRunInOneEngineRun() {
  const QStringList args = gui::engineRunArguments({"vessel", "ureter"}, {{"A", "/s/a.nii.gz"}, {"D", "/s/d.nii.gz"}},
                                                   "cpu", "/tmp/out");
  QCOMPARE(args, QStringList({"run", "--models", "vessel,ureter", "--image-a", "/s/a.nii.gz", "--image-d",
                              "/s/d.nii.gz", "--out", "/tmp/out", "--device", "cpu"}));
  // The engine's "<id>: written" stage hands each mask over once, while progress passes through.
  std::vector<std::pair<std::string, std::string>> written;
  std::vector<double> fractions;
  const Progress outer([&](double f, const std::string&) { fractions.push_back(f); });
  const Progress watched = gui::watchWrittenModels(
      outer, {"vessel", "ureter"}, "/tmp/out", [&](const std::string& id, const std::string& path) { written.emplace_back(id, path); });
  watched.report(0.1, "reading A");
  watched.report(0.3, "vessel: network");
  watched.report(0.5, "vessel: written");
  watched.report(0.5, "vessel: written");
  watched.report(0.7, "ureter: export");
  watched.report(0.9, "ureter: written");
  watched.report(0.95, "post vessel: written");  // a post step's layer, not a model the window asked for
  watched.report(1.0, "done");
  QCOMPARE(int(fractions.size()), 8);
  QCOMPARE(int(written.size()), 2);
  QCOMPARE(written[0].first, std::string("vessel"));
  QCOMPARE(written[0].second, std::string("/tmp/out/vessel.nii.gz"));
  QCOMPARE(written[1].first, std::string("ureter"));
}

void WorkstationTest::engineListingRefinesTheModelCatalog() {
  const QString dir = QString::fromStdString(test::scratchDir("gui_engine_catalog"));
  QDir().mkpath(dir + "/demo/vessel");
  QDir().mkpath(dir + "/demo/ureter");
  auto write = [&](const QString& name, const QByteArray& text) {
    QFile f(dir + "/" + name);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
  };
  write("vessel.json", R"({"id": "vessel", "folder": "demo/vessel",
        "inputs": [{"channel": 0, "phase": "A"}, {"channel": 1, "phase": "P"}]})");
  write("ureter.json",
        R"({"id": "ureter", "folder": "demo/ureter", "inputs": [{"channel": 0, "phase": "D"}]})");
  gui::EngineCatalog catalog(dir);
  QCOMPARE(int(catalog.models().size()), 2);
  QCOMPARE(int(catalog.devices().size()), 2);  // automatic, CPU
  // What `nephro3d models` prints.
  catalog.applyEngineListing(
      "models in /m\ndevice: CUDA (1 devices)\nmemory estimated for 512x512x300 CT\n\n"
      "id                     version  phases  output memory    files\n"
      "ureter                 demo-1   D       D      1.2 GB    present (1 fold(s), 3d_fullres, 3 "
      "outputs)\n"
      "vessel                 demo-1   A+P     A      -         missing: "
      "demo/vessel/fold_0/model.pt\n");
  const auto models = catalog.models();
  const auto& ureter = models[0].id == "ureter" ? models[0] : models[1];
  const auto& vessel = models[0].id == "vessel" ? models[0] : models[1];
  QVERIFY(ureter.problem.isEmpty());
  QVERIFY(vessel.problem.contains("fold_0/model.pt"));
  QVERIFY(!widgets::modelAvailability(vessel, {"A", "P"}).available);
  QVERIFY(widgets::modelAvailability(ureter, {"D"}).available);
  QCOMPARE(catalog.devices().at(1).id, QString("cuda"));
}

void WorkstationTest::opensPhantomBuildsMeshesAndShowsThem() {
  const std::string dir = test::scratchDir("gui_workstation");
  PhantomOptions options;
  options.size = PhantomSize::Small;
  const PhantomCase phantom = generatePhantom(options);
  writePhantom(phantom, dir);

  auto prefs = std::make_unique<widgets::Preferences>(QString::fromStdString(dir + "/prefs.ini"));
  prefs->setDefaultLayout(widgets::ViewLayout::Grid2x2);
  gui::MainWindow window(std::move(prefs));
  window.resize(1600, 1000);
  window.show();
  QVERIFY(QTest::qWaitForWindowExposed(&window));

  // Phases and the ground-truth layer are recognised from the file names.
  const auto files = widgets::classifyStudyFiles({QString::fromStdString(dir)});
  int phases = 0, masks = 0;
  for (const auto& f : files) {
    if (f.path.endsWith("phantom_A.nii.gz")) QCOMPARE(f.role, widgets::FileRole::Arterial);
    if (f.path.endsWith("phantom_P.nii.gz")) QCOMPARE(f.role, widgets::FileRole::Portal);
    if (f.path.endsWith("phantom_D.nii.gz")) QCOMPARE(f.role, widgets::FileRole::Delayed);
    phases += widgets::phaseOfRole(f.role).has_value();
    masks += f.role == widgets::FileRole::Mask;
  }
  QCOMPARE(phases, 3);
  QCOMPARE(masks, 1);

  // Watch the event loop while the study is read and meshed: it must keep turning.
  int meshesWhileBusy = 0, meshes = 0;
  QElapsedTimer clock;
  clock.start();
  qint64 lastTick = 0, longestGap = 0;
  QTimer ticker;
  ticker.setInterval(20);
  connect(&ticker, &QTimer::timeout, [&] {
    longestGap = std::max(longestGap, clock.elapsed() - lastTick);
    lastTick = clock.elapsed();
  });
  ticker.start();
  connect(window.workspace(), &widgets::WorkspaceModel::meshAdded, [&] {
    ++meshes;
    if (window.busy()) ++meshesWhileBusy;
  });

  window.openStudy(files);
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 1, 60000);
  QTRY_VERIFY_WITH_TIMEOUT(!window.busy(), 120000);
  ticker.stop();
  const int present = int(labelValuesPresent(phantom.labels).size());
  QCOMPARE(meshes, present);
  QCOMPARE(int(window.meshView()->meshKeys().size()), present);
  // Meshes arrived while the job was still running, not all at its end.
  QVERIFY2(meshesWhileBusy >= present - 1, qPrintable(QString::number(meshesWhileBusy)));
  qInfo("read + meshed in %lld ms; longest event-loop gap %lld ms", clock.elapsed(), longestGap);
  // Work on the GUI thread would stall it for whole steps; what remains are
  // single frames (software OpenGL renders every mesh at once on this thread)
  // stretched by a busy machine.
  QVERIFY2(longestGap < 2000, qPrintable(QString("event loop stalled %1 ms").arg(longestGap)));
  QVERIFY(window.jobPanel()->logText().contains("done"));

  const int layerId = window.workspace()->layers().front().id;
  const auto& layer = *window.workspace()->layer(layerId);
  QVERIFY(layer.mask.geometry() == phantom.labels.geometry());
  // Enclosing tissue would hide the kidneys in 3D; the user unticks it.
  for (int v : {int(phantom_label::PerirenalFatLeft), int(phantom_label::PerirenalFatRight),
                int(phantom_label::SkeletalMuscle), int(phantom_label::SubcutaneousFat)})
    window.workspace()->setLabelVisible(layerId, v, false);

  // Crosshair through the left kidney.
  const Vec3 kidney = labelCentroid(phantom.labels, phantom_label::KidneyLeft);
  window.setCursorEverywhere(kidney);
  window.meshView()->viewFrom(viewers::MeshView::Direction::Anterior);
  QTest::qWait(300);

  // Axial view: inside the kidney the overlay colour is blended at 0.5 over the grey.
  viewers::SliceView* axial = window.sliceView(SliceAxis::Axial);
  const Geometry& g = phantom.labels.geometry();
  const int64_t k = std::llround(g.physicalToIndex(kidney)[2]);
  QCOMPARE(axial->slice(), k);
  // An interior kidney voxel clear of the crosshair lines.
  const QPointF cross = axial->widgetPosOf(kidney);
  QPoint at(-1, -1);
  for (const Index3& v : interiorVoxels(phantom.labels, phantom_label::KidneyLeft, k)) {
    const QPointF w =
        axial->widgetPosOf(g.indexToPhysical({double(v[0]), double(v[1]), double(k)}));
    if (std::abs(w.x() - cross.x()) > 6 && std::abs(w.y() - cross.y()) > 6) {
      at = w.toPoint();
      break;
    }
  }
  QVERIFY(at.x() >= 0);
  window.workspace()->setLayerVisible(layerId, false);
  QApplication::processEvents();
  const QColor grey = axial->grab().toImage().pixelColor(at);
  QVERIFY2(nearColor(grey, grey.red(), grey.red(), grey.red(), 1), "no overlay: grey");
  window.workspace()->setLayerVisible(layerId, true);
  QApplication::processEvents();
  const QColor blended = axial->grab().toImage().pixelColor(at);
  const QColor kidneyColor =
      window.workspace()->labelDisplay(layerId, phantom_label::KidneyLeft)->color;
  QVERIFY2(nearColor(blended, (grey.red() + kidneyColor.red()) / 2,
                     (grey.green() + kidneyColor.green()) / 2,
                     (grey.blue() + kidneyColor.blue()) / 2, 8),
           qPrintable(QString("overlay %1 over grey %2").arg(blended.name(), grey.name())));

  // 3D view: not blank, and the kidney colour where the kidney mesh projects.
  viewers::MeshView* mesh = window.meshView();
  const QImage shot = mesh->screenshot();
  QVERIFY(!shot.isNull());
  const QColor corner = shot.pixelColor(2, shot.height() / 2);
  int64_t differing = 0;
  for (int y = 0; y < shot.height(); y += 2)
    for (int x = 0; x < shot.width(); x += 2)
      if (!nearColor(shot.pixelColor(x, y), corner.red(), corner.green(), corner.blue(), 30))
        ++differing;
  const double covered = double(differing) / double((shot.width() / 2) * (shot.height() / 2));
  qInfo("3D view: %.1f %% of the pixels show meshes", 100 * covered);
  QVERIFY2(covered > 0.05, "3D view is blank");
  const auto projected = mesh->project(kidney);
  QVERIFY(projected.has_value());
  const double ratio = shot.devicePixelRatio();
  const QPoint p3((projected->x() * ratio), (projected->y() * ratio));
  QVERIFY(shot.rect().contains(p3));
  const QColor onKidney = shot.pixelColor(p3);
  QVERIFY2(shadedLike(onKidney, kidneyColor),
           qPrintable(QString("3D pixel %1 is not kidney-coloured %2")
                          .arg(onKidney.name(), kidneyColor.name())));
  // Hiding the kidney (table visibility) removes its colour from that spot.
  window.workspace()->setLabelVisible(layerId, phantom_label::KidneyLeft, false);
  const QColor hidden = mesh->screenshot().pixelColor(p3);
  QVERIFY2(!shadedLike(hidden, kidneyColor) || hidden != onKidney, qPrintable(hidden.name()));
  window.workspace()->setLabelVisible(layerId, phantom_label::KidneyLeft, true);

  // Trackball: a left drag in the 3D view turns the camera.
  double before[3], after[3];
  mesh->renderer()->GetActiveCamera()->GetPosition(before);
  const QPointF c(mesh->width() / 2.0, mesh->height() / 2.0);
  auto send = [&](QEvent::Type type, QPointF pos, Qt::MouseButtons buttons) {
    QMouseEvent e(type, pos, mesh->mapToGlobal(pos),
                  type == QEvent::MouseMove ? Qt::NoButton : Qt::LeftButton, buttons,
                  Qt::NoModifier);
    QApplication::sendEvent(mesh, &e);
  };
  send(QEvent::MouseButtonPress, c, Qt::LeftButton);
  for (int i = 1; i <= 10; ++i) send(QEvent::MouseMove, c + QPointF(8 * i, 0), Qt::LeftButton);
  send(QEvent::MouseButtonRelease, c + QPointF(80, 0), Qt::NoButton);
  mesh->renderer()->GetActiveCamera()->GetPosition(after);
  QVERIFY(std::abs(after[0] - before[0]) + std::abs(after[1] - before[1]) > 1.0);
  mesh->viewFrom(viewers::MeshView::Direction::Anterior);

  // Linked views: scrolling the axial view moves the crosshair in the others.
  QWheelEvent wheel(QPointF(50, 50), axial->mapToGlobal(QPointF(50, 50)), QPoint(), QPoint(0, 360),
                    Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
  QApplication::sendEvent(axial, &wheel);
  QCOMPARE(axial->slice(), k + 3);
  // The slice snaps the crosshair onto the slice's plane.
  QCOMPARE(window.sliceView(SliceAxis::Coronal)->cursorPosition()[2],
           g.indexToPhysical({0, 0, double(k + 3)})[2]);
  window.setCursorEverywhere(kidney);

  // The label table with the kidney and tumour selected feeds the histogram.
  auto* table = window.labelTable();
  const auto* model = static_cast<widgets::LabelTableModel*>(table->model());
  table->selectRow(model->rowOf(layerId, phantom_label::KidneyLeft));
  table->selectionModel()->select(
      table->model()->index(model->rowOf(layerId, phantom_label::Tumor), 0),
      QItemSelectionModel::Select | QItemSelectionModel::Rows);
  QCOMPARE(int(table->selectedLabels().size()), 2);
  QTest::qWait(200);
  window.grab().toImage().save(QString(NEPHRO3D_BINARY_DIR) +
                               "/test-scratch/gui_workstation/layout-2x2.png");

  // One large view and three small ones: the large one gets most of the room.
  window.setLargeView(3);
  QCOMPARE(window.viewLayout(), widgets::ViewLayout::OneLargeThreeSmall);
  QTest::qWait(300);
  const QSize large = window.meshView()->size(), small = axial->size();
  QVERIFY2(large.width() > 1.5 * small.width() && large.height() > 2 * small.height(),
           qPrintable(QString("%1x%2 vs %3x%4")
                          .arg(large.width())
                          .arg(large.height())
                          .arg(small.width())
                          .arg(small.height())));

  // The README screenshot: the whole window.
  const QImage windowShot = window.grab().toImage();
  QVERIFY(!windowShot.isNull());
  const QString path = QString(NEPHRO3D_SOURCE_DIR) + "/resources/screenshots/workstation.png";
  QVERIFY2(windowShot.save(path, "PNG"), qPrintable(path));
  qInfo("window screenshot: %s", qPrintable(path));

  window.setViewLayout(widgets::ViewLayout::Grid2x2);
  QTest::qWait(100);
  QVERIFY(std::abs(window.meshView()->width() - axial->width()) < 10);

  // Cancel: rebuilding the meshes stops within a second and reports it.
  widgets::BackgroundJob* rebuild = window.buildMeshes(layerId);
  QVERIFY(rebuild);
  QSignalSpy finished(rebuild, &widgets::BackgroundJob::finished);
  QTest::qWait(100);
  QElapsedTimer cancelClock;
  cancelClock.start();
  window.jobPanel()->cancelAll();
  QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 1000);
  qInfo("meshing cancelled in %lld ms", cancelClock.elapsed());
  QCOMPARE(finished.at(0).at(0).value<widgets::BackgroundJob::Outcome>(),
           widgets::BackgroundJob::Outcome::Cancelled);
  QVERIFY(!window.busy());
  QVERIFY(window.jobPanel()->logText().contains("cancelled"));
}

int main(int argc, char** argv) {
  // The 3D view's OpenGL format must be the default before the application exists.
  QSurfaceFormat::setDefaultFormat(viewers::MeshView::defaultFormat());
  QApplication app(argc, argv);
  gui::applyWorkstationStyle(app);
  WorkstationTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "tst_workstation.moc"
