// nephro3d post on the command line: outputs, reports, and bad input
// (missing labels, a CT on another grid, parameters out of range) with their
// exit codes and no output left behind.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "TestSupport.h"
#include "image/VolumeIO.h"
#include "labels/LabelTable.h"

using namespace nephro;
namespace fs = std::filesystem;

namespace {

LabelTable schemaSubset(std::initializer_list<const char*> names) {
  LabelTable t;
  for (const char* name : names) t.set(*LabelTable::caseSchema().findByName(name));
  return t;
}

// An aorta block with an artery leaving it, cut by a 5 mm gap, and a kidney ball.
Volume arteryScene() {
  Geometry g;
  g.size = {80, 40, 40};
  g.spacing = {1.0, 1.0, 1.0};
  Volume v(g, PixelType::UInt8);
  uint8_t* p = v.data<uint8_t>();
  for (int64_t k = 0; k < 40; ++k)
    for (int64_t j = 0; j < 40; ++j)
      for (int64_t i = 0; i < 80; ++i) {
        const int64_t o = g.offset(i, j, k);
        const double r2 = (j - 20.0) * (j - 20.0) + (k - 20.0) * (k - 20.0);
        if (i < 10 && r2 < 64) p[o] = 10;
        else if (r2 <= 6.25 && i < 70 && (i < 35 || i >= 40)) p[o] = 4;
        const double d2 = (i - 70.0) * (i - 70.0) + (j - 20.0) * (j - 20.0) + (k - 20.0) * (k - 20.0);
        if (d2 < 64 && i >= 66) p[o] = 1;
      }
  return v;
}

}  // namespace

class PostCli : public QObject {
  Q_OBJECT

  std::string dir_;

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("post-cli");
    const Volume scene = arteryScene();
    writeVolume(scene, dir_ + "/mask.nii.gz");
    schemaSubset({"kidney_left", "artery", "aorta"}).writeSidecar(dir_ + "/mask.nii.gz");
    Geometry other = scene.geometry();
    other.spacing[2] = 1.5;
    writeVolume(Volume(other, PixelType::Int16), dir_ + "/ct_other_grid.nii.gz");
  }

  void vesselWritesMaskTableAndReport() {
    std::string log;
    const std::string out = dir_ + "/vessel/out.nii.gz";
    const int rc = test::runNephro3d("post vessel --mask " + dir_ + "/mask.nii.gz --out " + out +
                                         " --working-spacing-mm 0 -q", &log);
    QVERIFY2(rc == 0, log.c_str());
    QVERIFY(fs::exists(out) && fs::exists(dir_ + "/vessel/out.json"));
    std::ifstream f(dir_ + "/vessel/out_report.json");
    const nlohmann::json report = nlohmann::json::parse(f);
    QCOMPARE(report["joined"].get<int>(), 1);
    bool bridged = false;
    for (const auto& b : report["bridges"]) bridged |= b["decision"] == "bridged";
    QVERIFY(bridged);
    const Volume result = readVolume(out);
    QVERIFY(result.geometry() == readVolume(dir_ + "/mask.nii.gz").geometry());
    // The gap (i 35..39 on the axis) is artery now.
    QCOMPARE(result.valueAt(37, 20, 20), 4.0);
  }

  void fatWithoutCtWritesAFatLayer() {
    std::string log;
    const std::string out = dir_ + "/fat/fat.nii.gz";
    const int rc = test::runNephro3d("post fat --mask " + dir_ + "/mask.nii.gz --out " + out + " --distance-mm 6 -q", &log);
    QVERIFY2(rc == 0, log.c_str());
    const LabelTable table = LabelTable::readSidecar(out);
    QVERIFY(table.valueOf("perirenal_fat_left"));
    QVERIFY(readVolume(out).range().second == *table.valueOf("perirenal_fat_left"));
  }

  void fatRemovesAFarKidneyIslandFirst() {
    // The scene with a 0.03 mL piece of kidney 40 mm from the kidney.
    Volume scene = readVolume(dir_ + "/mask.nii.gz");
    const Geometry& g = scene.geometry();
    for (int64_t k = 30; k < 35; ++k)
      for (int64_t j = 30; j < 35; ++j)
        for (int64_t i = 23; i < 28; ++i)
          if ((i - 25) * (i - 25) + (j - 32) * (j - 32) + (k - 32) * (k - 32) <= 4) scene.data<uint8_t>()[g.offset(i, j, k)] = 1;
    writeVolume(scene, dir_ + "/island.nii.gz");
    schemaSubset({"kidney_left", "artery", "aorta"}).writeSidecar(dir_ + "/island.nii.gz");
    struct Run {
      std::string options;
      int islands;
    };
    for (const Run& r : {Run{"", 1}, Run{" --min-kidney-island-ml 0", 0}, Run{" --kidney-island-distance-mm 60", 0}}) {
      std::string log;
      const std::string out = dir_ + "/island/fat.nii.gz";
      const int rc = test::runNephro3d("post fat --mask " + dir_ + "/island.nii.gz --out " + out +
                                           " --distance-mm 6 --working-spacing-mm 0" + r.options, &log);
      QVERIFY2(rc == 0, log.c_str());
      std::ifstream f(dir_ + "/island/fat_report.json");
      const nlohmann::json report = nlohmann::json::parse(f);
      QCOMPARE(report["kidneyIslandsRemoved"].get<int>(), r.islands);
      QVERIFY2(log.find(std::to_string(r.islands) + " kidney island") != std::string::npos, log.c_str());
      // Fat beside the island only where it was kept.
      QCOMPARE(readVolume(out).valueAt(25, 32, 36) != 0, r.islands == 0);
      if (r.islands) QVERIFY(report["kidneyIslandsRemovedMl"].get<double>() > 0.0);
    }
    std::string log;
    QCOMPARE(test::runNephro3d("post fat --mask " + dir_ + "/island.nii.gz --out " + dir_ +
                                   "/island/bad.nii.gz --min-kidney-island-ml 500", &log), 2);
    QVERIFY2(log.find("--min-kidney-island-ml") != std::string::npos, log.c_str());
  }

  void badInputFailsCleanly() {
    struct Case {
      std::string args;
      int code;
      std::string mention;
    };
    const std::string mask = dir_ + "/mask.nii.gz";
    const std::string out = dir_ + "/bad/out.nii.gz";
    const Case cases[] = {
        {"post fat --mask " + mask + " --image " + dir_ + "/ct_other_grid.nii.gz --out " + out, 3, "ct_other_grid.nii.gz"},
        {"post ureter --mask " + mask + " --out " + out, 3, "ureter"},
        {"post fat --mask " + dir_ + "/missing.nii.gz --out " + out, 3, "missing.nii.gz"},
        {"post vessel --mask " + mask + " --out " + out + " --max-angle-deg 500", 2, "--max-angle-deg"},
        {"post fat --mask " + mask + " --out " + out + " --excluded-labels no_such_label", 2, "no_such_label"},
    };
    for (const Case& c : cases) {
      std::string log;
      const int rc = test::runNephro3d(c.args, &log);
      QVERIFY2(rc == c.code, (c.args + " -> " + std::to_string(rc) + ": " + log).c_str());
      QVERIFY2(log.find(c.mention) != std::string::npos, log.c_str());
      QVERIFY(!fs::exists(out));
      if (fs::exists(dir_ + "/bad"))
        for (const auto& e : fs::directory_iterator(dir_ + "/bad")) QFAIL(("left behind: " + e.path().string()).c_str());
    }
  }
};

QTEST_APPLESS_MAIN(PostCli)
#include "tst_post_cli.moc"
