#pragma once
// DICOM Segmentation (SEG) export with DCMTK's dcmseg: one binary segment per
// label with its coded name (SNOMED CT from the label table) and colour
// (CIELab), only frames that hold the label, algorithm type AUTOMATIC for a
// model's output and SEMIAUTOMATIC once edited, the reviewer as content
// creator. When the CT came from a DICOM series, the SEG takes over its
// patient and study, references the series and its frame of reference, and
// each frame names the source instance of its slice.
#include <string>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"

namespace nephro::handoff {

enum class SegAlgorithm { Automatic, SemiAutomatic, Manual };
const char* toString(SegAlgorithm a);

struct SegExportOptions {
  // The CT's DICOM series folder; the mask must lie on its grid.
  std::string referenceDicomDir;
  SegAlgorithm algorithm = SegAlgorithm::Automatic;
  std::string algorithmName = "Nephro3D";  // e.g. "Nephro3D tumor demo-1"
  std::string contentCreator;              // the reviewer
  std::string seriesDescription = "Nephro3D segmentation";
  // Without a reference series: the patient the new study is filed under.
  std::string patientName = "Anonymous";
  std::string patientId = "NEPHRO3D";
};

struct SegExportReport {
  int segments = 0;
  int64_t frames = 0;
  bool referencesSeries = false;
  std::string seriesInstanceUid;
  std::string
      summary;  // "DICOM SEG, 4 segments, 58 frames, AUTOMATIC, references the source series"
};

// Writes `mask` (integer labels, every nonzero value in `table`) to `path`
// atomically. An empty mask, a label the table lacks, or a mask that is not on
// the reference series' grid is an input error; nothing is written then.
SegExportReport writeDicomSeg(const Volume& mask, const LabelTable& table, const std::string& path,
                              const SegExportOptions& options, const Progress& progress = {});

// Export options from what lies beside a mask file: a corrected version
// (its .provenance.json) is SEMIAUTOMATIC with its reviewer as content creator;
// a model output is AUTOMATIC, named after the model and version in the
// folder's provenance.json, with the reviewer of the case's review.json. When
// the run read the model's output phase from a DICOM series folder, that
// folder is the reference.
SegExportOptions segOptionsForMask(const std::string& maskPath);

// What `nephro3d convert M out.dcm` and the window's export run: options from
// segOptionsForMask(maskPath), with a reference series folder and a reviewer
// that override the recorded ones when not empty.
SegExportReport writeDicomSegForMask(const Volume& mask, const LabelTable& table,
                                     const std::string& maskPath, const std::string& outPath,
                                     const std::string& referenceDicomDir = {},
                                     const std::string& reviewer = {},
                                     const Progress& progress = {});

}  // namespace nephro::handoff
