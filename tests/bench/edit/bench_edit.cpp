// Editing on the full phantom (512x512x300): undo and redo of a scissors cut
// through the volume, fill between two slices 30 slices apart, memory held by
// 50 undo steps of brush strokes, and the engine's time to apply one brush dab.
//   bench_edit [--repeats N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "BenchSupport.h"
#include "edit/EditSession.h"
#include "phantom/Phantom.h"

using namespace nephro;
using namespace nephro::edit;
using bench::Stopwatch;
namespace pl = phantom_label;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

// Index centre of the voxels holding `value`, and its extent along k.
struct Extent {
  Vec3 centre{0, 0, 0};
  int64_t kMin = 0, kMax = 0;
};
Extent extentOf(const Volume& labels, int value) {
  const Geometry& g = labels.geometry();
  double s[3] = {0, 0, 0};
  int64_t n = 0;
  Extent e;
  e.kMin = g.size[2];
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (labels.data<uint8_t>()[g.offset(i, j, k)] == value) {
          s[0] += i;
          s[1] += j;
          s[2] += k;
          ++n;
          e.kMin = std::min(e.kMin, k);
          e.kMax = std::max(e.kMax, k);
        }
  e.centre = {s[0] / n, s[1] / n, s[2] / n};
  return e;
}

Vec3 lps(const Geometry& g, double i, double j, double k) {
  return g.indexToPhysical({i, j, k});
}

void scissorsUndoRedo(const PhantomCase& ph, const Extent& kidney, int repeats, double halfMm,
                      const char* what) {
  const Geometry& g = ph.labels.geometry();
  EditSession s(ph.labels.clone(), ph.table);
  const double hi = halfMm / g.spacing[0], hj = halfMm / g.spacing[1];
  const Vec3& c = kidney.centre;
  ScissorsCut cut;
  cut.rule.over = PaintOver::Everything;
  cut.polygon = {lps(g, c[0] - hi, c[1] - hj, c[2]), lps(g, c[0] + hi, c[1] - hj, c[2]),
                 lps(g, c[0] + hi, c[1] + hj, c[2]), lps(g, c[0] - hi, c[1] + hj, c[2])};
  Stopwatch apply;
  const EditResult r = s.apply(cut);
  const double applyMs = apply.seconds() * 1000;
  std::vector<double> undo, redo;
  for (int n = 0; n < repeats; ++n) {
    Stopwatch u;
    s.undo();
    undo.push_back(u.seconds() * 1000);
    Stopwatch rd;
    s.redo();
    redo.push_back(rd.seconds() * 1000);
  }
  std::printf(
      "scissors through the volume, %s (%.0f x %.0f mm, %lld voxels changed, step %.2f MiB): apply "
      "%.1f ms, "
      "undo %.1f ms, redo %.1f ms (median of %d; bar < 150 ms)\n",
      what, 2 * halfMm, 2 * halfMm, static_cast<long long>(r.voxelsChanged),
      s.undoStore().bytes() / 1048576.0, applyMs, median(undo), median(redo), repeats);
}

void fillBetween(const PhantomCase& ph, const Extent& kidney, int repeats) {
  const Geometry& g = ph.labels.geometry();
  const int64_t k0 = (kidney.kMin + kidney.kMax) / 2 - 15;
  std::vector<double> times;
  int64_t changed = 0;
  for (int n = 0; n < repeats; ++n) {
    EditSession s(ph.labels.clone(), ph.table);
    FillBetweenSlices f;
    f.label = pl::KidneyLeft;
    f.keySlices = {k0, k0 + 30};
    Stopwatch t;
    const EditResult r = s.apply(f);
    times.push_back(t.seconds() * 1000);
    changed = r.voxelsChanged;
  }
  std::printf(
      "fill between slices %lld and %lld of kidney_left (whole label extent, %lld voxels changed): "
      "%.0f ms "
      "(median of %d; bar < 1 s)\n",
      static_cast<long long>(k0), static_cast<long long>(k0 + 30), static_cast<long long>(changed),
      median(times), repeats);
  (void)g;
}

// 50 strokes of 25 dabs, 6 mm apart, over both kidneys; one undo step each.
void strokeMemory(const PhantomCase& ph, const Extent& left, const Extent& right, BrushShape shape,
                  double radiusMm) {
  const Geometry& g = ph.labels.geometry();
  EditSession s(ph.labels.clone(), ph.table);
  s.setImage(ph.arterial);
  const double before = bench::rssMiB();
  int64_t voxels = 0;
  for (int n = 0; n < 50; ++n) {
    const Extent& e = n % 2 ? left : right;
    BrushStroke b;
    b.label = n % 3 == 0 ? pl::Tumor : pl::Artery;
    b.shape = shape;
    b.radiusMm = radiusMm;
    b.rule.over = PaintOver::Everything;
    const double k = e.centre[2] - 20 + (n % 40);
    for (int d = 0; d < 25; ++d) {
      const double t = (d - 12) * 6.0;
      b.dabs.push_back(
          lps(g, e.centre[0] + t / g.spacing[0] * 0.6, e.centre[1] + t / g.spacing[1] * 0.8, k));
    }
    voxels += s.apply(b).voxelsChanged;
  }
  std::printf(
      "50 undo steps of %s brush strokes (r %.0f mm, 25 dabs each, %lld voxels changed): undo "
      "store %.2f MiB, "
      "RSS +%.1f MiB (bar < 32 MiB)\n",
      shape == BrushShape::Disc ? "disc" : "sphere", radiusMm, static_cast<long long>(voxels),
      s.undoStore().bytes() / 1048576.0, bench::rssMiB() - before);
}

void dabTimes(const PhantomCase& ph, const Extent& kidney, BrushShape shape, double radiusMm,
              bool huRange) {
  const Geometry& g = ph.labels.geometry();
  EditSession s(ph.labels.clone(), ph.table);
  s.setImage(ph.arterial);
  BrushStroke b;
  b.label = pl::Tumor;
  b.shape = shape;
  b.radiusMm = radiusMm;
  b.rule.over = PaintOver::Everything;
  if (huRange) b.rule.huRange = std::array<double, 2>{150, 600};
  b.dabs = {lps(g, kidney.centre[0], kidney.centre[1], kidney.centre[2])};
  s.beginStroke(b);
  std::vector<double> times;
  for (int d = 1; d <= 200; ++d) {
    // Mouse moves of 1.5 mm (about 2 voxels) along a circle.
    const double a = d * 0.05;
    const Vec3 p = lps(g, kidney.centre[0] + 30 * std::cos(a), kidney.centre[1] + 30 * std::sin(a),
                       kidney.centre[2]);
    Stopwatch t;
    s.continueStroke(p);
    times.push_back(t.seconds() * 1000);
  }
  Stopwatch end;
  const EditResult r = s.endStroke();
  const double endMs = end.seconds() * 1000;
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  std::printf(
      "brush dab, %s r %.0f mm%s: median %.3f ms, 95th %.3f ms, max %.3f ms per dab; end of stroke "
      "(undo step "
      "of %lld voxels) %.2f ms\n",
      shape == BrushShape::Disc ? "disc" : "sphere", radiusMm, huRange ? " with HU range" : "",
      median(times), sorted[sorted.size() * 95 / 100], sorted.back(),
      static_cast<long long>(r.voxelsChanged), endMs);
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 5;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--repeats") == 0 && i + 1 < argc)
      repeats = std::max(1, std::atoi(argv[++i]));
  PhantomOptions o;
  o.size = PhantomSize::Full;
  Stopwatch gen;
  PhantomCase ph = generatePhantom(o);
  ph.portal = Volume();
  ph.delayed = Volume();
  std::printf("full phantom %s generated in %.1f s\n", ph.labels.geometry().describe().c_str(),
              gen.seconds());
  const Extent left = extentOf(ph.labels, pl::KidneyLeft),
               right = extentOf(ph.labels, pl::KidneyRight);

  scissorsUndoRedo(ph, left, repeats, 60.0, "around the left kidney");
  scissorsUndoRedo(ph, left, repeats, 150.0, "through most of the abdomen");
  fillBetween(ph, left, repeats);
  strokeMemory(ph, left, right, BrushShape::Disc, 5.0);
  strokeMemory(ph, left, right, BrushShape::Sphere, 5.0);
  dabTimes(ph, left, BrushShape::Disc, 5.0, false);
  dabTimes(ph, left, BrushShape::Disc, 10.0, true);
  dabTimes(ph, left, BrushShape::Sphere, 10.0, false);
  return 0;
}
