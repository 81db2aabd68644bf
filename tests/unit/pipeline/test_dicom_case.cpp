// DICOM phases in `run` and `--batch`: a series with a missing slice is refused
// with exit 3 unless --allow-gaps, which interpolates it onto a uniform grid and
// says so in provenance.json; the up-front memory check estimates a DICOM
// phase from its series scan (headers only) and refuses a run over the limit.
#include <QtTest>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "DicomSeriesWriter.h"
#include "TestSupport.h"
#include "TinyModel.h"
#include "image/VolumeIO.h"
#include "pipeline/Case.h"
#include "pipeline/CaseMemory.h"

namespace fs = std::filesystem;
using namespace nephro;
using json = nlohmann::json;

namespace {

json readJson(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

class DicomCaseTest : public QObject {
  Q_OBJECT
  std::string dir_, whole_, gap_;
  Geometry grid_;

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("dicom-case");
    test::writeTinyModel(dir_ + "/model", {});
    fs::create_directories(dir_ + "/manifests");
    std::ofstream(dir_ + "/manifests/tiny.json")
        << R"({"id": "tiny", "folder": "../model", "inputs": [{"channel": 0, "phase": "D"}], "output_space": "D",
              "folds": [0], "mirroring": false})";
    setenv("NEPHRO3D_MODELS_DIR", (dir_ + "/manifests").c_str(), 1);
    grid_.size = {20, 18, 10};
    grid_.spacing = {2.0, 2.0, 2.5};
    grid_.origin = {-20.0, -18.0, -120.0};
    Volume ct(grid_, PixelType::Int16);
    for (int64_t i = 0; i < ct.voxelCount(); ++i) ct.data<int16_t>()[i] = static_cast<int16_t>((i * 37) % 900 - 400);
    // Case folders as a batch finds them: a DICOM series folder named for its phase.
    whole_ = dir_ + "/in-whole/case01/case01_D";
    gap_ = dir_ + "/in-gap/case02/D";
    for (const std::string& d : {whole_, gap_}) {
      fs::create_directories(d);
      test::writeDicomSeries(ct, d, "P1");
    }
    fs::remove(gap_ + "/ct1004.dcm");  // slice 5 of 10
  }

  void caseFolderFindsDicomPhaseFolders() {
    QCOMPARE(pipeline::phaseOfFolderName("D"), std::string("D"));
    QCOMPARE(pipeline::phaseOfFolderName("case01_D"), std::string("D"));
    QCOMPARE(pipeline::phaseOfFolderName("ct_0001"), std::string("P"));
    QCOMPARE(pipeline::phaseOfFolderName("meshes"), std::string());
    const pipeline::Case c = pipeline::Case::fromFolder(dir_ + "/in-whole/case01");
    QCOMPARE(c.phases(), std::vector<std::string>{"D"});
    QCOMPARE(c.file("D"), whole_);
  }

  void runRefusesMissingSliceWithoutAllowGaps() {
    std::string log;
    const std::string out = dir_ + "/run-refused";
    const int code = test::runNephro3d("run --image-d '" + gap_ + "' --models tiny --out '" + out + "'", &log);
    QVERIFY2(code == 3, log.c_str());
    QVERIFY2(log.find("slice 5 of 10 missing") != std::string::npos, log.c_str());
    QVERIFY2(log.find("--allow-gaps") != std::string::npos, log.c_str());
    QVERIFY(!fs::exists(out + "/provenance.json"));
    QVERIFY(!fs::exists(out + "/tiny.nii.gz"));
  }

  void runWithAllowGapsInterpolatesAndRecordsIt() {
    std::string log;
    const std::string out = dir_ + "/run-gaps";
    const int code = test::runNephro3d("run --image-d '" + gap_ + "' --models tiny --allow-gaps --out '" + out + "'", &log);
    QVERIFY2(code == 0, log.c_str());
    const json prov = readJson(out + "/provenance.json");
    const json notes = prov["phases"]["D"].value("notes", json::array());
    QCOMPARE(int(notes.size()), 1);
    const std::string note = notes[0].get<std::string>();
    QVERIFY2(note.find("1 missing slice") != std::string::npos && note.find("interpolated") != std::string::npos &&
                 note.find("10 slices at 2.5 mm") != std::string::npos,
             note.c_str());
    // The mask is on the uniform grid of all ten slices.
    const ImageInfo mask = readImageInfo(out + "/tiny.nii.gz");
    QCOMPARE(mask.geometry.size, grid_.size);
    QVERIFY(std::abs(mask.geometry.spacing[2] - 2.5) < 1e-6);
    // A whole series leaves no note.
    const std::string whole = dir_ + "/run-whole";
    QVERIFY2(test::runNephro3d("run --image-d '" + whole_ + "' --models tiny --allow-gaps --out '" + whole + "'", &log) == 0,
             log.c_str());
    QVERIFY(!readJson(whole + "/provenance.json")["phases"]["D"].contains("notes"));
  }

  void batchRefusesOrInterpolatesWithAllowGaps() {
    std::string log;
    const std::string refused = dir_ + "/batch-refused";
    int code = test::runNephro3d("--batch '" + dir_ + "/in-gap' '" + refused + "' --models tiny --quiet", &log);
    QVERIFY2(code == 3, log.c_str());
    const std::string csv = readAll(refused + "/summary.csv");
    QVERIFY2(csv.find("case02") != std::string::npos && csv.find("failed") != std::string::npos &&
                 csv.find("missing") != std::string::npos,
             csv.c_str());
    QVERIFY(!fs::exists(refused + "/case02/provenance.json"));

    const std::string done = dir_ + "/batch-gaps";
    code = test::runNephro3d("--batch '" + dir_ + "/in-gap' '" + done + "' --models tiny --allow-gaps --quiet", &log);
    QVERIFY2(code == 0, log.c_str());
    const json prov = readJson(done + "/case02/provenance.json");
    QCOMPARE(prov["phases"]["D"]["file"].get<std::string>(), gap_);
    QVERIFY2(prov["phases"]["D"].contains("notes") &&
                 prov["phases"]["D"]["notes"][0].get<std::string>().find("interpolated") != std::string::npos,
             prov.dump(2).c_str());
    // --allow-gaps belongs to --batch at the top level.
    QVERIFY(test::runNephro3d("--allow-gaps", &log) != 0);
  }

  void memoryEstimateCoversDicomFolders() {
    // From the headers: 20x18 slices of 16 bits, ten of them (the missing one counted when filled).
    ::unsetenv("NEPHRO3D_MEMORY_LIMIT");
    pipeline::Case whole = pipeline::Case::fromFiles({{"D", whole_}});
    pipeline::CaseMemoryEstimate e = pipeline::estimateCaseMemory(whole, {"D"}, {});
    QVERIFY(e.known);
    QCOMPARE(e.phaseBytes, double(20 * 18 * 10 * 2));
    QCOMPARE(whole.readCount("D"), 0);
    pipeline::Case gap = pipeline::Case::fromFiles({{"D", gap_}});
    gap.setAllowGaps(true);
    e = pipeline::estimateCaseMemory(gap, {"D"}, {});
    QCOMPARE(e.phaseBytes, double(20 * 18 * 10 * 2));
    gap.setAllowGaps(false);
    QVERIFY_THROWS_EXCEPTION(std::exception, pipeline::estimateCaseMemory(gap, {"D"}, {}));

    // A limit below the phase alone: refused up front with exit 3, nothing written.
    ::setenv("NEPHRO3D_MEMORY_LIMIT", "4K", 1);
    std::string log;
    const std::string out = dir_ + "/run-memory";
    const int code = test::runNephro3d("run --image-d '" + whole_ + "' --models tiny --out '" + out + "'", &log);
    ::unsetenv("NEPHRO3D_MEMORY_LIMIT");
    QVERIFY2(code == 3, log.c_str());
    QVERIFY2(log.find("needs about") != std::string::npos && log.find("NEPHRO3D_MEMORY_LIMIT") != std::string::npos,
             log.c_str());
    QVERIFY(!fs::exists(out + "/tiny.nii.gz"));
    QVERIFY(!fs::exists(out + "/provenance.json"));
  }
};

QTEST_APPLESS_MAIN(DicomCaseTest)
#include "test_dicom_case.moc"
