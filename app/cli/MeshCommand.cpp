// nephro3d mesh --mask M --out DIR: smoothed surface meshes of a label mask.
// Reads only the mask (and its label table sidecar), never a CT.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "labels/LabelSources.h"
#include "labels/LabelTable.h"
#include "mesh/LabelMesher.h"

namespace nephro::cli {
namespace {

struct MeshCommandOptions {
  std::string mask;
  std::string out;
  std::string labels;
  std::string labelTable;
  double smoothing = 0.5;
  double decimate = 0.0;
  bool decimateTubes = false;
  double minComponent = 0.0;
  bool joint = false;
  bool exactSmoothing = false;
  bool surfaceDistance = false;
  std::string formats = "obj";
  std::string space = "LPS";
  bool merged = false;
  unsigned threads = 0;
  bool quiet = false;
};

// "case/mask.nii.gz" -> "mask"
std::string maskStem(const std::string& path) {
  std::string name = std::filesystem::path(path).filename().string();
  for (const char* ext : {".nii.gz", ".seg.nrrd", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
    const std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return name.empty() ? std::string("labels") : name;
}

void runMesh(const MeshCommandOptions& o) {
  // Options first, so a typo costs no read.
  const std::vector<MeshFormat> formats = parseMeshFormats(o.formats);
  MeshOptions options;
  options.space = parseCoordinateSpace(o.space);
  options.smoothing = o.smoothing;
  options.decimate = o.decimate;
  options.decimateTubes = o.decimateTubes;
  options.minComponentMm3 = o.minComponent;
  options.joint = o.joint;
  options.keepThinLabels = !o.exactSmoothing;
  options.preserveVolume = !o.exactSmoothing;
  options.surfaceDistance = o.surfaceDistance;
  options.threads = o.threads;
  options.maskName = o.mask;
  if (o.joint && o.decimate > 0.0)
    throw usageError("--decimate cannot be combined with --joint: it would break the shared boundaries");

  const auto t0 = std::chrono::steady_clock::now();
  const ImageInfo info = readImageInfo(o.mask);
  if (!isIntegerType(info.pixelType))
    throw inputError(o.mask, std::string("is not an integer label image (pixel type ") + info.storedComponentType + ")");

  // --labels is either a mapping (1=artery,2=vein | totalseg | dataset.json) or a selection (1,kidney_left).
  const bool mapping = !o.labels.empty() && isLabelMappingSpec(o.labels);
  LabelTable table;
  if (auto given = labelTableForMask(o.mask, mapping ? o.labels : "", o.labelTable)) {
    table = *given;
  } else if (!o.quiet) {
    std::fprintf(stderr, "nephro3d mesh: no label table %s; labels are named label_N\n",
                 LabelTable::sidecarPath(o.mask).c_str());
  }
  if (!o.labels.empty() && !mapping) options.labels = resolveLabelList(o.labels, table);

  Progress progress = terminalProgress(o.quiet);
  const Volume mask = readVolume(o.mask, {}, progress.sub(0.0, 0.2));
  progress.throwIfCancelled();
  const auto t1 = std::chrono::steady_clock::now();
  const std::vector<LabelMesh> meshes = buildLabelMeshes(mask, table, options, progress.sub(0.2, 0.9));
  const auto t2 = std::chrono::steady_clock::now();

  MeshWriteOptions write;
  write.formats = formats;
  write.merged = o.merged;
  write.mergedName = maskStem(o.mask);
  const std::vector<std::string> files = writeMeshes(meshes, o.out, write, progress.sub(0.9, 1.0));
  finishProgressLine();

  if (!o.quiet) {
    auto seconds = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
    const auto t3 = std::chrono::steady_clock::now();
    for (const LabelMesh& m : meshes) {
      const vtkIdType cells = m.surface ? m.surface->GetNumberOfCells() : 0;
      std::string notes;
      if (m.tubular) notes += "  thin tube, not decimated";
      if (cells > 0 && m.smoothing < options.smoothing) notes += "  smoothing lowered to " + std::to_string(m.smoothing).substr(0, 6) + " (thin label)";
      if (cells == 0) notes += "  no piece above --min-component; not written";
      std::printf("  %5d %-28s %9lld triangles%s\n", m.value, m.name.c_str(), static_cast<long long>(cells), notes.c_str());
      if (o.surfaceDistance && cells > 0)
        std::printf("        volume %.0f mm3 = %.3f of the voxels; to the unsmoothed surface mean %.2f mm, 95%% %.2f mm, "
                    "max %.2f mm\n",
                    m.meshVolumeMm3, m.voxelVolumeMm3 > 0 ? m.meshVolumeMm3 / m.voxelVolumeMm3 : 0.0, m.distance.meanMm,
                    m.distance.p95Mm, m.distance.maxMm);
    }
    std::printf("mesh: %zu labels -> %zu files in %s, %s coordinates (read %.1f s, mesh %.1f s, write %.1f s)\n",
                meshes.size(), files.size(), o.out.c_str(), toString(options.space), seconds(t0, t1), seconds(t1, t2),
                seconds(t2, t3));
  }
}

RegisterCommand reg(30, [](CLI::App& root) {
  auto o = std::make_shared<MeshCommandOptions>();
  CLI::App* sub = root.add_subcommand("mesh", "Smoothed surface meshes of a label mask (no CT needed)");
  sub->add_option("--mask", o->mask, "Label mask (its label table sidecar mask.json is read if present)")->required();
  sub->add_option("--out", o->out, "Output folder")->required();
  sub->add_option("--labels", o->labels,
                  "Labels to mesh, by value or name: 1,2 or kidney_left,tumor (default all); or what the mask's values "
                  "mean: 1=artery,2=vein, totalseg, or an nnU-Net dataset.json");
  sub->add_option("--label-table", o->labelTable, "Label table file (Nephro3D .json, nnU-Net dataset.json, Slicer colour table, ITK-SNAP labels)");
  sub->add_option("--smoothing", o->smoothing, "Smoothing factor 0..1 as in 3D Slicer (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  sub->add_option("--decimate", o->decimate, "Target reduction of triangles 0..0.95 (default 0 = off)")
      ->check(CLI::Range(0.0, 0.95));
  sub->add_flag("--decimate-tubes", o->decimateTubes, "Also decimate thin tubular labels (vessels, ureters)");
  sub->add_option("--min-component", o->minComponent, "Drop connected pieces smaller than this volume in mm3")
      ->check(CLI::Range(0.0, 1e12));
  sub->add_flag("--joint", o->joint, "Neighbouring labels share their boundary exactly");
  sub->add_flag("--exact-smoothing", o->exactSmoothing,
                "Smooth as 3D Slicer does: thin labels with the full factor too (it may erase them), no volume correction");
  sub->add_flag("--surface-distance", o->surfaceDistance,
                "Report per label the volume against the voxels and the distance to the unsmoothed surface");
  sub->add_option("--format", o->formats, "Comma-separated formats: obj,stl,ply,vtp,glb (default obj)");
  sub->add_option("--space", o->space, "Coordinate system of the points: LPS (default) or RAS");
  sub->add_flag("--merged", o->merged, "One file with every label instead of one file per label");
  sub->add_option("--threads", o->threads, "Worker threads (default: all cores)");
  sub->add_flag("--quiet,-q", o->quiet, "No progress output");
  sub->callback([o] { runMesh(*o); });
});

}  // namespace
}  // namespace nephro::cli
