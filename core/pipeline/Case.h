#pragma once
// One study: up to three phases (A arterial, P portal, D delayed), each read
// from disk at most once and kept in memory; derived volumes (a phase
// resampled into another phase's space) are cached on the case.
//
// Phase naming in a case folder (first match wins per phase):
//   *_A.<ext>, *_P.<ext>, *_D.<ext>   or   A.<ext>, P.<ext>, D.<ext>
//   nnU-Net style *_0000.<ext> (A), *_0001.<ext> (P), *_0002.<ext> (D)
// where <ext> is any supported image format (.nii.gz, .nii, .nrrd, .mha, ...),
// or a DICOM series folder named the same way without an extension (A/, ct_P/,
// case_0002/); an image file wins over a folder for the same phase.
#include <map>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"

namespace nephro::pipeline {

class Case {
 public:
  Case() = default;
  // Finds the phase files of a case folder; throws an input error naming the folder if none.
  static Case fromFolder(const std::string& folder);
  // Explicit phase -> file path ("A", "P", "D").
  static Case fromFiles(const std::map<std::string, std::string>& phaseFiles, const std::string& name = {});

  const std::string& name() const { return name_; }
  std::vector<std::string> phases() const;  // in A, P, D order
  bool hasPhase(const std::string& phase) const { return files_.count(phase) != 0; }
  const std::string& file(const std::string& phase) const;

  // The phase's volume, read on first use only.
  const Volume& phase(const std::string& phase, const Progress& progress = {});
  // `phase` on the grid of `reference` (linear interpolation; outside = the
  // phase's minimum). Throws an input error when the two do not overlap in space.
  const Volume& phaseOnGridOf(const std::string& phase, const std::string& reference, const Progress& progress = {});

  // How many times each phase was read from disk (1 after use, 0 if never needed).
  int readCount(const std::string& phase) const;

  // A DICOM phase with missing slices is refused unless this is set; then the
  // slices are interpolated onto a uniform grid and phaseNotes() says so.
  void setAllowGaps(bool allow) { allowGaps_ = allow; }
  bool allowGaps() const { return allowGaps_; }
  // What the reader changed in a phase (for provenance); empty when nothing.
  std::vector<std::string> phaseNotes(const std::string& phase) const;

 private:
  std::string name_;
  std::map<std::string, std::string> files_;
  std::map<std::string, Volume> loaded_;
  std::map<std::string, Volume> resampled_;  // key "P@A"
  std::map<std::string, int> reads_;
  std::map<std::string, std::vector<std::string>> notes_;
  bool allowGaps_ = false;
};

// Phase suffix of a file name ("A", "P", "D") or empty.
std::string phaseOfFileName(const std::string& fileName);
// Phase of a DICOM series folder's name ("A", "ct_P", "case_0002") or empty.
std::string phaseOfFolderName(const std::string& folderName);

}  // namespace nephro::pipeline
