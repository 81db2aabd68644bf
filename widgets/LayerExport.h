#pragma once
// Writes a mask layer as the user sees it: the label map with its label table,
// colours as edited in the label table. NIfTI (.nii/.nii.gz) gets a .json
// sidecar written together with it (both or neither); .seg.nrrd carries the
// table in its header.
#include <string>

#include "common/Progress.h"
#include "widgets/WorkspaceModel.h"

namespace nephro::widgets {

// The layer's table with its current display colours.
LabelTable displayedTable(const Layer& layer);
// Writes `mask` + `table` to `path` (format from the extension); throws an
// output error naming the file if it cannot be written.
void exportMaskLayer(const Volume& mask, const LabelTable& table, const std::string& path,
                     const Progress& progress = {});

}  // namespace nephro::widgets
