// The realistic vessel tree of the phantom (PhantomOptions::realisticVessels):
// deterministic by seed, calibres in their classes and varying along the
// vessel, contrast falling off distally, plaque and stents bright in every
// phase, peristaltic ureters, and the rest of the anatomy as the simple phantom's.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <vector>

#include "phantom/Phantom.h"

using namespace nephro;
namespace L = nephro::phantom_label;

namespace {

bool identical(const Volume& a, const Volume& b) {
  return a.geometry() == b.geometry() && a.pixelType() == b.pixelType() &&
         std::memcmp(a.raw(), b.raw(), static_cast<size_t>(a.byteSize())) == 0;
}

int64_t countOf(const Volume& labels, int value) {
  const uint8_t* p = labels.data<uint8_t>();
  return std::count(p, p + labels.voxelCount(), static_cast<uint8_t>(value));
}

// Voxels of `a` with a 26-neighbour in `b`.
int64_t contacts(const Volume& labels, const std::set<int>& a, const std::set<int>& b) {
  const Geometry& g = labels.geometry();
  const uint8_t* p = labels.data<uint8_t>();
  int64_t n = 0;
  for (int64_t k = 1; k + 1 < g.size[2]; ++k)
    for (int64_t j = 1; j + 1 < g.size[1]; ++j)
      for (int64_t i = 1; i + 1 < g.size[0]; ++i) {
        if (!a.count(p[g.offset(i, j, k)])) continue;
        bool touch = false;
        for (int dz = -1; dz <= 1 && !touch; ++dz)
          for (int dy = -1; dy <= 1 && !touch; ++dy)
            for (int dx = -1; dx <= 1 && !touch; ++dx) touch = b.count(p[g.offset(i + dx, j + dy, k + dz)]) > 0;
        n += touch;
      }
  return n;
}

// Equivalent diameter (mm) of a label's cross-section in axial slice k.
double axialDiameterMm(const Volume& labels, int value, int64_t k) {
  const Geometry& g = labels.geometry();
  const uint8_t* p = labels.data<uint8_t>();
  int64_t n = 0;
  for (int64_t j = 0; j < g.size[1]; ++j)
    for (int64_t i = 0; i < g.size[0]; ++i) n += p[g.offset(i, j, k)] == value;
  return 2.0 * std::sqrt(n * g.spacing[0] * g.spacing[1] / M_PI);
}

PhantomOptions realistic(uint64_t seed, bool fine) {
  PhantomOptions o;
  o.seed = seed;
  o.realisticVessels = true;
  o.noiseSigmaHu = 20.0;
  if (fine) {
    o.dimensions = Index3{256, 256, 192};
    o.spacing = Vec3{1.25, 1.25, 1.5};
  }
  return o;
}

}  // namespace

class TestPhantomVessels : public QObject {
  Q_OBJECT
  PhantomCase fine_;

 private slots:
  void initTestCase() { fine_ = generatePhantom(realistic(2, true)); }

  void deterministicPerSeed() {
    const PhantomCase a = generatePhantom(realistic(5, false)), b = generatePhantom(realistic(5, false));
    QVERIFY(identical(a.labels, b.labels));
    QVERIFY(identical(a.arterial, b.arterial));
    QVERIFY(identical(a.delayed, b.delayed));
    const PhantomCase c = generatePhantom(realistic(6, false));
    QVERIFY(!identical(a.labels, c.labels));
  }

  void restOfTheAnatomyIsTheSimplePhantoms() {
    PhantomOptions simple;
    simple.seed = 5;
    const PhantomCase s = generatePhantom(simple), r = generatePhantom(realistic(5, false));
    for (int v : {int(L::Spleen), int(L::InferiorVenaCava), int(L::Vein), int(L::Vertebrae)})
      QCOMPARE(countOf(r.labels, v), countOf(s.labels, v));
    // The vessel tree differs.
    QVERIFY(countOf(r.labels, L::Aorta) != countOf(s.labels, L::Aorta));
  }

  void vesselsAndUretersNeverTouch_data() {
    QTest::addColumn<int>("seed");
    for (int s : {1, 2, 5, 11}) QTest::newRow(std::to_string(s).c_str()) << s;
  }
  void vesselsAndUretersNeverTouch() {
    QFETCH(int, seed);
    const PhantomCase p = generatePhantom(realistic(static_cast<uint64_t>(seed), false));
    const std::set<int> arteries{L::Artery, L::Aorta, L::IliacArteryLeft, L::IliacArteryRight};
    const std::set<int> veins{L::Vein, L::InferiorVenaCava};
    const std::set<int> ureters{L::UreterLeft, L::UreterRight};
    QCOMPARE(contacts(p.labels, arteries, veins), int64_t(0));
    QCOMPARE(contacts(p.labels, arteries, ureters), int64_t(0));
    QCOMPARE(contacts(p.labels, veins, ureters), int64_t(0));
    for (int v = 1; v < L::Count; ++v) QVERIFY2(countOf(p.labels, v) > 20, std::to_string(v).c_str());
  }

  void aortaCalibreVariesWithinItsClass() {
    // Axial slices where the aorta runs almost vertically (well above the bifurcation).
    const Geometry& g = fine_.labels.geometry();
    double lo = 1e9, hi = 0;
    for (int64_t k = 0; k < g.size[2]; ++k) {
      const double z = g.indexToPhysical({0, 0, double(k)})[2];
      if (z < -20 || z > 120) continue;
      const double d = axialDiameterMm(fine_.labels, L::Aorta, k);
      if (d <= 0) continue;
      lo = std::min(lo, d);
      hi = std::max(hi, d);
    }
    qInfo("aorta equivalent diameter %.1f..%.1f mm", lo, hi);
    QVERIFY(lo >= 15.0 && hi <= 26.0);
    QVERIFY(hi - lo >= 1.5);
  }

  void uretersNarrowPeristaltically() {
    // Axial cross-sections of the left ureter on its way down: narrow waves.
    const Geometry& g = fine_.labels.geometry();
    std::vector<double> d;
    for (int64_t k = 0; k < g.size[2]; ++k) {
      const double di = axialDiameterMm(fine_.labels, L::UreterLeft, k);
      if (di > 0) d.push_back(di);
    }
    QVERIFY(d.size() > 40);
    std::vector<double> inner(d.begin() + d.size() / 6, d.end() - d.size() / 6);
    std::sort(inner.begin(), inner.end());
    const double narrow = inner[inner.size() / 20], typical = inner[inner.size() / 2];
    qInfo("left ureter axial diameter: 5th percentile %.2f mm, median %.2f mm", narrow, typical);
    QVERIFY(narrow < 0.8 * typical);
  }

  void plaqueAndStentsAreBrightInEveryPhase() {
    const uint8_t* l = fine_.labels.data<uint8_t>();
    const int16_t* a = fine_.arterial.data<int16_t>();
    const int16_t* d = fine_.delayed.data<int16_t>();
    int64_t bright = 0, brightOutsideArteries = 0;
    int maxHu = 0;
    for (int64_t v = 0; v < fine_.labels.voxelCount(); ++v) {
      if (d[v] < 1000 || a[v] < 1000) continue;
      const bool artery = l[v] == L::Artery || l[v] == L::Aorta || l[v] == L::IliacArteryLeft || l[v] == L::IliacArteryRight;
      bright += artery;
      brightOutsideArteries += !artery && l[v] != 0 && l[v] != L::Vertebrae;
      maxHu = std::max<int>(maxHu, d[v]);
    }
    qInfo("artery voxels above 1000 HU in A and D: %lld (max %d HU)", (long long)bright, maxHu);
    QVERIFY(bright > 30);
    QVERIFY(maxHu <= 3071);
  }

  void contrastFallsOffDistally() {
    // Mean arterial-phase HU of the aorta's upper third against the iliacs' lower third.
    const Geometry& g = fine_.labels.geometry();
    const uint8_t* l = fine_.labels.data<uint8_t>();
    const int16_t* a = fine_.arterial.data<int16_t>();
    double aortaSum = 0, iliacSum = 0;
    int64_t aortaN = 0, iliacN = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) {
          const int64_t v = g.offset(i, j, k);
          if (a[v] > 1000) continue;
          if (l[v] == L::Aorta && k > 2 * g.size[2] / 3) aortaSum += a[v], ++aortaN;
          if ((l[v] == L::IliacArteryLeft || l[v] == L::IliacArteryRight) && k < g.size[2] / 6) iliacSum += a[v], ++iliacN;
        }
    QVERIFY(aortaN > 100 && iliacN > 100);
    qInfo("arterial HU: upper aorta %.0f, distal iliacs %.0f", aortaSum / aortaN, iliacSum / iliacN);
    QVERIFY(iliacSum / iliacN < aortaSum / aortaN - 20);
  }
};

QTEST_APPLESS_MAIN(TestPhantomVessels)
#include "test_phantom_vessels.moc"
