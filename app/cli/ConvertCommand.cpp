// nephro3d convert IN OUT: any readable image (or DICOM series folder) to
// NIfTI, NRRD or MetaImage; a label map's table follows it, an OUT ending
// in .seg.nrrd becomes a 3D Slicer segmentation and one ending in .dcm a DICOM SEG.
#include <cstdio>
#include <fstream>
#include <memory>

#include <nlohmann/json.hpp>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "labels/LabelSources.h"
#include "labels/LabelTable.h"
#include "handoff/DicomSeg.h"
#include "labels/SegNrrd.h"

namespace nephro::cli {
namespace {

struct ConvertOptions {
  std::string in, out, series, reference, reviewer;
  bool allowGaps = false;
  std::string labels, labelTable;
};

// "out.nii.gz" -> "out.provenance.json"
std::string provenancePath(const std::string& out) {
  std::string base = out;
  for (const char* ext : {".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".mha", ".dcm"}) {
    const std::string e(ext);
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base.resize(base.size() - e.size());
      break;
    }
  }
  return base + ".provenance.json";
}

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
  ro.allowGaps = o.allowGaps;
  std::vector<std::string> notes;
  ro.notes = &notes;
  Volume v = readVolume(o.in, ro);
  // What the reader changed travels with the output, written after it.
  auto writeProvenance = [&] {
    if (notes.empty()) return;
    nlohmann::json prov = {{"source", o.in}, {"output", o.out}, {"reader_notes", notes}};
    const std::string path = provenancePath(o.out);
    std::ofstream f(path + ".tmp", std::ios::binary);
    f << prov.dump(2) << "\n";
    f.close();
    if (!f || std::rename((path + ".tmp").c_str(), path.c_str()) != 0) throw outputError(path, "cannot write");
    for (const std::string& n : notes) std::fprintf(stderr, "nephro3d convert: note: %s\n", n.c_str());
  };
  std::optional<LabelTable> given;
  if (isIntegerType(v.pixelType()) || !o.labels.empty() || !o.labelTable.empty())
    given = labelTableForMask(o.in, o.labels, o.labelTable);
  const bool hasTable = given.has_value();
  if (dicomSeg) {
    if (!hasTable) throw inputError(LabelTable::sidecarPath(o.in), "label table is missing; a DICOM SEG needs coded names (or give --labels)");
    const handoff::SegExportReport r = handoff::writeDicomSegForMask(v, *given, o.in, o.out, o.reference, o.reviewer);
    writeProvenance();
    std::printf("%s -> %s (%s)\n", o.in.c_str(), o.out.c_str(), r.summary.c_str());
    return;
  }
  if (endsWith(o.out, ".seg.nrrd")) {
    if (!hasTable) throw inputError(LabelTable::sidecarPath(o.in), "label table is missing; a .seg.nrrd needs names and colours (or give --labels)");
    writeSegNrrd(v, *given, o.out);
  } else {
    if (hasTable) given->checkCovers(v, o.in);
    writeVolume(v, o.out);
    if (hasTable) given->writeSidecar(o.out);
  }
  writeProvenance();
  std::printf("%s -> %s (%s, %s)\n", o.in.c_str(), o.out.c_str(), v.geometry().describe().c_str(),
              toString(v.pixelType()));
}

RegisterCommand reg(25, [](CLI::App& root) {
  auto o = std::make_shared<ConvertOptions>();
  CLI::App* sub = root.add_subcommand("convert", "Convert an image or DICOM series to NIfTI/NRRD/MHA, .seg.nrrd or DICOM SEG");
  sub->add_option("input", o->in, "Image file or DICOM series folder")->required();
  sub->add_option("output", o->out, "Output file (.nii.gz, .nii, .nrrd, .mha, .seg.nrrd, .dcm)")->required();
  sub->add_option("--series", o->series, "DICOM series UID when the folder holds several");
  sub->add_option("--labels", o->labels, "What a mask's values mean: 1=artery,2=vein, totalseg, or an nnU-Net dataset.json (written as OUT's label table)");
  sub->add_option("--label-table", o->labelTable, "Label table file (Nephro3D .json, nnU-Net dataset.json, Slicer colour table, ITK-SNAP labels)");
  sub->add_flag("--allow-gaps", o->allowGaps, "DICOM: interpolate missing slices onto a uniform grid (recorded in OUT.provenance.json)");
  sub->add_option("--reference", o->reference, "DICOM SEG: the CT's DICOM series folder the SEG references");
  sub->add_option("--reviewer", o->reviewer, "DICOM SEG: content creator (default: the mask's reviewer)");
  sub->callback([o] { runConvert(*o); });
});

}  // namespace
}  // namespace nephro::cli
