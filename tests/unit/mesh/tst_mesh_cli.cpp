// `nephro3d mesh`: files written, names from the label table, exit codes.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <vtkOBJReader.h>

#include "MeshTestShapes.h"
#include "TestSupport.h"
#include "image/VolumeIO.h"
#include "labels/LabelTable.h"

using namespace nephro;
using namespace nephro::test;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> filesIn(const std::string& folder) {
  std::vector<std::string> names;
  if (!fs::exists(folder)) return names;
  for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

class MeshCliTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void writesNamedMeshes();
  void fallsBackToNumberedNamesWithoutTable();
  void exitCodes();

 private:
  std::string dir_;
  std::string mask_;       // with a label table sidecar
  std::string bareMask_;   // without one
  std::string floatMask_;  // not a label image
};

void MeshCliTest::initTestCase() {
  QVERIFY2(fs::exists(nephro3dBinary()), "nephro3d is not built");
  dir_ = scratchDir("mesh-cli");
  Geometry g;
  g.size = {48, 40, 30};
  g.spacing = {1.0, 1.0, 1.5};
  Volume mask(g, PixelType::UInt8);
  Ellipsoid a;
  a.value = 1;
  a.centre = {14, 20, 22};
  a.semiAxes = {8, 8, 8};
  Ellipsoid b;
  b.value = 3;
  b.centre = {34, 20, 22};
  b.semiAxes = {9, 7, 6};
  paint(mask, a);
  paint(mask, b);
  mask_ = dir_ + "/mask.nii.gz";
  writeVolume(mask, mask_);
  LabelEntry ka;
  ka.value = 1;
  ka.name = "kidney_left";
  ka.color = Rgb{185, 102, 83};
  LabelEntry tu;
  tu.value = 3;
  tu.name = "tumor";
  tu.color = Rgb{250, 250, 120};
  LabelTable({ka, tu}).writeSidecar(mask_);
  bareMask_ = dir_ + "/bare.nii.gz";
  writeVolume(mask, bareMask_);
  floatMask_ = dir_ + "/float.nii.gz";
  writeVolume(castVolume(mask, PixelType::Float32), floatMask_);
}

void MeshCliTest::writesNamedMeshes() {
  const std::string out = dir_ + "/named";
  std::string log;
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --out " + out + " --format obj,glb --space RAS -q", &log), 0);
  QCOMPARE(filesIn(out), (std::vector<std::string>{"kidney_left.glb", "kidney_left.mtl", "kidney_left.obj",
                                                   "tumor.glb", "tumor.mtl", "tumor.obj"}));
  std::ifstream obj(out + "/tumor.obj");
  std::string text((std::istreambuf_iterator<char>(obj)), {});
  QVERIFY(text.find("# SPACE=RAS") != std::string::npos);
  vtkNew<vtkOBJReader> reader;
  reader->SetFileName((out + "/tumor.obj").c_str());
  reader->Update();
  QVERIFY(reader->GetOutput()->GetNumberOfPolys() > 500);
  // RAS: x is the negated LPS x, and the tumour sits at LPS x 25..43 mm.
  double b[6];
  reader->GetOutput()->GetBounds(b);
  QVERIFY2(b[0] > -44 && b[1] < -24, qPrintable(QString("x range %1..%2").arg(b[0]).arg(b[1])));

  const std::string one = dir_ + "/one";
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --labels tumor --merged --format stl --out " + one + " -q", &log), 0);
  QCOMPARE(filesIn(one), std::vector<std::string>{"mask.stl"});
}

void MeshCliTest::fallsBackToNumberedNamesWithoutTable() {
  const std::string out = dir_ + "/bare";
  std::string log;
  QCOMPARE(runNephro3d("mesh --mask " + bareMask_ + " --out " + out, &log), 0);
  QVERIFY2(log.find("no label table") != std::string::npos, log.c_str());
  QCOMPARE(filesIn(out), (std::vector<std::string>{"label_1.mtl", "label_1.obj", "label_3.mtl", "label_3.obj"}));
}

void MeshCliTest::exitCodes() {
  std::string log;
  const std::string out = dir_ + "/errors";
  QCOMPARE(runNephro3d("mesh --out " + out, &log), 2);  // no --mask
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --out " + out + " --format fbx", &log), 2);
  QVERIFY2(log.find("fbx") != std::string::npos, log.c_str());
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --out " + out + " --space XYZ", &log), 2);
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --out " + out + " --labels liver", &log), 2);
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --out " + out + " --joint --decimate 0.5", &log), 2);
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --out " + out + " --smoothing 2", &log), 2);

  QCOMPARE(runNephro3d("mesh --mask " + dir_ + "/missing.nii.gz --out " + out, &log), 3);
  QVERIFY2(log.find("missing.nii.gz") != std::string::npos, log.c_str());
  QCOMPARE(runNephro3d("mesh --mask " + floatMask_ + " --out " + out, &log), 3);
  QVERIFY2(log.find("float.nii.gz") != std::string::npos && log.find("integer") != std::string::npos, log.c_str());
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --out " + out + " --labels 2", &log), 3);  // not in the table
  QVERIFY2(log.find("label 2") != std::string::npos, log.c_str());

  { std::ofstream(dir_ + "/a-file") << "x"; }
  QCOMPARE(runNephro3d("mesh --mask " + mask_ + " --out " + dir_ + "/a-file/meshes", &log), 5);
  QVERIFY2(log.find("a-file") != std::string::npos, log.c_str());
  QVERIFY(!fs::exists(out));  // no failed run left anything behind
}

QTEST_GUILESS_MAIN(MeshCliTest)
#include "tst_mesh_cli.moc"
