#include "handoff/DicomSeg.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmfg/fgderimg.h>
#include <dcmtk/dcmfg/fgfracon.h>
#include <dcmtk/dcmfg/fgpixmsr.h>
#include <dcmtk/dcmfg/fgplanor.h>
#include <dcmtk/dcmfg/fgplanpo.h>
#include <dcmtk/dcmiod/cielabutil.h>
#include <dcmtk/dcmiod/iodreferences.h>
#include <dcmtk/dcmseg/segdoc.h>
#include <dcmtk/dcmseg/segment.h>
#include <dcmtk/oflog/oflog.h>
#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "edit/CorrectedVersion.h"
#include "edit/ReviewState.h"
#include "handoff/DicomReference.h"

namespace fs = std::filesystem;

namespace nephro::handoff {

namespace {

void check(const OFCondition& c, const std::string& what) {
  if (c.bad()) throw Error(ErrorKind::Internal, "DICOM SEG: " + what + ": " + c.text());
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);  // DS holds at most 16 characters
  return buf;
}

// "SCT^64033007^Kidney" -> code value, scheme, meaning.
struct Code {
  std::string value, scheme, meaning;
};
bool parseCode(const std::string& text, Code& c) {
  const size_t a = text.find('^'), b = text.find('^', a == std::string::npos ? a : a + 1);
  if (a == std::string::npos || b == std::string::npos) return false;
  c = {text.substr(a + 1, b - a - 1), text.substr(0, a), text.substr(b + 1)};
  return !c.value.empty() && !c.scheme.empty() && !c.meaning.empty();
}

// Person names hold no backslash or control characters and at most 64 characters.
std::string personName(const std::string& s) {
  std::string out;
  for (char ch : s)
    if (ch != '\\' && static_cast<unsigned char>(ch) >= 0x20) out += ch;
  return out.substr(0, 64);
}

DcmSegTypes::E_SegmentAlgoType algoType(SegAlgorithm a) {
  switch (a) {
    case SegAlgorithm::Automatic:
      return DcmSegTypes::SAT_AUTOMATIC;
    case SegAlgorithm::SemiAutomatic:
      return DcmSegTypes::SAT_SEMIAUTOMATIC;
    case SegAlgorithm::Manual:
      return DcmSegTypes::SAT_MANUAL;
  }
  return DcmSegTypes::SAT_AUTOMATIC;
}

// The segment of one label: coded category and type (laterality as a type
// modifier), colour in CIELab, algorithm.
DcmSegment* makeSegment(const LabelEntry& e, const SegExportOptions& o) {
  Code type;
  if (!parseCode(e.code, type))
    type = {e.name.substr(0, 16), "99NEPHRO3D", e.displayName.empty() ? e.name : e.displayName};
  // Neoplasms are morphologically altered structures; everything else in the schema is anatomy.
  const bool altered = type.scheme == "SCT" && type.value == "108369006";
  const CodeSequenceMacro category =
      altered ? CodeSequenceMacro("49755003", "SCT", "Morphologically Altered Structure")
              : CodeSequenceMacro("123037004", "SCT", "Anatomical Structure");
  const std::string label = (e.displayName.empty() ? e.name : e.displayName).substr(0, 64);
  DcmSegment* segment = nullptr;
  check(DcmSegment::create(
            segment, label.c_str(), category,
            CodeSequenceMacro(type.value.c_str(), type.scheme.c_str(), type.meaning.c_str()),
            algoType(o.algorithm),
            o.algorithm == SegAlgorithm::Manual ? "" : o.algorithmName.c_str()),
        "segment " + e.name);
  std::unique_ptr<DcmSegment> owned(segment);
  Code region;
  if (parseCode(e.region, region))
    segment->getSegmentedPropertyTypeModifierCode().push_back(
        new CodeSequenceMacro(region.value.c_str(), region.scheme.c_str(), region.meaning.c_str()));
  segment->setSegmentDescription(e.name.substr(0, 64).c_str());
  double L, a, b;
  IODCIELabUtil::rgb2DicomLab(L, a, b, e.color.r / 255.0, e.color.g / 255.0, e.color.b / 255.0);
  check(
      segment->setRecommendedDisplayCIELabValue(
          static_cast<Uint16>(L + 0.5), static_cast<Uint16>(a + 0.5), static_cast<Uint16>(b + 0.5)),
      "segment colour");
  return owned.release();
}

}  // namespace

const char* toString(SegAlgorithm a) {
  return a == SegAlgorithm::Automatic       ? "AUTOMATIC"
         : a == SegAlgorithm::SemiAutomatic ? "SEMIAUTOMATIC"
                                            : "MANUAL";
}

SegExportReport writeDicomSeg(const Volume& mask, const LabelTable& table, const std::string& path,
                              const SegExportOptions& options, const Progress& progress) {
  table.checkCovers(mask, path);
  const Geometry& g = mask.geometry();
  const std::vector<int> values = labelValuesPresent(mask);
  if (values.empty())
    throw inputError(path,
                     "the mask has no labelled voxel; a DICOM SEG needs at least one segment");
  if (g.size[0] > 65535 || g.size[1] > 65535)
    throw inputError(path, "slices are too large for DICOM");
  OFLog::configure(OFLogger::ERROR_LOG_LEVEL);
  DicomReference ref;
  const bool referenced = !options.referenceDicomDir.empty();
  if (referenced) ref = readDicomReference(options.referenceDicomDir, g);
  progress.throwIfCancelled();

  const auto rows = static_cast<Uint16>(g.size[1]), cols = static_cast<Uint16>(g.size[0]);
  DcmSegmentation* created = nullptr;
  check(DcmSegmentation::createBinarySegmentation(
            created, rows, cols,
            IODGeneralEquipmentModule::EquipmentInfo("Nephro3D", "Nephro3D", "0", "0.1.0"),
            ContentIdentificationMacro("1", "NEPHRO3D",
                                       options.seriesDescription.substr(0, 64).c_str(),
                                       personName(options.contentCreator).c_str())),
        "create");
  std::unique_ptr<DcmSegmentation> seg(created);

  char uid[100];
  if (referenced) {
    check(seg->importFromSourceImage(ref.firstFile.c_str()),
          "patient and study of " + ref.firstFile);
    if (ref.frameOfReferenceUid.empty())
      check(seg->getFrameOfReference().setFrameOfReferenceUID(
                dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)),
            "frame of reference");
    IODReferences refs;
    for (const auto& inst : ref.bySlice)
      refs.add(new IODImageReference(ref.patientId.c_str(), ref.studyUid.c_str(),
                                     ref.seriesUid.c_str(), inst.sopInstanceUid.c_str(),
                                     inst.sopClassUid.c_str()));
    seg->getCommonInstanceReference().addReferences(refs, ref.studyUid.c_str());
  } else {
    check(seg->getPatient().setPatientName(personName(options.patientName).c_str()),
          "patient name");
    check(seg->getPatient().setPatientID(options.patientId.substr(0, 64).c_str()), "patient id");
    check(
        seg->getStudy().setStudyInstanceUID(dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT)),
        "study");
    check(seg->getFrameOfReference().setFrameOfReferenceUID(
              dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT)),
          "frame of reference");
  }
  check(seg->getSeries().setSeriesDescription(options.seriesDescription.substr(0, 64).c_str()),
        "series description");
  check(seg->getSeries().setSeriesNumber("9001"), "series number");
  check(
      seg->getSeries().setSeriesInstanceUID(dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT)),
      "series");

  // Geometry shared by every frame.
  const Mat3& d = g.direction;
  std::unique_ptr<FGPlaneOrientationPatient> orientation(FGPlaneOrientationPatient::createMinimal(
      number(d[0]).c_str(), number(d[3]).c_str(), number(d[6]).c_str(), number(d[1]).c_str(),
      number(d[4]).c_str(), number(d[7]).c_str()));
  check(seg->addForAllFrames(*orientation), "orientation");
  FGPixelMeasures measures;
  check(measures.setPixelSpacing((number(g.spacing[1]) + "\\" + number(g.spacing[0])).c_str()),
        "pixel spacing");
  check(measures.setSliceThickness(number(g.spacing[2]).c_str()), "slice thickness");
  check(measures.setSpacingBetweenSlices(number(g.spacing[2]).c_str()), "spacing between slices");
  check(seg->addForAllFrames(measures), "pixel measures");
  char dimUid[100];
  dcmGenerateUniqueIdentifier(dimUid, SITE_INSTANCE_UID_ROOT);
  check(seg->getDimensions().addDimensionIndex(DCM_ReferencedSegmentNumber, dimUid,
                                               DCM_SegmentIdentificationSequence,
                                               "ReferencedSegmentNumber"),
        "dimension");
  check(seg->getDimensions().addDimensionIndex(DCM_ImagePositionPatient, dimUid,
                                               DCM_PlanePositionSequence, "ImagePositionPatient"),
        "dimension");

  SegExportReport report;
  report.referencesSeries = referenced;
  std::vector<Uint8> frame(static_cast<size_t>(rows) * cols);
  for (size_t s = 0; s < values.size(); ++s) {
    const int value = values[s];
    Uint16 segmentNumber = 0;
    check(seg->addSegment(makeSegment(*table.find(value), options), segmentNumber), "segment");
    ++report.segments;
    for (int64_t k = 0; k < g.size[2]; ++k) {
      progress.throwIfCancelled();
      progress.report((static_cast<double>(s) + static_cast<double>(k) / g.size[2]) / values.size(),
                      "DICOM SEG");
      bool any = false;
      dispatchPixelType(mask.pixelType(), [&](auto v) {
        using T = decltype(v);
        const T* p = static_cast<const T*>(mask.raw()) + g.offset(0, 0, k);
        for (size_t q = 0; q < frame.size(); ++q) {
          frame[q] = p[q] == static_cast<T>(value) ? 1 : 0;
          any = any || frame[q];
        }
        return 0;
      });
      if (!any) continue;  // readers struggle with empty frames
      const Vec3 pos = g.indexToPhysical({0.0, 0.0, static_cast<double>(k)});
      std::unique_ptr<FGPlanePosPatient> position(FGPlanePosPatient::createMinimal(
          number(pos[0]).c_str(), number(pos[1]).c_str(), number(pos[2]).c_str()));
      FGFrameContent content;
      check(content.setDimensionIndexValues(segmentNumber, 0), "frame content");
      check(content.setDimensionIndexValues(static_cast<Uint32>(k + 1), 1), "frame content");
      OFVector<FGBase*> perFrame;
      perFrame.push_back(position.get());
      perFrame.push_back(&content);
      std::unique_ptr<FGDerivationImage> derivation;
      if (referenced) {
        ImageSOPInstanceReferenceMacro source;
        check(source.setReferencedSOPClassUID(
                  ref.bySlice[static_cast<size_t>(k)].sopClassUid.c_str()),
              "source class");
        check(source.setReferencedSOPInstanceUID(
                  ref.bySlice[static_cast<size_t>(k)].sopInstanceUid.c_str()),
              "source instance");
        OFVector<ImageSOPInstanceReferenceMacro> sources;
        sources.push_back(source);
        derivation.reset(
            DcmSegmentation::createDerivationImageFG(sources, "Segmentation of the source slice"));
        if (!derivation)
          throw Error(ErrorKind::Internal,
                      "DICOM SEG: derivation image of slice " + std::to_string(k));
        perFrame.push_back(derivation.get());
      }
      check(seg->addFrame(frame.data(), segmentNumber, perFrame), "frame");
      ++report.frames;
    }
  }
  OFString seriesUid;
  seg->getSeries().getSeriesInstanceUID(seriesUid);
  report.seriesInstanceUid = seriesUid.c_str();
  report.summary = "DICOM SEG, " + std::to_string(report.segments) + " segments, " +
                   std::to_string(report.frames) + " frames, " + toString(options.algorithm) +
                   (referenced ? ", references the source series" : "");

  OutputTransaction tx;
  const std::string temp = tx.stage(path);
  const OFCondition saved = seg->saveFile(temp.c_str(), EXS_LittleEndianExplicit);
  if (saved.bad())
    throw outputError(path, std::string("cannot be written as DICOM SEG: ") + saved.text());
  tx.commit();
  progress.report(1.0, "DICOM SEG written");
  return report;
}

SegExportOptions segOptionsForMask(const std::string& maskPath) {
  SegExportOptions o;
  const edit::MaskFileName name = edit::parseMaskFileName(maskPath);
  std::string modelName = name.stem;
  const fs::path folder = fs::path(maskPath).parent_path();
  const fs::path provenance = folder / "provenance.json";
  if (fs::exists(provenance)) {
    std::ifstream in(provenance);
    std::stringstream text;
    text << in.rdbuf();
    const auto prov = nlohmann::json::parse(text.str(), nullptr, false);
    if (prov.is_object() && prov.contains("models") && prov["models"].is_array())
      for (const auto& m : prov["models"])
        if (m.is_object() && m.value("id", std::string()) == name.stem) {
          modelName = name.stem + " " + m.value("version", std::string());
          // The mask lies on its output phase's grid: when that phase was read
          // from a DICOM series folder, the SEG references it.
          const std::string phase = m.value("output_phase", std::string());
          if (prov.contains("phases") && prov["phases"].is_object() &&
              prov["phases"].contains(phase) && prov["phases"][phase].is_object()) {
            const std::string file = prov["phases"][phase].value("file", std::string());
            if (!file.empty() && fs::is_directory(file)) o.referenceDicomDir = file;
          }
        }
  }
  o.algorithmName = "Nephro3D " + modelName;
  o.seriesDescription = "Nephro3D " + name.stem;
  const edit::CorrectionProvenance correction = edit::readCorrectionProvenance(maskPath);
  if (correction.corrected) {
    o.algorithm = SegAlgorithm::SemiAutomatic;
    o.contentCreator = correction.reviewer;
    o.seriesDescription += " (corrected " + std::to_string(name.version) + ")";
  }
  if (o.contentCreator.empty() && !folder.empty()) {
    const edit::ReviewState review = edit::readReview(folder.string());
    o.contentCreator = review.current.reviewer;
  }
  o.patientId =
      folder.filename().string().empty() ? o.patientId : folder.filename().string().substr(0, 64);
  return o;
}

SegExportReport writeDicomSegForMask(const Volume& mask, const LabelTable& table,
                                     const std::string& maskPath, const std::string& outPath,
                                     const std::string& referenceDicomDir,
                                     const std::string& reviewer, const Progress& progress) {
  SegExportOptions o = segOptionsForMask(maskPath);
  if (!referenceDicomDir.empty()) o.referenceDicomDir = referenceDicomDir;
  if (!reviewer.empty()) o.contentCreator = reviewer;
  return writeDicomSeg(mask, table, outPath, o, progress);
}

}  // namespace nephro::handoff
