// nephro3d edit --mask M [--image CT] --journal J --out O: replays an edit
// journal written by the workstation on the mask it was recorded on, giving
// the same voxels. The CT is needed only when the journal paints within an HU range.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "common/Error.h"
#include "edit/EditSession.h"
#include "image/VolumeIO.h"
#include "pipeline/CaseRunner.h"

namespace nephro::cli {
namespace {

struct EditOptions {
  std::string mask, image, journal, out;
  bool quiet = false;
};

std::string readJournal(const std::string& path) {
  if (!std::filesystem::is_regular_file(path)) throw inputError(path, "does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void runEdit(const EditOptions& o) {
  if (!isSupportedImagePath(o.out) || o.out.size() < 4 ||
      o.out.compare(o.out.size() - 4, 4, ".dcm") == 0)
    throw usageError(o.out + ": unsupported output format (use .nii.gz, .nii, .nrrd or .mha)");
  if (std::filesystem::weakly_canonical(o.out) == std::filesystem::weakly_canonical(o.mask))
    throw usageError(o.out +
                     ": --out would overwrite --mask; write the replayed layer to a new file");
  const std::string text = readJournal(o.journal);
  const Progress progress = terminalProgress(o.quiet);
  LabelTable table;
  if (LabelTable::hasSidecar(o.mask)) {
    table = LabelTable::readSidecar(o.mask);
  } else if (!o.quiet) {
    std::fprintf(stderr,
                 "nephro3d edit: no label table %s; a journal naming labels cannot replay\n",
                 LabelTable::sidecarPath(o.mask).c_str());
  }
  Volume mask = edit::toLabelLayer(readVolume(o.mask, {}, progress.sub(0.0, 0.2)), o.mask);
  if (!table.empty()) table.checkCovers(mask, o.mask);
  edit::EditSessionOptions so;
  so.layerPath = o.mask;
  edit::EditSession session(std::move(mask), table, so);
  if (!o.image.empty()) session.setImage(readVolume(o.image, {}, progress.sub(0.2, 0.4)), o.image);
  const edit::ReplayReport report = replayJournal(session, text, o.journal, progress.sub(0.4, 0.9));
  pipeline::writeMaskWithTable(session.layer(), session.labels(), o.out);
  finishProgressLine();
  for (const std::string& w : report.warnings)
    std::fprintf(stderr, "nephro3d edit: warning: %s\n", w.c_str());
  if (o.quiet) return;
  std::printf("edit: %zu operations, %zu undo, %zu redo replayed -> %s\n", report.operations,
              report.undos, report.redos, o.out.c_str());
  const double ml = session.layer().geometry().voxelVolumeMm3() / 1000.0;
  for (const LabelEntry& e : session.labels().entries()) {
    const int64_t d = session.voxelCount(e.value) - session.originalVoxelCount(e.value);
    if (d != 0)
      std::printf("  %5d %-24s %+lld voxels (%+.2f mL)\n", e.value, e.name.c_str(),
                  static_cast<long long>(d), static_cast<double>(d) * ml);
  }
}

RegisterCommand reg(35, [](CLI::App& root) {
  auto o = std::make_shared<EditOptions>();
  CLI::App* sub =
      root.add_subcommand("edit", "Replay an edit journal on the mask it was recorded on");
  sub->add_option("--mask", o->mask,
                  "Label mask the journal was recorded on (its .json label table beside it)")
      ->required();
  sub->add_option("--image", o->image,
                  "CT on the mask's grid (needed when the journal uses an HU range)");
  sub->add_option("--journal", o->journal, "Edit journal (.journal.json)")->required();
  sub->add_option("--out", o->out, "Replayed mask (.nii.gz, .nii, .nrrd, .mha) and its label table")
      ->required();
  sub->add_flag("--quiet,-q", o->quiet, "No progress output");
  sub->callback([o] { runEdit(*o); });
});

}  // namespace
}  // namespace nephro::cli
