// The C++ nnU-Net predictor against the independent Python implementation
// (tests/reference/nnunet_reference.py) on small synthetic CTs and tiny
// TorchScript networks that the Python side creates. With the network run as
// nnU-Net runs it (one tile per call, no inference optimisation) the fp16
// logits and the mask must be bit-identical; with the default optimised
// execution >= 99.99 % of the mask voxels and >= 99 % of the logits identical
// (the rest within a few fp16 steps, printed).
#include <QProcess>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <random>
#include <set>

#include <nlohmann/json.hpp>

#include "TestSupport.h"
#include "image/VolumeIO.h"
#include "inference/NnunetModel.h"
#include "inference/NnunetPredictor.h"
#include "inference/NnunetPreprocessing.h"

using namespace nephro;
using namespace nephro::inference;

namespace {

const char* kPython = NEPHRO3D_REFERENCE_PYTHON;
const std::string kScript = std::string(NEPHRO3D_SOURCE_DIR) + "/tests/reference/nnunet_reference.py";

bool runPython(const QStringList& args, QString* log) {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  QStringList all{QString::fromStdString(kScript)};
  all << args;
  p.start(QString::fromUtf8(kPython), all);
  if (!p.waitForFinished(240000)) return false;
  *log = QString::fromUtf8(p.readAll());
  return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

template <class T>
std::vector<T> readRaw(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const auto bytes = static_cast<size_t>(in.tellg());
  std::vector<T> v(bytes / sizeof(T));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(bytes));
  return v;
}

// A CT-like int16 image: air, a body ellipsoid with organs of different HU,
// noise, and zero slabs at two borders so that crop-to-nonzero has work to do.
Volume syntheticCt(const Geometry& g, uint32_t seed, double offset = 0.0) {
  Volume v(g, PixelType::Int16);
  int16_t* d = v.data<int16_t>();
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 25.0);
  const double cx = g.size[0] / 2.0, cy = g.size[1] / 2.0, cz = g.size[2] / 2.0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        const double x = (i - cx) / (0.45 * g.size[0]), y = (j - cy) / (0.4 * g.size[1]), z = (k - cz) / (0.6 * g.size[2]);
        double hu = -1000.0;
        if (x * x + y * y + z * z < 1.0) {
          hu = 30.0 + offset;
          const double a = (x - 0.3) * (x - 0.3) + (y + 0.2) * (y + 0.2) + z * z;
          const double b = (x + 0.35) * (x + 0.35) + (y - 0.1) * (y - 0.1) + (z - 0.2) * (z - 0.2);
          if (a < 0.12) hu = 180.0 + offset;
          if (b < 0.08) hu = -90.0;
          if (std::fabs(x) < 0.08 && std::fabs(y - 0.3) < 0.1) hu = 400.0;
        }
        hu += noise(rng);
        if (i < 2 || k == g.size[2] - 1) hu = 0.0;
        d[g.offset(i, j, k)] = static_cast<int16_t>(std::lround(hu));
      }
  return v;
}

struct Figures {
  std::string mode;  // "plain" or "optimised"
  double voxelAgreement = 0;
  int64_t voxelMismatches = 0;
  double logitsExact = 0;
  double maxLogitDiff = 0;
  int maxUlp = 0;
};

// Spacing of fp16 values at magnitude x (x > 0).
double fp16Ulp(double x) {
  int e = 0;
  std::frexp(x, &e);  // x in [2^(e-1), 2^e)
  return std::ldexp(1.0, std::max(e - 1, -14) - 10);
}

}  // namespace

class NnunetParityTest : public QObject {
  Q_OBJECT

  // Makes the model, runs both implementations and compares.
  void runCase(Figures& plain, Figures& optimised, const std::string& name, const QStringList& makeArgs, const std::vector<Volume>& channels,
               const std::vector<int>& folds, bool mirroring, double step = 0.5) {
    const std::string dir = test::scratchDir("nnunet-parity/" + name);
    const std::string modelDir = dir + "/Dataset900_Test/nnUNetTrainer__nnUNetPlans__3d_fullres";
    QString log;
    QStringList mk{"make-model", "--out", QString::fromStdString(modelDir)};
    mk << makeArgs << "--folds" << QString::number(folds.size());
    if (!runPython(mk, &log)) qFatal("make-model failed: %s", qPrintable(log));

    QStringList images;
    for (size_t c = 0; c < channels.size(); ++c) {
      const std::string path = dir + "/case_000" + std::to_string(c) + ".nii.gz";
      writeVolume(channels[c], path);
      images << QString::fromStdString(path);
    }
    QString foldList;
    for (int f : folds) foldList += (foldList.isEmpty() ? "" : ",") + QString::number(f);
    QStringList pr{"predict", "--model", QString::fromStdString(modelDir), "--folds", foldList, "--step", QString::number(step),
                   "--out-logits", QString::fromStdString(dir + "/ref_logits.bin"), "--out-seg",
                   QString::fromStdString(dir + "/ref_seg.bin"), "--images"};
    pr << images;
    if (!mirroring) pr << "--no-mirroring";
    if (!runPython(pr, &log)) qFatal("reference predict failed: %s", qPrintable(log));

    // The C++ side reads the same files, and runs twice: the network executed
    // as nnU-Net does (one tile per forward call, the TorchScript as traced),
    // then as it runs by default (optimised for inference, tiles batched).
    std::vector<Volume> read;
    for (const QString& p : images) read.push_back(readVolume(p.toStdString()));
    NnunetModel model = loadNnunetModel(modelDir, {}, folds);
    const auto meta = nlohmann::json::parse(std::ifstream(dir + "/ref_seg.bin.json"));
    const auto logitShape = meta.at("logit_shape").get<std::vector<int64_t>>();
    const auto refLogits = readRaw<uint16_t>(dir + "/ref_logits.bin");
    const auto refSeg = readRaw<uint8_t>(dir + "/ref_seg.bin");
    for (Figures* fig : {&plain, &optimised}) {
      Figures& f = *fig;
      f.mode = fig == &plain ? "plain" : "optimised";
      PredictorOptions options;
      options.mirroring = mirroring;
      options.tileStep = step;
      if (fig == &plain) {
        options.optimizeForInference = false;
        options.maxBatch = 1;
      }
      NnunetPredictor predictor(model, options);
      PreprocessedCase pre = preprocessCase(model, read);
      Logits logits = predictor.predictLogits(pre);
      Volume mask = exportSegmentation(model, logits, pre);
      writeVolume(mask, dir + "/cpp_mask_" + f.mode + ".nii.gz");

      QCOMPARE(logitShape[0], static_cast<int64_t>(logits.heads));
      for (int k = 0; k < 3; ++k) QCOMPARE(logitShape[k + 1], logits.shape[k]);
      QCOMPARE(refLogits.size(), logits.values.size());
      int64_t exact = 0;
      double scale = 0;
      for (uint16_t h : refLogits) scale = std::max<double>(scale, std::fabs(halfToFloat(h)));
      for (size_t i = 0; i < refLogits.size(); ++i) {
        exact += (refLogits[i] == logits.values[i]);
        f.maxLogitDiff = std::max<double>(f.maxLogitDiff, std::fabs(halfToFloat(refLogits[i]) - halfToFloat(logits.values[i])));
      }
      // Differences in units of fp16 spacing at the largest logit magnitude of the case: the
      // accumulators round at that scale, whatever the value of a single voxel.
      f.maxUlp = static_cast<int>(std::ceil(f.maxLogitDiff / fp16Ulp(std::max(scale, 1e-3))));
      f.logitsExact = static_cast<double>(exact) / static_cast<double>(refLogits.size());

      QCOMPARE(static_cast<int64_t>(refSeg.size()), mask.voxelCount());
      const uint8_t* cpp = mask.data<uint8_t>();
      for (size_t i = 0; i < refSeg.size(); ++i) f.voxelMismatches += (refSeg[i] != cpp[i]);
      f.voxelAgreement = 1.0 - static_cast<double>(f.voxelMismatches) / static_cast<double>(refSeg.size());

      // The mask keeps the geometry of its source image, and holds every label.
      QVERIFY(mask.geometry() == read[0].geometry());
      QVERIFY(mask.geometry().sameGrid(channels[0].geometry()));
      std::set<int> present(cpp, cpp + mask.voxelCount());
      qInfo("%s (%s network): %zu voxels, %zu labels present, identical voxels %.4f %% (%lld differ); logits %zu values, "
            "bit-identical %.4f %%, max difference %.3g (%d fp16 ulp at the largest |logit|), network %.2f s, %lld tiles",
            name.c_str(), f.mode.c_str(), refSeg.size(), present.size(), 100.0 * f.voxelAgreement,
            (long long)f.voxelMismatches, refLogits.size(), 100.0 * f.logitsExact, f.maxLogitDiff, f.maxUlp,
            predictor.timings().network, (long long)predictor.timings().tiles);
      QVERIFY2(present.size() >= 2, "the test network should predict more than one label");
    }
  }

  static void checkParity(const Figures& plain, const Figures& optimised) {
    // Executed as nnU-Net executes it, every step is exact: the same fp16 logits, bit for bit.
    QVERIFY2(plain.logitsExact == 1.0, "plain network: logits not bit-identical");
    QVERIFY2(plain.voxelMismatches == 0, "plain network: voxels differ");
    // Optimised for inference (folded layers, batched tiles), float32 convolutions
    // round differently: the mask must not change, the logits only in their last bits.
    QVERIFY2(optimised.voxelAgreement >= 0.9999, "optimised network: less than 99.99 % identical voxels");
    QVERIFY2(optimised.logitsExact >= 0.99, "optimised network: fewer than 99 % of the logits are bit-identical");
  }

 private slots:
  void initTestCase() {
    if (std::string(kPython).empty()) QSKIP("Debian's python3 with torch/scipy/skimage/nibabel was not found");
  }

  // Thick slices: separate-z resampling (in-plane cubic, order 0 along z) on the
  // way in and on the way back; mirroring on; zero border slabs cropped.
  void anisotropicSeparateZ() {
    Geometry g;
    g.size = {40, 36, 10};
    g.spacing = {0.8, 0.8, 4.0};
    g.origin = {-16.0, -14.4, 20.0};
    Figures plain, optimised;
    runCase(plain, optimised, "separate_z", {"--patch", "16,16,16", "--spacing", "2.0,1.6,1.6", "--labels", "3"},
                        {syntheticCt(g, 7)}, {0}, true);
    if (QTest::currentTestFailed()) return;
    checkParity(plain, optimised);
  }

  // An image smaller than the patch: centred zero padding; no resampling; two folds; no mirroring.
  void smallerThanPatchTwoFolds() {
    Geometry g;
    g.size = {14, 12, 9};
    g.spacing = {1.0, 1.0, 1.0};
    Figures plain, optimised;
    runCase(plain, optimised, "small_image", {"--patch", "16,16,16", "--spacing", "1,1,1", "--labels", "4", "--seed", "3"},
                        {syntheticCt(g, 11)}, {0, 1}, false);
    if (QTest::currentTestFailed()) return;
    checkParity(plain, optimised);
  }

  // Labels (argmax) with 3D resampling both ways: cubic down on the way in,
  // linear logits up on the way back (the export streams its last axis).
  void labelsWithResampling() {
    Geometry g;
    g.size = {34, 30, 18};
    g.spacing = {1.3, 1.3, 1.7};
    g.origin = {-20.0, 5.0, -40.0};
    Figures plain, optimised;
    runCase(plain, optimised, "labels_resampled", {"--patch", "16,16,16", "--spacing", "2.0,1.9,1.9", "--labels", "4", "--seed", "9"},
            {syntheticCt(g, 31)}, {0}, false);
    if (QTest::currentTestFailed()) return;
    checkParity(plain, optimised);
  }

  // Non-identity direction, a transposed model, two channels (CT and masked
  // z-score), regions, the older plans format, two folds, mirroring, cubic 3D resampling.
  void directionTwoChannelsRegions() {
    Geometry g;
    g.size = {30, 28, 20};
    g.spacing = {1.2, 1.1, 1.5};
    g.origin = {12.0, -30.0, 100.0};
    g.direction = {0, -1, 0, 1, 0, 0, 0, 0, -1};
    Figures plain, optimised;
    runCase(plain, optimised, "direction_regions",
                        {"--patch", "16,16,16", "--spacing", "1.4,1.4,1.4", "--transpose", "2,0,1", "--schemes",
                         "CTNormalization,ZScoreNormalization", "--regions", "--old-plans", "--seed", "5"},
                        {syntheticCt(g, 21), syntheticCt(g, 22, 60.0)}, {0, 1}, true);
    if (QTest::currentTestFailed()) return;
    checkParity(plain, optimised);
  }
};

QTEST_GUILESS_MAIN(NnunetParityTest)
#include "NnunetParityTest.moc"
