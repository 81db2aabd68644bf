#pragma once
// Internal to core/handoff: the DICOM series a mask was segmented on, read
// from its headers (never its pixels), with each instance matched to a slice
// of the mask's grid.
#include <string>
#include <vector>

#include "image/Geometry.h"

namespace nephro::handoff {

struct DicomReference {
  std::string folder;
  std::string studyUid, seriesUid, frameOfReferenceUid, patientId;
  std::string firstFile;  // patient and study are taken over from it
  struct Instance {
    std::string sopClassUid, sopInstanceUid;
  };
  std::vector<Instance> bySlice;  // index = slice k of the grid
};

// The one series in `folder` whose instances lie on `grid` (orientation and
// a position for every slice, within a twentieth of a voxel). An input error
// naming the folder when none, or several, do.
DicomReference readDicomReference(const std::string& folder, const Geometry& grid);

}  // namespace nephro::handoff
