// Brush dab to repainted slice in the window's slice views: a 512x512x300
// label layer over a CT of the same grid, the brush tool of the Edit panel,
// and a real mouse-move event on the axial view with the button held. Each
// figure runs from the mouse event (the dab is painted into the layer, the
// label table's volumes are updated, the views crossing the change are
// invalidated) until the view has painted itself again (repaint(): the slice
// rendered with its overlay and drawn with the brush outline): once for the
// regions the dab and the outline changed, as the event loop paints them, and
// once with the whole axial view painted again.
// Usage: bench_brush_repaint [moves per run]
#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <QHBoxLayout>
#include "viewers/SliceView.h"
#include "widgets/Preferences.h"
#include "widgets/WorkspaceModel.h"
#include "widgets/edit/EditPanel.h"
#include "widgets/edit/EditPresenter.h"

using namespace nephro;
using viewers::SliceAxis;

namespace {

// Counts the paint events a widget gets.
struct PaintCounter : QObject {
  int paints = 0;
  bool eventFilter(QObject*, QEvent* e) override {
    if (e->type() == QEvent::Paint) ++paints;
    return false;
  }
};

struct Stats {
  double median, p95, max;
};

Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, size_t(ms.size() * 0.95))], ms.back()};
}

}  // namespace

int main(int argc, char** argv) {
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const int moves = argc > 1 ? std::max(20, std::atoi(argv[1])) : 200;

  Geometry g;
  g.size = {512, 512, 300};
  g.spacing = {0.78125, 0.78125, 1.5};
  g.origin = {-200, -200, -225};
  Volume ct(g, PixelType::Int16);
  Volume mask(g, PixelType::UInt8);
  {
    int16_t* c = ct.data<int16_t>();
    uint8_t* m = mask.data<uint8_t>();
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) {
          const double x = (i - 256.0) / 180, y = (j - 256.0) / 140;
          const bool body = x * x + y * y < 1.0;
          const int64_t o = g.offset(i, j, k);
          c[o] = int16_t(body ? 40 + (i * 7 + j * 13) % 30 : -1000);
          // Two kidneys as labels 1 and 2, a tumour (3) on one of them.
          const double kl = ((i - 170.0) / 40) * ((i - 170.0) / 40) + ((j - 300.0) / 60) * ((j - 300.0) / 60);
          const double kr = ((i - 342.0) / 40) * ((i - 342.0) / 40) + ((j - 300.0) / 60) * ((j - 300.0) / 60);
          m[o] = kl < 1 ? 1 : kr < 1 ? 2 : 0;
          if (kl < 0.2 && k > 120 && k < 180) m[o] = 3;
        }
  }
  LabelTable table;
  table.set(LabelTable::schemaEntry("kidney_left", 1));
  table.set(LabelTable::schemaEntry("kidney_right", 2));
  table.set(LabelTable::schemaEntry("tumor", 3));

  QTemporaryDir tmp;
  widgets::Preferences prefs(tmp.filePath("prefs.ini"));
  QWidget window;
  widgets::WorkspaceModel workspace;
  std::array<viewers::SliceView*, 3> views{};
  auto* layout = new QHBoxLayout(&window);
  for (int i = 0; i < 3; ++i) {
    views[size_t(i)] = new viewers::SliceView(SliceAxis(i), &window);
    layout->addWidget(views[size_t(i)]);
  }
  window.resize(1800, 640);
  window.show();
  workspace.setPhase(widgets::Phase::Arterial, ct, "ct");
  const int layerId = workspace.addLayer("tumor", mask, table, "");
  std::vector<viewers::OverlayLayer> overlays(1);
  overlays[0].mask = workspace.layer(layerId)->mask;
  overlays[0].styles.resize(4);
  for (const LabelEntry& e : table.entries())
    overlays[0].styles[size_t(e.value)] = viewers::LabelStyle{widgets::toQColor(e.color), 1.0, true};
  const Vec3 centre = g.indexToPhysical({170, 300, 150});
  for (auto* v : views) {
    v->setVolume(ct, "A");
    v->setOverlays(overlays);
    v->setCursorPosition(centre);
  }
  widgets::EditPresenter presenter(&workspace, views, &prefs, &window);
  presenter.setActiveLabel(layerId, 3);
  presenter.panel()->setPaintOver(edit::PaintOver::Everything);
  QApplication::processEvents();

  std::printf("brush dab to repainted slice, 512x512x300 uint8 layer, %d moves per run\n", moves);
  viewers::SliceView* axial = views[0];
  for (const auto& [shape, radius] : std::vector<std::pair<edit::BrushShape, double>>{
           {edit::BrushShape::Disc, 3.0}, {edit::BrushShape::Disc, 10.0}, {edit::BrushShape::Sphere, 5.0}}) {
    presenter.panel()->setShape(shape);
    presenter.panel()->setRadiusMm(radius);
    presenter.setTool(viewers::ToolMode::Brush);
    std::vector<double> regionMs, fullMs;
    PaintCounter counter;
    int unpainted = 0;
    axial->installEventFilter(&counter);
    QPointF p = axial->widgetPosOf(centre);
    QTest::mousePress(axial, Qt::LeftButton, {}, p.toPoint());
    QCoreApplication::processEvents();
    for (int i = 0; i < moves; ++i) {
      // A slow circle of dabs over the kidney and tumour.
      const double a = i * 0.12;
      const QPoint q = (p + QPointF(40 * std::cos(a), 40 * std::sin(a))).toPoint();
      QElapsedTimer t;
      t.start();
      QTest::mouseMove(axial, q);
      // The views paint what the dab and the brush outline changed (as the event loop does).
      const int before = counter.paints;
      QCoreApplication::processEvents();
      (i % 2 ? regionMs : fullMs).push_back(t.nsecsElapsed() / 1e6);
      if (i % 2 && counter.paints == before) unpainted++;
      if (i % 2 == 0) {
        // Every other dab: the whole axial view painted again instead.
        axial->repaint();
        fullMs.back() = t.nsecsElapsed() / 1e6;
      }
    }
    QTest::mouseRelease(axial, Qt::LeftButton, {}, p.toPoint());
    QCoreApplication::processEvents();
    axial->removeEventFilter(&counter);
    if (unpainted) std::printf("  (%d of %d moves left the axial view unpainted)\n", unpainted, moves / 2);
    const char* name = shape == edit::BrushShape::Disc ? "disc" : "sphere";
    const Stats r = stats(regionMs), f = stats(fullMs);
    std::printf("%-6s r=%4.1f mm  changed regions repainted: median %6.2f ms  p95 %6.2f ms  max %6.2f ms\n",
                name, radius, r.median, r.p95, r.max);
    std::printf("%-6s r=%4.1f mm  + whole axial view:        median %6.2f ms  p95 %6.2f ms  max %6.2f ms\n",
                name, radius, f.median, f.p95, f.max);
    presenter.undo();
  }
  std::printf("undo steps held: %zu, voxels of tumour now %lld\n",
              presenter.session(layerId)->undoStore().undoCount(),
              (long long)presenter.session(layerId)->voxelCount(3));
  return 0;
}
