// The inference commands end to end: exit codes, outputs with label tables,
// nothing written on failure, --batch with a failing case.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "TestSupport.h"
#include "TinyModel.h"
#include "image/VolumeIO.h"

namespace fs = std::filesystem;
using namespace nephro;

namespace {
Volume ct(const Geometry& g) {
  Volume v(g, PixelType::Int16);
  for (int64_t i = 0; i < v.voxelCount(); ++i) v.data<int16_t>()[i] = static_cast<int16_t>((i * 37) % 900 - 400);
  return v;
}
}  // namespace

class InferCliTest : public QObject {
  Q_OBJECT
  std::string dir_;

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("infer-cli");
    test::writeTinyModel(dir_ + "/model", {});
    Geometry g;
    g.size = {24, 20, 12};
    g.spacing = {2.0, 2.0, 2.0};
    writeVolume(ct(g), dir_ + "/ct.nii.gz");
    fs::create_directories(dir_ + "/manifests");
    std::ofstream(dir_ + "/manifests/tiny.json")
        << R"({"id": "tiny", "folder": "../model", "inputs": [{"channel": 0, "phase": "D"}], "output_space": "D",
              "folds": [0], "mirroring": false})";
    setenv("NEPHRO3D_MODELS_DIR", (dir_ + "/manifests").c_str(), 1);
  }

  void inferModelDirWritesMaskAndTable() {
    std::string out;
    const int rc = test::runNephro3d("infer --quiet --model-dir '" + dir_ + "/model' --folds 0 --step 0.5 --image '" + dir_ +
                                         "/ct.nii.gz' --out '" + dir_ + "/out/mask.nii.gz'",
                                     &out);
    QVERIFY2(rc == 0, out.c_str());
    Volume mask = readVolume(dir_ + "/out/mask.nii.gz");
    QVERIFY(mask.geometry() == readVolume(dir_ + "/ct.nii.gz").geometry());
    QVERIFY(fs::exists(dir_ + "/out/mask.json"));
  }

  void registeredModelAndErrors() {
    std::string out;
    QCOMPARE(test::runNephro3d("infer tiny --quiet --image-d '" + dir_ + "/ct.nii.gz' --out '" + dir_ + "/out/tiny.nii.gz'", &out), 0);
    QVERIFY(fs::exists(dir_ + "/out/tiny.nii.gz"));
    // Wrong phase for the model: input error, nothing written.
    QCOMPARE(test::runNephro3d("infer tiny --quiet --image-a '" + dir_ + "/ct.nii.gz' --out '" + dir_ + "/out/bad.nii.gz'", &out), 3);
    QVERIFY2(out.find("tiny") != std::string::npos, out.c_str());
    QVERIFY(!fs::exists(dir_ + "/out/bad.nii.gz"));
    // Missing model folder: model error.
    QCOMPARE(test::runNephro3d("infer --model-dir '" + dir_ + "/nope' --image '" + dir_ + "/ct.nii.gz' --out '" + dir_ + "/out/x.nii.gz'", &out), 4);
    // Unknown model id: model error listing the known ones.
    QCOMPARE(test::runNephro3d("infer nosuch --image '" + dir_ + "/ct.nii.gz' --out '" + dir_ + "/out/x.nii.gz'", &out), 4);
    QVERIFY2(out.find("tiny") != std::string::npos, out.c_str());
    QCOMPARE(test::runNephro3d("infer --out '" + dir_ + "/out/x.nii.gz'", &out), 2);
    QCOMPARE(test::runNephro3d("models", &out), 0);
    QVERIFY2(out.find("tiny") != std::string::npos && out.find("present") != std::string::npos, out.c_str());
  }

  void batchReportsFailuresAndResumes() {
    fs::create_directories(dir_ + "/in/good");
    fs::create_directories(dir_ + "/in/bad");
    fs::copy_file(dir_ + "/ct.nii.gz", dir_ + "/in/good/case_D.nii.gz", fs::copy_options::overwrite_existing);
    std::ofstream(dir_ + "/in/bad/case_D.nii.gz") << "truncated";
    std::string out;
    QCOMPARE(test::runNephro3d("--batch '" + dir_ + "/in' '" + dir_ + "/batch' --models tiny --quiet", &out), 3);
    QVERIFY(fs::exists(dir_ + "/batch/good/tiny.nii.gz"));
    QVERIFY(fs::exists(dir_ + "/batch/good/provenance.json"));
    QVERIFY(fs::exists(dir_ + "/batch/summary.csv"));
    QCOMPARE(test::runNephro3d("--batch '" + dir_ + "/in' '" + dir_ + "/batch' --models tiny", &out), 3);
    QVERIFY2(out.find("good: skipped") != std::string::npos, out.c_str());
  }
};

QTEST_GUILESS_MAIN(InferCliTest)
#include "test_infer_cli.moc"
