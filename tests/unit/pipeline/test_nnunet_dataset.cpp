// Reviewed run outputs as an nnU-Net v2 raw dataset: the model's channel order
// (a phase on another grid resampled onto the output's), the newest corrected
// version as labels, review states deciding which cases go in, dataset.json from
// the model's own; bad inputs leave no folder.
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "TestSupport.h"
#include "common/Error.h"
#include "edit/CorrectedVersion.h"
#include "edit/EditSession.h"
#include "edit/ReviewState.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"
#include "pipeline/NnunetDataset.h"

namespace fs = std::filesystem;
using namespace nephro;
using json = nlohmann::json;
namespace pl = phantom_label;

namespace {

json readJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

// The phantom's labels mapped to a model's label values.
Volume modelMask(const Volume& labels,
                 const std::vector<std::pair<std::vector<int>, uint8_t>>& map) {
  Volume m(labels.geometry(), PixelType::UInt8);
  for (int64_t v = 0; v < m.voxelCount(); ++v)
    for (const auto& [from, to] : map)
      for (int f : from)
        if (labels.data<uint8_t>()[v] == f) m.data<uint8_t>()[v] = to;
  return m;
}

bool sameVoxels(const Volume& a, const Volume& b) {
  return a.byteSize() == b.byteSize() && std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

}  // namespace

class TestNnunetDataset : public QObject {
  Q_OBJECT
  std::string dir_, batch_;
  PhantomCase ph_;
  Volume corrected_;
  Geometry portalGrid_;

  void writeCase(const std::string& name, bool withVessel) {
    const std::string folder = batch_ + "/" + name;
    fs::create_directories(folder);
    const std::string a = dir_ + "/inputs/" + name + "_A.nii.gz",
                      p = dir_ + "/inputs/" + name + "_P.nii.gz";
    fs::copy_file(dir_ + "/inputs/A.nii.gz", a, fs::copy_options::overwrite_existing);
    fs::copy_file(dir_ + "/inputs/P.nii.gz", p, fs::copy_options::overwrite_existing);
    LabelTable tumorTable, vesselTable;
    tumorTable.set(LabelTable::schemaEntry("kidney", 1));
    tumorTable.set(LabelTable::schemaEntry("tumor", 2));
    // The tumour model ran on P: its mask lies on P's grid.
    Volume tumor =
        modelMask(ph_.labels, {{{pl::KidneyLeft, pl::KidneyRight}, 1}, {{pl::Tumor}, 2}});
    tumor.setGeometry(portalGrid_);
    writeVolume(tumor, folder + "/tumor.nii.gz");
    tumorTable.writeSidecar(folder + "/tumor.nii.gz");
    const std::string models = std::string(NEPHRO3D_SOURCE_DIR) + "/models/demo/";
    json prov{{"format", "nephro3d-provenance"},
              {"version", 1},
              {"case", name},
              {"phases", {{"A", {{"file", a}}}, {"P", {{"file", p}}}}},
              {"models",
               {{{"id", "tumor"},
                 {"version", "demo-1"},
                 {"folder", models + "tumor"},
                 {"input_phases", {"P"}},
                 {"output_phase", "P"},
                 {"output", folder + "/tumor.nii.gz"}}}}};
    if (withVessel) {
      vesselTable.set(LabelTable::schemaEntry("kidney", 1));
      vesselTable.set(LabelTable::schemaEntry("artery", 2));
      vesselTable.set(LabelTable::schemaEntry("vein", 3));
      writeVolume(
          modelMask(ph_.labels,
                    {{{pl::KidneyLeft, pl::KidneyRight}, 1}, {{pl::Artery}, 2}, {{pl::Vein}, 3}}),
          folder + "/vessel.nii.gz");
      vesselTable.writeSidecar(folder + "/vessel.nii.gz");
      prov["models"].push_back({{"id", "vessel"},
                                {"version", "demo-1"},
                                {"folder", models + "vessel"},
                                {"input_phases", {"A", "P"}},
                                {"output_phase", "A"},
                                {"output", folder + "/vessel.nii.gz"}});
    }
    std::ofstream(folder + "/provenance.json") << prov.dump(2);
  }

  void expectFailure(pipeline::DatasetOptions o, ErrorKind kind, const std::string& fragment) {
    try {
      pipeline::writeNnunetDataset(o);
      QFAIL(("accepted: " + o.out).c_str());
    } catch (const Error& e) {
      QVERIFY2(e.kind() == kind, e.what());
      QVERIFY2(std::string(e.what()).find(fragment) != std::string::npos, e.what());
    }
    for (const auto& entry : fs::directory_iterator(dir_))
      QVERIFY2(entry.path().filename().string().find(".partial-") == std::string::npos,
               entry.path().c_str());
  }

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("nnunet-dataset");
    batch_ = dir_ + "/batch";
    PhantomOptions o;
    o.seed = 5;
    o.size = PhantomSize::Small;
    o.dimensions = Index3{64, 64, 40};
    ph_ = generatePhantom(o);
    fs::create_directories(dir_ + "/inputs");
    writeVolume(ph_.arterial, dir_ + "/inputs/A.nii.gz");
    // The portal phase on a grid of its own: half a voxel off.
    Volume portal = ph_.portal;
    Geometry g = portal.geometry();
    g.origin[0] += 0.5 * g.spacing[0];
    portal.setGeometry(g);
    portalGrid_ = g;
    writeVolume(portal, dir_ + "/inputs/P.nii.gz");
    writeCase("c1", true);
    writeCase("c2", false);
    writeCase("c3", false);
    // c1 was corrected (its tumour removed) and approved; c3 needs a fix.
    const std::string mask = batch_ + "/c1/tumor.nii.gz";
    edit::EditSession s(edit::toLabelLayer(readVolume(mask), mask), LabelTable::readSidecar(mask));
    edit::ScissorsCut cut;
    cut.rule.over = edit::PaintOver::Label;
    cut.rule.overLabel = 2;
    const Geometry& lg = s.layer().geometry();
    cut.polygon = {lg.indexToPhysical({0, 0, 0}), lg.indexToPhysical({63, 0, 0}),
                   lg.indexToPhysical({63, 63, 0}), lg.indexToPhysical({0, 63, 0})};
    QVERIFY(s.apply(cut).changed);
    corrected_ = s.layer().clone();
    edit::saveCorrection(s, mask, {"Dr A", ""});
    edit::setReview(batch_ + "/c1", edit::ReviewStatus::Approved, "Dr A", "");
    edit::setReview(batch_ + "/c3", edit::ReviewStatus::NeedsFix, "Dr A", "tumour too large");
  }

  void datasetOfTheModelEveryCaseRan() {
    const std::string out = dir_ + "/Dataset501_KidneyTumor";
    std::string output;
    QCOMPARE(test::runNephro3d("dataset -q --runs " + batch_ + " --out " + out, &output), 0);
    QVERIFY2(output.find("skipped c3: marked needs_fix") != std::string::npos, output.c_str());
    const json ds = readJson(out + "/dataset.json");
    QCOMPARE(ds["numTraining"].get<int>(), 2);
    QCOMPARE(ds["file_ending"].get<std::string>(), std::string(".nii.gz"));
    QCOMPARE(ds["channel_names"], json({{"0", "CT_P"}}));
    QCOMPARE(ds["labels"], json({{"background", 0}, {"kidney", 1}, {"tumor", 2}}));
    for (const char* f : {"imagesTr/c1_0000.nii.gz", "imagesTr/c2_0000.nii.gz",
                          "labelsTr/c1.nii.gz", "labelsTr/c2.nii.gz"})
      QVERIFY2(fs::exists(out + "/" + f), f);
    QVERIFY(!fs::exists(out + "/labelsTr/c3.nii.gz"));
    // c1's labels are its correction; its image is the P phase the model saw, on the labels' grid.
    const Volume labels = readVolume(out + "/labelsTr/c1.nii.gz");
    QVERIFY(sameVoxels(labels, corrected_));
    const Volume image = readVolume(out + "/imagesTr/c1_0000.nii.gz");
    QVERIFY(image.geometry() == labels.geometry());
    QVERIFY(sameVoxels(image, readVolume(dir_ + "/inputs/P.nii.gz")));
    const json sources = readJson(out + "/nephro3d_sources.json");
    QCOMPARE(sources["cases"][0]["labels"].get<std::string>(),
             std::string("tumor.corrected-1.nii.gz"));
    QCOMPARE(sources["cases"][0]["review"].get<std::string>(), std::string("approved"));
  }

  void approvedOnlyAndAnotherModel() {
    pipeline::DatasetOptions o;
    o.runs = {batch_};
    o.out = dir_ + "/Dataset502_Approved";
    o.approvedOnly = true;
    const pipeline::DatasetReport r = pipeline::writeNnunetDataset(o);
    QCOMPARE(r.cases.size(), size_t(1));
    QCOMPARE(r.cases[0].name, std::string("c1"));

    o.out = dir_ + "/Dataset503_Vessel";
    o.approvedOnly = false;
    o.model = "vessel";
    const pipeline::DatasetReport v = pipeline::writeNnunetDataset(o);
    QCOMPARE(v.cases.size(), size_t(1));
    QCOMPARE(v.cases[0].phases, (std::vector<std::string>{"A", "P"}));
    const json ds = readJson(o.out + "/dataset.json");
    QCOMPARE(ds["channel_names"], json({{"0", "CT_A"}, {"1", "CT_P"}}));
    const Volume labels = readVolume(o.out + "/labelsTr/c1.nii.gz");
    const Volume a = readVolume(o.out + "/imagesTr/c1_0000.nii.gz");
    const Volume p = readVolume(o.out + "/imagesTr/c1_0001.nii.gz");
    QVERIFY(a.geometry() == labels.geometry() && p.geometry() == labels.geometry());
    QVERIFY(sameVoxels(a, readVolume(dir_ + "/inputs/A.nii.gz")));
    QVERIFY(!sameVoxels(p, readVolume(dir_ + "/inputs/P.nii.gz")));  // resampled onto A's grid
  }

  void badInputsLeaveNoFolder() {
    pipeline::DatasetOptions o;
    o.runs = {batch_};
    o.out = dir_ + "/KidneyTumor";
    expectFailure(o, ErrorKind::Usage, "DatasetNNN_Name");
    o.out = dir_ + "/Dataset501_KidneyTumor";
    expectFailure(o, ErrorKind::Output, "exists already");
    o.out = dir_ + "/Dataset504_Ureter";
    o.model = "ureter";
    expectFailure(o, ErrorKind::Input, "no case to write");
    // A label the model does not have (a correction that added a ureter).
    const std::string mask = batch_ + "/c2/tumor.nii.gz";
    Volume m = readVolume(mask);
    m.data<uint8_t>()[0] = 7;
    writeVolume(m, mask);
    o.model = "tumor";
    expectFailure(o, ErrorKind::Input, "holds label 7");
    QVERIFY(!fs::exists(o.out));
  }
};

QTEST_GUILESS_MAIN(TestNnunetDataset)
#include "test_nnunet_dataset.moc"
