// nephro3d info FILE: geometry, pixel type and value range of an image.
#include <cstdio>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "image/VolumeIO.h"
#include "labels/LabelTable.h"

namespace nephro::cli {
namespace {

struct InfoOptions {
  std::string path;
  std::string series;
  bool headerOnly = false;
};

void runInfo(const InfoOptions& o) {
  ReadOptions ro;
  ro.seriesUid = o.series;
  ImageInfo info = readImageInfo(o.path, ro);
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
  if (isIntegerType(v.pixelType()) && hi <= 65535 && lo >= 0 && LabelTable::hasSidecar(o.path)) {
    LabelTable table = LabelTable::readSidecar(o.path);
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
  sub->callback([o] { runInfo(*o); });
});

}  // namespace
}  // namespace nephro::cli
