// Slice views without a display: presets, slice orientation, grey mapping,
// overlay fill and outline, overlays on another grid, crosshair mapping.
#include <QtTest>
#include <cmath>

#include "viewers/Measurements.h"
#include "viewers/SliceRenderer.h"
#include "viewers/SliceView.h"
#include "viewers/WindowPresets.h"

using namespace nephro;
using namespace nephro::viewers;

namespace {

Geometry grid(Index3 size, Vec3 spacing = {1, 1, 1}) {
  Geometry g;
  g.size = size;
  g.spacing = spacing;
  return g;
}

QColor px(const QImage& image, int x, int y) {
  return image.pixelColor(x, y);
}

}  // namespace

class ViewersTest : public QObject {
  Q_OBJECT
 private slots:
  void ellipseRoiTakesTheVoxelsInside();
  void editedRegionRerendersOnlyCrossingSlices();
 private slots:
  void presetsHaveTheCtValues();
  void windowLevelDragWidensAndRaises();
  void axialShowsPatientLeftOnTheRight();
  void flippedDirectionIsShownTheSameWay();
  void greyFollowsWindowLevel();
  void overlayFillBlendsAtHalfAndOutlineIsOpaque();
  void hiddenLabelsAndLayersAreNotDrawn();
  void overlayOnAnotherGridIsResampled();
  void sliceViewMapsCrosshairAndScrolls();
};

void ViewersTest::presetsHaveTheCtValues() {
  const std::pair<const char*, WindowLevel> expected[] = {{"Abdomen", {350, 40}},
                                                          {"Kidney", {300, 40}},
                                                          {"Fat", {200, -130}},
                                                          {"Bone", {1000, 400}},
                                                          {"Angio", {600, 150}}};
  QCOMPARE(int(windowPresets().size()), 5);
  for (const auto& [name, wl] : expected) {
    const auto found = findWindowPreset(name);
    QVERIFY2(found.has_value(), name);
    QCOMPARE(found->window, wl.window);
    QCOMPARE(found->level, wl.level);
  }
  QVERIFY(findWindowPreset("kidney").has_value());  // case-insensitive
  QVERIFY(!findWindowPreset("lung").has_value());
  QCOMPARE(windowLow({300, 40}), -110.0);
  QCOMPARE(windowHigh({300, 40}), 190.0);
}

void ViewersTest::windowLevelDragWidensAndRaises() {
  const WindowLevel start{350, 40};
  const WindowLevel wider = draggedWindowLevel(start, 10, 0);
  QVERIFY(wider.window > start.window);
  QCOMPARE(wider.level, start.level);
  const WindowLevel raised = draggedWindowLevel(start, 0, 10);
  QVERIFY(raised.level > start.level);
  QVERIFY(draggedWindowLevel(start, -10000, 0).window >= 1.0);
}

void ViewersTest::axialShowsPatientLeftOnTheRight() {
  const Geometry g = grid({4, 5, 6});
  const SlicePlane axial = slicePlane(g, SliceAxis::Axial);
  QCOMPARE(axial.col, 0);
  QCOMPARE(axial.row, 1);
  QCOMPARE(axial.normal, 2);
  QVERIFY(!axial.flipCol && !axial.flipRow);
  const SlicePlane coronal = slicePlane(g, SliceAxis::Coronal);
  QCOMPARE(coronal.normal, 1);
  QVERIFY(coronal.flipRow);  // superior at the top
  const SlicePlane sagittal = slicePlane(g, SliceAxis::Sagittal);
  QCOMPARE(sagittal.col, 1);
  QCOMPARE(sagittal.normal, 0);
  QCOMPARE(sagittal.cols, 5);
  QCOMPARE(sagittal.rows, 6);
}

void ViewersTest::flippedDirectionIsShownTheSameWay() {
  // An image stored right-to-left (direction x = -L) is flipped on screen so
  // that patient left still appears on the right.
  Geometry g = grid({4, 4, 4});
  g.direction = {-1, 0, 0, 0, 1, 0, 0, 0, 1};
  const SlicePlane axial = slicePlane(g, SliceAxis::Axial);
  QVERIFY(axial.flipCol);
  QCOMPARE(axial.index(0, 0, 1)[0], int64_t(3));
  // The screen's right edge lies further to the patient's left than its left edge.
  const Vec3 leftOnScreen = g.indexToPhysical({double(axial.index(0, 0, 0)[0]), 0, 0});
  const Vec3 rightOnScreen = g.indexToPhysical({double(axial.index(3, 0, 0)[0]), 0, 0});
  QVERIFY(rightOnScreen[0] > leftOnScreen[0]);
}

void ViewersTest::greyFollowsWindowLevel() {
  Volume ct(grid({3, 1, 1}), PixelType::Int16);
  ct.data<int16_t>()[0] = -200;
  ct.data<int16_t>()[1] = 40;
  ct.data<int16_t>()[2] = 500;
  SliceRenderer renderer;
  const SlicePlane p = slicePlane(ct.geometry(), SliceAxis::Axial);
  const QImage image = renderer.render(ct, p, 0, {350, 40}, {}, {});
  QCOMPARE(image.size(), QSize(3, 1));
  QCOMPARE(px(image, 0, 0), QColor(0, 0, 0));
  QCOMPARE(px(image, 1, 0).red(), 128);  // the level is mid-grey
  QCOMPARE(px(image, 2, 0), QColor(255, 255, 255));
  // Float volumes take the same mapping.
  const Volume f = castVolume(ct, PixelType::Float32);
  QCOMPARE(renderer.render(f, p, 0, {350, 40}, {}, {}).pixelColor(1, 0).red(), 128);
}

void ViewersTest::overlayFillBlendsAtHalfAndOutlineIsOpaque() {
  Volume ct(grid({7, 7, 1}), PixelType::Int16);  // all 0 HU
  Volume mask(ct.geometry(), PixelType::UInt8);
  for (int j = 1; j <= 5; ++j)
    for (int i = 1; i <= 5; ++i) mask.data<uint8_t>()[ct.geometry().offset(i, j, 0)] = 2;
  OverlayLayer layer;
  layer.mask = mask;
  layer.styles.resize(3);
  layer.styles[2].color = QColor(200, 100, 50);
  SliceRenderer renderer;
  const SlicePlane p = slicePlane(ct.geometry(), SliceAxis::Axial);
  const WindowLevel wl{400, 200};  // 0 HU -> grey 0
  OverlayOptions options;          // fill 0.5, outline on
  const QImage image = renderer.render(ct, p, 0, wl, {layer}, options);
  QCOMPARE(px(image, 0, 0), QColor(0, 0, 0));       // outside
  QCOMPARE(px(image, 1, 3), QColor(200, 100, 50));  // edge: outline at full opacity
  QCOMPARE(px(image, 3, 3), QColor(100, 50, 25));   // inside: half over black
  options.outline = false;
  const QImage noOutline = renderer.render(ct, p, 0, wl, {layer}, options);
  QCOMPARE(px(noOutline, 1, 3), QColor(100, 50, 25));
  layer.styles[2].opacity = 0.5;  // per-label opacity multiplies the fill
  options.fillOpacity = 1.0;
  const QImage half = renderer.render(ct, p, 0, wl, {layer}, options);
  QCOMPARE(px(half, 3, 3), QColor(100, 50, 25));
}

void ViewersTest::hiddenLabelsAndLayersAreNotDrawn() {
  Volume ct(grid({3, 3, 1}), PixelType::Int16);
  Volume mask(ct.geometry(), PixelType::UInt8);
  mask.data<uint8_t>()[4] = 1;
  OverlayLayer layer;
  layer.mask = mask;
  layer.styles.resize(2);
  layer.styles[1].color = Qt::red;
  SliceRenderer renderer;
  const SlicePlane p = slicePlane(ct.geometry(), SliceAxis::Axial);
  QVERIFY(renderer.render(ct, p, 0, {400, 200}, {layer}, {}).pixelColor(1, 1) != QColor(0, 0, 0));
  layer.styles[1].visible = false;
  QCOMPARE(renderer.render(ct, p, 0, {400, 200}, {layer}, {}).pixelColor(1, 1), QColor(0, 0, 0));
  layer.styles[1].visible = true;
  layer.visible = false;
  QCOMPARE(renderer.render(ct, p, 0, {400, 200}, {layer}, {}).pixelColor(1, 1), QColor(0, 0, 0));
}

void ViewersTest::overlayOnAnotherGridIsResampled() {
  // CT at 1 mm, mask at 2 mm covering the same field: each mask voxel covers 2x2 CT pixels.
  Volume ct(grid({8, 8, 2}), PixelType::Int16);
  Geometry coarse = grid({4, 4, 1}, {2, 2, 2});
  coarse.origin = {0.5, 0.5, 0.5};
  Volume mask(coarse, PixelType::UInt8);
  mask.data<uint8_t>()[coarse.offset(1, 2, 0)] = 1;
  std::vector<int32_t> labels;
  const SlicePlane p = slicePlane(ct.geometry(), SliceAxis::Axial);
  SliceRenderer::sampleLabels(mask, ct.geometry(), p, 0, labels);
  int count = 0;
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x)
      if (labels[size_t(y * 8 + x)] == 1) {
        ++count;
        QVERIFY(x == 2 || x == 3);
        QVERIFY(y == 4 || y == 5);
      }
  QCOMPARE(count, 4);
}

void ViewersTest::sliceViewMapsCrosshairAndScrolls() {
  Geometry g = grid({20, 30, 40}, {1, 1, 2});
  g.origin = {-10, 5, 100};
  Volume ct(g, PixelType::Int16);
  SliceView view(SliceAxis::Axial);
  view.resize(300, 300);
  view.setVolume(ct, "A");
  QCOMPARE(view.sliceCount(), int64_t(40));
  const Vec3 target = g.indexToPhysical({7, 11, 25});
  view.setCursorPosition(target);
  QCOMPARE(view.slice(), int64_t(25));
  // The widget position of the cursor maps back to it.
  const QPointF at = view.widgetPosOf(target);
  const auto back = view.physicalAt(at);
  QVERIFY(back.has_value());
  QVERIFY(std::abs((*back)[0] - target[0]) < 1e-6 && std::abs((*back)[1] - target[1]) < 1e-6);
  QSignalSpy moved(&view, &SliceView::cursorMoved);
  view.setSlice(26);
  QCOMPARE(moved.count(), 1);
  QCOMPARE(view.cursorPosition()[2], target[2] + 2.0);
  view.setSlice(1000);  // clamped
  QCOMPARE(view.slice(), int64_t(39));

  // Another phase on another grid keeps the crosshair where it is in the patient.
  view.setCursorPosition(target);
  Geometry other = g;
  other.spacing = {1, 1, 1};
  other.size = {20, 30, 80};
  view.setVolume(Volume(other, PixelType::Int16), "P");
  QCOMPARE(view.cursorPosition(), target);
  QCOMPARE(view.slice(), int64_t(50));
  // A new study (after an empty one) starts at its centre.
  view.setVolume(Volume(), "");
  view.setVolume(ct, "A");
  QCOMPARE(view.slice(), int64_t(20));
}

void ViewersTest::ellipseRoiTakesTheVoxelsInside() {
  // Left half 0 HU, right half 100 HU; a circle of radius 5 pixels centred on the boundary.
  Volume ct(grid({20, 20, 3}, {0.5, 0.5, 2}), PixelType::Int16);
  const Geometry& g = ct.geometry();
  for (int64_t k = 0; k < 3; ++k)
    for (int64_t j = 0; j < 20; ++j)
      for (int64_t i = 10; i < 20; ++i) ct.data<int16_t>()[g.offset(i, j, k)] = 100;
  const SlicePlane p = slicePlane(g, SliceAxis::Axial);
  const RoiStats s = ellipseRoiStats(ct, p, 1, QPointF(5, 5), QPointF(15, 15));
  int64_t inside = 0;
  for (int y = 0; y < 20; ++y)
    for (int x = 0; x < 20; ++x) inside += (x + 0.5 - 10) * (x + 0.5 - 10) + (y + 0.5 - 10) * (y + 0.5 - 10) <= 25;
  QCOMPARE(s.voxels, inside);
  QCOMPARE(s.min, 0.0);
  QCOMPARE(s.max, 100.0);
  QCOMPARE(s.mean, 50.0);  // symmetric about the boundary
  const double n = double(inside);
  QVERIFY(std::abs(s.sd - std::sqrt(n * 2500.0 / (n - 1))) < 1e-9);
  QCOMPARE(s.areaMm2, n * 0.25);
  // Outside the slice range or degenerate: nothing.
  QCOMPARE(ellipseRoiStats(ct, p, 3, QPointF(5, 5), QPointF(15, 15)).voxels, int64_t(0));
  QCOMPARE(ellipseRoiStats(ct, p, 1, QPointF(5, 5), QPointF(5, 15)).voxels, int64_t(0));
  QCOMPARE(distanceMm({0, 0, 0}, {3, 4, 12}), 13.0);
}

void ViewersTest::editedRegionRerendersOnlyCrossingSlices() {
  // A layer edited in place (the view shares its voxels): a change away from
  // the shown slice leaves the slice image as it was; one on it renders it again.
  Volume ct(grid({16, 16, 10}), PixelType::Int16);
  Volume mask(ct.geometry(), PixelType::UInt8);
  SliceView view(SliceAxis::Axial);
  view.resize(200, 200);
  view.setVolume(ct, "A");
  OverlayLayer layer;
  layer.mask = mask;
  layer.styles = {LabelStyle{}, LabelStyle{QColor(255, 0, 0), 1.0, true}};
  view.setOverlays({layer});
  view.setSlice(3);
  const QImage before = view.sliceImage();
  const Geometry& g = mask.geometry();
  mask.data<uint8_t>()[g.offset(4, 4, 3)] = 1;  // on the slice, not yet announced
  mask.data<uint8_t>()[g.offset(4, 4, 7)] = 1;
  view.invalidateRegion(g, {4, 4, 7}, {5, 5, 8});
  QVERIFY(view.sliceImage() == before);
  view.invalidateRegion(g, {4, 4, 3}, {5, 5, 4});
  QVERIFY(view.sliceImage() != before);
}

QTEST_MAIN(ViewersTest)
#include "tst_viewers.moc"
