// nephro3d convert IN OUT: any readable image (or DICOM series folder) to
// NIfTI, NRRD or MetaImage; a label map's table follows it, an OUT ending
// in .seg.nrrd becomes a 3D Slicer segmentation and one ending in .dcm a DICOM SEG.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "labels/LabelTable.h"
#include "handoff/DicomSeg.h"
#include "labels/SegNrrd.h"

namespace nephro::cli {
namespace {

struct ConvertOptions {
  std::string in, out, series, reference, reviewer;
};

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

void runConvert(const ConvertOptions& o) {
  const bool dicomSeg = endsWith(o.out, ".dcm");
  if (!dicomSeg && !endsWith(o.out, ".seg.nrrd") && !isSupportedImagePath(o.out))
    throw usageError(o.out + ": unsupported output format (use .nii.gz, .nii, .nrrd, .mha, .seg.nrrd or .dcm)");
  if (!dicomSeg && (!o.reference.empty() || !o.reviewer.empty()))
    throw usageError("--reference and --reviewer apply to a DICOM SEG output (.dcm)");
  ReadOptions ro;
  ro.seriesUid = o.series;
  Volume v = readVolume(o.in, ro);
  const bool hasTable = LabelTable::hasSidecar(o.in);
  if (dicomSeg) {
    if (!hasTable) throw inputError(LabelTable::sidecarPath(o.in), "label table is missing; a DICOM SEG needs coded names");
    const handoff::SegExportReport r = handoff::writeDicomSegForMask(v, LabelTable::readSidecar(o.in), o.in, o.out, o.reference, o.reviewer);
    std::printf("%s -> %s (%s)\n", o.in.c_str(), o.out.c_str(), r.summary.c_str());
    return;
  }
  if (endsWith(o.out, ".seg.nrrd")) {
    if (!hasTable) throw inputError(LabelTable::sidecarPath(o.in), "label table is missing; a .seg.nrrd needs names and colours");
    writeSegNrrd(v, LabelTable::readSidecar(o.in), o.out);
  } else {
    LabelTable table;
    if (hasTable) {
      table = LabelTable::readSidecar(o.in);
      table.checkCovers(v, o.in);
    }
    writeVolume(v, o.out);
    if (hasTable) table.writeSidecar(o.out);
  }
  std::printf("%s -> %s (%s, %s)\n", o.in.c_str(), o.out.c_str(), v.geometry().describe().c_str(),
              toString(v.pixelType()));
}

RegisterCommand reg(25, [](CLI::App& root) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* sub = root.add_subcommand("convert", "Convert an image or DICOM series to NIfTI/NRRD/MHA, .seg.nrrd or DICOM SEG");
  sub->add_option("input", o->in, "Image file or DICOM series folder")->required();
  sub->add_option("output", o->out, "Output file (.nii.gz, .nii, .nrrd, .mha, .seg.nrrd, .dcm)")->required();
  sub->add_option("--series", o->series, "DICOM series UID when the folder holds several");
  sub->add_option("--reference", o->reference, "DICOM SEG: the CT's DICOM series folder the SEG references");
  sub->add_option("--reviewer", o->reviewer, "DICOM SEG: content creator (default: the mask's reviewer)");
  sub->callback([o] { runConvert(*o); });
});

}  // namespace
}  // namespace nephro::cli
