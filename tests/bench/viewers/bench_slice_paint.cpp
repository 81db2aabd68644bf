// Per-frame time of painting an axial slice of 512x512 voxels with the label
// overlay (fill + outline, 19 labels): the renderer alone (volume -> QImage)
// and the whole slice view paint (render + scaled draw + crosshair + text).
// Usage: bench_slice_paint [frames] [view size in pixels]
#include <QApplication>
#include <QElapsedTimer>
#include <QImage>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "phantom/Phantom.h"
#include "viewers/SliceRenderer.h"
#include "viewers/SliceView.h"

using namespace nephro;
using namespace nephro::viewers;

namespace {

struct Stats {
  double median, p95, mean;
};

Stats stats(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  double sum = 0;
  for (double v : ms) sum += v;
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, size_t(ms.size() * 0.95))],
          sum / ms.size()};
}

void print(const char* what, const Stats& s) {
  std::printf("%-52s median %6.2f ms   p95 %6.2f ms   mean %6.2f ms\n", what, s.median, s.p95,
              s.mean);
}

}  // namespace

int main(int argc, char** argv) {
  if (!qEnvironmentVariableIsSet("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  const int frames = argc > 1 ? std::max(10, std::atoi(argv[1])) : 200;
  const int viewSize = argc > 2 ? std::max(100, std::atoi(argv[2])) : 800;

  // The full-size phantom's 512x512 in-plane grid, fewer slices to keep set-up short.
  PhantomOptions options;
  options.size = PhantomSize::Full;
  options.dimensions = Index3{512, 512, 48};
  options.spacing = Vec3{0.78125, 0.78125, 6.0};
  std::printf("generating a 512x512x48 phantom...\n");
  const PhantomCase phantom = generatePhantom(options);

  OverlayLayer layer;
  layer.mask = phantom.labels;
  layer.styles.resize(size_t(phantom.table.maxValue() + 1));
  for (const LabelEntry& e : phantom.table.entries())
    layer.styles[size_t(e.value)] = LabelStyle{QColor(e.color.r, e.color.g, e.color.b), 1.0, true};
  // The same labels on a 2x coarser grid: sampled through LPS positions (a model output).
  Geometry coarse = phantom.labels.geometry();
  coarse.size = {256, 256, 24};
  coarse.spacing = {1.5625, 1.5625, 12.0};
  Volume coarseMask(coarse, PixelType::UInt8);
  for (int64_t k = 0; k < 24; ++k)
    for (int64_t j = 0; j < 256; ++j)
      for (int64_t i = 0; i < 256; ++i)
        coarseMask.data<uint8_t>()[coarse.offset(i, j, k)] =
            phantom.labels.data<uint8_t>()[phantom.labels.geometry().offset(2 * i, 2 * j, 2 * k)];
  OverlayLayer resampled = layer;
  resampled.mask = coarseMask;

  const SlicePlane plane = slicePlane(phantom.arterial.geometry(), SliceAxis::Axial);
  const WindowLevel wl{350, 40};
  const OverlayOptions overlay;  // fill 0.5 + outline
  SliceRenderer renderer;
  auto timeRenderer = [&](const std::vector<OverlayLayer>& overlays) {
    std::vector<double> ms;
    for (int f = 0; f < frames; ++f) {
      QElapsedTimer t;
      t.start();
      const QImage image =
          renderer.render(phantom.arterial, plane, 8 + f % 32, wl, overlays, overlay);
      ms.push_back(t.nsecsElapsed() / 1e6);
      if (image.width() != 512) return Stats{-1, -1, -1};
    }
    return stats(ms);
  };
  std::printf("frames: %d, slice 512x512, view %dx%d, Qt %s\n", frames, viewSize, viewSize,
              qVersion());
  print("renderer: grey only", timeRenderer({}));
  print("renderer: grey + overlay (same grid)", timeRenderer({layer}));
  print("renderer: grey + overlay (other grid, resampled)", timeRenderer({resampled}));
  print("renderer: grey + both overlays", timeRenderer({layer, resampled}));

  // The whole widget paint, a new slice every frame (nothing cached).
  SliceView view(SliceAxis::Axial);
  view.resize(viewSize, viewSize);
  view.setVolume(phantom.arterial, "Arterial");
  view.setWindowLevel(wl);
  view.setOverlays({layer});
  QImage target(view.size(), QImage::Format_RGB32);
  for (double zoom : {1.0, 4.0}) {
    view.setZoom(zoom);
    std::vector<double> ms;
    for (int f = 0; f < frames; ++f) {
      view.setSlice(8 + f % 32);
      QElapsedTimer t;
      t.start();
      view.render(&target);
      ms.push_back(t.nsecsElapsed() / 1e6);
    }
    char what[96];
    std::snprintf(what, sizeof what, "slice view paint, new slice, zoom %.0f%%", zoom * 100);
    print(what, stats(ms));
  }
  return 0;
}
