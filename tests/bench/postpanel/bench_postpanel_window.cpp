// A slider move in the workstation's post-processing panel on the full
// phantom, through the whole window: the result layer replaced (slice view
// overlays refreshed) and its meshes put into the 3D view; then one repaint
// of every view. Saves a screenshot of the window with the panel showing.
//   xvfb-run -a -s "-screen 0 1600x1000x24" bench_postpanel_window [--dir DIR] [--out PNG] [--moves N]
#include <QApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QSlider>
#include <QSurfaceFormat>
#include <QTabWidget>
#include <QTimer>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "gui/MainWindow.h"
#include "gui/Style.h"
#include "image/Crop.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"
#include "widgets/PostController.h"
#include "PhantomGaps.h"
#include "common/HeapTuning.h"

using namespace nephro;
using namespace nephro::widgets;
namespace pl = phantom_label;
namespace fs = std::filesystem;

namespace {

bool waitFor(QObject* sender, PostController* c, const QString& step, int timeoutMs) {
  QEventLoop loop;
  bool ok = false;
  auto a = QObject::connect(c, &PostController::resultApplied, &loop, [&](const QString& s) {
    if (s == step) { ok = true; loop.quit(); }
  });
  auto f = QObject::connect(c, &PostController::failed, &loop, [&](const QString& s, const QString& m) {
    if (s == step) { std::printf("%s failed: %s\n", qPrintable(s), qPrintable(m)); loop.quit(); }
  });
  QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
  loop.exec();
  QObject::disconnect(a);
  QObject::disconnect(f);
  (void)sender;
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  keepLargeBuffersInHeap();  // as the workstation does
  QSurfaceFormat::setDefaultFormat(viewers::MeshView::defaultFormat());
  QApplication app(argc, argv);
  gui::applyWorkstationStyle(app);
  std::string dir = std::string(NEPHRO3D_BINARY_DIR) + "/bench/post-full-phantom";
  std::string out = std::string(NEPHRO3D_BINARY_DIR) + "/bench/postpanel_window.png";
  int moves = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--out")) out = argv[i + 1];
    else if (!std::strcmp(argv[i], "--moves")) moves = std::max(1, std::atoi(argv[i + 1]));
  }
  if (!fs::exists(dir + "/phantom_labels.nii.gz")) {
    std::printf("generating the full phantom into %s ...\n", dir.c_str());
    fs::create_directories(dir);
    PhantomOptions o;
    o.size = PhantomSize::Full;
    writePhantom(generatePhantom(o), dir);
  }
  const std::string scratch = fs::temp_directory_path().string() + "/bench_postpanel_window";
  fs::create_directories(scratch);
  auto prefs = std::make_unique<Preferences>(QString::fromStdString(scratch + "/prefs.ini"));
  prefs->setDefaultLayout(ViewLayout::Grid2x2);
  gui::MainWindow window(std::move(prefs));
  window.resize(1600, 1000);
  window.show();

  // The study: phase A and the ground truth less its perirenal fat, as a model would give it.
  Volume labels = readVolume(dir + "/phantom_labels.nii.gz");
  const LabelTable table = LabelTable::readSidecar(dir + "/phantom_labels.nii.gz");
  uint8_t* p = labels.data<uint8_t>();
  for (int64_t i = 0; i < labels.voxelCount(); ++i)
    if (p[i] == pl::PerirenalFatLeft || p[i] == pl::PerirenalFatRight) p[i] = 0;
  window.workspace()->setPhase(Phase::Arterial, readVolume(dir + "/phantom_A.nii.gz"),
                               QString::fromStdString(dir + "/phantom_A.nii.gz"));
  window.workspace()->addLayer("truth without fat", labels, table);
  // Show the panel.
  for (QTabWidget* tabs : window.findChildren<QTabWidget*>())
    if (tabs->indexOf(window.postPanel()) >= 0) tabs->setCurrentWidget(window.postPanel());
  if (auto* dock = window.findChild<QDockWidget*>("toolsDock")) window.resizeDocks({dock}, {420}, Qt::Horizontal);

  PostController* c = window.postController();
  PostPanelHost* panel = window.postPanel();
  panel->setCtChoice("fat", "A");
  c->recompute(PostStep::Fat);
  if (!waitFor(&window, c, "fat", 120000)) return 1;
  auto* slider = panel->findChild<QSlider*>("post_fat_distance-mm");
  std::vector<double> shown;
  for (int m = 0; m < moves; ++m) {
    slider->setValue(slider->value() + (m % 2 == 0 ? 1 : -1));
    if (!waitFor(&window, c, "fat", 120000)) return 1;
    const auto t = c->lastTimings(PostStep::Fat);
    // One synchronous repaint of the slice views and the 3D view with the new result.
    QElapsedTimer paint;
    paint.start();
    for (int a = 0; a < 3; ++a) window.sliceView(viewers::SliceAxis(a))->repaint();
    window.meshView()->repaint();
    const double paintMs = double(paint.nsecsElapsed()) / 1e6;
    shown.push_back(t.sinceChangeMs + paintMs);
    std::printf("fat move %d: overlay replaced %.0f ms, meshes in the 3D view %.0f ms after the move "
                "(engine %.0f ms, paste %.0f ms, layer replaced with every panel's refresh %.0f ms, meshes %.0f ms, "
                "meshes into the 3D view %.0f ms); repaint of the four views %.0f ms; total %.0f ms\n",
                m + 1, t.overlaySinceChangeMs, t.sinceChangeMs, t.run.engineSeconds * 1000, t.run.pasteSeconds * 1000,
                t.overlayApplyMs, t.run.meshSeconds * 1000, t.applyMs, paintMs, t.sinceChangeMs + paintMs);
  }
  std::sort(shown.begin(), shown.end());
  std::printf("fat through the window: median %.0f ms from the slider move to the views repainted\n",
              shown[shown.size() / 2]);

  // The artery reconnection too, so the job log shows its report: two gaps cut into the renal arteries.
  const Volume cut = bench::withPhantomGaps(labels, bench::GapArteries);
  const int cutLayer = window.workspace()->addLayer("arteries with gaps", cut, table);
  panel->setInputLayer("vessel", cutLayer);
  panel->setCtChoice("vessel", "A");
  c->recompute(PostStep::Vessel);
  waitFor(&window, c, "vessel", 120000);
  // Centre the views on the fat result, and show the reconnection report the job log received.
  if (const Layer* fat = window.workspace()->layer(c->resultLayer(PostStep::Fat))) {
    const Box box = boundingBox(fat->mask);
    const Geometry& g = fat->mask.geometry();
    const Vec3 mid = g.indexToPhysical({(box.begin[0] + box.end[0]) / 2.0 - 60, (box.begin[1] + box.end[1]) / 2.0,
                                        (box.begin[2] + box.end[2]) / 2.0});
    window.setCursorEverywhere(mid);
  }
  for (const QString& line : window.jobPanel()->logText().split('\n'))
    if (line.contains("vessel:")) std::printf("job log: %s\n", qPrintable(line));
  QElapsedTimer settle;
  settle.start();
  while (settle.elapsed() < 500) app.processEvents();
  window.grab().save(QString::fromStdString(out));
  std::printf("screenshot %s\n", out.c_str());
  return 0;
}
