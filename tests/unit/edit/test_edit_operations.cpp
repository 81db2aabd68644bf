// Every editing operation on a small anisotropic layer: round brushes in mm,
// joined dabs, paint-over rules, HU ranges, locks, scissors through the volume
// and through a slab, islands, and the shape of fill between slices.
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "EditTestData.h"
#include "common/Error.h"
#include "edit/EditSession.h"

using namespace nephro;
using namespace nephro::edit;
using nephro::test::at;
using nephro::test::countValue;
using nephro::test::editGrid;
using nephro::test::editTable;
using nephro::test::fillBox;

namespace {

BrushStroke brush(int label, double radiusMm, std::vector<Vec3> dabs,
                  BrushShape shape = BrushShape::Disc, int axis = 2) {
  BrushStroke b;
  b.label = label;
  b.radiusMm = radiusMm;
  b.dabs = std::move(dabs);
  b.shape = shape;
  b.axis = axis;
  b.rule.over = PaintOver::Everything;
  return b;
}

// Largest distance in mm along each axis of voxels holding `value` from (ci, cj, ck).
Vec3 extentMm(const Volume& v, int value, double ci, double cj, double ck) {
  const Geometry& g = v.geometry();
  Vec3 e{0, 0, 0};
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (v.data<uint8_t>()[g.offset(i, j, k)] == value) {
          e[0] = std::max(e[0], std::abs(i - ci) * g.spacing[0]);
          e[1] = std::max(e[1], std::abs(j - cj) * g.spacing[1]);
          e[2] = std::max(e[2], std::abs(k - ck) * g.spacing[2]);
        }
  return e;
}

int64_t countOnSlice(const Volume& v, int value, int64_t k) {
  const Geometry& g = v.geometry();
  int64_t n = 0;
  for (int64_t j = 0; j < g.size[1]; ++j)
    for (int64_t i = 0; i < g.size[0]; ++i) n += v.data<uint8_t>()[g.offset(i, j, k)] == value;
  return n;
}

uint8_t voxel(const Volume& v, int64_t i, int64_t j, int64_t k) {
  return v.data<uint8_t>()[v.geometry().offset(i, j, k)];
}

}  // namespace

class TestEditOperations : public QObject {
  Q_OBJECT
 private slots:
  void discIsRoundInMillimetres() {
    const Geometry g = editGrid();
    EditSession s(Volume(g, PixelType::UInt8), editTable());
    const EditResult r = s.apply(brush(2, 5.0, {at(g, 24, 20, 10)}));
    QVERIFY(r.changed);
    QCOMPARE(r.name, std::string("Brush tumor, ") + std::to_string(r.voxelsChanged) + " voxels");
    const Vec3 e = extentMm(s.layer(), 2, 24, 20, 10);
    QCOMPARE(e[0], 5.0);  // 10 voxels of 0.5 mm
    QCOMPARE(e[1], 5.0);  // 5 voxels of 1 mm
    QCOMPARE(e[2], 0.0);  // one slice
    const double expected = M_PI * 25.0 / (0.5 * 1.0);
    QVERIFY2(std::abs(r.voxelsChanged - expected) < 0.08 * expected,
             std::to_string(r.voxelsChanged).c_str());
    QCOMPARE(r.voxelDeltas.at(2), r.voxelsChanged);
    QCOMPARE(r.voxelDeltas.at(0), -r.voxelsChanged);
    QCOMPARE(s.voxelCount(2), r.voxelsChanged);
    QCOMPARE(r.labelsTouched, std::vector<int>{2});
    QCOMPARE(r.box.begin, (Index3{14, 15, 10}));
    QCOMPARE(r.box.end, (Index3{35, 26, 11}));
    QCOMPARE(nearestIndexAxis(g, {0, 0, 1}), 2);
    QCOMPARE(nearestIndexAxis(g, {0.1, -0.99, 0.05}), 1);
    // A coronal disc lies in the (i, k) plane: 2 mm slices give 2 slices each side of a 5 mm
    // radius.
    s.apply(brush(3, 5.0, {at(g, 24, 5, 10)}, BrushShape::Disc, 1));
    const Vec3 c = extentMm(s.layer(), 3, 24, 5, 10);
    QCOMPARE(c[0], 5.0);
    QCOMPARE(c[1], 0.0);
    QCOMPARE(c[2], 4.0);
  }

  void sphereIsRoundInMillimetres() {
    const Geometry g = editGrid();
    EditSession s(Volume(g, PixelType::UInt8), editTable());
    const EditResult r = s.apply(brush(1, 5.0, {at(g, 24, 20, 10)}, BrushShape::Sphere));
    const Vec3 e = extentMm(s.layer(), 1, 24, 20, 10);
    QCOMPARE(e[0], 5.0);
    QCOMPARE(e[1], 5.0);
    QCOMPARE(e[2], 4.0);
    const double expected = 4.0 / 3.0 * M_PI * 125.0 / (0.5 * 1.0 * 2.0);
    QVERIFY2(std::abs(r.voxelsChanged - expected) < 0.15 * expected,
             std::to_string(r.voxelsChanged).c_str());
  }

  void tinyBrushPaintsTheVoxelUnderTheCursor() {
    const Geometry g = editGrid();
    EditSession s(Volume(g, PixelType::UInt8), editTable());
    const EditResult r = s.apply(brush(1, 0.1, {at(g, 3.3, 4.2, 5)}));
    QCOMPARE(r.voxelsChanged, int64_t(1));
    QCOMPARE(voxel(s.layer(), 3, 4, 5), uint8_t(1));
  }

  void strokeJoinsDistantDabs() {
    const Geometry g = editGrid();
    EditSession s(Volume(g, PixelType::UInt8), editTable());
    // Two dabs 15 mm apart with a 1 mm brush: every voxel centre on the line between is painted.
    s.apply(brush(1, 1.0, {at(g, 5, 20, 3), at(g, 35, 20, 3)}));
    for (int64_t i = 5; i <= 35; ++i) QCOMPARE(voxel(s.layer(), i, 20, 3), uint8_t(1));
    QCOMPARE(s.undoStore().undoCount(), size_t(1));
    // Interactive: begin, continue, end is the same stroke.
    EditSession t(Volume(g, PixelType::UInt8), editTable());
    BrushStroke b = brush(1, 1.0, {at(g, 5, 20, 3)});
    t.beginStroke(b);
    const EditResult mid = t.continueStroke(at(g, 35, 20, 3));
    QVERIFY(mid.changed);
    QCOMPARE(mid.box.end[0], int64_t(38));
    const EditResult end = t.endStroke();
    QCOMPARE(end.voxelsChanged, s.voxelCount(1));
    QVERIFY(test::sameVoxels(s.layer(), t.layer()));
  }

  void paintOverRules() {
    const Geometry g = editGrid();
    Volume base(g, PixelType::UInt8);
    fillBox(base, {0, 0, 10}, {24, 40, 11}, 1);  // left half of slice 10 is kidney
    const Vec3 c = at(g, 24, 20, 10);
    auto painted = [&](PaintOver over, bool lockKidney) {
      EditSession s(base.clone(), editTable());
      if (lockKidney) s.setLocked(1, true);
      BrushStroke b = brush(2, 5.0, {c});
      b.rule.over = over;
      b.rule.overLabel = 1;
      s.apply(b);
      return std::make_pair(countValue(s.layer(), 2), countValue(s.layer(), 1));
    };
    const int64_t kidney = countValue(base, 1);
    const auto [bgTumor, bgKidney] = painted(PaintOver::Background, false);
    const auto [lbTumor, lbKidney] = painted(PaintOver::Label, false);
    const auto [evTumor, evKidney] = painted(PaintOver::Everything, false);
    const auto [lockTumor, lockKidney] = painted(PaintOver::Everything, true);
    QCOMPARE(bgKidney, kidney);            // background only: the kidney stays
    QCOMPARE(lbTumor + bgTumor, evTumor);  // one label + background = the whole disc
    QCOMPARE(lbKidney, kidney - lbTumor);  // one label: only kidney voxels became tumour
    QCOMPARE(evKidney, kidney - lbTumor);
    QCOMPARE(lockTumor, bgTumor);  // a locked kidney is never overwritten
    QCOMPARE(lockKidney, kidney);
    QVERIFY(bgTumor > 50 && lbTumor > 50);
  }

  void lockedLabelIsNeverChanged() {
    const Geometry g = editGrid();
    Volume base(g, PixelType::UInt8);
    fillBox(base, {10, 10, 2}, {38, 30, 18}, 1);
    EditSession s(base.clone(), editTable());
    s.setLocked(1, true);
    QVERIFY(s.isLocked(1));
    // Painting, erasing, cutting and cleaning the locked label are refused with its name.
    BrushStroke paint = brush(1, 3.0, {at(g, 5, 5, 5)});
    BrushStroke erase = brush(0, 3.0, {at(g, 20, 20, 5)});
    erase.rule.over = PaintOver::Label;
    erase.rule.overLabel = 1;
    KeepLargestIslands keep;
    keep.label = 1;
    for (const EditOperation& op : std::vector<EditOperation>{paint, erase, keep}) {
      try {
        s.apply(op);
        QFAIL("a locked label was edited");
      } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Input);
        QCOMPARE(std::string(e.what()), std::string("kidney is locked"));
      }
    }
    // Tools that may change anything leave it alone.
    ScissorsCut cut;
    cut.rule.over = PaintOver::Everything;
    cut.polygon = {at(g, 0, 0, 10), at(g, 47, 0, 10), at(g, 47, 39, 10), at(g, 0, 39, 10)};
    BrushStroke everything = brush(2, 20.0, {at(g, 24, 20, 10)}, BrushShape::Sphere);
    QVERIFY(!s.apply(cut).changed);
    s.apply(everything);
    QCOMPARE(countValue(s.layer(), 1), countValue(base, 1));
    s.setLocked(1, false);
    QVERIFY(s.apply(cut).changed);
  }

  void huRangeLimitsTheBrush() {
    const Geometry g = editGrid();
    Volume ct(g, PixelType::Int16);
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i)
          ct.data<int16_t>()[g.offset(i, j, k)] = i < 24 ? 300 : -80;
    EditSession s(Volume(g, PixelType::UInt8), editTable());
    BrushStroke b = brush(3, 5.0, {at(g, 24, 20, 10)});
    b.rule.huRange = std::array<double, 2>{150, 600};
    try {
      s.apply(b);
      QFAIL("an HU range without an image was accepted");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
    }
    s.setImage(ct);
    const EditResult r = s.apply(b);
    QVERIFY(r.voxelsChanged > 30);
    QCOMPARE(r.box.end[0], int64_t(24));  // nothing painted where the CT is fat
    QCOMPARE(voxel(s.layer(), 23, 20, 10), uint8_t(3));
    QCOMPARE(voxel(s.layer(), 24, 20, 10), uint8_t(0));
  }

  void eraserClearsOnlyItsLabel() {
    const Geometry g = editGrid();
    Volume base(g, PixelType::UInt8);
    fillBox(base, {0, 0, 10}, {24, 40, 11}, 1);
    fillBox(base, {24, 0, 10}, {48, 40, 11}, 2);
    EditSession s(base.clone(), editTable());
    BrushStroke e = brush(0, 5.0, {at(g, 24, 20, 10)});
    e.rule.over = PaintOver::Label;
    e.rule.overLabel = 2;
    const EditResult r = s.apply(e);
    QCOMPARE(r.name.substr(0, 12), std::string("Erase tumor,"));
    QCOMPARE(countValue(s.layer(), 1), countValue(base, 1));
    QCOMPARE(countValue(s.layer(), 2), countValue(base, 2) - r.voxelsChanged);
    QCOMPARE(r.voxelDeltas.at(0), r.voxelsChanged);
  }

  void scissorsThroughTheVolumeAndASlab() {
    const Geometry g = editGrid();
    Volume base(g, PixelType::UInt8);
    fillBox(base, {10, 10, 2}, {38, 30, 18}, 1);
    // A square drawn on axial slice 10 around voxels i 15..25, j 12..18.
    const std::vector<Vec3> square = {at(g, 14.5, 11.5, 10), at(g, 25.5, 11.5, 10),
                                      at(g, 25.5, 18.5, 10), at(g, 14.5, 18.5, 10)};
    ScissorsCut cut;
    cut.polygon = square;
    cut.rule.over = PaintOver::Everything;
    EditSession s(base.clone(), editTable());
    const EditResult r = s.apply(cut);
    QCOMPARE(r.voxelsChanged, int64_t(11 * 7 * 16));
    QCOMPARE(r.box.begin, (Index3{15, 12, 2}));
    QCOMPARE(r.box.end, (Index3{26, 19, 18}));
    QCOMPARE(r.name, std::string("Scissors erase, 1232 voxels"));
    QCOMPARE(voxel(s.layer(), 14, 15, 5), uint8_t(1));
    QCOMPARE(voxel(s.layer(), 15, 15, 5), uint8_t(0));

    // A 6 mm slab on 2 mm slices: the drawing slice and one each side.
    cut.slabMm = 6.0;
    EditSession slab(base.clone(), editTable());
    const EditResult rs = slab.apply(cut);
    QCOMPARE(rs.voxelsChanged, int64_t(11 * 7 * 3));
    QCOMPARE(rs.box.begin[2], int64_t(9));
    QCOMPARE(rs.box.end[2], int64_t(12));

    // Fill with the background-only rule writes the label outside the kidney only.
    ScissorsCut fill = cut;
    fill.action = ScissorsAction::Fill;
    fill.label = 3;
    fill.slabMm = 0.0;
    fill.rule.over = PaintOver::Background;
    fill.polygon = {at(g, 4.5, 4.5, 0), at(g, 12.5, 4.5, 0), at(g, 12.5, 12.5, 0),
                    at(g, 4.5, 12.5, 0)};
    EditSession f(base.clone(), editTable());
    const EditResult rf = f.apply(fill);
    QCOMPARE(rf.voxelsChanged, int64_t(8 * 8 * 20 - 3 * 3 * 16));
    QCOMPARE(countValue(f.layer(), 1), countValue(base, 1));

    // A cut drawn in a coronal view (normal = index axis 1) runs along j.
    ScissorsCut coronal;
    coronal.axis = 1;
    coronal.rule.over = PaintOver::Everything;
    coronal.polygon = {at(g, 19.5, 3, 3.5), at(g, 22.5, 3, 3.5), at(g, 22.5, 3, 6.5),
                       at(g, 19.5, 3, 6.5)};
    EditSession c(base.clone(), editTable());
    QCOMPARE(c.apply(coronal).voxelsChanged, int64_t(3 * 20 * 3));
  }

  void scissorsOutsideTheVolumeIsAnError() {
    const Geometry g = editGrid();
    EditSession s(Volume(g, PixelType::UInt8), editTable());
    ScissorsCut cut;
    cut.polygon = {at(g, 100, 100, 3), at(g, 110, 100, 3), at(g, 110, 110, 3)};
    for (int variant = 0; variant < 2; ++variant) {
      try {
        s.apply(cut);
        QFAIL("a polygon outside the volume was accepted");
      } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Input);
        QVERIFY2(std::string(e.what()).find(variant == 0 ? "outside the volume" : "at least 3") !=
                     std::string::npos,
                 e.what());
      }
      cut.polygon.resize(2);
    }
    QCOMPARE(s.undoStore().undoCount(), size_t(0));
    QCOMPARE(s.journal().size(), size_t(0));
  }

  void islands() {
    const Geometry g = editGrid();
    Volume base(g, PixelType::UInt8);
    fillBox(base, {2, 2, 2}, {8, 8, 8}, 1);        // A: 216
    fillBox(base, {20, 20, 2}, {23, 23, 5}, 1);    // B: 27
    fillBox(base, {30, 30, 10}, {32, 32, 12}, 1);  // D: 8
    fillBox(base, {32, 32, 12}, {34, 34, 14}, 1);  // E: 8, touches D at a corner only
    fillBox(base, {40, 2, 2}, {44, 6, 6}, 2);      // another label, never touched

    EditSession s(base.clone(), editTable());
    RemoveIsland remove;
    remove.seed = at(g, 21, 21, 3);
    const EditResult r = s.apply(remove);
    QCOMPARE(r.voxelsChanged, int64_t(27));
    QCOMPARE(r.name, std::string("Remove island of kidney, 27 voxels"));
    remove.seed = at(g, 30, 30, 10);
    QCOMPARE(s.apply(remove).voxelsChanged, int64_t(8));  // faces only: E stays
    EditSession full(base.clone(), editTable());
    remove.fullyConnected = true;
    QCOMPARE(full.apply(remove).voxelsChanged, int64_t(16));  // 26 neighbours: D and E together
    remove.seed = at(g, 0, 0, 0);
    QVERIFY(!full.apply(remove).changed);  // background under the point: nothing

    EditSession keep(base.clone(), editTable());
    KeepLargestIslands k;
    k.label = 1;
    k.count = 2;
    QCOMPARE(keep.apply(k).voxelsChanged, int64_t(16));
    QCOMPARE(countValue(keep.layer(), 1), int64_t(216 + 27));
    k.count = 1;
    QCOMPARE(keep.apply(k).voxelsChanged, int64_t(27));
    QVERIFY(!keep.apply(k).changed);
    QCOMPARE(countValue(keep.layer(), 2), countValue(base, 2));
  }

  void fillBetweenInterpolatesTheShape() {
    const Geometry g = editGrid();
    EditSession s(Volume(g, PixelType::UInt8), editTable());
    // Discs of 4 mm on slice 4 and 8 mm on slice 14, same centre.
    s.apply(brush(2, 4.0, {at(g, 24, 20, 4)}));
    s.apply(brush(2, 8.0, {at(g, 24, 20, 14)}));
    const int64_t a4 = countOnSlice(s.layer(), 2, 4), a14 = countOnSlice(s.layer(), 2, 14);
    FillBetweenSlices f;
    f.label = 2;
    const EditResult r = s.apply(f);
    QVERIFY(r.changed);
    QCOMPARE(r.box.begin[2], int64_t(5));
    QCOMPARE(r.box.end[2], int64_t(14));
    QCOMPARE(countOnSlice(s.layer(), 2, 4), a4);
    QCOMPARE(countOnSlice(s.layer(), 2, 14), a14);
    int64_t previous = a4;
    for (int64_t k = 5; k < 14; ++k) {
      const int64_t n = countOnSlice(s.layer(), 2, k);
      QVERIFY2(n >= previous, std::to_string(k).c_str());  // grows slice by slice
      previous = n;
    }
    // Halfway, a disc of about 6 mm.
    const double mid = M_PI * 36.0 / 0.5;
    QVERIFY2(std::abs(countOnSlice(s.layer(), 2, 9) - mid) < 0.1 * mid,
             std::to_string(countOnSlice(s.layer(), 2, 9)).c_str());
    QCOMPARE(voxel(s.layer(), 24, 20, 9), uint8_t(2));
    QCOMPARE(voxel(s.layer(), 24, 25, 9), uint8_t(2));
    QCOMPARE(voxel(s.layer(), 24, 27, 9), uint8_t(0));

    // A shape that moves: the centre halfway lies halfway.
    EditSession m(Volume(g, PixelType::UInt8), editTable());
    m.apply(brush(2, 5.0, {at(g, 20, 20, 4)}));
    m.apply(brush(2, 5.0, {at(g, 28, 20, 14)}));
    m.apply(f);
    double sumI = 0;
    int64_t n = 0;
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (voxel(m.layer(), i, j, 9) == 2) {
          sumI += static_cast<double>(i);
          ++n;
        }
    QVERIFY(n > 100);
    QVERIFY2(std::abs(sumI / n - 24.0) < 0.5, std::to_string(sumI / n).c_str());
  }

  void fillBetweenEditedSlicesReplacesTheLabelBetween() {
    const Geometry g = editGrid();
    Volume base(g, PixelType::UInt8);
    fillBox(base, {14, 10, 4}, {34, 30, 15}, 2);  // a block on slices 4..14
    EditSession s(base.clone(), editTable());
    // The user redraws slices 4 and 14 as discs (erase, then paint).
    for (int64_t k : {4, 14}) {
      BrushStroke e = brush(0, 30.0, {at(g, 24, 20, k)});
      e.rule.over = PaintOver::Label;
      e.rule.overLabel = 2;
      s.apply(e);
      s.apply(brush(2, 4.0, {at(g, 24, 20, k)}));
    }
    QCOMPARE(s.editedSlices(2, 2), (std::vector<int64_t>{4, 14}));
    FillBetweenSlices f;
    f.label = 2;
    f.keySlices = s.editedSlices(2, 2);
    const EditResult r = s.apply(f);
    QVERIFY(r.changed);
    for (int64_t k = 4; k <= 14; ++k) {
      QCOMPARE(voxel(s.layer(), 24, 20, k), uint8_t(2));
      QCOMPARE(voxel(s.layer(), 15, 11, k), uint8_t(0));  // the block's corner is gone
      QCOMPARE(countOnSlice(s.layer(), 2, k), countOnSlice(s.layer(), 2, 4));
    }
    // Without key slices the label is on every slice: nothing lies between.
    FillBetweenSlices none;
    none.label = 2;
    QVERIFY(!s.apply(none).changed);
    FillBetweenSlices one;
    one.label = 3;
    s.apply(brush(3, 2.0, {at(g, 5, 5, 5)}));
    try {
      s.apply(one);
      QFAIL("fill between one slice was accepted");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("two or more slices") != std::string::npos);
    }
  }

  void cancelledOperationLeavesTheLayer() {
    const Geometry g = editGrid();
    Volume base(g, PixelType::UInt8);
    fillBox(base, {10, 10, 2}, {38, 30, 18}, 1);
    EditSession s(base.clone(), editTable());
    auto flag = std::make_shared<std::atomic<bool>>(false);
    int reports = 0;
    Progress progress(
        [&](double, const std::string&) {
          if (++reports == 5) flag->store(true);
        },
        flag);
    ScissorsCut cut;
    cut.rule.over = PaintOver::Everything;
    cut.polygon = {at(g, 0, 0, 10), at(g, 47, 0, 10), at(g, 47, 39, 10), at(g, 0, 39, 10)};
    try {
      s.apply(cut, progress);
      QFAIL("not cancelled");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Cancelled);
    }
    QVERIFY(test::sameVoxels(s.layer(), base));
    QCOMPARE(s.voxelCount(1), countValue(base, 1));
    QVERIFY(!s.canUndo());
  }
};

QTEST_GUILESS_MAIN(TestEditOperations)
#include "test_edit_operations.moc"
