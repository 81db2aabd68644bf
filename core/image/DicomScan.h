#pragma once
// A small, bounded DICOM structure walker: reads the attributes a series check
// needs (series, position, orientation, size) and checks that the file is
// whole: every element's length fits in what remains of the file, sequences
// close, and the pixel data holds what rows x columns x bits promise. It
// never allocates more than a few kilobytes per file, whatever the lengths say.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace nephro {

struct DicomFileScan {
  std::string path;
  bool isDicom = false;     // DICM preamble, or a plausible raw data set
  bool isImage = false;     // has pixel data
  std::string problem;      // non-empty: the file is truncated or damaged
  std::string seriesUid, seriesDescription, sopClassUid, transferSyntax;
  bool hasPosition = false, hasOrientation = false;
  std::array<double, 3> position{0, 0, 0};
  std::array<double, 6> orientation{1, 0, 0, 0, 1, 0};
  std::array<double, 2> pixelSpacing{0, 0};
  int rows = 0, columns = 0, bitsAllocated = 0, samplesPerPixel = 1, frames = 1;
  int64_t pixelDataBytes = -1;  // -1: none; encapsulated data counts its fragments
  bool encapsulated = false;
};

// Scans a file on disk; never throws for bad content (see `problem`).
DicomFileScan scanDicomFile(const std::string& path);
// Same from bytes in memory (for tests and fuzzing).
DicomFileScan scanDicomBytes(const unsigned char* data, size_t size, const std::string& name);

}  // namespace nephro
