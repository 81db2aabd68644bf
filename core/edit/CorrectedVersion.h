#pragma once
// Corrected versions of a model's output. Saving never overwrites what a model
// wrote: a correction of `tumor.nii.gz` becomes `tumor.corrected-1.nii.gz`,
// then -2, ..., each with its label table (`tumor.corrected-1.json`), the
// journal that turns the layer the session opened into it
// (`tumor.corrected-1.journal.json`) and its provenance
// (`tumor.corrected-1.provenance.json`: who, when, what it corrects, voxels
// added and removed per label), all written together or not at all.
#include <map>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "edit/EditSession.h"

namespace nephro::edit {

struct MaskFileName {
  std::string folder;     // "out/case01"
  std::string stem;       // "tumor" (the model output a version corrects)
  std::string extension;  // ".nii.gz"
  int version = 0;        // 0: the model output itself; N: tumor.corrected-N
};
MaskFileName parseMaskFileName(const std::string& path);
std::string correctedVersionPath(const MaskFileName& name, int version);

// The corrected versions beside a mask (or beside the output a version
// corrects), oldest first.
std::vector<std::string> correctedVersions(const std::string& maskPath);
// The newest corrected version of a mask, or the mask itself when there is none.
std::string latestVersion(const std::string& maskPath);

struct CorrectionInfo {
  std::string reviewer;
  std::string time;  // empty: now (UTC)
};

struct LabelChange {
  int value = 0;
  int64_t before = 0, after = 0;   // voxels
  int64_t added = 0, removed = 0;  // voxels that became / stopped being this label
  double changeMl = 0.0;
};

struct SavedCorrection {
  int version = 0;
  std::string maskPath, tablePath, journalPath, provenancePath;
  std::map<std::string, LabelChange> changes;  // by label name, labels with a change only
  int64_t voxelsChanged = 0;
};

// Writes the session's layer as the next corrected version of the model
// output behind `basePath` (the file the session opened: a model output or an
// earlier version). The changes per label are counted against `base` (the
// layer as opened; read from basePath when null).
SavedCorrection saveCorrection(const EditSession& session, const std::string& basePath,
                               const CorrectionInfo& info, const Volume* base = nullptr);

// What a correction's provenance says (for DICOM SEG and datasets): whether a
// mask is a corrected version and who corrected it.
struct CorrectionProvenance {
  bool corrected = false;
  std::string reviewer, time, corrects;
};
CorrectionProvenance readCorrectionProvenance(const std::string& maskPath);
std::string provenancePathOf(const std::string& maskPath);

}  // namespace nephro::edit
