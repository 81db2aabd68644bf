#pragma once
// Reading and writing volumes: NIfTI (.nii, .nii.gz), NRRD (.nrrd, .nhdr),
// MetaImage (.mha, .mhd) and DICOM series folders. Headers are validated before
// any voxel memory is allocated; writes are atomic (temporary name + rename).
#include <map>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"

namespace nephro {

// What a header says, read without touching the voxels.
struct ImageInfo {
  std::string path;
  std::string format;  // "NIfTI", "NRRD", "MetaImage", "DICOM"
  Geometry geometry;
  PixelType pixelType = PixelType::Int16;
  std::string storedComponentType;  // as in the file, e.g. "short", "double"
  std::string seriesUid;            // DICOM only
  int64_t sliceCount = 0;           // DICOM only
};

struct DicomSeries {
  std::string uid;
  std::string description;
  int64_t fileCount = 0;
  int rows = 0, columns = 0;
};

struct ReadOptions {
  // DICOM folders holding several series must name the one to read.
  std::string seriesUid;
  // NIfTI voxels are normally streamed straight into the volume (one buffer);
  // this forces ITK's reader, which holds a second copy while reading.
  bool forceItkReader = false;
  // A DICOM series with missing slices is refused unless this is set; then the
  // missing slices are interpolated onto a uniform grid and a note says so.
  bool allowGaps = false;
  // Receives what the reader changed (e.g. interpolated slices), for provenance.
  std::vector<std::string>* notes = nullptr;
};

struct WriteOptions {
  // Compression for .nii.gz/.nrrd/.mha (zlib level 1..9; 0 = format default).
  int compressionLevel = 1;
  bool compress = true;
  // Extra NRRD key/value pairs (written as key:=value), e.g. for .seg.nrrd.
  std::map<std::string, std::string> nrrdFields;
};

// Largest image accepted: a header claiming more is rejected as absurd.
constexpr int64_t kMaxDimension = 16384;
constexpr int64_t kMaxVoxels = int64_t(1) << 32;

ImageInfo readImageInfo(const std::string& path, const ReadOptions& options = {});
Volume readVolume(const std::string& path, const ReadOptions& options = {},
                  const Progress& progress = {});
// Writes atomically; the format follows the extension.
void writeVolume(const Volume& volume, const std::string& path, const WriteOptions& options = {});
// Writes into a path staged by an OutputTransaction (no rename of its own).
void writeVolumeTo(const Volume& volume, const std::string& stagedPath,
                   const WriteOptions& options = {});

std::vector<DicomSeries> listDicomSeries(const std::string& folder);
bool isSupportedImagePath(const std::string& path);

}  // namespace nephro
