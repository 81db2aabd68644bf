// The synthetic phantom: determinism, anatomy where it belongs, HU per phase
// inside each structure, vessels and ureters that never touch, all-or-nothing
// writing.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>

#include "TestSupport.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"

using namespace nephro;
namespace L = nephro::phantom_label;
namespace fs = std::filesystem;

namespace {

bool identical(const Volume& a, const Volume& b) {
  return a.geometry() == b.geometry() && a.pixelType() == b.pixelType() &&
         std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

// Voxels of `label` whose 6 neighbours (up to `depth` steps away) all share it.
std::vector<int64_t> interior(const Volume& labels, uint8_t label, int depth) {
  const Geometry& g = labels.geometry();
  const uint8_t* l = labels.data<uint8_t>();
  std::vector<int64_t> out;
  for (int64_t k = depth; k < g.size[2] - depth; ++k)
    for (int64_t j = depth; j < g.size[1] - depth; ++j)
      for (int64_t i = depth; i < g.size[0] - depth; ++i) {
        if (l[g.offset(i, j, k)] != label) continue;
        bool in = true;
        for (int s = 1; s <= depth && in; ++s)
          in = l[g.offset(i - s, j, k)] == label && l[g.offset(i + s, j, k)] == label &&
               l[g.offset(i, j - s, k)] == label && l[g.offset(i, j + s, k)] == label &&
               l[g.offset(i, j, k - s)] == label && l[g.offset(i, j, k + s)] == label;
        if (in) out.push_back(g.offset(i, j, k));
      }
  return out;
}

double median(const Volume& ct, const std::vector<int64_t>& voxels) {
  std::vector<int16_t> v;
  const int16_t* p = ct.data<int16_t>();
  for (int64_t n : voxels) v.push_back(p[n]);
  if (v.empty()) return NAN;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

Vec3 centroidMm(const Volume& labels, uint8_t label) {
  const Geometry& g = labels.geometry();
  const uint8_t* l = labels.data<uint8_t>();
  Vec3 sum{0, 0, 0};
  int64_t n = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (l[g.offset(i, j, k)] == label) {
          const Vec3 p = g.indexToPhysical({double(i), double(j), double(k)});
          for (int d = 0; d < 3; ++d) sum[d] += p[d];
          ++n;
        }
  return {sum[0] / n, sum[1] / n, sum[2] / n};
}

// Number of 26-neighbour contacts between any label of `a` and any of `b`.
int64_t contacts(const Volume& labels, const std::set<int>& a, const std::set<int>& b) {
  const Geometry& g = labels.geometry();
  const uint8_t* l = labels.data<uint8_t>();
  int64_t count = 0;
  for (int64_t k = 1; k < g.size[2] - 1; ++k)
    for (int64_t j = 1; j < g.size[1] - 1; ++j)
      for (int64_t i = 1; i < g.size[0] - 1; ++i) {
        if (!a.count(l[g.offset(i, j, k)])) continue;
        for (int dk = -1; dk <= 1; ++dk)
          for (int dj = -1; dj <= 1; ++dj)
            for (int di = -1; di <= 1; ++di)
              if (b.count(l[g.offset(i + di, j + dj, k + dk)])) ++count;
      }
  return count;
}

}  // namespace

class TestPhantom : public QObject {
  Q_OBJECT
  PhantomCase p_;

 private slots:
  void initTestCase() {
    PhantomOptions o;
    o.seed = 3;
    p_ = generatePhantom(o);
  }

  void deterministicPerSeed() {
    PhantomOptions o;
    o.seed = 3;
    PhantomCase again = generatePhantom(o);
    QVERIFY(identical(again.arterial, p_.arterial));
    QVERIFY(identical(again.portal, p_.portal));
    QVERIFY(identical(again.delayed, p_.delayed));
    QVERIFY(identical(again.labels, p_.labels));
    // Another seed is another patient: other noise and other anatomy.
    o.seed = 4;
    PhantomCase other = generatePhantom(o);
    QVERIFY(!identical(other.arterial, p_.arterial));
    QVERIFY(!identical(other.labels, p_.labels));
  }

  void gridAndTypes() {
    const Geometry& g = p_.arterial.geometry();
    QCOMPARE(g.size, (Index3{128, 128, 96}));
    QCOMPARE(p_.arterial.pixelType(), PixelType::Int16);
    QCOMPARE(p_.labels.pixelType(), PixelType::UInt8);
    QVERIFY(p_.portal.geometry() == g && p_.delayed.geometry() == g && p_.labels.geometry() == g);
    PhantomOptions full;
    full.size = PhantomSize::Full;
    const Geometry fg = phantomGeometry(full);
    QCOMPARE(fg.size, (Index3{512, 512, 300}));
    QCOMPARE(fg.spacing[0], 0.78125);
  }

  void everyLabelPresentAndCovered() {
    auto counts = labelVoxelCounts(p_.labels);
    QCOMPARE(int(counts.size()), int(L::Count));
    for (int v = 1; v < L::Count; ++v) QVERIFY2(counts[v] > 20, p_.table.find(v)->name.c_str());
    p_.table.checkCovers(p_.labels, "phantom");
    QCOMPARE(p_.table.find(L::KidneyLeft)->name, std::string("kidney_left"));
    // Kidney volumes are plausible for the small grid's anatomy scale (0.8).
    const double mlPerVoxel = p_.labels.geometry().voxelVolumeMm3() / 1000.0;
    for (int v : {int(L::KidneyLeft), int(L::KidneyRight)}) {
      const double ml = counts[v] * mlPerVoxel;
      QVERIFY2(ml > 40 && ml < 110, std::to_string(ml).c_str());
    }
  }

  void anatomyWhereItBelongs() {
    // LPS: +x is the patient's left, +y posterior, +z superior.
    const Vec3 kl = centroidMm(p_.labels, L::KidneyLeft), kr = centroidMm(p_.labels, L::KidneyRight);
    QVERIFY(kl[0] > 40 && kr[0] < -40);
    QVERIFY(kl[1] > 0 && kr[1] > 0);  // retroperitoneal: posterior half
    const Vec3 liver = centroidMm(p_.labels, L::Liver), spleen = centroidMm(p_.labels, L::Spleen);
    QVERIFY(liver[0] < 0 && spleen[0] > 0);
    QVERIFY(liver[2] > kr[2] && spleen[2] > kl[2]);
    const Vec3 aorta = centroidMm(p_.labels, L::Aorta), ivc = centroidMm(p_.labels, L::InferiorVenaCava);
    QVERIFY(aorta[0] > ivc[0]);  // aorta left of the IVC
    const Vec3 bladder = centroidMm(p_.labels, L::UrinaryBladder);
    QVERIFY(bladder[2] < kl[2] - 80 && bladder[2] < kr[2] - 80);
    const Vec3 spine = centroidMm(p_.labels, L::Vertebrae);
    QVERIFY(spine[1] > aorta[1]);  // spine behind the aorta
    // The tumour sits on the left kidney only; ureters join pelvis to bladder;
    // renal arteries reach the aorta and the kidneys; renal veins the IVC.
    QVERIFY(contacts(p_.labels, {L::Tumor}, {L::KidneyLeft}) > 0);
    QCOMPARE(contacts(p_.labels, {L::Tumor}, {L::KidneyRight}), int64_t(0));
    QVERIFY(contacts(p_.labels, {L::UreterLeft}, {L::KidneyLeft}) > 0);
    QVERIFY(contacts(p_.labels, {L::UreterRight}, {L::KidneyRight}) > 0);
    QVERIFY(contacts(p_.labels, {L::UreterLeft}, {L::UrinaryBladder}) > 0);
    QVERIFY(contacts(p_.labels, {L::UreterRight}, {L::UrinaryBladder}) > 0);
    QVERIFY(contacts(p_.labels, {L::Artery}, {L::Aorta}) > 0);
    QVERIFY(contacts(p_.labels, {L::Artery}, {L::KidneyLeft}) > 0);
    QVERIFY(contacts(p_.labels, {L::Artery}, {L::KidneyRight}) > 0);
    QVERIFY(contacts(p_.labels, {L::Vein}, {L::InferiorVenaCava}) > 0);
    QVERIFY(contacts(p_.labels, {L::PerirenalFatLeft}, {L::KidneyLeft}) > 0);
    QVERIFY(contacts(p_.labels, {L::IliacArteryLeft}, {L::Aorta}) > 0);
  }

  void vesselsAndUretersNeverTouch_data() {
    QTest::addColumn<int>("seed");
    for (int s : {1, 2, 5, 11}) QTest::newRow(std::to_string(s).c_str()) << s;
  }
  void vesselsAndUretersNeverTouch() {
    QFETCH(int, seed);
    PhantomOptions o;
    o.seed = static_cast<uint64_t>(seed);
    PhantomCase p = generatePhantom(o);
    const std::set<int> arteries{L::Artery, L::Aorta, L::IliacArteryLeft, L::IliacArteryRight};
    const std::set<int> veins{L::Vein, L::InferiorVenaCava};
    const std::set<int> ureters{L::UreterLeft, L::UreterRight};
    QCOMPARE(contacts(p.labels, arteries, veins), int64_t(0));
    QCOMPARE(contacts(p.labels, arteries, ureters), int64_t(0));
    QCOMPARE(contacts(p.labels, veins, ureters), int64_t(0));
  }

  void huPerPhase() {
    struct Expect {
      uint8_t label;
      int depth;
      double lo[3], hi[3];  // A, P, D
    };
    const Expect expect[] = {
        {L::Aorta, 1, {300, 130, 60}, {400, 200, 130}},
        {L::InferiorVenaCava, 1, {60, 140, 70}, {130, 200, 140}},
        {L::Liver, 2, {55, 100, 75}, {95, 140, 110}},
        {L::Spleen, 2, {100, 110, 80}, {140, 150, 120}},
        {L::PerirenalFatLeft, 1, {-125, -125, -125}, {-70, -70, -70}},
        {L::SubcutaneousFat, 1, {-130, -130, -130}, {-80, -80, -80}},
        {L::Vertebrae, 1, {300, 300, 300}, {420, 420, 420}},
        {L::UrinaryBladder, 2, {-10, -10, 250}, {30, 30, 350}},
    };
    const Volume* phases[3] = {&p_.arterial, &p_.portal, &p_.delayed};
    for (const Expect& e : expect) {
      const auto voxels = interior(p_.labels, e.label, e.depth);
      QVERIFY2(voxels.size() > 10, p_.table.find(e.label)->name.c_str());
      for (int ph = 0; ph < 3; ++ph) {
        const double m = median(*phases[ph], voxels);
        const std::string what = p_.table.find(e.label)->name + " phase " + "APD"[ph] + " median " + std::to_string(m);
        QVERIFY2(m >= e.lo[ph] && m <= e.hi[ph], what.c_str());
      }
    }
    // Thin structures, whole label: bright in their own phase only.
    auto all = [&](uint8_t label) { return interior(p_.labels, label, 0); };
    QVERIFY(median(p_.arterial, all(L::Artery)) > 180);
    QVERIFY(median(p_.delayed, all(L::Artery)) < 130);
    QVERIFY(median(p_.delayed, all(L::UreterLeft)) > 220);
    QVERIFY(median(p_.arterial, all(L::UreterLeft)) < 80);
    QVERIFY(median(p_.portal, all(L::Vein)) > 90);
    QVERIFY(median(p_.portal, all(L::Vein)) > median(p_.arterial, all(L::Vein)) + 15);
    // Cortex enhances in A, medulla does not yet; in P both are alike.
    const auto rim = interior(p_.labels, L::KidneyRight, 1), core = interior(p_.labels, L::KidneyRight, 4);
    std::vector<int64_t> cortex;
    std::set<int64_t> coreSet(core.begin(), core.end());
    const auto inner2 = interior(p_.labels, L::KidneyRight, 2);
    std::set<int64_t> inner2Set(inner2.begin(), inner2.end());
    for (int64_t n : rim)
      if (!inner2Set.count(n)) cortex.push_back(n);
    QVERIFY(core.size() > 10 && cortex.size() > 10);
    QVERIFY(median(p_.arterial, cortex) - median(p_.arterial, core) > 40);
    QVERIFY(std::abs(median(p_.portal, cortex) - median(p_.portal, core)) < 40);
  }

  void misregistrationShiftsLaterPhases() {
    PhantomOptions o;
    o.seed = 3;
    o.misregistrationMm = 4.0;
    PhantomCase shifted = generatePhantom(o);
    QVERIFY(identical(shifted.labels, p_.labels));      // ground truth stays in A's space
    QVERIFY(identical(shifted.arterial, p_.arterial));  // A is the reference
    QVERIFY(!identical(shifted.portal, p_.portal));
  }

  void writesAllOrNothing() {
    const std::string dir = test::scratchDir("phantom-write");
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    Progress progress([cancel](double, const std::string& stage) {
      if (stage.find("phantom_D") != std::string::npos) cancel->store(true);
    }, cancel);
    try {
      writePhantom(p_, dir, progress);
      QFAIL("expected cancellation");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Cancelled);
    }
    QCOMPARE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 0);
    writePhantom(p_, dir);
    for (const char* f : {"phantom_A.nii.gz", "phantom_P.nii.gz", "phantom_D.nii.gz", "phantom_labels.nii.gz",
                          "phantom_labels.json"})
      QVERIFY2(fs::exists(dir + "/" + f), f);
    QVERIFY(identical(readVolume(dir + "/phantom_labels.nii.gz"), p_.labels));
    QVERIFY(identical(readVolume(dir + "/phantom_D.nii.gz"), p_.delayed));
    QCOMPARE(LabelTable::readSidecar(dir + "/phantom_labels.nii.gz").size(), p_.table.size());
  }

  void commandLine() {
    const std::string dir = test::scratchDir("phantom-cli");
    std::string log;
    QCOMPARE(test::runNephro3d("phantom --out '" + dir + "' --seed 3 --quiet", &log), 0);
    QVERIFY(identical(readVolume(dir + "/phantom_A.nii.gz"), p_.arterial));
    QCOMPARE(test::runNephro3d("info '" + dir + "/phantom_labels.nii.gz'", &log), 0);
    QVERIFY(log.find("kidney_left") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestPhantom)
#include "test_phantom.moc"
