// nephro3d info FILE: geometry, pixel type and value range of an image.
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

namespace nephro::cli {
namespace {

struct InfoOptions {
  std::string path;
  std::string series;
  bool headerOnly = false;
  bool allowGaps = false;
  std::string labels;
  std::string labelTable;
};

// A folder of several series: list them and let the user choose.
void listSeriesOrThrow(const InfoOptions& o) {
  if (!o.series.empty() || !std::filesystem::is_directory(o.path)) return;
  const std::vector<DicomSeries> series = listDicomSeries(o.path);
  if (series.size() < 2) return;
  std::printf("folder      %s\n", o.path.c_str());
  for (const DicomSeries& s : series)
    std::printf("series      %s  %dx%dx%lld  \"%s\"\n", s.uid.c_str(), s.columns, s.rows, (long long)s.fileCount,
                s.description.c_str());
  std::fflush(stdout);
  throw inputError(o.path, "holds " + std::to_string(series.size()) +
                               " DICOM series; choose one with --series UID (listed above)");
}

void runInfo(const InfoOptions& o) {
  listSeriesOrThrow(o);
  std::vector<std::string> notes;
  ReadOptions ro;
  ro.seriesUid = o.series;
  ro.allowGaps = o.allowGaps;
  ImageInfo info = readImageInfo(o.path, ro);
  ro.notes = &notes;
  const Geometry& g = info.geometry;
  std::printf("file        %s\n", o.path.c_str());
  std::printf("format      %s\n", info.format.c_str());
  if (!info.seriesUid.empty()) std::printf("series      %s (%lld slices)\n", info.seriesUid.c_str(), (long long)info.sliceCount);
  std::printf("size        %lld x %lld x %lld\n", (long long)g.size[0], (long long)g.size[1], (long long)g.size[2]);
  std::printf("spacing     %.17g %.17g %.17g mm\n", g.spacing[0], g.spacing[1], g.spacing[2]);
  std::printf("origin      %.17g %.17g %.17g mm (LPS)\n", g.origin[0], g.origin[1], g.origin[2]);
  std::printf("direction   %.17g %.17g %.17g / %.17g %.17g %.17g / %.17g %.17g %.17g\n", g.direction[0],
              g.direction[1], g.direction[2], g.direction[3], g.direction[4], g.direction[5],
              g.direction[6], g.direction[7], g.direction[8]);
  std::printf("pixel type  %s (stored as %s)\n", toString(info.pixelType), info.storedComponentType.c_str());
  std::printf("voxel bytes %.1f MiB\n", g.voxelCount() * double(bytesPerVoxel(info.pixelType)) / 1048576.0);
  if (o.headerOnly) return;
  Volume v = readVolume(o.path, ro, terminalProgress(true));
  auto [lo, hi] = v.range();
  std::printf("range       %g .. %g\n", lo, hi);
  for (const std::string& n : notes) std::printf("note        %s\n", n.c_str());
  std::optional<LabelTable> given;
  if (isIntegerType(v.pixelType()) && hi <= 65535 && lo >= 0) given = labelTableForMask(o.path, o.labels, o.labelTable);
  if (given) {
    const LabelTable& table = *given;
    auto counts = labelVoxelCounts(v);
    for (size_t value = 1; value < counts.size(); ++value) {
      if (!counts[value]) continue;
      const LabelEntry* e = table.find(static_cast<int>(value));
      std::printf("label %3zu   %-24s %10.2f mL\n", value, e ? e->name.c_str() : "(not in table)",
                  counts[value] * g.voxelVolumeMm3() / 1000.0);
    }
  }
}

RegisterCommand reg(20, [](CLI::App& root) {
  auto o = std::make_shared<InfoOptions>();
  CLI::App* sub = root.add_subcommand("info", "Print geometry, pixel type and value range of an image");
  sub->add_option("file", o->path, "Image file (NIfTI, NRRD, MetaImage) or DICOM series folder")->required();
  sub->add_option("--series", o->series, "DICOM series UID when the folder holds several");
  sub->add_flag("--header-only", o->headerOnly, "Read the header only (no voxels)");
  sub->add_option("--labels", o->labels, "What a mask's values mean: 1=artery,2=vein, totalseg, or an nnU-Net dataset.json");
  sub->add_option("--label-table", o->labelTable, "Label table file (Nephro3D .json, nnU-Net dataset.json, Slicer colour table, ITK-SNAP labels)");
  sub->add_flag("--allow-gaps", o->allowGaps, "DICOM: interpolate missing slices onto a uniform grid instead of refusing");
  sub->callback([o] { runInfo(*o); });
});

}  // namespace
}  // namespace nephro::cli
