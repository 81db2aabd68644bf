// Label tables: JSON sidecars, the case schema, validation against a mask, and
// the Slicer .seg.nrrd export.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include <itkMetaDataObject.h>
#include <itkNrrdImageIO.h>

#include "TestSupport.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "labels/LabelTable.h"
#include "labels/SegNrrd.h"

using namespace nephro;

namespace {
Volume twoLabelMask() {
  Geometry g;
  g.size = {12, 10, 8};
  g.spacing = {0.8, 0.8, 2.0};
  g.origin = {10, -20, 5};
  Volume m(g, PixelType::UInt8);
  uint8_t* p = m.data<uint8_t>();
  for (int k = 2; k < 5; ++k)
    for (int j = 1; j < 4; ++j)
      for (int i = 2; i < 6; ++i) p[g.offset(i, j, k)] = 1;
  p[g.offset(9, 8, 6)] = 3;
  return m;
}
LabelTable twoLabelTable() {
  LabelTable t;
  t.set(LabelTable::schemaEntry("kidney_left", 1));
  t.set(LabelTable::schemaEntry("tumor", 3));
  return t;
}
}  // namespace

class TestLabelTable : public QObject {
  Q_OBJECT
 private slots:
  void schemaHasTheCaseLabels() {
    const LabelTable& s = LabelTable::caseSchema();
    for (const char* name : {"kidney_left", "kidney_right", "tumor", "artery", "vein", "ureter_left", "ureter_right",
                             "perirenal_fat_left", "perirenal_fat_right", "kidney", "ureter", "perirenal_fat"})
      QVERIFY2(s.findByName(name), name);
    // Slicer's colours: kidney 185,102,83; artery 216,101,79; vein 0,151,206.
    QVERIFY((s.findByName("kidney_left")->color == Rgb{185, 102, 83}));
    QVERIFY((s.findByName("artery")->color == Rgb{216, 101, 79}));
    QVERIFY((s.findByName("vein")->color == Rgb{0, 151, 206}));
    QCOMPARE(s.valuesMatching("kidney"), (std::vector<int>{1, 2, 20}));
  }

  void jsonRoundTrip() {
    LabelTable t = twoLabelTable();
    LabelTable back = LabelTable::fromJson(t.toJson(), "mem");
    QCOMPARE(back.size(), size_t(2));
    QCOMPARE(back.find(3)->name, std::string("tumor"));
    QVERIFY(back.find(1)->color == t.find(1)->color);
    QCOMPARE(back.find(1)->code, t.find(1)->code);
  }

  void malformedJsonIsAnInputError() {
    for (const char* text : {"{", "{\"labels\": 3}", "{\"labels\": [{\"value\": 0, \"name\": \"x\"}]}",
                             "{\"labels\": [{\"value\": 1, \"name\": \"a\"}, {\"value\": 1, \"name\": \"b\"}]}"}) {
      try {
        LabelTable::fromJson(text, "bad.json");
        QFAIL(text);
      } catch (const Error& e) {
        QCOMPARE(e.kind(), ErrorKind::Input);
        QVERIFY(std::string(e.what()).rfind("bad.json: ", 0) == 0);
      }
    }
  }

  void labelListsByNumberOrName() {
    const LabelTable t = twoLabelTable();
    QCOMPARE(t.valuesFromList("3, kidney_left,,7", "--labels"), (std::vector<int>{3, 1, 7}));
    try {
      t.valuesFromList("liver", "--labels");
      QFAIL("liver is not in the table");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Usage);
      QVERIFY(std::string(e.what()).rfind("--labels: no label named 'liver'", 0) == 0);
    }
  }

  void sidecarFollowsTheMask() {
    QCOMPARE(LabelTable::sidecarPath("/a/b/mask.nii.gz"), std::string("/a/b/mask.json"));
    QCOMPARE(LabelTable::sidecarPath("/a/b/mask.seg.nrrd"), std::string("/a/b/mask.json"));
    const std::string dir = test::scratchDir("labels-sidecar");
    twoLabelTable().writeSidecar(dir + "/m.nii.gz");
    QVERIFY(LabelTable::hasSidecar(dir + "/m.nii.gz"));
    QCOMPARE(LabelTable::readSidecar(dir + "/m.nii.gz").find(3)->name, std::string("tumor"));
  }

  void coverageIsChecked() {
    Volume m = twoLabelMask();
    twoLabelTable().checkCovers(m, "m.nii.gz");
    LabelTable partial;
    partial.set(LabelTable::schemaEntry("kidney_left", 1));
    try {
      partial.checkCovers(m, "m.nii.gz");
      QFAIL("label 3 is not in the table");
    } catch (const Error& e) {
      QVERIFY(std::string(e.what()).find("value 3") != std::string::npos);
    }
    Volume f(m.geometry(), PixelType::Float32);
    QVERIFY_THROWS_EXCEPTION(Error, twoLabelTable().checkCovers(f, "f.nii.gz"));
    QCOMPARE(labelValuesPresent(m), (std::vector<int>{1, 3}));
    QCOMPARE(labelVoxelCounts(m)[1], int64_t(36));
  }

  void segNrrdCarriesSlicerKeys() {
    const std::string dir = test::scratchDir("labels-segnrrd");
    const std::string path = dir + "/case.seg.nrrd";
    writeSegNrrd(twoLabelMask(), twoLabelTable(), path);
    auto io = itk::NrrdImageIO::New();
    io->SetFileName(path);
    io->ReadImageInformation();
    const auto& dict = io->GetMetaDataDictionary();
    auto get = [&](const std::string& key) {
      std::string v;
      itk::ExposeMetaData<std::string>(dict, key, v);
      return v;
    };
    QCOMPARE(get("Segment0_Name"), std::string("Left kidney"));
    QCOMPARE(get("Segment0_LabelValue"), std::string("1"));
    QCOMPARE(get("Segment0_Layer"), std::string("0"));
    QCOMPARE(get("Segment0_Extent"), std::string("2 5 1 3 2 4"));
    QCOMPARE(get("Segment1_Name"), std::string("Kidney tumor"));
    QCOMPARE(get("Segment1_LabelValue"), std::string("3"));
    QCOMPARE(get("Segment1_Extent"), std::string("9 9 8 8 6 6"));
    QVERIFY(get("Segment0_Color").rfind("0.72549", 0) == 0);  // 185/255
    QCOMPARE(get("Segmentation_MasterRepresentation"), std::string("Binary labelmap"));
    auto [mask, table] = readSegNrrd(path);
    QVERIFY(mask.geometry() == twoLabelMask().geometry());
    QCOMPARE(table.find(3)->name, std::string("tumor"));
    QVERIFY(table.find(1)->color == (Rgb{185, 102, 83}));
  }
};

QTEST_APPLESS_MAIN(TestLabelTable)
#include "test_label_table.moc"
