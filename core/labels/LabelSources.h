#pragma once
// Label tables for masks made by other tools: a value=name list on the command
// line, TotalSegmentator's class map, an nnU-Net dataset.json, a label table
// file (Nephro3D JSON, 3D Slicer colour table, ITK-SNAP label description), or
// the segment keys of a 3D Slicer .seg.nrrd. Names known to the case schema get
// its display names, colours and codes.
#include <optional>
#include <string>

#include "labels/LabelTable.h"

namespace nephro {

// TotalSegmentator v2 `total` task: 117 classes with its own names and numbers.
const LabelTable& totalSegmentatorTable();

// "1=artery,2=vein" -> entries named as given (schema colours and codes where
// known). A malformed list is a usage error.
LabelTable labelTableFromPairs(const std::string& pairs);
// nnU-Net v2 dataset.json: `labels` (name -> value, or name -> region with
// `regions_class_order`). Background is dropped.
LabelTable labelTableFromNnunetDataset(const std::string& path);
LabelTable labelTableFromNnunetJson(const std::string& text, const std::string& sourceName);
// A label table file: Nephro3D JSON (a sidecar), an nnU-Net dataset.json, a 3D
// Slicer colour table (value name r g b a) or an ITK-SNAP label description.
LabelTable labelTableFromFile(const std::string& path);
LabelTable labelTableFromText(const std::string& text, const std::string& sourceName);

// True when a --labels value is a mapping (value=name pairs, "totalseg", or a
// .json file) rather than a list of labels to select.
bool isLabelMappingSpec(const std::string& spec);
// "1=artery,2=vein" | "totalseg" | path/dataset.json
LabelTable labelTableFromSpec(const std::string& spec);

// The table that names a mask's values: --labels, else --label-table, else the
// sidecar (mask.json), else a .seg.nrrd's segment keys; nullopt when none.
std::optional<LabelTable> labelTableForMask(const std::string& maskPath, const std::string& labelsSpec = "",
                                            const std::string& labelTableFile = "");

// Machine name for a free-text label name: "Left Kidney" -> "kidney_left" when
// the schema knows it by display name, else lower case with underscores.
std::string labelNameFromText(const std::string& text);

}  // namespace nephro
