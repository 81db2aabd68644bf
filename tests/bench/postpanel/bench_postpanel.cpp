// Time from a slider move in the post-processing panel to the result shown
// (result layer replaced in the workspace, its meshes handed over) on the
// full phantom (512x512x300), for every step, through the panel's own path:
// debounce, region cache, the step's preparation (cached while the moved
// parameter does not change it), the engine call on the region, paste, meshing.
//   bench_postpanel [--dir DIR] [--moves N] [--steps fat,vessel,ureter,sample]
// DIR holds (or receives) the full phantom; default <build>/bench/post-full-phantom.
#include <QApplication>
#include <QEventLoop>
#include <QSlider>
#include <QTimer>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "image/VolumeIO.h"
#include "labels/LabelTable.h"
#include "phantom/Phantom.h"
#include "widgets/PostController.h"
#include "widgets/PostPanelHost.h"
#include "widgets/WorkspaceModel.h"
#include "PhantomGaps.h"
#include "common/HeapTuning.h"

using namespace nephro;
using namespace nephro::widgets;
namespace pl = phantom_label;
namespace fs = std::filesystem;

namespace {

Volume keepOnly(const Volume& gt, std::initializer_list<int> keep, bool invert) {
  Volume out = gt.clone();
  uint8_t* p = out.data<uint8_t>();
  for (int64_t i = 0; i < out.voxelCount(); ++i) {
    const bool in = std::find(keep.begin(), keep.end(), int(p[i])) != keep.end();
    if (in == invert) p[i] = 0;
  }
  return out;
}

// Runs the event loop until the step's next result is applied or fails.
bool waitForResult(PostController& c, const QString& id, int timeoutMs, QString* error) {
  QEventLoop loop;
  bool ok = false;
  auto a = QObject::connect(&c, &PostController::resultApplied, &loop, [&](const QString& s) {
    if (s == id) { ok = true; loop.quit(); }
  });
  auto f = QObject::connect(&c, &PostController::failed, &loop, [&](const QString& s, const QString& m) {
    if (s == id) { *error = m; loop.quit(); }
  });
  QTimer::singleShot(timeoutMs, &loop, &QEventLoop::quit);
  loop.exec();
  QObject::disconnect(a);
  QObject::disconnect(f);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  keepLargeBuffersInHeap();  // as the workstation does
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  std::string dir = std::string(NEPHRO3D_BINARY_DIR) + "/bench/post-full-phantom";
  int moves = 5;
  std::string only = "fat,vessel,ureter,sample";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--moves")) moves = std::max(1, std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--steps")) only = argv[i + 1];
  }
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  if (!fs::exists(dir + "/phantom_labels.nii.gz")) {
    std::printf("generating the full phantom into %s ...\n", dir.c_str());
    fs::create_directories(dir);
    PhantomOptions o;
    o.size = PhantomSize::Full;
    writePhantom(generatePhantom(o), dir);
  }
  const Volume labels = readVolume(dir + "/phantom_labels.nii.gz");
  const LabelTable table = LabelTable::readSidecar(dir + "/phantom_labels.nii.gz");
  WorkspaceModel ws;
  ws.setPhase(Phase::Arterial, readVolume(dir + "/phantom_A.nii.gz"), QString::fromStdString(dir + "/phantom_A.nii.gz"));
  ws.setPhase(Phase::Delayed, readVolume(dir + "/phantom_D.nii.gz"), QString::fromStdString(dir + "/phantom_D.nii.gz"));
  std::printf("full phantom %lldx%lldx%lld read in %.1f s\n", (long long)labels.geometry().size[0],
              (long long)labels.geometry().size[1], (long long)labels.geometry().size[2],
              std::chrono::duration<double>(Clock::now() - t0).count());

  PostPanelHost panel;
  PostController controller(&ws, &panel);
  MeshOptions mesh;
  mesh.smoothing = 0.5;
  controller.setMeshOptions(mesh);

  // Each step with the sliders a user moves: the first is the one the step is
  // judged by; the others show which moves keep the step's preparation.
  struct Case {
    PostStep step;
    QString ct;  // "", "A", "D"
    std::vector<QString> sliders;
    Volume input;
  };
  std::vector<Case> cases;
  if (only.find("fat") != std::string::npos)
    cases.push_back({PostStep::Fat, "A", {"distance-mm", "hu-max", "closing-radius-mm"},
                     keepOnly(labels, {pl::PerirenalFatLeft, pl::PerirenalFatRight}, true)});
  if (only.find("vessel") != std::string::npos)
    cases.push_back({PostStep::Vessel, "A", {"max-gap-mm", "radius-scale", "hu-min"}, bench::withPhantomGaps(labels)});
  if (only.find("ureter") != std::string::npos)
    cases.push_back({PostStep::Ureter, "D", {"max-gap-mm", "radius-scale", "hu-min"}, bench::withPhantomGaps(labels)});
  if (only.find("sample") != std::string::npos)
    cases.push_back({PostStep::Sample, "", {"iterations", "affine", "distance-clamp-mm"},
                     keepOnly(labels, {pl::KidneyLeft, pl::KidneyRight, pl::Tumor}, false)});

  std::printf("each move: slider +1 step (then -1, alternating), %d ms debounce, then region (cached), preparation "
              "(cached unless the moved parameter changes it), engine, paste, layer replaced (overlay), meshes handed "
              "to the workspace; times in ms; machine: %u hardware threads, load average read from /proc/loadavg: ",
              controller.debounceMs(), std::thread::hardware_concurrency());
  if (FILE* f = std::fopen("/proc/loadavg", "r")) {
    char line[128] = {};
    if (std::fgets(line, sizeof line, f)) std::printf("%s", line);
    std::fclose(f);
  }
  auto median = [](std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::vector<std::string> summary;
  for (Case& c : cases) {
    const QString id = QString::fromStdString(postStepId(c.step));
    // Each step gets only its own input layer, as a model would give it.
    for (const Layer& l : std::vector<Layer>(ws.layers())) ws.removeLayer(l.id);
    const int layer = ws.addLayer(id + " input", c.input, table);
    panel.setInputLayer(id, layer);
    panel.setCtChoice(id, c.ct);
    QString error;
    auto tc = Clock::now();
    controller.recompute(c.step);
    if (!waitForResult(controller, id, 120000, &error)) {
      std::printf("%-7s first run failed: %s\n", qPrintable(id), qPrintable(error));
      continue;
    }
    const auto first = controller.lastTimings(c.step);
    std::printf("%-7s CT %-2s first run %.0f ms: region %lldx%lldx%lld cropped %.0f, prepare %.0f, engine %.0f, "
                "paste %.0f, layer replaced %.0f, meshes %.0f\n",
                qPrintable(id), c.ct.isEmpty() ? "-" : qPrintable(c.ct),
                std::chrono::duration<double, std::milli>(Clock::now() - tc).count(),
                (long long)first.run.regionSize[0], (long long)first.run.regionSize[1], (long long)first.run.regionSize[2],
                first.run.regionSeconds * 1000, first.run.prepareSeconds * 1000, first.run.engineSeconds * 1000,
                first.run.pasteSeconds * 1000, first.overlayApplyMs, first.run.meshSeconds * 1000);
    for (const QString& name : c.sliders) {
      auto* slider = panel.findChild<QSlider*>("post_" + id + "_" + name);
      if (!slider) {
        std::printf("  no slider for %s\n", qPrintable(name));
        continue;
      }
      std::vector<double> overlay, change, prepare, engine, paste, replaced, meshes;
      int prepared = 0, remeshed = 0;
      for (int m = 0; m < moves; ++m) {
        // Away from the top of the range, so that +1 step always moves it.
        const bool up = slider->value() < slider->maximum() && (m % 2 == 0 || slider->value() == slider->minimum());
        slider->setValue(slider->value() + (up ? 1 : -1));
        if (!waitForResult(controller, id, 120000, &error)) {
          std::printf("  move %d failed: %s\n", m + 1, qPrintable(error));
          break;
        }
        const auto t = controller.lastTimings(c.step);
        overlay.push_back(t.overlaySinceChangeMs);
        change.push_back(t.sinceChangeMs);
        prepare.push_back(t.run.prepareSeconds * 1000);
        engine.push_back(t.run.engineSeconds * 1000);
        paste.push_back(t.run.pasteSeconds * 1000);
        replaced.push_back(t.overlayApplyMs);
        meshes.push_back(t.run.meshSeconds * 1000);
        prepared += t.run.preparedCached ? 0 : 1;
        remeshed += t.run.meshesMade > 0 ? 1 : 0;
        std::printf("  move %d %s=%g: overlay %.0f, overlay+meshes %.0f after the move (after the debounce: region "
                    "%.0f%s, prepare %.0f%s, engine %.0f, paste %.0f, layer replaced %.0f | meshes %.0f [%d made, %d unchanged "
                    "kept], handed over %.0f)\n",
                    m + 1, qPrintable(name), panel.values(id).value(name), t.overlaySinceChangeMs, t.sinceChangeMs,
                    t.run.regionSeconds * 1000, t.run.regionCached ? " cached" : "", t.run.prepareSeconds * 1000,
                    t.run.preparedCached ? " cached" : "", t.run.engineSeconds * 1000, t.run.pasteSeconds * 1000,
                    t.overlayApplyMs, t.run.meshSeconds * 1000, t.run.meshesMade, t.run.meshesReused, t.applyMs);
      }
      if (change.empty()) continue;
      char line[512];
      std::snprintf(line, sizeof line,
                    "%-7s %-18s median of %zu moves: overlay %4.0f, overlay+meshes %4.0f ms from the move "
                    "(debounce %d, prepare %.0f [%d of %zu moves re-prepared], engine %.0f, paste %.0f, layer %.0f, "
                    "meshes %.0f [%d of %zu moves changed the result and remeshed]); target 500 ms: %s",
                    qPrintable(id), qPrintable(name), change.size(), median(overlay), median(change),
                    controller.debounceMs(), median(prepare), prepared, change.size(), median(engine), median(paste),
                    median(replaced), median(meshes), remeshed, change.size(), median(change) <= 500 ? "met" : "NOT met");
      std::printf("%s\n", line);
      summary.push_back(line);
    }
  }
  std::printf("\nsummary (medians, ms):\n");
  for (const std::string& line : summary) std::printf("%s\n", line.c_str());
  return 0;
}
