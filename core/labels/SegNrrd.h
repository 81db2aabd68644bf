#pragma once
// Export of a label map as a 3D Slicer segmentation (.seg.nrrd): one layer,
// with Segment<N>_Name/_Color/_LabelValue/_Layer/_Extent keys per label.
#include <string>

#include "image/Volume.h"
#include "labels/LabelTable.h"

namespace nephro {

// Writes atomically. Labels of the table absent from the mask are omitted.
void writeSegNrrd(const Volume& mask, const LabelTable& table, const std::string& path);
// Reads a .seg.nrrd written by Slicer or by writeSegNrrd (single layer):
// the label map and a table built from its segment keys.
std::pair<Volume, LabelTable> readSegNrrd(const std::string& path);
// The segment table alone, from the header (no voxels): names (Nephro3D's own
// tag, else the case schema's name for the segment's terminology or display
// name), colours and SNOMED codes from the terminology entry.
LabelTable readSegNrrdTable(const std::string& path);

}  // namespace nephro
