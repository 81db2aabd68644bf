// Model folders, manifests and the case pipeline: parsing both plans formats,
// clear errors for broken folders and cases, one read per phase, outputs in the
// right geometry with label tables and provenance, nothing half-written.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "TestSupport.h"
#include "TinyModel.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPredictor.h"
#include "labels/LabelTable.h"
#include "pipeline/Batch.h"
#include "pipeline/CaseRunner.h"

namespace fs = std::filesystem;
using namespace nephro;
using namespace nephro::inference;

namespace {

Volume ctVolume(const Geometry& g, double shift = 0) {
  Volume v(g, PixelType::Int16);
  int16_t* d = v.data<int16_t>();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        const double r = std::hypot(i - g.size[0] / 2.0, j - g.size[1] / 2.0);
        d[g.offset(i, j, k)] = static_cast<int16_t>(r < g.size[0] / 3.0 ? 150 + shift + 10 * (k % 3) : -900 + 20 * ((i + k) % 7));
      }
  return v;
}

template <class F>
ErrorKind errorKindOf(F&& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  return ErrorKind::Internal;
}

void writeManifest(const std::string& dir, const std::string& id, const std::string& folder, const std::string& inputs,
                   const std::string& outputSpace) {
  std::ofstream(dir + "/" + id + ".json") << "{\"id\": \"" << id << "\", \"version\": \"t\", \"folder\": \"" << folder
                                          << "\", \"inputs\": " << inputs << ", \"output_space\": \"" << outputSpace
                                          << "\", \"folds\": [0], \"tile_step\": 0.5, \"mirroring\": false,"
                                          << " \"label_map\": {\"label1\": \"kidney\", \"label2\": \"artery\"}}";
}

}  // namespace

class InferenceModelsTest : public QObject {
  Q_OBJECT
  std::string root_;
  std::string modelsDir_;

 private slots:
  void initTestCase() {
    root_ = test::scratchDir("inference-models");
    modelsDir_ = root_ + "/models";
    test::TinyModelSpec one;
    test::writeTinyModel(modelsDir_ + "/single", one);
    test::TinyModelSpec two;
    two.channels = 2;
    two.spacing = {2.5, 2.0, 2.0};
    test::writeTinyModel(modelsDir_ + "/dual", two);
    writeManifest(modelsDir_, "single_any", "single", R"([{"channel": 0, "phase": "any"}])", "input");
    writeManifest(modelsDir_, "single_d", "single", R"([{"channel": 0, "phase": "D"}])", "D");
    writeManifest(modelsDir_, "dual_ap", "dual", R"([{"channel": 0, "phase": "A"}, {"channel": 1, "phase": "P"}])", "A");
    writeManifest(modelsDir_, "missing", "nowhere", R"([{"channel": 0, "phase": "A"}])", "A");
  }

  void readsBothPlansFormats() {
    test::TinyModelSpec spec;
    spec.oldPlansFormat = true;
    spec.folds = 2;
    const std::string dir = root_ + "/old";
    test::writeTinyModel(dir, spec);
    NnunetModel m = loadNnunetModel(dir);
    QCOMPARE(m.folds.size(), size_t(2));
    QCOMPARE(m.configuration.name, std::string("3d_fullres"));
    QCOMPARE(m.configuration.networkClass, std::string("PlainConvUNet"));
    QCOMPARE(m.plans.intensityProperties.at(0).percentile995, 400.0);
    QCOMPARE(m.dataset.segmentationHeads(), 3);
    QCOMPARE(m.configuration.resamplingProbabilities.order, 1);  // default when plans omit it
    NnunetModel only1 = loadNnunetModel(dir, "", {1});
    QCOMPARE(only1.folds.size(), size_t(1));
    QCOMPARE(only1.folds[0].fold, 1);

    // inherits_from, regions and an unknown configuration.
    const std::string text = R"({"configurations": {
        "base": {"patch_size": [8, 8, 8], "spacing": [1, 1, 1], "normalization_schemes": ["ZScoreNormalization"]},
        "child": {"inherits_from": "base", "spacing": [2, 2, 2]}}})";
    Plans p = parsePlans(text, "plans.json");
    QCOMPARE(p.configurations.at("child").patchSize, (std::vector<int64_t>{8, 8, 8}));
    QCOMPARE(p.configurations.at("child").spacing, (std::vector<double>{2, 2, 2}));
    DatasetInfo d = parseDataset(R"({"channel_names": {"0": "T2"}, "labels": {"background": 0, "whole": [1, 2], "core": 2},
                                     "regions_class_order": [1, 2]})", "dataset.json");
    QVERIFY(d.hasRegions);
    QCOMPARE(d.segmentationHeads(), 2);
    QCOMPARE(errorKindOf([&] { loadNnunetModel(dir, "2d"); }), ErrorKind::Model);
  }

  void brokenModelFoldersAreModelErrors() {
    std::string msg;
    const std::string dir = root_ + "/broken";
    test::writeTinyModel(dir, {});
    fs::remove(dir + "/dataset.json");
    QCOMPARE(errorKindOf([&] { loadNnunetModel(dir); }, &msg), ErrorKind::Model);
    QVERIFY2(msg.find("dataset.json") != std::string::npos, msg.c_str());

    test::writeTinyModel(dir, {});
    std::ofstream(dir + "/plans.json") << "{ not json";
    QCOMPARE(errorKindOf([&] { loadNnunetModel(dir); }, &msg), ErrorKind::Model);
    QVERIFY2(msg.find("plans.json") != std::string::npos, msg.c_str());

    test::writeTinyModel(dir, {});
    std::ofstream(dir + "/dataset.json") << R"({"channel_names": {"0": "CT"}, "labels": {"background": 0, "a": 2}})";
    QCOMPARE(errorKindOf([&] { loadNnunetModel(dir); }, &msg), ErrorKind::Model);  // labels not consecutive

    test::writeTinyModel(dir, {});
    QCOMPARE(errorKindOf([&] { loadNnunetModel(dir, "", {3}); }, &msg), ErrorKind::Model);
    QVERIFY2(msg.find("fold_3") != std::string::npos, msg.c_str());

    // A corrupt network file.
    std::ofstream(dir + "/fold_0/model.pt", std::ios::trunc) << "garbage";
    QCOMPARE(errorKindOf([&] { NnunetPredictor p(loadNnunetModel(dir)); }, &msg), ErrorKind::Model);
    QVERIFY2(msg.find("model.pt") != std::string::npos, msg.c_str());

    // A network whose input channels do not match dataset.json.
    test::TinyModelSpec wrongIn;
    wrongIn.networkChannels = 2;
    test::writeTinyModel(dir + "_in", wrongIn);
    QCOMPARE(errorKindOf([&] { NnunetPredictor p(loadNnunetModel(dir + "_in")); }, &msg), ErrorKind::Model);
    QVERIFY2(msg.find("input channel") != std::string::npos, msg.c_str());

    // A network whose outputs do not match the label count: caught at the first tile.
    test::TinyModelSpec wrongOut;
    wrongOut.networkHeads = 5;
    test::writeTinyModel(dir + "_out", wrongOut);
    NnunetModel m = loadNnunetModel(dir + "_out");
    NnunetPredictor predictor(m);
    Geometry g;
    g.size = {20, 20, 12};
    QCOMPARE(errorKindOf([&] { predictor.predict({ctVolume(g)}); }, &msg), ErrorKind::Model);
    QVERIFY2(msg.find("segmentation heads") != std::string::npos, msg.c_str());
  }

  void predictionKeepsGeometryAndIsRepeatable() {
    Geometry g;
    g.size = {30, 26, 14};
    g.spacing = {1.5, 1.5, 3.0};
    g.origin = {10, 20, -30};
    g.direction = {-1, 0, 0, 0, -1, 0, 0, 0, 1};
    NnunetModel m = loadNnunetModel(modelsDir_ + "/single");
    PredictorOptions o;
    o.mirroring = true;
    NnunetPredictor p(m, o);
    int calls = 0;
    Progress progress([&](double, const std::string&) { ++calls; });
    Volume a = p.predict({ctVolume(g)}, progress);
    QVERIFY(a.geometry() == g);
    QCOMPARE(a.pixelType(), PixelType::UInt8);
    QVERIFY(calls >= p.timings().tiles);
    QVERIFY(p.timings().tiles >= 2);
    std::vector<int> present = labelValuesPresent(a);
    QVERIFY(present.size() >= 1);
    // One tile per forward call (maxBatch 1) gives the same mask as batched tiles.
    PredictorOptions single = o;
    single.maxBatch = 1;
    NnunetPredictor p1(m, single);
    Volume b = p1.predict({ctVolume(g)});
    int64_t same = 0;
    for (int64_t i = 0; i < a.voxelCount(); ++i) same += a.data<uint8_t>()[i] == b.data<uint8_t>()[i];
    QVERIFY(double(same) / a.voxelCount() >= 0.9999);
  }

  void cancelStopsBetweenTiles() {
    Geometry g;
    g.size = {40, 40, 30};
    NnunetModel m = loadNnunetModel(modelsDir_ + "/single");
    NnunetPredictor p(m);
    auto flag = std::make_shared<std::atomic<bool>>(false);
    Progress progress([&](double f, const std::string& stage) { if (stage == "network") flag->store(true); }, flag);
    QCOMPARE(errorKindOf([&] { p.predict({ctVolume(g)}, progress); }), ErrorKind::Cancelled);
  }

  void registryListsManifests() {
    std::vector<ModelManifest> all = listManifests(modelsDir_);
    QCOMPARE(all.size(), size_t(4));
    ModelManifest dual = findManifest("dual_ap", modelsDir_);
    QCOMPARE(dual.assignPhases({"A", "P", "D"}), (std::vector<std::string>{"A", "P"}));
    QVERIFY(dual.assignPhases({"A", "D"}).empty());
    QCOMPARE(findManifest("single_any", modelsDir_).assignPhases({"D"}), (std::vector<std::string>{"D"}));
    QVERIFY(!missingModelFiles(findManifest("missing", modelsDir_)).empty());
    QVERIFY(missingModelFiles(dual).empty());
    QCOMPARE(errorKindOf([&] { findManifest("nope", modelsDir_); }), ErrorKind::Model);
    NnunetModel m = loadManifestModel(dual);
    LabelTable t = modelLabelTable(m, dual.labelMap);
    QCOMPARE(t.find(1)->name, std::string("kidney"));
    QCOMPARE(t.find(2)->name, std::string("artery"));
    QVERIFY(estimateMemoryBytes(m, {512, 512, 300}, {0.8, 0.8, 1.5}) > 1e8);
  }

  void caseRunReadsEachPhaseOnceAndWritesProvenance() {
    const std::string caseDir = root_ + "/case01";
    fs::create_directories(caseDir);
    Geometry a;
    a.size = {32, 30, 12};
    a.spacing = {1.6, 1.6, 3.0};
    Geometry pGeom = a;
    pGeom.size = {30, 28, 12};
    pGeom.origin = {1.0, -2.0, 1.5};  // P on its own grid: resampled into A's space
    writeVolume(ctVolume(a), caseDir + "/case01_A.nii.gz");
    writeVolume(ctVolume(pGeom, 40), caseDir + "/case01_P.nii.gz");
    pipeline::Case c = pipeline::Case::fromFolder(caseDir);
    QCOMPARE(c.phases(), (std::vector<std::string>{"A", "P"}));
    pipeline::ModelRunOptions o;
    o.modelsDirectory = modelsDir_;
    const std::string out = root_ + "/case01_out";
    fs::remove_all(out);
    pipeline::CaseRunReport r = pipeline::runModelsOnCase(c, {"dual_ap", "single_any"}, out, o);
    QCOMPARE(r.models.size(), size_t(2));
    QCOMPARE(c.readCount("A"), 1);
    QCOMPARE(c.readCount("P"), 1);
    Volume dual = readVolume(out + "/dual_ap.nii.gz");
    QVERIFY(dual.geometry().sameGrid(readImageInfo(caseDir + "/case01_A.nii.gz").geometry));
    QVERIFY(LabelTable::hasSidecar(out + "/dual_ap.nii.gz"));
    // single_any takes P (preferred) and writes in P's space.
    QCOMPARE(r.models[1].inputPhases, (std::vector<std::string>{"P"}));
    QCOMPARE(r.models[1].sharedChannels, 0);  // dual_ap saw P resampled into A's grid: another image
    QVERIFY(readVolume(out + "/single_any.nii.gz").geometry().sameGrid(readImageInfo(caseDir + "/case01_P.nii.gz").geometry));
    auto prov = nlohmann::json::parse(std::ifstream(out + "/provenance.json"));
    QCOMPARE(prov.at("models").size(), size_t(2));
    QCOMPARE(prov.at("phases").at("A").at("reads").get<int>(), 1);

    // The same model twice in a row shares preprocessing.
    test::TinyModelSpec spec;
    test::writeTinyModel(modelsDir_ + "/single_copy", spec);
    writeManifest(modelsDir_, "single_any_copy", "single_copy", R"([{"channel": 0, "phase": "any"}])", "input");
    pipeline::Case c2 = pipeline::Case::fromFolder(caseDir);
    pipeline::CaseRunReport r2 = pipeline::runModelsOnCase(c2, {"single_any", "single_any_copy"}, out + "2", o);
    QVERIFY(!r2.models[0].sharedPreprocessing);
    QVERIFY(r2.models[1].sharedPreprocessing);
    fs::remove(modelsDir_ + "/single_any_copy.json");
  }

  void singleChannelsSharedBetweenModels() {
    // A and P on one grid: a two-channel A+P model and a P model at the same
    // spacing and normalisation preprocess P identically; the second takes it.
    const std::string caseDir = root_ + "/case03";
    fs::create_directories(caseDir);
    Geometry g;
    g.size = {30, 26, 14};
    g.spacing = {1.5, 1.5, 2.5};
    writeVolume(ctVolume(g), caseDir + "/case03_A.nii.gz");
    writeVolume(ctVolume(g, 40), caseDir + "/case03_P.nii.gz");
    test::TinyModelSpec two;
    two.channels = 2;
    test::writeTinyModel(modelsDir_ + "/dual_iso", two);
    writeManifest(modelsDir_, "dual_iso_ap", "dual_iso", R"([{"channel": 0, "phase": "A"}, {"channel": 1, "phase": "P"}])", "A");
    writeManifest(modelsDir_, "single_p", "single", R"([{"channel": 0, "phase": "P"}])", "P");
    pipeline::ModelRunOptions o;
    o.modelsDirectory = modelsDir_;
    pipeline::Case both = pipeline::Case::fromFolder(caseDir);
    const pipeline::CaseRunReport r = pipeline::runModelsOnCase(both, {"dual_iso_ap", "single_p"}, root_ + "/case03_both", o);
    QCOMPARE(r.models[0].sharedChannels, 0);
    QVERIFY(!r.models[1].sharedPreprocessing);
    QCOMPARE(r.models[1].sharedChannels, 1);
    pipeline::Case alone = pipeline::Case::fromFolder(caseDir);
    const pipeline::CaseRunReport r1 = pipeline::runModelsOnCase(alone, {"single_p"}, root_ + "/case03_alone", o);
    QCOMPARE(r1.models[0].sharedChannels, 0);
    const Volume shared = readVolume(root_ + "/case03_both/single_p.nii.gz");
    const Volume own = readVolume(root_ + "/case03_alone/single_p.nii.gz");
    QVERIFY(shared.geometry() == own.geometry());
    QVERIFY(std::memcmp(shared.raw(), own.raw(), own.byteSize()) == 0);
    fs::remove(modelsDir_ + "/dual_iso_ap.json");
    fs::remove(modelsDir_ + "/single_p.json");
  }

  void badCasesAreInputErrorsWithoutOutput() {
    pipeline::ModelRunOptions o;
    o.modelsDirectory = modelsDir_;
    Geometry a;
    a.size = {20, 20, 10};
    const std::string caseDir = root_ + "/case_bad";
    fs::remove_all(caseDir);
    fs::create_directories(caseDir);
    writeVolume(ctVolume(a), caseDir + "/x_A.nii.gz");
    std::string msg;
    pipeline::Case c = pipeline::Case::fromFolder(caseDir);
    const std::string out = root_ + "/case_bad_out";
    fs::remove_all(out);
    QCOMPARE(errorKindOf([&] { pipeline::runModelsOnCase(c, {"single_d"}, out, o); }, &msg), ErrorKind::Input);
    QVERIFY2(msg.find("single_d") != std::string::npos, msg.c_str());
    QCOMPARE(errorKindOf([&] { pipeline::runModelsOnCase(c, {"missing"}, out, o); }, &msg), ErrorKind::Model);
    QVERIFY2(msg.find("nowhere") != std::string::npos, msg.c_str());
    // P far away from A: the phases do not overlap.
    Geometry far = a;
    far.origin = {500, 500, 500};
    writeVolume(ctVolume(far), caseDir + "/x_P.nii.gz");
    pipeline::Case c2 = pipeline::Case::fromFolder(caseDir);
    QCOMPARE(errorKindOf([&] { pipeline::runModelsOnCase(c2, {"dual_ap"}, out, o); }, &msg), ErrorKind::Input);
    QVERIFY2(msg.find("overlap") != std::string::npos, msg.c_str());
    QVERIFY(!fs::exists(out + "/dual_ap.nii.gz"));
    QVERIFY(!fs::exists(out + "/provenance.json"));
    QCOMPARE(errorKindOf([&] { pipeline::Case::fromFolder(root_ + "/models"); }), ErrorKind::Input);
  }

  void batchResumesAndReportsFailures() {
    const std::string in = root_ + "/batch_in", out = root_ + "/batch_out";
    fs::remove_all(in);
    fs::remove_all(out);
    Geometry g;
    g.size = {20, 18, 10};
    for (const char* name : {"c1", "c2"}) {
      fs::create_directories(in + "/" + name);
      writeVolume(ctVolume(g), in + "/" + name + "/img_0000.nii.gz");
    }
    fs::create_directories(in + "/c3");
    std::ofstream(in + "/c3/broken_A.nii.gz") << "not an image";
    pipeline::BatchOptions o;
    o.models = {"single_any"};
    o.run.modelsDirectory = modelsDir_;
    pipeline::BatchSummary s = pipeline::runBatch(in, out, o);
    QCOMPARE(s.done, 2);
    QCOMPARE(s.failed, 1);
    QVERIFY(fs::exists(out + "/c1/provenance.json"));
    std::ifstream csv(s.csvPath);
    std::string header, line;
    std::getline(csv, header);
    QCOMPARE(header, std::string("case,status,models,seconds,message"));
    int rows = 0;
    while (std::getline(csv, line)) ++rows;
    QCOMPARE(rows, 3);
    // A second run skips the finished cases.
    pipeline::BatchSummary again = pipeline::runBatch(in, out, o);
    QCOMPARE(again.skipped, 2);
    QCOMPARE(again.done, 0);
    QCOMPARE(again.failed, 1);
  }
};

QTEST_GUILESS_MAIN(InferenceModelsTest)
#include "test_inference_models.moc"
