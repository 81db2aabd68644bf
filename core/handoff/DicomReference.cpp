#include "handoff/DicomReference.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>

#include "common/Error.h"

namespace fs = std::filesystem;

namespace nephro::handoff {

namespace {

struct Header {
  std::string file, sopClass, sopInstance, study, series, frameOfReference, patientId;
  double position[3] = {0, 0, 0};
  double orientation[6] = {0, 0, 0, 0, 0, 0};
  bool hasGeometry = false;
};

bool readHeader(const std::string& path, Header& h) {
  DcmFileFormat file;
  if (file.loadFileUntilTag(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength,
                            ERM_autoDetect, DCM_PixelData)
          .bad())
    return false;
  DcmDataset* d = file.getDataset();
  auto get = [&](const DcmTagKey& tag) {
    OFString v;
    d->findAndGetOFString(tag, v);
    return std::string(v.c_str());
  };
  h.file = path;
  h.sopClass = get(DCM_SOPClassUID);
  h.sopInstance = get(DCM_SOPInstanceUID);
  h.study = get(DCM_StudyInstanceUID);
  h.series = get(DCM_SeriesInstanceUID);
  h.frameOfReference = get(DCM_FrameOfReferenceUID);
  h.patientId = get(DCM_PatientID);
  if (h.sopInstance.empty() || h.series.empty()) return false;
  h.hasGeometry = true;
  for (unsigned long i = 0; i < 3; ++i)
    h.hasGeometry =
        h.hasGeometry && d->findAndGetFloat64(DCM_ImagePositionPatient, h.position[i], i).good();
  for (unsigned long i = 0; i < 6; ++i)
    h.hasGeometry = h.hasGeometry &&
                    d->findAndGetFloat64(DCM_ImageOrientationPatient, h.orientation[i], i).good();
  return true;
}

// Slice index of an instance on `grid`, or -1 when it does not lie on it.
int64_t sliceOf(const Header& h, const Geometry& g) {
  if (!h.hasGeometry) return -1;
  const Mat3& d = g.direction;
  const double row[3] = {d[0], d[3], d[6]}, col[3] = {d[1], d[4], d[7]};
  for (int a = 0; a < 3; ++a)
    if (std::abs(h.orientation[a] - row[a]) > 1e-4 ||
        std::abs(h.orientation[3 + a] - col[a]) > 1e-4)
      return -1;
  const Vec3 ci = g.physicalToIndex({h.position[0], h.position[1], h.position[2]});
  const double k = std::floor(ci[2] + 0.5);
  if (std::abs(ci[0]) > 0.05 || std::abs(ci[1]) > 0.05 || std::abs(ci[2] - k) > 0.05) return -1;
  if (k < 0 || k >= static_cast<double>(g.size[2])) return -1;
  return static_cast<int64_t>(k);
}

}  // namespace

DicomReference readDicomReference(const std::string& folder, const Geometry& grid) {
  if (!fs::is_directory(folder)) throw inputError(folder, "is not a DICOM series folder");
  std::map<std::string, std::vector<Header>> bySeries;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    Header h;
    if (readHeader(entry.path().string(), h)) bySeries[h.series].push_back(std::move(h));
  }
  if (bySeries.empty()) throw inputError(folder, "holds no DICOM image");
  std::vector<DicomReference> matches;
  for (auto& [uid, headers] : bySeries) {
    DicomReference r;
    r.folder = folder;
    r.seriesUid = uid;
    r.bySlice.assign(static_cast<size_t>(grid.size[2]), {});
    bool ok = true;
    for (const Header& h : headers) {
      const int64_t k = sliceOf(h, grid);
      if (k < 0 || !r.bySlice[static_cast<size_t>(k)].sopInstanceUid.empty()) {
        ok = false;
        break;
      }
      r.bySlice[static_cast<size_t>(k)] = {h.sopClass, h.sopInstance};
    }
    ok = ok && std::all_of(r.bySlice.begin(), r.bySlice.end(),
                           [](const auto& i) { return !i.sopInstanceUid.empty(); });
    if (!ok) continue;
    std::vector<Header> sorted = headers;
    std::sort(sorted.begin(), sorted.end(),
              [](const Header& a, const Header& b) { return a.file < b.file; });
    r.firstFile = sorted.front().file;
    r.studyUid = sorted.front().study;
    r.frameOfReferenceUid = sorted.front().frameOfReference;
    r.patientId = sorted.front().patientId;
    matches.push_back(std::move(r));
  }
  if (matches.empty())
    throw inputError(folder, "no DICOM series in it lies on the mask's grid (" + grid.describe() +
                                 "): the mask was not segmented on this series");
  if (matches.size() > 1)
    throw inputError(folder, "several DICOM series in it lie on the mask's grid");
  return matches.front();
}

}  // namespace nephro::handoff
