// Post-processing on a case's model outputs: which layer a step works on, the
// context labels it borrows from the other layers, the CT of its phase, and
// nothing written when it is cancelled.
#include <QtTest>

#include <filesystem>

#include "TestSupport.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"
#include "pipeline/CasePost.h"

namespace fs = std::filesystem;
using namespace nephro;
using namespace nephro::pipeline;
namespace pl = phantom_label;

namespace {

// A layer from the phantom's ground truth: value -> the phantom values it covers.
CaseLayer layerFrom(const PhantomCase& ph, const std::string& id, const std::string& phase,
                    const std::vector<std::pair<std::string, std::vector<int>>>& labels) {
  CaseLayer l{id, phase, Volume(ph.labels.geometry(), PixelType::UInt8), {}};
  std::vector<uint8_t> lut(256, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    l.table.set(LabelTable::schemaEntry(labels[i].first, static_cast<int>(i + 1)));
    for (int v : labels[i].second) lut[static_cast<size_t>(v)] = static_cast<uint8_t>(i + 1);
  }
  const uint8_t* gt = ph.labels.data<uint8_t>();
  uint8_t* out = l.mask.data<uint8_t>();
  for (int64_t v = 0; v < l.mask.voxelCount(); ++v) out[v] = lut[gt[v]];
  return l;
}

// `base` with `other`'s labels `names` painted where `base` is background.
void addContext(Volume& base, LabelTable& table, const CaseLayer& other, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    const int from = *other.table.valueOf(name);
    const int to = *LabelTable::caseSchema().valueOf(name);
    table.set(LabelTable::schemaEntry(name, to));
    const uint8_t* in = other.mask.data<uint8_t>();
    uint8_t* out = base.data<uint8_t>();
    for (int64_t v = 0; v < base.voxelCount(); ++v)
      if (out[v] == 0 && in[v] == from) out[v] = static_cast<uint8_t>(to);
  }
}

bool identical(const Volume& a, const Volume& b) {
  return a.geometry() == b.geometry() && a.pixelType() == b.pixelType() &&
         std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

}  // namespace

class CasePostTest : public QObject {
  Q_OBJECT
  std::string dir_;
  PhantomCase ph_;
  std::vector<CaseLayer> layers_;

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("case-post");
    PhantomOptions po;
    po.seed = 5;
    ph_ = generatePhantom(po);
    writeVolume(ph_.arterial, dir_ + "/case_A.nii.gz");
    writeVolume(ph_.portal, dir_ + "/case_P.nii.gz");
    // Run order as `run` would have it: organs first, then the kidney models.
    layers_.push_back(layerFrom(ph_, "organs", "P",
                                {{"kidney_left", {pl::KidneyLeft, pl::Tumor}}, {"kidney_right", {pl::KidneyRight}},
                                 {"aorta", {pl::Aorta}}, {"liver", {pl::Liver}}, {"spleen", {pl::Spleen}}}));
    layers_.push_back(layerFrom(ph_, "vessel", "A",
                                {{"kidney", {pl::KidneyLeft, pl::KidneyRight, pl::Tumor}}, {"artery", {pl::Artery}},
                                 {"vein", {pl::Vein}}}));
    layers_.push_back(layerFrom(ph_, "tumor", "P", {{"kidney", {pl::KidneyLeft, pl::KidneyRight}}, {"tumor", {pl::Tumor}}}));
  }

  void primaryLayerPerStep() {
    std::vector<LabelTable> tables;
    for (const auto& l : layers_) tables.push_back(l.table);
    QCOMPARE(primaryLayerFor(post::PostStep::Fat, tables), 2);     // kidney and tumour beat kidney only
    QCOMPARE(primaryLayerFor(post::PostStep::Sample, tables), 2);
    QCOMPARE(primaryLayerFor(post::PostStep::Vessel, tables), 1);
    QCOMPARE(primaryLayerFor(post::PostStep::Ureter, tables), -1);
    QCOMPARE(primaryLayerFor(post::PostStep::Fat, {tables[0]}), 0);  // sided kidneys will do
  }

  void fatBorrowsContextAndUsesItsPhase() {
    Case c = Case::fromFolder(dir_);
    std::vector<CaseLayer> layers = layers_;
    post::PostStepRequest request{post::PostStep::Fat, {{"distance-mm", "15"}}, {}};
    const PostRunRecord r = runPostOnCase(c, layers, request, dir_ + "/out");
    QCOMPARE(r.primary, std::string("tumor"));
    QCOMPARE(r.ctPhase, std::string("P"));
    QCOMPARE(r.context, (std::vector<std::string>{"organs", "vessel"}));
    QCOMPARE(layers.back().id, std::string("post_fat"));

    // The same step on a mask composed by hand: the tumour layer, then the other
    // layers' labels it lacks (the organ model's kidneys are not taken).
    Volume composed = layers_[2].mask.clone();
    LabelTable table = layers_[2].table;
    addContext(composed, table, layers_[0], {"aorta", "liver", "spleen"});
    addContext(composed, table, layers_[1], {"artery", "vein"});
    const post::PostStepOutcome expected = post::runPostStep(request, composed, table, &ph_.portal);
    QVERIFY(identical(readVolume(r.output), expected.mask));
    QVERIFY(fs::exists(r.report));
    QVERIFY(LabelTable::readSidecar(r.output).findByName("perirenal_fat") != nullptr);
  }

  void vesselFindsTheAortaInContext() {
    Case c = Case::fromFolder(dir_);
    std::vector<CaseLayer> layers = layers_;
    post::PostStepRequest request{post::PostStep::Vessel, {}, {}};
    const PostRunRecord r = runPostOnCase(c, layers, request, dir_ + "/out");
    QCOMPARE(r.primary, std::string("vessel"));
    QCOMPARE(r.ctPhase, std::string("A"));
    Volume composed = layers_[1].mask.clone();
    LabelTable table = layers_[1].table;
    addContext(composed, table, layers_[0], {"aorta", "liver", "spleen"});
    const post::PostStepOutcome expected = post::runPostStep(request, composed, table, &ph_.arterial);
    QVERIFY(identical(readVolume(r.output), expected.mask));
  }

  void missingLabelsAndCancelWriteNothing() {
    Case c = Case::fromFolder(dir_);
    std::vector<CaseLayer> layers = layers_;
    try {
      runPostOnCase(c, layers, {post::PostStep::Ureter, {}, {}}, dir_ + "/none");
      QFAIL("no error for a step without its labels");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
      QVERIFY2(std::string(e.what()).find("ureter") != std::string::npos, e.what());
    }
    auto flag = std::make_shared<std::atomic<bool>>(true);
    try {
      runPostOnCase(c, layers, {post::PostStep::Sample, {}, {}}, dir_ + "/none", Progress({}, flag));
      QFAIL("no error on cancel");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Cancelled);
    }
    QVERIFY(!fs::exists(dir_ + "/none/post_sample.nii.gz"));
    QCOMPARE(layers.size(), layers_.size());
  }
};

QTEST_GUILESS_MAIN(CasePostTest)
#include "test_case_post.moc"
