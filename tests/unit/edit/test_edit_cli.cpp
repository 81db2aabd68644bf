// The review loop on files: `nephro3d edit` replays a session's journal to the
// same voxels, bad journals leave no output, corrected versions are written
// beside the model output with their provenance, review.json states list and
// step through a batch output, `nephro3d review` sets them.
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "EditTestData.h"
#include "TestSupport.h"
#include "common/Error.h"
#include "edit/CorrectedVersion.h"
#include "edit/EditSession.h"
#include "edit/ReviewState.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"

namespace fs = std::filesystem;
using namespace nephro;
using namespace nephro::edit;
namespace pl = phantom_label;

namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

Vec3 voxelCentre(const Geometry& g, const Volume& labels, int value) {
  for (int64_t k = g.size[2] / 2; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (labels.data<uint8_t>()[g.offset(i, j, k)] == value)
          return g.indexToPhysical({double(i), double(j), double(k)});
  return {0, 0, 0};
}

int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

class TestEditCli : public QObject {
  Q_OBJECT
  std::string dir_, mask_, ct_;
  PhantomCase ph_;

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("edit-cli");
    PhantomOptions o;
    o.seed = 4;
    ph_ = generatePhantom(o);
    fs::create_directories(dir_ + "/case01");
    mask_ = dir_ + "/case01/tumor.nii.gz";
    ct_ = dir_ + "/case01/case01_A.nii.gz";
    writeVolume(ph_.labels, mask_);
    ph_.table.writeSidecar(mask_);
    writeVolume(ph_.arterial, ct_);
    writeText(
        dir_ + "/case01/provenance.json",
        R"({"format": "nephro3d-provenance", "version": 1, "case": "case01", "phases": {"A": {"file": ")" +
            ct_ +
            R"("}}, "models": [{"id": "tumor", "version": "demo-1", "input_phases": ["A"], "output_phase": "A", "output": "tumor.nii.gz"}]})");
  }

  void editReplaysTheJournalBitIdentically() {
    // A session as the window holds it, on the files as read back from disk.
    EditSessionOptions so;
    so.layerPath = mask_;
    EditSession s(toLabelLayer(readVolume(mask_), mask_), LabelTable::readSidecar(mask_), so);
    s.setImage(readVolume(ct_), ct_);
    const Vec3 aorta = voxelCentre(ph_.labels.geometry(), ph_.labels, pl::Aorta);
    BrushStroke b;
    b.label = pl::Artery;
    b.shape = BrushShape::Sphere;
    b.radiusMm = 8;
    b.rule.over = PaintOver::Everything;
    b.rule.huRange = std::array<double, 2>{150, 600};
    b.dabs = {aorta, {aorta[0] + 5, aorta[1], aorta[2] + 10}};
    QVERIFY(s.apply(b).changed);
    ScissorsCut cut;
    cut.rule.over = PaintOver::Everything;
    cut.slabMm = 20;
    cut.polygon = {
        aorta, {aorta[0] + 30, aorta[1], aorta[2]}, {aorta[0] + 30, aorta[1] + 30, aorta[2]}};
    QVERIFY(s.apply(cut).changed);
    s.undo();
    KeepLargestIslands keep;
    keep.label = pl::Artery;
    s.apply(keep);
    const std::string journal = dir_ + "/case01/session.journal.json";
    writeText(journal, s.journalJson());

    const std::string out = dir_ + "/replayed.nii.gz";
    std::string output;
    QCOMPARE(test::runNephro3d("edit --mask " + mask_ + " --image " + ct_ + " --journal " +
                                   journal + " --out " + out,
                               &output),
             0);
    QVERIFY2(output.find("1 undo") != std::string::npos, output.c_str());
    QVERIFY(LabelTable::hasSidecar(out));
    QVERIFY(test::sameVoxels(readVolume(out), s.layer()));
  }

  void badEditInputsLeaveNoOutput() {
    const std::string out = dir_ + "/bad.nii.gz";
    auto run = [&](const std::string& journalText, const std::string& extra, int code,
                   const std::string& fragment) {
      const std::string journal = dir_ + "/bad.journal.json";
      writeText(journal, journalText);
      std::string output;
      QCOMPARE(test::runNephro3d(
                   "edit -q --mask " + mask_ + " --journal " + journal + " --out " + out + extra,
                   &output),
               code);
      QVERIFY2(output.find(fragment) != std::string::npos, output.c_str());
      QVERIFY2(lines(output) == 1, output.c_str());
      QVERIFY(!fs::exists(out));
    };
    const std::string head = R"({"format": "nephro3d-edit-journal", "version": 1, "operations": [)";
    run(head + R"({"op": "keep_largest", "label": {"name": "tumour", "value": 3}}]})", "", 3,
        "operation 1: names label 'tumour', which the layer's label table lacks");
    run(head +
            R"({"op": "scissors", "action": "erase", "axis": 2, "polygon_lps": [[900, 900, 0], [990, 900, 0], [990, 990, 0]]}]})",
        "", 3, "scissors polygon lies outside the volume");
    run("{\"format\": \"nephro3d-edit-journal\", ", "", 3, "is not valid JSON");
    run(head +
            R"({"op": "brush", "label": {"name": "tumor", "value": 3}, "axis": 2, "radius_mm": 3, "hu_range": [150, 600], "dabs_lps": [[0, 0, 0]]}]})",
        "", 2, "--image");
    std::string output;
    QCOMPARE(test::runNephro3d(
                 "edit --mask " + mask_ + " --journal " + dir_ + "/bad.journal.json --out " + mask_,
                 &output),
             2);
  }

  void correctionsAreNewVersionsBesideTheOutput() {
    EditSessionOptions so;
    so.layerPath = mask_;
    const Volume original = toLabelLayer(readVolume(mask_), mask_);
    EditSession s(original.clone(), LabelTable::readSidecar(mask_), so);
    KeepLargestIslands keep;
    keep.label = pl::Artery;
    RemoveIsland remove;
    remove.seed = voxelCentre(ph_.labels.geometry(), ph_.labels, pl::Tumor);
    const EditResult removed = s.apply(remove);
    QVERIFY(removed.changed);
    const SavedCorrection first = saveCorrection(s, mask_, {"Dr Renal", "2025-02-01T10:00:00Z"});
    QCOMPARE(first.version, 1);
    QCOMPARE(fs::path(first.maskPath).filename().string(), std::string("tumor.corrected-1.nii.gz"));
    for (const auto& f : {first.maskPath, first.tablePath, first.journalPath, first.provenancePath})
      QVERIFY2(fs::exists(f), f.c_str());
    QCOMPARE(first.changes.at("tumor").removed, removed.voxelsChanged);
    QCOMPARE(first.voxelsChanged, removed.voxelsChanged);
    const auto prov = nlohmann::json::parse(readText(first.provenancePath));
    QCOMPARE(prov["reviewer"].get<std::string>(), std::string("Dr Renal"));
    QCOMPARE(prov["corrects"].get<std::string>(), std::string("tumor.nii.gz"));
    QCOMPARE(prov["labels"]["tumor"]["voxels_after"].get<int64_t>(), int64_t(0));
    QVERIFY(test::sameVoxels(readVolume(mask_), original));  // the model's output is untouched
    QVERIFY(readCorrectionProvenance(first.maskPath).corrected);
    QVERIFY(!readCorrectionProvenance(mask_).corrected);

    // More edits, saved again: version 2, whose journal replays from the opened file.
    s.apply(keep);
    const SavedCorrection second = saveCorrection(s, mask_, {"Dr Renal", ""});
    QCOMPARE(second.version, 2);
    QCOMPARE(latestVersion(mask_), second.maskPath);
    QCOMPARE(correctedVersions(first.maskPath).size(), size_t(2));
    QCOMPARE(parseMaskFileName(second.maskPath).stem, std::string("tumor"));
    std::string output;
    const std::string replayed = dir_ + "/v2.nii.gz";
    QCOMPARE(test::runNephro3d("edit -q --mask " + mask_ + " --journal " + second.journalPath +
                                   " --out " + replayed,
                               &output),
             0);
    QVERIFY(test::sameVoxels(readVolume(replayed), readVolume(second.maskPath)));
  }

  void reviewStatesOfABatch() {
    const std::string batch = dir_ + "/batch";
    for (const char* name : {"c1", "c2", "c3"}) {
      fs::create_directories(batch + "/" + name);
      fs::copy_file(dir_ + "/case01/provenance.json", batch + "/" + name + "/provenance.json",
                    fs::copy_options::overwrite_existing);
    }
    fs::create_directories(batch + "/not-a-case");
    std::vector<ReviewCase> cases = listReviewCases(batch);
    QCOMPARE(cases.size(), size_t(3));
    QCOMPARE(cases[0].review.status, ReviewStatus::Unreviewed);
    QCOMPARE(cases[0].masks.size(), size_t(1));
    setReview(cases[0].folder, ReviewStatus::NeedsFix, "Dr A", "tumour leaks into the sinus");
    setReview(cases[0].folder, ReviewStatus::Approved, "Dr B", "fixed");
    setReview(cases[2].folder, ReviewStatus::Approved, "Dr B", "");
    const ReviewState state = readReview(cases[0].folder);
    QCOMPARE(state.current.reviewer, std::string("Dr B"));
    QCOMPARE(state.history.size(), size_t(1));
    QCOMPARE(state.history[0].comment, std::string("tumour leaks into the sinus"));
    cases = listReviewCases(batch);
    QCOMPARE(nextCaseToReview(cases, std::nullopt), std::optional<size_t>(1));
    QCOMPARE(nextCaseToReview(cases, size_t(1)),
             std::optional<size_t>());  // the only one left is the current
    QCOMPARE(nextCaseToReview(cases, size_t(2), false), std::optional<size_t>(1));
    // The command line sets and lists the same file.
    std::string output;
    QCOMPARE(test::runNephro3d(
                 "review " + batch +
                     " --case c2 --set needs-fix --reviewer 'Dr C' --comment 'artery into vein'",
                 &output),
             0);
    QCOMPARE(readReview(batch + "/c2").current.status, ReviewStatus::NeedsFix);
    QCOMPARE(test::runNephro3d("review " + batch, &output), 0);
    QVERIFY2(output.find("needs_fix") != std::string::npos &&
                 output.find("artery into vein") != std::string::npos,
             output.c_str());
    writeText(batch + "/c3/review.json",
              "{\"format\": \"nephro3d-review\", \"status\": \"maybe\"}");
    try {
      listReviewCases(batch);
      QFAIL("a malformed review.json was accepted");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("review.json") != std::string::npos);
    }
  }
};

QTEST_GUILESS_MAIN(TestEditCli)
#include "test_edit_cli.moc"
