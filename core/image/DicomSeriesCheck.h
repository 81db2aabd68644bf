#pragma once
// Checks a DICOM series before its voxels are read: one orientation, one slice
// size, every file whole, no two slices at one position, and slice positions
// on a uniform grid (within kSliceSpacingTolerance). Missing slices are
// refused with where they are, or, when allowed, filled by interpolation
// between their neighbours onto the uniform grid.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "image/Volume.h"

namespace nephro {

// Slice positions may differ from the uniform grid by this share of the slice
// spacing (1 %), and by at least kSliceSpacingFloorMm.
constexpr double kSliceSpacingTolerance = 0.01;
constexpr double kSliceSpacingFloorMm = 0.001;

struct DicomSeriesListing {
  std::string uid;
  std::string description;
  int64_t fileCount = 0;
  int rows = 0, columns = 0;
};

// Image series in a folder (not recursive), sorted by UID. A damaged DICOM file
// whose series cannot be told is an input error naming it.
std::vector<DicomSeriesListing> scanDicomSeriesFolder(const std::string& folder);

struct DicomSeriesPlan {
  std::string uid;
  std::vector<std::string> files;  // sorted along the slice normal
  std::vector<double> positions;   // mm along the normal, ascending
  double spacing = 0.0;            // slice spacing of the uniform grid
  int64_t gridSlices = 0;          // slices of the uniform grid
  int64_t missing = 0;             // gridSlices - files.size()
  std::string note;                // set when missing slices are to be filled
  // The slices' size and pixel format as their headers say (for estimates made
  // before any pixel data is read).
  int rows = 0, columns = 0, bitsAllocated = 0, samplesPerPixel = 1;
  std::array<double, 2> pixelSpacing{0, 0};  // mm between rows, between columns
};

// Selects the series (`wantedUid`, or the only one) and checks it. Throws an
// input error naming the folder (or the damaged slice file).
DicomSeriesPlan planDicomSeries(const std::string& folder, const std::string& wantedUid, bool allowGaps);

// The present slices (read in plan order) onto the uniform grid: each missing
// slice is interpolated linearly between its two neighbours.
Volume fillDicomGaps(const Volume& present, const DicomSeriesPlan& plan);

}  // namespace nephro
