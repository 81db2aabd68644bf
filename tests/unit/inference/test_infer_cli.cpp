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
    // The same network read as kidney and tumour, for the post-processing steps of `run`.
    std::ofstream(dir_ + "/manifests/tinykidney.json")
        << R"({"id": "tinykidney", "folder": "../model", "inputs": [{"channel": 0, "phase": "D"}], "output_space": "D",
              "folds": [0], "mirroring": false, "label_map": {"label1": "kidney", "label2": "tumor"}})";
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
    // nnU-Net's own execution of the network: the same mask on this model.
    QCOMPARE(test::runNephro3d("infer --quiet --plain-network --model-dir '" + dir_ + "/model' --image '" + dir_ +
                                   "/ct.nii.gz' --out '" + dir_ + "/out/plain.nii.gz'",
                               &out),
             0);
    const Volume plain = readVolume(dir_ + "/out/plain.nii.gz");
    QVERIFY(std::memcmp(plain.raw(), mask.raw(), mask.byteSize()) == 0);
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

  void runWithPostAndMeshes() {
    fs::create_directories(dir_ + "/case");
    fs::copy_file(dir_ + "/ct.nii.gz", dir_ + "/case/case_D.nii.gz", fs::copy_options::overwrite_existing);
    const std::string run = "run --quiet --case '" + dir_ + "/case' --models tinykidney ";
    std::string out;
    // Checked before any network runs: a step whose labels no model gives, a bad parameter.
    QCOMPARE(test::runNephro3d(run + "--post vessel --out '" + dir_ + "/run-bad'", &out), 3);
    QVERIFY2(out.find("artery") != std::string::npos, out.c_str());
    QVERIFY(!fs::exists(dir_ + "/run-bad/tinykidney.nii.gz"));
    QCOMPARE(test::runNephro3d(run + "--post fat --post-param fat.distance-mm=999 --out '" + dir_ + "/run-bad'", &out), 2);
    QVERIFY2(out.find("distance-mm") != std::string::npos, out.c_str());
    QCOMPARE(test::runNephro3d(run + "--post fat --post-param ureter.max-gap-mm=5 --out '" + dir_ + "/run-bad'", &out), 2);
    QCOMPARE(test::runNephro3d(run + "--post nosuch --out '" + dir_ + "/run-bad'", &out), 2);
    QVERIFY(!fs::exists(dir_ + "/run-bad/provenance.json"));

    const int rc = test::runNephro3d(run + "--post fat --post-param fat.distance-mm=12 --mesh --mesh-formats obj,stl --out '" +
                                         dir_ + "/run'",
                                     &out);
    QVERIFY2(rc == 0, out.c_str());
    const Volume fat = readVolume(dir_ + "/run/post_fat.nii.gz");
    QVERIFY(fat.geometry() == readVolume(dir_ + "/case/case_D.nii.gz").geometry());
    QVERIFY(fs::exists(dir_ + "/run/post_fat.json"));
    QVERIFY(fs::exists(dir_ + "/run/post_fat_report.json"));
    std::ifstream prov(dir_ + "/run/provenance.json");
    const std::string text((std::istreambuf_iterator<char>(prov)), std::istreambuf_iterator<char>());
    QVERIFY2(text.find("\"distance-mm\": \"12\"") != std::string::npos, text.c_str());
    QVERIFY2(text.find("\"input\": \"tinykidney\"") != std::string::npos, text.c_str());
    QVERIFY(fs::exists(dir_ + "/run/meshes/tinykidney/kidney.obj"));
    QVERIFY(fs::exists(dir_ + "/run/meshes/tinykidney/kidney.stl"));
  }

  void runOnPhaseFiles() {
    // The phases given one by one instead of a case folder: the same mask as the model alone.
    std::string out;
    const int rc = test::runNephro3d("run --quiet --models tiny --image-d '" + dir_ + "/ct.nii.gz' --out '" + dir_ + "/run-files'", &out);
    QVERIFY2(rc == 0, out.c_str());
    QCOMPARE(test::runNephro3d("infer tiny --quiet --image-d '" + dir_ + "/ct.nii.gz' --out '" + dir_ + "/run-files-alone.nii.gz'", &out), 0);
    const Volume inRun = readVolume(dir_ + "/run-files/tiny.nii.gz");
    const Volume alone = readVolume(dir_ + "/run-files-alone.nii.gz");
    QVERIFY(inRun.geometry() == alone.geometry());
    QVERIFY(std::memcmp(inRun.raw(), alone.raw(), alone.byteSize()) == 0);
    QVERIFY(fs::exists(dir_ + "/run-files/provenance.json"));
    // Neither a case nor phase images, or both: usage errors, nothing written.
    QCOMPARE(test::runNephro3d("run --quiet --models tiny --out '" + dir_ + "/run-none'", &out), 2);
    QCOMPARE(test::runNephro3d("run --quiet --models tiny --case '" + dir_ + "/case' --image-d '" + dir_ +
                                   "/ct.nii.gz' --out '" + dir_ + "/run-none'",
                               &out),
             2);
    QVERIFY(!fs::exists(dir_ + "/run-none/tiny.nii.gz"));
    // A phase the model does not read: input error naming the model.
    QCOMPARE(test::runNephro3d("run --quiet --models tiny --image-a '" + dir_ + "/ct.nii.gz' --out '" + dir_ + "/run-none'", &out), 3);
    QVERIFY2(out.find("tiny") != std::string::npos, out.c_str());
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
    // Post-processing and meshes per case.
    QCOMPARE(test::runNephro3d("--batch '" + dir_ + "/in' '" + dir_ + "/batch-post' --models tinykidney --post fat --mesh --quiet", &out), 3);
    QVERIFY(fs::exists(dir_ + "/batch-post/good/post_fat.nii.gz"));
    QVERIFY(fs::exists(dir_ + "/batch-post/good/meshes/post_fat"));
    QVERIFY(!fs::exists(dir_ + "/batch-post/bad/post_fat.nii.gz"));
    QCOMPARE(test::runNephro3d("--batch '" + dir_ + "/in' '" + dir_ + "/batch-post' --post nosuch", &out), 2);
  }
};

QTEST_GUILESS_MAIN(InferCliTest)
#include "test_infer_cli.moc"
