#include "widgets/LayerExport.h"

#include "common/OutputTransaction.h"
#include "image/VolumeIO.h"
#include "labels/SegNrrd.h"

namespace nephro::widgets {

LabelTable displayedTable(const Layer& layer) {
  LabelTable table = layer.table;
  for (const auto& [value, display] : layer.display)
    if (const LabelEntry* e = table.find(value)) {
      LabelEntry edited = *e;
      edited.color = toRgb(display.color);
      table.set(edited);
    }
  return table;
}

void exportMaskLayer(const Volume& mask, const LabelTable& table, const std::string& path,
                     const Progress& progress) {
  progress.report(0, "writing " + path);
  const bool segNrrd = path.size() > 9 && path.compare(path.size() - 9, 9, ".seg.nrrd") == 0;
  if (segNrrd) {
    writeSegNrrd(mask, table, path);
  } else {
    OutputTransaction tx;
    const std::string stagedMask = tx.stage(path);
    const std::string stagedTable = tx.stage(LabelTable::sidecarPath(path));
    writeVolumeTo(mask, stagedMask);
    progress.throwIfCancelled();
    writeFileAtomically(stagedTable, table.toJson());
    tx.commit();
  }
  progress.report(1, "written " + path);
}

}  // namespace nephro::widgets
