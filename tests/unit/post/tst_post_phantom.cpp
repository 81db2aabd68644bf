// Post-processing on the small phantom against its ground truth: perirenal fat
// Dice, template-sample kidney Dice on other seeds and poses, reconnection of
// cut arteries and ureters.
#include <QtTest>

#include <algorithm>
#include <cmath>

#include "common/Error.h"
#include "phantom/Phantom.h"
#include "post/PerirenalFat.h"
#include "post/PostSupport.h"
#include "post/TemplateSample.h"
#include "post/VesselReconnection.h"

using namespace nephro;
using namespace nephro::post;
namespace pl = phantom_label;

namespace {

double diceOf(const Volume& a, int va, const Volume& b, int vb) {
  const uint8_t* pa = a.data<uint8_t>();
  const uint8_t* pb = b.data<uint8_t>();
  int64_t na = 0, nb = 0, both = 0;
  for (int64_t i = 0; i < a.voxelCount(); ++i) {
    na += pa[i] == va;
    nb += pb[i] == vb;
    both += pa[i] == va && pb[i] == vb;
  }
  return na + nb ? 2.0 * both / double(na + nb) : 0.0;
}

int64_t countValue(const Volume& v, int value) {
  int64_t n = 0;
  const uint8_t* p = v.data<uint8_t>();
  for (int64_t i = 0; i < v.voxelCount(); ++i) n += p[i] == value;
  return n;
}

// Rotates the patient about its grid centre by changing its geometry only:
// the same voxels placed in another pose.
Volume posed(const Volume& labels, double yawDeg, double pitchDeg, const Vec3& shiftMm) {
  const double a = yawDeg * M_PI / 180, b = pitchDeg * M_PI / 180;
  const double rz[9] = {std::cos(a), -std::sin(a), 0, std::sin(a), std::cos(a), 0, 0, 0, 1};
  const double rx[9] = {1, 0, 0, 0, std::cos(b), -std::sin(b), 0, std::sin(b), std::cos(b)};
  Mat3 r{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) r[i * 3 + j] += rz[i * 3 + k] * rx[k * 3 + j];
  Volume out = labels.clone();
  Geometry g = labels.geometry();
  const Vec3 centreIdx{(g.size[0] - 1) / 2.0, (g.size[1] - 1) / 2.0, (g.size[2] - 1) / 2.0};
  const Vec3 centre = g.indexToPhysical(centreIdx);
  g.direction = r;
  const Vec3 moved = g.indexToPhysical(centreIdx);
  for (int d = 0; d < 3; ++d) g.origin[d] += centre[d] - moved[d] + shiftMm[d];
  out.setGeometry(g);
  return out;
}

// True when voxels a and b lie in one component of `values`.
bool joined(const Volume& labels, const std::vector<int>& values, int64_t a, int64_t b) {
  int n = 0;
  const Volume cc = detail::connectedComponents(detail::binaryOf(labels, values), &n);
  const int32_t* c = cc.data<int32_t>();
  return c[a] != 0 && c[a] == c[b];
}

}  // namespace

class PostPhantom : public QObject {
  Q_OBJECT

  PhantomCase phantom_;

 private slots:
  void initTestCase() {
    PhantomOptions o;
    o.seed = 1;
    phantom_ = generatePhantom(o);
  }

  void perirenalFatMatchesTheGroundTruth() {
    Volume input = phantom_.labels.clone();
    uint8_t* p = input.data<uint8_t>();
    for (int64_t i = 0; i < input.voxelCount(); ++i)
      if (p[i] == pl::PerirenalFatLeft || p[i] == pl::PerirenalFatRight) p[i] = 0;
    const FatResult withCt = computePerirenalFat(input, phantom_.table, &phantom_.arterial, FatParameters{});
    const FatResult noCt = computePerirenalFat(input, phantom_.table, nullptr, FatParameters{});
    QVERIFY(withCt.fat.geometry() == input.geometry());
    const int left = *withCt.table.valueOf("perirenal_fat_left"), right = *withCt.table.valueOf("perirenal_fat_right");
    const double dl = diceOf(withCt.fat, left, phantom_.labels, pl::PerirenalFatLeft);
    const double dr = diceOf(withCt.fat, right, phantom_.labels, pl::PerirenalFatRight);
    const double nl = diceOf(noCt.fat, left, phantom_.labels, pl::PerirenalFatLeft);
    const double nr = diceOf(noCt.fat, right, phantom_.labels, pl::PerirenalFatRight);
    qInfo("perirenal fat Dice with CT: left %.3f right %.3f; without CT: left %.3f right %.3f", dl, dr, nl, nr);
    QVERIFY2(dl >= 0.85, qPrintable(QString::number(dl)));
    QVERIFY2(dr >= 0.85, qPrintable(QString::number(dr)));
    // Without a CT only the distance bounds the fat: it must still cover the ground truth.
    int64_t covered = 0, gt = 0;
    const uint8_t* f = noCt.fat.data<uint8_t>();
    const uint8_t* g = phantom_.labels.data<uint8_t>();
    for (int64_t i = 0; i < input.voxelCount(); ++i)
      if (g[i] == pl::PerirenalFatLeft || g[i] == pl::PerirenalFatRight) {
        ++gt;
        covered += f[i] != 0;
      }
    QVERIFY(covered > 0.95 * gt);
  }

  void templateSampleFitsOtherSeedsAndPoses() {
    const TemplateCase tpl = loadTemplate();
    struct Case {
      uint64_t seed;
      double yaw, pitch;
      Vec3 shift;
    };
    for (const Case& c : {Case{2, 0, 0, {0, 0, 0}}, Case{5, 12, -8, {9, -6, 14}}}) {
      PhantomOptions o;
      o.seed = c.seed;
      const PhantomCase pc = generatePhantom(o);
      // The patient mask as a model gives it: kidneys, tumour, no vessels or ureters.
      Volume patient = posed(pc.labels, c.yaw, c.pitch, c.shift);
      uint8_t* p = patient.data<uint8_t>();
      for (int64_t i = 0; i < patient.voxelCount(); ++i)
        if (p[i] != pl::KidneyLeft && p[i] != pl::KidneyRight && p[i] != pl::Tumor) p[i] = 0;
      const SampleResult r = sampleTemplate(patient, pc.table, tpl, SampleParameters{});
      QVERIFY(r.mask.geometry() == patient.geometry());
      QCOMPARE(r.sides.size(), size_t(2));
      for (const SideRegistration& s : r.sides) {
        qInfo("seed %llu pose (%g, %g deg): %s Dice %.3f (after moments %.3f), scale %.3f",
              (unsigned long long)c.seed, c.yaw, c.pitch, s.kidney.c_str(), s.dice, s.diceBefore, s.scale);
        QVERIFY2(s.dice >= 0.90, qPrintable(QString::number(s.dice)));
        QVERIFY(s.voxelsCarried > 0);
      }
      // Carried structures are added; the patient's own labels stay as they were.
      const uint8_t* out = r.mask.data<uint8_t>();
      for (int64_t i = 0; i < patient.voxelCount(); ++i)
        if (p[i]) QCOMPARE(out[i], p[i]);
      for (const char* name : {"artery", "vein", "ureter_left", "ureter_right"}) {
        auto v = r.table.valueOf(name);
        QVERIFY(v);
        QVERIFY2(countValue(r.mask, *v) > 20, name);
      }
      // The carried structures lie near the patient's own (unposed case: same grid
      // as the ground truth): the median distance of their voxels to the truth.
      if (c.yaw == 0) {
        const std::pair<const char*, int> pairs[] = {{"artery", pl::Artery}, {"vein", pl::Vein},
                                                     {"ureter_left", pl::UreterLeft}, {"ureter_right", pl::UreterRight}};
        for (const auto& [name, gtValue] : pairs) {
          const Volume dist = detail::distanceToMm(detail::binaryOf(pc.labels, {gtValue}));
          std::vector<float> d;
          const int carried = *r.table.valueOf(name);
          for (int64_t i = 0; i < patient.voxelCount(); ++i)
            if (out[i] == carried && !p[i]) d.push_back(dist.data<float>()[i]);
          std::nth_element(d.begin(), d.begin() + d.size() / 2, d.end());
          qInfo("carried %s: median distance to the ground truth %.1f mm", name, d[d.size() / 2]);
          // Near the kidney the transform holds; a ureter drifts with its distance from it.
          if (gtValue == pl::Artery || gtValue == pl::Vein) QVERIFY(d[d.size() / 2] < 6.0);
        }
      }
    }
  }

  void reconnectionJoinsCutArteryAndUreter() {
    const Volume& gt = phantom_.labels;
    const Geometry& g = gt.geometry();
    Volume cut = gt.clone();
    uint8_t* c = cut.data<uint8_t>();
    // Ureter left: a 9 mm slab across its middle (it runs head to foot).
    const Box ub = boundingBox(gt, {pl::UreterLeft});
    const double zMid = g.indexToPhysical({0, 0, 0.5 * (ub.begin[2] + ub.end[2])})[2];
    // Right renal artery: 6 mm across its course (it runs right to left) halfway to the kidney.
    const Box ab = boundingBox(gt, {pl::Artery});
    int64_t ureterA = -1, ureterB = -1, arteryA = -1, arteryB = -1;
    const double xMid = -40.0;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) {
          const int64_t o = g.offset(i, j, k);
          const Vec3 q = g.indexToPhysical({double(i), double(j), double(k)});
          if (c[o] == pl::UreterLeft) {
            if (std::abs(q[2] - zMid) <= 4.5) c[o] = 0;
            else if (q[2] > zMid + 4.5 && q[2] < zMid + 9) ureterA = o;
            else if (q[2] < zMid - 4.5 && q[2] > zMid - 9) ureterB = o;
          }
          if (c[o] == pl::Artery && q[0] < 0) {
            if (std::abs(q[0] - xMid) <= 3.0) c[o] = 0;
            else if (q[0] > xMid + 3 && q[0] < xMid + 8) arteryA = o;
            else if (q[0] < xMid - 3 && q[0] > xMid - 8) arteryB = o;
          }
        }
    (void)ab;
    QVERIFY(ureterA >= 0 && ureterB >= 0 && arteryA >= 0 && arteryB >= 0);
    const std::vector<int> arteryLabels{pl::Artery, pl::Aorta};
    const std::vector<int> ureterLabels{pl::UreterLeft, pl::KidneyLeft, pl::UrinaryBladder};
    QVERIFY(!joined(cut, arteryLabels, arteryA, arteryB));
    QVERIFY(!joined(cut, ureterLabels, ureterA, ureterB));
    for (int withCt = 0; withCt < 2; ++withCt) {
      const ReconnectionResult ra = reconnect(TubularStructure::Artery, cut, phantom_.table,
                                              withCt ? &phantom_.arterial : nullptr,
                                              ReconnectionParameters::defaults(TubularStructure::Artery));
      const ReconnectionResult ru = reconnect(TubularStructure::Ureter, ra.mask, phantom_.table,
                                              withCt ? &phantom_.delayed : nullptr,
                                              ReconnectionParameters::defaults(TubularStructure::Ureter));
      QVERIFY2(joined(ru.mask, arteryLabels, arteryA, arteryB), withCt ? "artery with CT" : "artery without CT");
      QVERIFY2(joined(ru.mask, ureterLabels, ureterA, ureterB), withCt ? "ureter with CT" : "ureter without CT");
      // Every painted voxel lies in the ground truth of its structure, give or take one voxel.
      const Volume arteryNear = detail::dilateMm(detail::binaryOf(gt, arteryLabels), 1.01 * std::sqrt(2.5 * 2.5 * 2 + 9.0));
      const Volume ureterNear = detail::dilateMm(detail::binaryOf(gt, ureterLabels), 1.01 * std::sqrt(2.5 * 2.5 * 2 + 9.0));
      const uint8_t* out = ru.mask.data<uint8_t>();
      int64_t painted = 0, inside = 0;
      for (int64_t i = 0; i < gt.voxelCount(); ++i) {
        if (out[i] == c[i]) continue;
        ++painted;
        inside += out[i] == pl::Artery ? arteryNear.data<uint8_t>()[i] : ureterNear.data<uint8_t>()[i];
      }
      qInfo("%s CT: %lld voxels painted, %lld inside the ground truth + 1 voxel", withCt ? "with" : "without",
            (long long)painted, (long long)inside);
      QVERIFY(painted > 0);
      QVERIFY(inside >= 0.98 * painted);
    }
  }
};

QTEST_APPLESS_MAIN(PostPhantom)
#include "tst_post_phantom.moc"
