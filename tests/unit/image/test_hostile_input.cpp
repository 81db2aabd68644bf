// Hostile and damaged inputs, each generated here: every one is refused through
// the real `nephro3d info` with exit 3 and one line naming the file and the
// problem, never crashes, and (under strace, when available) never opens a
// file outside the input's folder.
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "DicomSeriesWriter.h"
#include "TestSupport.h"
#include "common/Error.h"
#include "image/DicomScan.h"
#include "image/VolumeIO.h"

using namespace nephro;
namespace fs = std::filesystem;

namespace {

std::string readBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

Volume noiseCt(Index3 size) {
  Geometry g;
  g.size = size;
  g.spacing = {0.8, 0.8, 2.5};
  g.origin = {-10, 20, -120};
  Volume v(g, PixelType::Int16);
  int16_t* p = v.data<int16_t>();
  uint32_t x = 777;
  for (int64_t n = 0; n < v.voxelCount(); ++n) p[n] = static_cast<int16_t>(((x = x * 1103515245u + 12345u) >> 20) - 1000);
  return v;
}

template <class T>
void patch(std::string& bytes, size_t offset, T value) {
  std::memcpy(&bytes[offset], &value, sizeof(T));
}

bool straceAvailable() { return std::system("strace -V > /dev/null 2>&1") == 0; }

// Runs nephro3d under strace and returns every path it tried to open.
std::string tracedOpens(const std::string& args, int* code) {
  const std::string log = std::string(NEPHRO3D_BINARY_DIR) + "/test-scratch/strace-" + std::to_string(::getpid()) + ".log";
  const std::string cmd = "strace -f -qq -e trace=open,openat,openat2,creat -o '" + log + "' " +
                          test::nephro3dBinary() + " " + args + " > /dev/null 2>&1";
  const int status = std::system(cmd.c_str());
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return readBytes(log);
}

}  // namespace

class TestHostileInput : public QObject {
  Q_OBJECT
  std::string dir_;
  std::string secret_;                        // a file outside every input folder
  std::map<std::string, std::string> cases_;  // name -> path
  std::map<std::string, std::string> expect_; // name -> part of the message

  void add(const std::string& name, const std::string& path, const std::string& expected) {
    cases_[name] = path;
    expect_[name] = expected;
  }

  void makeNifti() {
    const std::string nii = dir_ + "/nifti";
    fs::create_directories(nii);
    writeVolume(noiseCt({24, 20, 16}), nii + "/good.nii");
    const std::string good = readBytes(nii + "/good.nii");
    auto variant = [&](const std::string& name, const std::string& expected, auto edit) {
      std::string b = good;
      edit(b);
      writeBytes(nii + "/" + name + ".nii", b);
      add("nifti " + name, nii + "/" + name + ".nii", expected);
    };
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    variant("sizeof_hdr", "sizeof_hdr", [](std::string& b) { patch<int32_t>(b, 0, 350); });
    variant("zero_spacing", "zero voxel spacing", [](std::string& b) { patch<float>(b, 80, 0.0f); });
    variant("negative_spacing", "negative voxel spacing", [](std::string& b) { patch<float>(b, 84, -1.5f); });
    variant("nan_spacing", "not finite", [&](std::string& b) { patch<float>(b, 88, nan); });
    variant("nan_qform", "qform", [&](std::string& b) {
      patch<int16_t>(b, 252, 1);
      patch<float>(b, 260, nan);
    });
    variant("inf_qoffset", "qform", [&](std::string& b) {
      patch<int16_t>(b, 252, 1);
      patch<float>(b, 272, inf);
    });
    variant("nan_sform", "sform", [&](std::string& b) {
      patch<int16_t>(b, 254, 1);
      patch<float>(b, 280, nan);
    });
    variant("singular_sform", "singular", [&](std::string& b) {
      patch<int16_t>(b, 254, 1);
      for (int i = 0; i < 12; ++i) patch<float>(b, 280 + 4 * i, 0.0f);
    });
    variant("zero_dim", "invalid size", [](std::string& b) { patch<int16_t>(b, 44, 0); });
    variant("negative_dim", "invalid size", [](std::string& b) { patch<int16_t>(b, 46, -20); });
    variant("dim0", "number of dimensions", [](std::string& b) { patch<int16_t>(b, 40, 9); });
    variant("no_magic", "magic", [](std::string& b) { std::memcpy(&b[344], "xyz", 3); });

    // gzip integrity: a wrong CRC, and a trailer cut off.
    writeVolume(noiseCt({24, 20, 16}), nii + "/good.nii.gz");
    const std::string gz = readBytes(nii + "/good.nii.gz");
    std::string badCrc = gz;
    badCrc[badCrc.size() - 8] = static_cast<char>(badCrc[badCrc.size() - 8] ^ 0x5a);
    writeBytes(nii + "/bad_crc.nii.gz", badCrc);
    add("gzip bad CRC", nii + "/bad_crc.nii.gz", "CRC");
    writeBytes(nii + "/no_trailer.nii.gz", gz.substr(0, gz.size() - 8));
    add("gzip no trailer", nii + "/no_trailer.nii.gz", "trailer");
    std::string badSize = gz;
    badSize[badSize.size() - 3] = static_cast<char>(badSize[badSize.size() - 3] ^ 0x01);
    writeBytes(nii + "/bad_isize.nii.gz", badSize);
    add("gzip bad size", nii + "/bad_isize.nii.gz", "");
  }

  void makeDetached() {
    // The secret lies beside the input folders, never inside one.
    secret_ = dir_ + "/secret.raw";
    writeBytes(secret_, std::string(2 * 4 * 4 * 4, '\x07'));
    const std::string d = dir_ + "/detached";
    fs::create_directories(d);
    writeBytes(d + "/inside.raw", std::string(2 * 4 * 4 * 4, '\x01'));
    auto nhdr = [&](const std::string& name, const std::string& dataFile) {
      writeBytes(d + "/" + name, "NRRD0004\ntype: short\ndimension: 3\nsizes: 4 4 4\nspacings: 1 1 1\nencoding: raw\n"
                                 "endian: little\ndata file: " + dataFile + "\n\n");
      return d + "/" + name;
    };
    auto mhd = [&](const std::string& name, const std::string& dataFile) {
      writeBytes(d + "/" + name, "ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementSpacing = 1 1 1\n"
                                 "ElementType = MET_SHORT\nElementDataFile = " + dataFile + "\n");
      return d + "/" + name;
    };
    add("nrrd dotdot", nhdr("dotdot.nhdr", "../secret.raw"), "outside its folder");
    add("nrrd absolute", nhdr("absolute.nhdr", secret_), "outside its folder");
    fs::create_symlink(secret_, d + "/link.raw");
    add("nrrd symlink", nhdr("symlink.nhdr", "link.raw"), "outside its folder");
    add("nrrd list", nhdr("list.nhdr", "LIST"), "outside its folder");
    writeBytes(d + "/list.nhdr", readBytes(d + "/list.nhdr") + "inside.raw\n../secret.raw\n");
    add("nrrd pattern", nhdr("pattern.nhdr", "../secr%d.raw 1 1 1"), "outside its folder");
    add("nrrd bad pattern", nhdr("badpattern.nhdr", "slice%s.raw 1 4 1"), "pattern");
    add("mha dotdot", mhd("dotdot.mhd", "../secret.raw"), "outside its folder");
    add("mha absolute", mhd("absolute.mhd", secret_), "outside its folder");
    add("mha symlink", mhd("symlink.mhd", "link.raw"), "outside its folder");
    add("mha list", mhd("list.mhd", "LIST\ninside.raw\n../secret.raw"), "outside its folder");
  }

  void makeCompressedMha() {
    const std::string d = dir_ + "/mha";
    fs::create_directories(d);
    writeVolume(noiseCt({24, 20, 16}), d + "/good.mha");
    const std::string good = readBytes(d + "/good.mha");
    const size_t data = good.find("ElementDataFile = LOCAL\n") + 24;
    QVERIFY(data > 24 && good.find("CompressedData = True") != std::string::npos);
    std::string corrupt = good;
    for (size_t i = data + 40; i < data + 200 && i < corrupt.size(); ++i) corrupt[i] = static_cast<char>(i * 37);
    writeBytes(d + "/corrupt.mha", corrupt);
    add("mha corrupt zlib", d + "/corrupt.mha", "compressed voxel data");
    writeBytes(d + "/short.mha", good.substr(0, data + (good.size() - data) / 2));
    add("mha truncated zlib", d + "/short.mha", "compressed voxel data");
  }

  void makeDicom() {
    const Volume ct = noiseCt({16, 12, 10});
    auto series = [&](const std::string& name) {
      const std::string d = dir_ + "/dicom_" + name;
      fs::create_directories(d);
      test::writeDicomSeries(ct, d, "P1");
      return d;
    };
    // Slice 5 of 10 (z = -120 + 4 * 2.5) removed.
    const std::string gap = series("gap");
    fs::remove(gap + "/ct1004.dcm");
    add("dicom missing slice", gap, "slice 5 of 10 missing between z=-112.5 and z=-107.5 mm");

    const std::string dup = series("duplicate");
    fs::copy_file(dup + "/ct1003.dcm", dup + "/ct1003_copy.dcm");
    add("dicom duplicate", dup, "same position z=-112.5");

    const std::string trunc = series("truncated");
    const std::string bytes = readBytes(trunc + "/ct1006.dcm");
    writeBytes(trunc + "/ct1006.dcm", bytes.substr(0, bytes.size() - 100));
    add("dicom truncated slice", trunc, "ct1006.dcm: is truncated");

    const std::string absurd = series("absurd");
    std::string b = readBytes(absurd + "/ct1002.dcm");
    const size_t pixel = b.find(std::string("\xe0\x7f\x10\x00OW\x00\x00", 8));
    QVERIFY(pixel != std::string::npos);
    patch<uint32_t>(b, pixel + 8, 0x7ffffff0u);
    writeBytes(absurd + "/ct1002.dcm", b);
    add("dicom absurd pixel length", absurd, "ct1002.dcm: is truncated: the pixel data holds");

    const std::string absurdName = series("absurd_name");
    b = readBytes(absurdName + "/ct1007.dcm");
    const size_t name = b.find(std::string("\x10\x00\x10\x00PN", 6));
    QVERIFY(name != std::string::npos);
    patch<uint16_t>(b, name + 6, 0xfff0);
    writeBytes(absurdName + "/ct1007.dcm", b);
    add("dicom absurd element length", absurdName, "ct1007.dcm: is truncated or damaged: the element (0010,0010) claims 65520 bytes");

    const std::string two = series("two");
    fs::create_directories(dir_ + "/dicom_two_b");
    test::writeDicomSeries(ct, dir_ + "/dicom_two_b", "P1");
    for (const auto& e : fs::directory_iterator(dir_ + "/dicom_two_b"))
      fs::rename(e.path(), two + "/b_" + e.path().filename().string());
    add("dicom two series", two, "choose one with --series");
  }

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("hostile-input");
    makeNifti();
    makeDetached();
    makeCompressedMha();
    makeDicom();
  }

  void infoRefusesEachCaseWithExit3_data() {
    QTest::addColumn<QString>("caseName");
    for (const auto& [name, path] : cases_) QTest::newRow(name.c_str()) << QString::fromStdString(name);
  }
  void infoRefusesEachCaseWithExit3() {
    QFETCH(QString, caseName);
    const std::string name = caseName.toStdString();
    const std::string path = cases_.at(name);
    {
      std::string log;
      const int code = test::runNephro3d("info '" + path + "'", &log);
      QVERIFY2(code == 3, (name + ": exit " + std::to_string(code) + ": " + log).c_str());
      // One error line (the series listing of a folder of several series comes before it on stdout).
      const auto err = log.find("nephro3d: error: ");
      QVERIFY2(err != std::string::npos, (name + ": " + log).c_str());
      // stdout (what info printed of the header before the voxels were read) may follow.
      const std::string line = log.substr(err, log.find('\n', err) - err);
      QVERIFY2(log.find("nephro3d: error: ", err + 1) == std::string::npos, (name + ": " + log).c_str());
      QVERIFY2(line.find(path) != std::string::npos, (name + ": " + log).c_str());
      QVERIFY2(line.find(expect_[name]) != std::string::npos, (name + ": expected '" + expect_[name] + "' in " + log).c_str());
    }
  }

  void apiRefusesEachCaseWithInputError() {
    for (const auto& [name, path] : cases_) {
      try {
        readVolume(path);
        QFAIL((name + ": no error").c_str());
      } catch (const Error& e) {
        QVERIFY2(e.kind() == ErrorKind::Input, (name + ": " + e.what()).c_str());
      }
    }
  }

  void nothingOutsideTheInputFolderIsOpened_data() {
    QTest::addColumn<QString>("caseName");
    for (const auto& [name, path] : cases_)
      if (name.rfind("nrrd", 0) == 0 || name.rfind("mha", 0) == 0) QTest::newRow(name.c_str()) << QString::fromStdString(name);
  }
  void nothingOutsideTheInputFolderIsOpened() {
    if (!straceAvailable()) QSKIP("strace is not available; the open() check needs it");
    QFETCH(QString, caseName);
    const std::string name = caseName.toStdString();
    int code = 0;
    const std::string trace = tracedOpens("info '" + cases_.at(name) + "'", &code);
    QVERIFY2(!trace.empty(), (name + ": strace wrote nothing").c_str());
    QVERIFY2(code == 3, (name + ": exit " + std::to_string(code)).c_str());
    QVERIFY2(trace.find("secret.raw") == std::string::npos, (name + ": opened the file outside its folder").c_str());
    QVERIFY2(trace.find("secr1.raw") == std::string::npos, (name + ": opened the file outside its folder").c_str());
  }

  void dataFileInsideTheFolderStillReads() {
    const std::string d = dir_ + "/detached";
    writeBytes(d + "/ok.nhdr", "NRRD0004\ntype: short\ndimension: 3\nsizes: 4 4 4\nspacings: 1 1 1\nencoding: raw\n"
                               "endian: little\ndata file: inside.raw\n\n");
    writeBytes(d + "/ok.mhd", "ObjectType = Image\nNDims = 3\nDimSize = 4 4 4\nElementSpacing = 1 1 1\n"
                              "ElementType = MET_SHORT\nElementDataFile = inside.raw\n");
    for (const char* f : {"ok.nhdr", "ok.mhd"}) {
      std::string log;
      QVERIFY2(test::runNephro3d("info '" + d + "/" + f + "'", &log) == 0, log.c_str());
      QVERIFY2(log.find("range       257 .. 257") != std::string::npos, log.c_str());
    }
  }

  void goodFilesStillRead() {
    for (const char* f : {"nifti/good.nii", "nifti/good.nii.gz", "mha/good.mha"}) {
      std::string log;
      QVERIFY2(test::runNephro3d("info '" + dir_ + "/" + f + "'", &log) == 0, log.c_str());
    }
    const Volume a = readVolume(dir_ + "/nifti/good.nii.gz");
    const Volume b = readVolume(dir_ + "/nifti/good.nii.gz", ReadOptions{"", true});
    QVERIFY(std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0);
  }

  void seriesListingAndChoice() {
    const std::string two = cases_.at("dicom two series");
    std::string log;
    QCOMPARE(test::runNephro3d("info '" + two + "'", &log), 3);
    const std::vector<DicomSeries> series = listDicomSeries(two);
    QCOMPARE(series.size(), size_t(2));
    for (const DicomSeries& s : series) {
      QVERIFY2(log.find(s.uid) != std::string::npos, log.c_str());
      QCOMPARE(s.fileCount, int64_t(10));
      QVERIFY2(log.find("16x12x10") != std::string::npos, log.c_str());
    }
    QVERIFY2(test::runNephro3d("info '" + two + "' --series " + series[0].uid, &log) == 0, log.c_str());
    QVERIFY2(log.find("16 x 12 x 10") != std::string::npos, log.c_str());
  }

  void allowGapsInterpolatesAndRecordsIt() {
    const std::string gap = cases_.at("dicom missing slice");
    std::string log;
    QVERIFY2(test::runNephro3d("info '" + gap + "' --allow-gaps", &log) == 0, log.c_str());
    QVERIFY2(log.find("16 x 12 x 10") != std::string::npos, log.c_str());
    QVERIFY2(log.find("interpolated") != std::string::npos, log.c_str());
    const std::string out = test::scratchDir("hostile-input-gaps");
    QVERIFY2(test::runNephro3d("convert '" + gap + "' '" + out + "/ct.nii.gz' --allow-gaps", &log) == 0, log.c_str());
    const std::string prov = readBytes(out + "/ct.provenance.json");
    QVERIFY2(prov.find("interpolated") != std::string::npos, prov.c_str());
    // The filled slice is the mean of its neighbours; the others are the original slices.
    const Volume full = noiseCt({16, 12, 10});
    const Volume v = readVolume(out + "/ct.nii.gz");
    QCOMPARE(v.geometry().size[2], int64_t(10));
    QVERIFY(std::abs(v.geometry().spacing[2] - 2.5) < 1e-6);
    QVERIFY(std::abs(v.geometry().origin[2] - (-120.0)) < 1e-4);
    for (int64_t j = 0; j < 12; ++j)
      for (int64_t i = 0; i < 16; ++i) {
        QCOMPARE(v.valueAt(i, j, 3), full.valueAt(i, j, 3));
        QCOMPARE(v.valueAt(i, j, 4), std::round((full.valueAt(i, j, 3) + full.valueAt(i, j, 5)) / 2.0));
        QCOMPARE(v.valueAt(i, j, 5), full.valueAt(i, j, 5));
      }
  }

  void scannerIsBoundedOnGarbage() {
    // Random bytes after a DICM preamble: a problem or nothing, never a crash.
    uint32_t x = 99;
    for (int round = 0; round < 200; ++round) {
      std::string b(128, '\0');
      b += "DICM";
      const int n = 8 + (round * 37) % 600;
      for (int i = 0; i < n; ++i) b.push_back(static_cast<char>((x = x * 1664525u + 1013904223u) >> 24));
      const DicomFileScan s = scanDicomBytes(reinterpret_cast<const unsigned char*>(b.data()), b.size(), "garbage");
      QVERIFY(s.isDicom);
    }
  }
};

QTEST_APPLESS_MAIN(TestHostileInput)
#include "test_hostile_input.moc"
