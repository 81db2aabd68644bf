// Masks from other tools: value=name lists, TotalSegmentator's class map, nnU-Net
// dataset.json, colour tables, 3D Slicer .seg.nrrd, and masks on another grid.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "TestSupport.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "labels/LabelSources.h"
#include "labels/SegNrrd.h"
#include "phantom/Phantom.h"

using namespace nephro;
namespace fs = std::filesystem;

namespace {
void writeText(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }
std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Keeps the phantom's voxels of `from` as `to`, everything else background.
Volume relabel(const Volume& labels, const std::vector<std::pair<int, int>>& fromTo) {
  Volume out = labels.like(PixelType::UInt8);
  const uint8_t* s = labels.data<uint8_t>();
  uint8_t* d = out.data<uint8_t>();
  for (int64_t n = 0; n < labels.voxelCount(); ++n)
    for (const auto& [from, to] : fromTo)
      if (s[n] == from) d[n] = static_cast<uint8_t>(to);
  return out;
}
}  // namespace

class TestLabelSources : public QObject {
  Q_OBJECT
  std::string dir_;
  PhantomCase phantom_;

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("label-sources");
    PhantomOptions o;
    o.seed = 3;
    phantom_ = generatePhantom(o);
  }

  void pairs() {
    const LabelTable t = labelTableFromPairs("1=artery, 2=vein,7=Left Kidney");
    QCOMPARE(t.size(), size_t(3));
    QCOMPARE(t.find(1)->name, std::string("artery"));
    QCOMPARE(t.find(1)->displayName, std::string("Renal artery"));  // from the schema
    QCOMPARE(t.find(7)->name, std::string("kidney_left"));
    for (const char* bad : {"1", "0=artery", "x=artery", "1=artery,1=vein", "70000=a", ""}) {
      try {
        labelTableFromPairs(bad);
        QFAIL(bad);
      } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Usage);
      }
    }
  }

  void totalSegmentatorClassMap() {
    const LabelTable& t = totalSegmentatorTable();
    QCOMPARE(t.size(), size_t(117));
    QCOMPARE(t.find(2)->name, std::string("kidney_right"));
    QCOMPARE(t.find(3)->name, std::string("kidney_left"));
    QCOMPARE(t.find(21)->name, std::string("urinary_bladder"));
    QCOMPARE(t.find(52)->name, std::string("aorta"));
    QCOMPARE(t.find(63)->name, std::string("inferior_vena_cava"));
    QCOMPARE(t.find(117)->name, std::string("costal_cartilages"));
    QCOMPARE(t.find(3)->code, std::string("SCT^64033007^Kidney"));  // schema terminology
  }

  void nnunetDataset() {
    writeText(dir_ + "/dataset.json",
              R"({"channel_names": {"0": "CT"}, "labels": {"background": 0, "kidney": 1, "tumor": 2, "Renal artery": 3},
                  "numTraining": 1, "file_ending": ".nii.gz"})");
    LabelTable t = labelTableFromSpec(dir_ + "/dataset.json");
    QCOMPARE(t.size(), size_t(3));
    QCOMPARE(t.find(2)->name, std::string("tumor"));
    QCOMPARE(t.find(3)->name, std::string("artery"));
    writeText(dir_ + "/regions.json",
              R"({"labels": {"background": 0, "kidney": [1, 2], "tumor": 2}, "regions_class_order": [1, 2]})");
    t = labelTableFromFile(dir_ + "/regions.json");
    QCOMPARE(t.find(1)->name, std::string("kidney"));
    QCOMPARE(t.find(2)->name, std::string("tumor"));
    writeText(dir_ + "/broken.json", R"({"labels": {"kidney": [1, 2]}})");
    QVERIFY_THROWS_EXCEPTION(Error, labelTableFromFile(dir_ + "/broken.json"));
  }

  void colourTables() {
    writeText(dir_ + "/slicer.ctbl", "# Slicer colour table\n0 Background 0 0 0 0\n1 artery 216 101 79 255\n2 Left_kidney 185 102 83 255\n");
    LabelTable t = labelTableFromFile(dir_ + "/slicer.ctbl");
    QCOMPARE(t.find(1)->name, std::string("artery"));
    QCOMPARE(t.find(2)->name, std::string("left_kidney"));
    QVERIFY(t.find(1)->color == (Rgb{216, 101, 79}));
    writeText(dir_ + "/snap.txt", "# ITK-SNAP\n    0     0    0    0        0  0  0    \"Clear Label\"\n"
                                  "    1   255    0    0        1  1  1    \"Right kidney\"\n");
    t = labelTableFromFile(dir_ + "/snap.txt");
    QCOMPARE(t.find(1)->name, std::string("kidney_right"));
    QCOMPARE(t.find(1)->displayName, std::string("Right kidney"));
  }

  void plainArteryMaskWithLabelsOption() {
    // A one-label mask from another program: value 1, no label table.
    const Volume artery = relabel(phantom_.labels, {{4, 1}});
    writeVolume(artery, dir_ + "/plain_artery.nii.gz");
    QVERIFY(!fs::exists(dir_ + "/plain_artery.json"));
    std::string log;
    QCOMPARE(test::runNephro3d("post vessel --mask '" + dir_ + "/plain_artery.nii.gz' --out '" + dir_ +
                                   "/no_labels.nii.gz' -q", &log), 3);
    QVERIFY2(test::runNephro3d("post vessel --mask '" + dir_ + "/plain_artery.nii.gz' --labels 1=artery --out '" + dir_ +
                                   "/vessel.nii.gz' -q", &log) == 0, log.c_str());
    const LabelTable out = LabelTable::readSidecar(dir_ + "/vessel.nii.gz");
    QVERIFY(out.valueOf("artery").has_value());
    QVERIFY2(test::runNephro3d("info '" + dir_ + "/plain_artery.nii.gz' --labels 1=artery", &log) == 0, log.c_str());
    QVERIFY2(log.find("artery") != std::string::npos, log.c_str());
    QVERIFY2(test::runNephro3d("mesh --mask '" + dir_ + "/plain_artery.nii.gz' --labels 1=artery --out '" + dir_ + "/meshes' -q", &log) == 0,
             log.c_str());
    QVERIFY2(fs::exists(dir_ + "/meshes/artery.obj"), log.c_str());
    QVERIFY2(test::runNephro3d("convert '" + dir_ + "/plain_artery.nii.gz' '" + dir_ + "/artery.seg.nrrd' --labels 1=artery", &log) == 0,
             log.c_str());
  }

  void totalSegmentatorNumberedMaskGetsItsNames() {
    // Phantom kidneys, aorta, IVC and bladder with TotalSegmentator's numbers.
    const Volume ts = relabel(phantom_.labels, {{1, 3}, {2, 2}, {10, 52}, {11, 63}, {17, 21}});
    writeVolume(ts, dir_ + "/totalseg.nii.gz");
    std::string log;
    QVERIFY2(test::runNephro3d("info '" + dir_ + "/totalseg.nii.gz' --labels totalseg", &log) == 0, log.c_str());
    for (const char* name : {"kidney_left", "kidney_right", "aorta", "inferior_vena_cava", "urinary_bladder"})
      QVERIFY2(log.find(name) != std::string::npos, (std::string(name) + ": " + log).c_str());
    QVERIFY2(test::runNephro3d("convert '" + dir_ + "/totalseg.nii.gz' '" + dir_ + "/ts_named.nii.gz' --labels totalseg", &log) == 0,
             log.c_str());
    const LabelTable t = LabelTable::readSidecar(dir_ + "/ts_named.nii.gz");
    QCOMPARE(t.valueOf("aorta").value_or(0), 52);
    // post fat finds the kidneys by name in TotalSegmentator's numbering.
    QVERIFY2(test::runNephro3d("post fat --mask '" + dir_ + "/totalseg.nii.gz' --labels totalseg --out '" + dir_ + "/fat.nii.gz' -q", &log) == 0,
             log.c_str());
  }

  void segNrrdRoundTrip() {
    writeSegNrrd(phantom_.labels, phantom_.table, dir_ + "/phantom.seg.nrrd");
    const auto [mask, table] = readSegNrrd(dir_ + "/phantom.seg.nrrd");
    for (int v : labelValuesPresent(phantom_.labels)) {
      QCOMPARE(table.find(v)->name, phantom_.table.find(v)->name);
      QVERIFY(table.find(v)->color == phantom_.table.find(v)->color);
      QCOMPARE(table.find(v)->code, phantom_.table.find(v)->code);
      QCOMPARE(table.find(v)->region, phantom_.table.find(v)->region);
    }
    // As 3D Slicer writes it: no Nephro3D tag, names from terminology or display name.
    std::string text = readText(dir_ + "/phantom.seg.nrrd");
    size_t pos;
    while ((pos = text.find("Nephro3DName:")) != std::string::npos) text.erase(pos, text.find('|', pos) - pos + 1);
    writeText(dir_ + "/slicer.seg.nrrd", text);
    const LabelTable slicer = readSegNrrdTable(dir_ + "/slicer.seg.nrrd");
    QCOMPARE(slicer.find(1)->name, std::string("kidney_left"));
    QCOMPARE(slicer.find(2)->name, std::string("kidney_right"));
    QCOMPARE(slicer.find(4)->name, std::string("artery"));
    std::string log;
    QVERIFY2(test::runNephro3d("info '" + dir_ + "/slicer.seg.nrrd'", &log) == 0, log.c_str());
    QVERIFY2(log.find("kidney_left") != std::string::npos, log.c_str());
  }

  void maskOnAnotherGrid() {
    // The mask at half resolution; the CT at full.
    Geometry coarse = phantom_.labels.geometry();
    for (int d = 0; d < 3; ++d) coarse.size[d] /= 2, coarse.spacing[d] *= 2;
    Volume small(coarse, PixelType::UInt8);
    const Geometry& fine = phantom_.labels.geometry();
    for (int64_t k = 0; k < coarse.size[2]; ++k)
      for (int64_t j = 0; j < coarse.size[1]; ++j)
        for (int64_t i = 0; i < coarse.size[0]; ++i)
          small.data<uint8_t>()[coarse.offset(i, j, k)] = phantom_.labels.data<uint8_t>()[fine.offset(2 * i, 2 * j, 2 * k)];
    writeVolume(small, dir_ + "/coarse.nii.gz");
    phantom_.table.writeSidecar(dir_ + "/coarse.nii.gz");
    writeVolume(phantom_.arterial, dir_ + "/ct_A.nii.gz");
    std::string log;
    QCOMPARE(test::runNephro3d("post fat --mask '" + dir_ + "/coarse.nii.gz' --image '" + dir_ + "/ct_A.nii.gz' --out '" + dir_ +
                                   "/fat_grid.nii.gz' -q", &log), 3);
    QVERIFY2(log.find("64x64x48 spacing 5x5x6") != std::string::npos && log.find("128x128x96 spacing 2.5x2.5x3") != std::string::npos,
             log.c_str());
    QVERIFY2(log.find("--resample-mask") != std::string::npos, log.c_str());
    QVERIFY2(test::runNephro3d("post fat --mask '" + dir_ + "/coarse.nii.gz' --image '" + dir_ + "/ct_A.nii.gz' --resample-mask --out '" +
                                   dir_ + "/fat_grid.nii.gz' -q", &log) == 0, log.c_str());
    QVERIFY(readImageInfo(dir_ + "/fat_grid.nii.gz").geometry.sameGrid(fine));
  }
};

QTEST_APPLESS_MAIN(TestLabelSources)
#include "test_label_sources.moc"
