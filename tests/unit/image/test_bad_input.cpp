// Bad input: each case gives a clear one-line error naming the file, exit code
// 3 from the command line, and no output file (not even a partial one).
#include <QtTest>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkNiftiImageIOFactory.h>
#include <itkRGBPixel.h>

#include "TestSupport.h"
#include "common/Error.h"
#include "image/VolumeIO.h"

using namespace nephro;
namespace fs = std::filesystem;

namespace {
void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string smallCt(const std::string& dir) {
  Geometry g;
  g.size = {48, 48, 40};
  Volume v(g, PixelType::Int16);
  int16_t* p = v.data<int16_t>();
  uint32_t x = 12345;
  for (int64_t n = 0; n < v.voxelCount(); ++n) p[n] = static_cast<int16_t>((x = x * 1103515245u + 12345u) >> 20);
  const std::string path = dir + "/good.nii.gz";
  writeVolume(v, path);
  return path;
}

int entriesIn(const std::string& dir) {
  return static_cast<int>(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}
}  // namespace

class TestBadInput : public QObject {
  Q_OBJECT
  std::string dir_;
  std::map<std::string, std::string> cases_;  // name -> path

 private slots:
  void initTestCase() {
    itk::NiftiImageIOFactory::RegisterOneFactory();
    dir_ = test::scratchDir("bad-input");
    cases_["missing path"] = dir_ + "/does_not_exist.nii.gz";

    cases_["zero-byte file"] = dir_ + "/empty.nii.gz";
    writeText(cases_["zero-byte file"], "");

    const std::string good = smallCt(dir_);
    std::string bytes;
    {
      std::ifstream in(good, std::ios::binary);
      bytes.assign(std::istreambuf_iterator<char>(in), {});
    }
    cases_["truncated nii.gz"] = dir_ + "/truncated.nii.gz";
    writeText(cases_["truncated nii.gz"], bytes.substr(0, bytes.size() / 2));

    cases_["100000^3 header"] = dir_ + "/huge.mha";
    writeText(cases_["100000^3 header"],
              "ObjectType = Image\nNDims = 3\nDimSize = 100000 100000 100000\nElementSpacing = 1 1 1\n"
              "ElementType = MET_SHORT\nElementDataFile = LOCAL\n");

    cases_["NaN spacing"] = dir_ + "/nan_spacing.nrrd";
    writeText(cases_["NaN spacing"], std::string("NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\n"
                                                 "spacings: nan 1 1\nencoding: raw\nendian: little\n\n") +
                                         std::string(16, '\0'));

    {
      using Image4 = itk::Image<short, 4>;
      auto img = Image4::New();
      Image4::RegionType r;
      for (int d = 0; d < 4; ++d) r.SetSize(d, d == 3 ? 3 : 6);
      img->SetRegions(r);
      img->Allocate(true);
      cases_["4D image"] = dir_ + "/four_d.nii.gz";
      auto w = itk::ImageFileWriter<Image4>::New();
      w->SetInput(img);
      w->SetFileName(cases_["4D image"]);
      w->Update();
    }
    {
      using Rgb = itk::Image<itk::RGBPixel<unsigned char>, 3>;
      auto img = Rgb::New();
      Rgb::RegionType r;
      for (int d = 0; d < 3; ++d) r.SetSize(d, 6);
      img->SetRegions(r);
      img->Allocate(true);
      cases_["RGB image"] = dir_ + "/rgb.nii.gz";
      auto w = itk::ImageFileWriter<Rgb>::New();
      w->SetInput(img);
      w->SetFileName(cases_["RGB image"]);
      w->Update();
    }
    cases_["not an image"] = dir_ + "/notes.nii.gz";
    writeText(cases_["not an image"], "this is not a NIfTI file at all, just text\n");
  }

  void apiRejectsEachCase_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expected");
    QTest::newRow("missing") << "missing path" << "does not exist";
    QTest::newRow("empty") << "zero-byte file" << "empty";
    QTest::newRow("truncated") << "truncated nii.gz" << "truncated";
    QTest::newRow("huge") << "100000^3 header" << "100000x100000x100000";
    QTest::newRow("nan") << "NaN spacing" << "spacing";
    QTest::newRow("4d") << "4D image" << "4D";
    QTest::newRow("rgb") << "RGB image" << "3 components";
    QTest::newRow("text") << "not an image" << "";
  }
  void apiRejectsEachCase() {
    QFETCH(QString, name);
    QFETCH(QString, expected);
    const std::string path = cases_.at(name.toStdString());
    try {
      readVolume(path);
      QFAIL("no error");
    } catch (const Error& e) {
      const std::string msg = e.what();
      QCOMPARE(e.kind(), ErrorKind::Input);
      QVERIFY2(msg.rfind(path + ": ", 0) == 0, msg.c_str());  // names the file first
      QVERIFY2(msg.find('\n') == std::string::npos, msg.c_str());
      QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
    }
  }

  void commandLineExitsWithInputErrorAndWritesNothing() {
    for (const auto& [name, path] : cases_) {
      const std::string out = test::scratchDir("bad-input-out");
      std::string log;
      const int code = test::runNephro3d("convert '" + path + "' '" + out + "/converted.nii.gz'", &log);
      QVERIFY2(code == 3, (name + ": exit " + std::to_string(code) + ": " + log).c_str());
      QVERIFY2(log.find(path) != std::string::npos, (name + ": " + log).c_str());
      QVERIFY2(std::count(log.begin(), log.end(), '\n') == 1, (name + ": " + log).c_str());
      QVERIFY2(entriesIn(out) == 0, name.c_str());
    }
  }

  void commandLineUsageAndHelp() {
    std::string log;
    QCOMPARE(test::runNephro3d("--help", &log), 0);
    QVERIFY(log.find("phantom") != std::string::npos && log.find("info") != std::string::npos);
    QCOMPARE(test::runNephro3d("info", &log), 2);
    QCOMPARE(test::runNephro3d("phantom --out /tmp/x --size enormous", &log), 2);
    QCOMPARE(test::runNephro3d("convert '" + cases_.at("missing path") + "' /tmp/out.png", &log), 2);
  }

  void goodFileConverts() {
    const std::string out = test::scratchDir("bad-input-good");
    std::string log;
    QCOMPARE(test::runNephro3d("convert '" + dir_ + "/good.nii.gz' '" + out + "/good.nrrd'", &log), 0);
    Volume a = readVolume(dir_ + "/good.nii.gz"), b = readVolume(out + "/good.nrrd");
    QVERIFY(a.geometry() == b.geometry());
    QVERIFY(std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0);
    QCOMPARE(test::runNephro3d("info '" + out + "/good.nrrd'", &log), 0);
    QVERIFY(log.find("48 x 48 x 40") != std::string::npos);
  }
};

QTEST_APPLESS_MAIN(TestBadInput)
#include "test_bad_input.moc"
