// Geometry round trips through every written format, pixel types kept,
// crops and resampling placed exactly, atomic writes.
#include <QtTest>

#include <cmath>
#include <filesystem>

#include "TestSupport.h"
#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "image/Crop.h"
#include "image/Resample.h"
#include "image/VolumeIO.h"

using namespace nephro;
namespace fs = std::filesystem;

namespace {
// An oblique, anisotropic grid: a rotation about an arbitrary axis.
Geometry obliqueGeometry() {
  Geometry g;
  g.size = {23, 17, 11};
  g.spacing = {0.7, 0.9, 2.5};
  g.origin = {-101.25, 33.5, 12.75};
  const double a = 0.3, b = -0.2;
  // Rz(a) * Rx(b)
  const double ca = std::cos(a), sa = std::sin(a), cb = std::cos(b), sb = std::sin(b);
  g.direction = {ca, -sa * cb, sa * sb, sa, ca * cb, -ca * sb, 0, sb, cb};
  return g;
}

template <class T>
Volume pattern(const Geometry& g) {
  Volume v(g, pixelTypeOf<T>());
  T* p = v.data<T>();
  for (int64_t n = 0; n < v.voxelCount(); ++n) p[n] = static_cast<T>((n * 37) % 251 - (std::is_signed<T>::value ? 120 : 0));
  return v;
}

bool sameVoxels(const Volume& a, const Volume& b) {
  return a.pixelType() == b.pixelType() && a.byteSize() == b.byteSize() &&
         std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

// NIfTI stores its sform in float32: geometry survives to float precision.
bool geometryWithinFloat(const Geometry& a, const Geometry& b) {
  if (a.size != b.size) return false;
  for (int i = 0; i < 3; ++i) {
    if (std::abs(a.spacing[i] - b.spacing[i]) > 1e-6 * a.spacing[i]) return false;
    if (std::abs(a.origin[i] - b.origin[i]) > 1e-4) return false;
  }
  for (int i = 0; i < 9; ++i)
    if (std::abs(a.direction[i] - b.direction[i]) > 1e-6) return false;
  return true;
}
}  // namespace

class TestVolumeIO : public QObject {
  Q_OBJECT
 private slots:
  void roundTripExactFormats_data() {
    QTest::addColumn<QString>("ext");
    QTest::newRow("nrrd") << ".nrrd";
    QTest::newRow("mha") << ".mha";
  }
  void roundTripExactFormats() {
    QFETCH(QString, ext);
    const std::string dir = test::scratchDir("io-exact");
    const Geometry g = obliqueGeometry();
    for (Volume v : {pattern<int16_t>(g), pattern<uint8_t>(g), pattern<uint16_t>(g), pattern<float>(g)}) {
      const std::string path = dir + "/v_" + toString(v.pixelType()) + ext.toStdString();
      writeVolume(v, path);
      Volume back = readVolume(path);
      QCOMPARE(back.pixelType(), v.pixelType());
      QVERIFY2(back.geometry() == g, (back.geometry().describe() + " vs " + g.describe()).c_str());
      QVERIFY(sameVoxels(back, v));
    }
  }

  void roundTripNifti_data() {
    QTest::addColumn<QString>("ext");
    QTest::newRow("nii") << ".nii";
    QTest::newRow("nii.gz") << ".nii.gz";
  }
  void roundTripNifti() {
    QFETCH(QString, ext);
    const std::string dir = test::scratchDir("io-nifti");
    const Geometry g = obliqueGeometry();
    for (Volume v : {pattern<int16_t>(g), pattern<uint8_t>(g), pattern<uint16_t>(g)}) {
      const std::string path = dir + "/v_" + toString(v.pixelType()) + ext.toStdString();
      writeVolume(v, path);
      Volume back = readVolume(path);
      QCOMPARE(back.pixelType(), v.pixelType());
      QVERIFY2(geometryWithinFloat(back.geometry(), g), (back.geometry().describe() + " vs " + g.describe()).c_str());
      QVERIFY(sameVoxels(back, v));
    }
  }

  void niftiStreamingMatchesItkReader() {
    const std::string dir = test::scratchDir("io-nifti-direct");
    const Geometry g = obliqueGeometry();
    for (Volume v : {pattern<int16_t>(g), pattern<uint8_t>(g), pattern<float>(g)}) {
      for (const char* ext : {".nii", ".nii.gz"}) {
        const std::string path = dir + "/v_" + toString(v.pixelType()) + ext;
        writeVolume(v, path);
        ReadOptions itkOnly;
        itkOnly.forceItkReader = true;
        Volume direct = readVolume(path), viaItk = readVolume(path, itkOnly);
        QVERIFY(direct.geometry() == viaItk.geometry());
        QVERIFY(sameVoxels(direct, viaItk));
        QVERIFY(sameVoxels(direct, v));
      }
    }
  }

  void headerOnlyInfo() {
    const std::string dir = test::scratchDir("io-info");
    const Geometry g = obliqueGeometry();
    writeVolume(pattern<int16_t>(g), dir + "/ct.nrrd");
    ImageInfo info = readImageInfo(dir + "/ct.nrrd");
    QCOMPARE(info.format, std::string("NRRD"));
    QCOMPARE(info.pixelType, PixelType::Int16);
    QVERIFY(info.geometry == g);
  }

  void atomicWriteLeavesNoTemporary() {
    const std::string dir = test::scratchDir("io-atomic");
    Geometry g;
    g.size = {4, 4, 4};
    writeVolume(pattern<int16_t>(g), dir + "/a.nii.gz");
    int files = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      ++files;
      QVERIFY(e.path().filename().string().rfind(".partial", 0) != 0);
    }
    QCOMPARE(files, 1);
    // Unsupported format: error names the file, nothing is left behind.
    try {
      writeVolume(pattern<int16_t>(g), dir + "/a.png");
      QFAIL("expected an output error");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Output);
      QVERIFY(std::string(e.what()).find("a.png") != std::string::npos);
    }
    QVERIFY(!fs::exists(dir + "/a.png"));
    QCOMPARE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
  }

  void transactionRollsBack() {
    const std::string dir = test::scratchDir("io-rollback");
    {
      OutputTransaction tx;
      const std::string t1 = tx.stage(dir + "/one.json");
      FILE* f = std::fopen(t1.c_str(), "w");
      std::fputs("{}", f);
      std::fclose(f);
      QVERIFY(fs::exists(t1));
      // No commit: the destructor removes the temporary.
    }
    QCOMPARE(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 0);
  }

  void cropKeepsPhysicalPlacement() {
    const Geometry g = obliqueGeometry();
    Volume v = pattern<int16_t>(g);
    Box box{{3, 4, 2}, {10, 12, 7}};
    Volume c = crop(v, box);
    QCOMPARE(c.geometry().size, (Index3{7, 8, 5}));
    // Voxel (0,0,0) of the crop is voxel (3,4,2) of the source, in value and position.
    QCOMPARE(c.valueAt(0, 0, 0), v.valueAt(3, 4, 2));
    const Vec3 p = c.geometry().indexToPhysical({1, 2, 3});
    const Vec3 q = g.indexToPhysical({4, 6, 5});
    for (int d = 0; d < 3; ++d) QVERIFY(std::abs(p[d] - q[d]) < 1e-9);
    Volume back(g, PixelType::Int16);
    paste(c, box, back);
    QCOMPARE(back.valueAt(9, 11, 6), v.valueAt(9, 11, 6));
    QCOMPARE(back.valueAt(2, 4, 2), 0.0);
  }

  void boundingBoxOfLabels() {
    Geometry g;
    g.size = {10, 10, 10};
    Volume m(g, PixelType::UInt8);
    m.data<uint8_t>()[g.offset(2, 3, 4)] = 1;
    m.data<uint8_t>()[g.offset(7, 5, 6)] = 2;
    Box all = boundingBox(m);
    QCOMPARE(all.begin, (Index3{2, 3, 4}));
    QCOMPARE(all.end, (Index3{8, 6, 7}));
    Box two = boundingBox(m, {2});
    QCOMPARE(two.begin, (Index3{7, 5, 6}));
    QVERIFY(boundingBox(m, {3}).empty());
  }

  void resampleToSameGridIsIdentity() {
    const Geometry g = obliqueGeometry();
    Volume v = pattern<int16_t>(g);
    Volume r = resampleToGrid(v, g, Interpolation::Linear);
    QVERIFY(sameVoxels(r, v));
    // Onto a coarser grid over the same box and back with nearest neighbour:
    // the box stays where it was.
    Geometry coarse = regridWithSpacing(g, {1.4, 1.8, 5.0});
    const Vec3 corner = g.indexToPhysical({-0.5, -0.5, -0.5});
    const Vec3 corner2 = coarse.indexToPhysical({-0.5, -0.5, -0.5});
    for (int d = 0; d < 3; ++d) QVERIFY(std::abs(corner[d] - corner2[d]) < 1e-9);
    Volume down = resampleToGrid(v, coarse, Interpolation::Nearest);
    QVERIFY(down.geometry() == coarse);
    QVERIFY(gridsOverlap(g, coarse));
    Geometry far = g;
    far.origin[0] += 1000.0;
    QVERIFY(!gridsOverlap(g, far));
  }

  void castRoundsAndClamps() {
    Geometry g;
    g.size = {4, 1, 1};
    Volume f(g, PixelType::Float32);
    float* p = f.data<float>();
    p[0] = 1.5f;
    p[1] = -2.5f;
    p[2] = 70000.f;
    p[3] = -1e9f;
    Volume s = castVolume(f, PixelType::Int16);
    QCOMPARE(s.valueAt(0, 0, 0), 2.0);   // half to even
    QCOMPARE(s.valueAt(1, 0, 0), -2.0);  // half to even
    QCOMPARE(s.valueAt(2, 0, 0), 32767.0);
    QCOMPARE(s.valueAt(3, 0, 0), -32768.0);
  }
};

QTEST_APPLESS_MAIN(TestVolumeIO)
#include "test_volume_io.moc"
