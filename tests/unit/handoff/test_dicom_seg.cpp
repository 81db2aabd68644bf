// DICOM SEG export read back with DCMTK: segments with their codes, colours
// and algorithm type, only non-empty frames, each frame's position, pixels and
// source instance, the shared orientation and spacing, the referenced series
// and frame of reference; bad inputs leave no file. Also `nephro3d convert
// M out.dcm --reference DIR`.
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <map>

#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fginterface.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmfg/fgseg.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/dcmseg/segutils.h>
#include <nlohmann/json.hpp>

#include "DicomSeriesWriter.h"
#include "TestSupport.h"
#include "common/Error.h"
#include "handoff/DicomSeg.h"
#include "image/Crop.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"

namespace fs = std::filesystem;
using namespace nephro;
using namespace nephro::handoff;
namespace pl = phantom_label;

namespace {

struct Study {
  std::string dicomDir;
  test::WrittenDicomSeries series;
  Volume ct, mask;
  LabelTable table;
};

// 20 slices of the small phantom through the kidneys as a DICOM series, and
// its kidney, tumour and artery labels on the grid read back from it.
Study makeStudy(const std::string& dir) {
  PhantomOptions o;
  o.seed = 2;
  const PhantomCase ph = generatePhantom(o);
  const Geometry& g = ph.labels.geometry();
  int64_t kMid = 0, n = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t q = 0; q < g.size[0] * g.size[1]; ++q)
      if (ph.labels.data<uint8_t>()[g.offset(0, 0, k) + q] == pl::Tumor) {
        kMid += k;
        ++n;
      }
  kMid /= n;
  Box box{{0, 0, kMid - 10}, {g.size[0], g.size[1], kMid + 10}};
  Study s;
  s.dicomDir = dir + "/dicom";
  fs::create_directories(s.dicomDir);
  s.series = test::writeDicomSeries(crop(ph.arterial, box), s.dicomDir, "PHANTOM-2");
  s.ct = readVolume(s.dicomDir);
  Volume labels = crop(ph.labels, box);
  s.mask = Volume(s.ct.geometry(), PixelType::UInt8);
  const uint8_t* in = labels.data<uint8_t>();
  uint8_t* out = s.mask.data<uint8_t>();
  for (int64_t v = 0; v < s.mask.voxelCount(); ++v)
    out[v] = (in[v] == pl::KidneyLeft || in[v] == pl::KidneyRight || in[v] == pl::Tumor ||
              in[v] == pl::Artery)
                 ? in[v]
                 : 0;
  for (int value : {int(pl::KidneyLeft), int(pl::KidneyRight), int(pl::Tumor), int(pl::Artery)})
    s.table.set(*ph.table.find(value));
  return s;
}

std::string str(const OFString& s) {
  return s.c_str();
}

}  // namespace

class TestDicomSeg : public QObject {
  Q_OBJECT
  std::string dir_;
  Study study_;

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("dicom-seg");
    study_ = makeStudy(dir_);
    QCOMPARE(study_.ct.geometry().size[2], int64_t(20));
  }

  void segmentsFramesAndGeometryReadBack() {
    const std::string out = dir_ + "/seg.dcm";
    SegExportOptions o;
    o.referenceDicomDir = study_.dicomDir;
    o.algorithmName = "Nephro3D tumor demo-1";
    o.contentCreator = "Reviewer^Renal";
    const SegExportReport report = writeDicomSeg(study_.mask, study_.table, out, o);
    QCOMPARE(report.segments, 4);
    QVERIFY(report.referencesSeries);

    DcmSegmentation* loaded = nullptr;
    QVERIFY(DcmSegmentation::loadFile(out.c_str(), loaded).good());
    std::unique_ptr<DcmSegmentation> seg(loaded);
    const Geometry& g = study_.mask.geometry();
    QCOMPARE(seg->getNumberOfSegments(), size_t(4));
    // Segment number -> label value, through the coded type and laterality.
    std::map<size_t, int> labelOf;
    for (size_t s = 1; s <= 4; ++s) {
      DcmSegment* segment = seg->getSegment(s);
      QVERIFY(segment);
      OFString label, type, category, scheme;
      segment->getSegmentLabel(label);
      segment->getSegmentedPropertyTypeCode().getCodeValue(type);
      segment->getSegmentedPropertyTypeCode().getCodingSchemeDesignator(scheme);
      segment->getSegmentedPropertyCategoryCode().getCodeValue(category);
      QCOMPARE(str(scheme), std::string("SCT"));
      QCOMPARE(segment->getSegmentAlgorithmType(), DcmSegTypes::SAT_AUTOMATIC);
      const LabelEntry* e = nullptr;
      for (const LabelEntry& candidate : study_.table.entries())
        if (candidate.displayName == str(label)) e = &candidate;
      QVERIFY2(e, label.c_str());
      labelOf[s] = e->value;
      QVERIFY(e->code.find(str(type)) != std::string::npos);
      QCOMPARE(str(category), std::string(e->value == pl::Tumor ? "49755003" : "123037004"));
      if (!e->region.empty()) {
        QCOMPARE(segment->getSegmentedPropertyTypeModifierCode().size(), size_t(1));
        OFString modifier;
        segment->getSegmentedPropertyTypeModifierCode()[0]->getCodeValue(modifier);
        QVERIFY(e->region.find(str(modifier)) != std::string::npos);
      }
      Uint16 L, a, b;
      QVERIFY(segment->getRecommendedDisplayCIELabValue(L, a, b).good());
      QVERIFY(L > 0);
    }
    // One frame per label and slice that holds it, no empty frame.
    int64_t expectedFrames = 0;
    for (const auto& [s, value] : labelOf)
      for (int64_t k = 0; k < g.size[2]; ++k) {
        bool any = false;
        for (int64_t q = 0; q < g.size[0] * g.size[1] && !any; ++q)
          any = study_.mask.data<uint8_t>()[g.offset(0, 0, k) + q] == value;
        expectedFrames += any;
      }
    QCOMPARE(static_cast<int64_t>(seg->getNumberOfFrames()), expectedFrames);
    QCOMPARE(report.frames, expectedFrames);

    FGInterface& fg = seg->getFunctionalGroups();
    OFBool perFrame = OFTrue;
    auto* orientation = dynamic_cast<FGPlaneOrientationPatient*>(
        fg.get(0, DcmFGTypes::EFG_PLANEORIENTPATIENT, perFrame));
    QVERIFY(orientation && !perFrame);
    Float64 r[6];
    QVERIFY(orientation->getImageOrientationPatient(r[0], r[1], r[2], r[3], r[4], r[5]).good());
    const Mat3& d = g.direction;
    const double expected[6] = {d[0], d[3], d[6], d[1], d[4], d[7]};
    for (int i = 0; i < 6; ++i) QVERIFY(std::abs(r[i] - expected[i]) < 1e-9);
    auto* measures =
        dynamic_cast<FGPixelMeasures*>(fg.get(0, DcmFGTypes::EFG_PIXELMEASURES, perFrame));
    QVERIFY(measures && !perFrame);
    Float64 rowSpacing, colSpacing, thickness;
    measures->getPixelSpacing(rowSpacing, 0);
    measures->getPixelSpacing(colSpacing, 1);
    measures->getSliceThickness(thickness);
    QVERIFY(std::abs(rowSpacing - g.spacing[1]) < 1e-6 &&
            std::abs(colSpacing - g.spacing[0]) < 1e-6);
    QVERIFY(std::abs(thickness - g.spacing[2]) < 1e-6);

    int64_t checkedPixels = 0;
    for (size_t f = 0; f < seg->getNumberOfFrames(); ++f) {
      auto* segFg = dynamic_cast<FGSegmentation*>(
          fg.get(static_cast<Uint32>(f), DcmFGTypes::EFG_SEGMENTATION));
      auto* pos = dynamic_cast<FGPlanePosPatient*>(
          fg.get(static_cast<Uint32>(f), DcmFGTypes::EFG_PLANEPOSPATIENT));
      auto* der = dynamic_cast<FGDerivationImage*>(
          fg.get(static_cast<Uint32>(f), DcmFGTypes::EFG_DERIVATIONIMAGE));
      QVERIFY(segFg && pos && der);
      Uint16 segment = 0;
      segFg->getReferencedSegmentNumber(segment);
      const int value = labelOf.at(segment);
      Float64 x, y, z;
      pos->getImagePositionPatient(x, y, z);
      const Vec3 ci = g.physicalToIndex({x, y, z});
      const auto k = static_cast<int64_t>(std::floor(ci[2] + 0.5));
      QVERIFY(std::abs(ci[0]) < 1e-6 && std::abs(ci[1]) < 1e-6 && std::abs(ci[2] - k) < 1e-6);
      OFString source;
      der->getDerivationImageItems()
          .at(0)
          ->getSourceImageItems()
          .at(0)
          ->getImageSOPInstanceReference()
          .getReferencedSOPInstanceUID(source);
      QCOMPARE(str(source), study_.series.instanceUids.at(static_cast<size_t>(k)));
      std::unique_ptr<DcmIODTypes::Frame> pixels(DcmSegUtils::unpackBinaryFrame(
          seg->getFrame(f), static_cast<Uint16>(g.size[1]), static_cast<Uint16>(g.size[0])));
      const uint8_t* m = study_.mask.data<uint8_t>() + g.offset(0, 0, k);
      for (int64_t q = 0; q < g.size[0] * g.size[1]; ++q) {
        if ((pixels->pixData[q] != 0) != (m[q] == value))
          QFAIL(("pixel differs in frame " + std::to_string(f)).c_str());
        ++checkedPixels;
      }
    }
    QCOMPARE(checkedPixels, expectedFrames * g.size[0] * g.size[1]);

    // The study, its frame of reference and the referenced series are the CT's.
    OFString study, frameOfReference, creator;
    seg->getStudy().getStudyInstanceUID(study);
    seg->getFrameOfReference().getFrameOfReferenceUID(frameOfReference);
    seg->getContentIdentification().getContentCreatorName(creator);
    QCOMPARE(str(study), study_.series.studyUid);
    QCOMPARE(str(frameOfReference), study_.series.frameOfReferenceUid);
    QCOMPARE(str(creator), std::string("Reviewer^Renal"));
    auto& referenced = seg->getCommonInstanceReference().getReferencedSeriesItems();
    QCOMPARE(referenced.size(), size_t(1));
    OFString seriesUid;
    referenced[0]->getSeriesInstanceUID(seriesUid);
    QCOMPARE(str(seriesUid), study_.series.seriesUid);
    QCOMPARE(referenced[0]->getReferencedInstanceItems().size(), size_t(20));
  }

  void editedMaskIsSemiautomaticWithoutReference() {
    const std::string out = dir_ + "/edited.dcm";
    SegExportOptions o;
    o.algorithm = SegAlgorithm::SemiAutomatic;
    o.algorithmName = "Nephro3D tumor";
    const SegExportReport r = writeDicomSeg(study_.mask, study_.table, out, o);
    QVERIFY(!r.referencesSeries);
    DcmSegmentation* loaded = nullptr;
    QVERIFY(DcmSegmentation::loadFile(out.c_str(), loaded).good());
    std::unique_ptr<DcmSegmentation> seg(loaded);
    QCOMPARE(seg->getSegment(1)->getSegmentAlgorithmType(), DcmSegTypes::SAT_SEMIAUTOMATIC);
    OFString frameOfReference;
    seg->getFrameOfReference().getFrameOfReferenceUID(frameOfReference);
    QVERIFY(!frameOfReference.empty() &&
            str(frameOfReference) != study_.series.frameOfReferenceUid);
  }

  void badInputsLeaveNoFile() {
    const std::string out = dir_ + "/bad.dcm";
    try {
      writeDicomSeg(Volume(study_.mask.geometry(), PixelType::UInt8), study_.table, out, {});
      QFAIL("an empty mask was exported");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
      QVERIFY(std::string(e.what()).find("no labelled voxel") != std::string::npos);
    }
    Volume shifted = study_.mask.clone();
    Geometry g = shifted.geometry();
    g.origin[2] += 0.5 * g.spacing[2];
    shifted.setGeometry(g);
    SegExportOptions o;
    o.referenceDicomDir = study_.dicomDir;
    try {
      writeDicomSeg(shifted, study_.table, out, o);
      QFAIL("a mask off the series' grid was exported");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
      QVERIFY(std::string(e.what()).find("lies on the mask's grid") != std::string::npos);
    }
    QVERIFY(!fs::exists(out));
    for (const auto& entry : fs::directory_iterator(dir_))
      QVERIFY2(entry.path().filename().string().find("bad") == std::string::npos,
               entry.path().c_str());
  }

  void convertCommandWritesASeg() {
    const std::string mask = dir_ + "/case/tumor.nii.gz";
    fs::create_directories(dir_ + "/case");
    writeVolume(study_.mask, mask);
    study_.table.writeSidecar(mask);
    std::string output;
    const std::string out = dir_ + "/case/tumor.dcm";
    QCOMPARE(test::runNephro3d("convert " + mask + " " + out + " --reference " + study_.dicomDir +
                                   " --reviewer Dr^Who",
                               &output),
             0);
    QVERIFY2(output.find("4 segments") != std::string::npos &&
                 output.find("AUTOMATIC") != std::string::npos,
             output.c_str());
    QVERIFY2(output.find("references the source series") != std::string::npos, output.c_str());
    DcmSegmentation* loaded = nullptr;
    QVERIFY(DcmSegmentation::loadFile(out.c_str(), loaded).good());
    delete loaded;
    // A run that read its phase from the DICOM folder: the reference is found without --reference,
    // and a corrected version is SEMIAUTOMATIC by its reviewer.
    const nlohmann::json provenance{{"phases", {{"P", {{"file", study_.dicomDir}}}}},
                                    {"models",
                                     {{{"id", "tumor"},
                                       {"version", "demo-1"},
                                       {"output_phase", "P"},
                                       {"output", "tumor.nii.gz"}}}}};
    std::ofstream(dir_ + "/case/provenance.json") << provenance.dump();
    const SegExportOptions found = segOptionsForMask(mask);
    QCOMPARE(found.referenceDicomDir, study_.dicomDir);
    QCOMPARE(found.algorithmName, std::string("Nephro3D tumor demo-1"));
    QCOMPARE(found.algorithm, SegAlgorithm::Automatic);
    std::ofstream(dir_ + "/case/tumor.corrected-1.provenance.json")
        << nlohmann::json{{"format", "nephro3d-correction"}, {"reviewer", "Dr Renal"}}.dump();
    const SegExportOptions corrected = segOptionsForMask(dir_ + "/case/tumor.corrected-1.nii.gz");
    QCOMPARE(corrected.algorithm, SegAlgorithm::SemiAutomatic);
    QCOMPARE(corrected.contentCreator, std::string("Dr Renal"));
    // An empty mask: one line, exit 3, no file.
    const std::string empty = dir_ + "/case/empty.nii.gz";
    writeVolume(Volume(study_.mask.geometry(), PixelType::UInt8), empty);
    study_.table.writeSidecar(empty);
    QCOMPARE(test::runNephro3d("convert " + empty + " " + dir_ + "/case/empty.dcm", &output), 3);
    QVERIFY2(output.find("no labelled voxel") != std::string::npos, output.c_str());
    QCOMPARE(std::count(output.begin(), output.end(), '\n'), 1L);
    QVERIFY(!fs::exists(dir_ + "/case/empty.dcm"));
  }
};

QTEST_GUILESS_MAIN(TestDicomSeg)
#include "test_dicom_seg.moc"
