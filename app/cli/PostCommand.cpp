// nephro3d post fat|sample|vessel|ureter --mask M [--image CT] [parameters] --out OUT:
// post-processing of a label mask. Without --image no CT is read. Every
// parameter option is generated from the step's parameter description.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "image/VolumeIO.h"
#include "image/Resample.h"
#include "labels/LabelSources.h"
#include "labels/LabelTable.h"
#include "post/PostSteps.h"

namespace nephro::cli {
namespace {

using post::ParameterInfo;
using post::ParameterKind;

struct PostCommandOptions {
  post::PostStep step = post::PostStep::Fat;
  std::string mask;
  std::string image;
  std::string out;
  std::string report;
  std::string templatePath;
  std::string labels;
  std::string labelTable;
  bool resampleMask = false;
  std::map<std::string, std::string> values;  // parameter key -> text as given
  bool quiet = false;
};

// "out/mask.nii.gz" -> "out/mask_report.json"
std::string defaultReportPath(const std::string& out) {
  std::string base = out;
  for (const char* ext : {".nii.gz", ".seg.nrrd", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
    const std::string e(ext);
    if (base.size() > e.size() && base.compare(base.size() - e.size(), e.size(), e) == 0) {
      base.resize(base.size() - e.size());
      break;
    }
  }
  return base + "_report.json";
}

void writeText(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  if (!f) throw outputError(path, "cannot write");
}

void runPost(const PostCommandOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  if (!isSupportedImagePath(o.out)) throw usageError("--out must name an image file such as mask.nii.gz: " + o.out);
  if (o.step == post::PostStep::Sample && !o.image.empty()) throw usageError("post sample works from the mask alone; drop --image");

  // Headers first: a geometry mismatch costs no voxel read.
  const ImageInfo maskInfo = readImageInfo(o.mask);
  if (!isIntegerType(maskInfo.pixelType))
    throw inputError(o.mask, std::string("is not an integer label image (pixel type ") + maskInfo.storedComponentType + ")");
  bool resample = false;
  Geometry ctGrid;
  if (!o.image.empty()) {
    const ImageInfo ctInfo = readImageInfo(o.image);
    ctGrid = ctInfo.geometry;
    if (!(ctInfo.geometry.size == maskInfo.geometry.size && ctInfo.geometry.sameGrid(maskInfo.geometry))) {
      if (!o.resampleMask)
        throw inputError(o.mask, "grid " + maskInfo.geometry.describe() + " differs from the CT " + o.image + " (" +
                                     ctInfo.geometry.describe() + "); --resample-mask puts the mask on the CT's grid");
      resample = true;
    }
  }
  const std::optional<LabelTable> given = labelTableForMask(o.mask, o.labels, o.labelTable);
  LabelTable table = given ? *given : LabelTable::caseSchema();

  Progress progress = terminalProgress(o.quiet);
  Volume mask = readVolume(o.mask, {}, progress.sub(0.0, 0.1));
  if (resample) mask = resampleToGrid(mask, ctGrid, Interpolation::Nearest, 0.0);
  table.checkCovers(mask, o.mask);
  Volume ct;
  if (!o.image.empty()) ct = readVolume(o.image, {}, progress.sub(0.1, 0.25));
  const Volume* ctp = o.image.empty() ? nullptr : &ct;
  const Progress work = progress.sub(0.25, 0.95);

  post::PostStepRequest request{o.step, o.values, o.templatePath};
  post::PostStepOutcome r = post::runPostStep(request, mask, table, ctp, work, o.mask, o.image);
  const Volume& outMask = r.mask;
  const LabelTable& outTable = r.table;
  const std::string& report = r.reportJson;
  const std::string& summary = r.summary;
  progress.throwIfCancelled();

  // All or nothing: mask, its label table and the report.
  const std::string reportPath = o.report.empty() ? defaultReportPath(o.out) : o.report;
  OutputTransaction tx;
  writeVolumeTo(outMask, tx.stage(o.out));
  writeText(tx.stage(LabelTable::sidecarPath(o.out)), outTable.toJson());
  writeText(tx.stage(reportPath), report);
  progress.throwIfCancelled();
  tx.commit();
  progress.report(1.0, "post: written");
  finishProgressLine();
  if (!o.quiet) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("post: %s -> %s, report %s (%.1f s)\n", summary.c_str(), o.out.c_str(), reportPath.c_str(), seconds);
  }
}

void addStep(CLI::App* group, post::PostStep step, const char* name, const char* help) {
  auto o = std::make_shared<PostCommandOptions>();
  o->step = step;
  CLI::App* sub = group->add_subcommand(name, help);
  sub->add_option("--mask", o->mask, "Label mask (its label table sidecar mask.json is read; else the case schema)")->required();
  if (step != post::PostStep::Sample)
    sub->add_option("--image", o->image,
                    step == post::PostStep::Ureter ? "Delayed-phase CT on the mask's grid (optional; refines the bridges)"
                    : step == post::PostStep::Vessel ? "Arterial-phase CT on the mask's grid (optional; refines the bridges)"
                                           : "CT on the mask's grid (optional; limits fat to fat HU)");
  sub->add_option("--out", o->out, "Output mask (.nii.gz, .nrrd, .mha); its label table is written beside it")->required();
  sub->add_option("--report", o->report, "JSON report (default: OUT with _report.json)");
  sub->add_option("--labels", o->labels, "What the mask's values mean: 1=artery,2=vein, totalseg, or an nnU-Net dataset.json (default: the sidecar, else the case schema)");
  sub->add_option("--label-table", o->labelTable, "Label table file (Nephro3D .json, nnU-Net dataset.json, Slicer colour table, ITK-SNAP labels)");
  if (step != post::PostStep::Sample)
    sub->add_flag("--resample-mask", o->resampleMask, "Put a mask on another grid onto the CT's grid (nearest neighbour)");
  if (step == post::PostStep::Sample) sub->add_option("--template", o->templatePath, "Template mask (default: the shipped one)");
  for (const ParameterInfo& info : post::postStepParameters(step)) {
    std::ostringstream help;
    help << info.description;
    if (info.kind == ParameterKind::LabelList) {
      help << " (comma-separated values or names)";
    } else {
      help << " (" << info.minimum << " .. " << info.maximum << (info.unit.empty() ? "" : " " + info.unit)
           << ", default " << info.defaultValue << ")";
    }
    const std::string key = info.key;
    sub->add_option_function<std::string>("--" + key, [o, key](const std::string& v) { o->values[key] = v; }, help.str());
  }
  sub->add_flag("--quiet,-q", o->quiet, "No progress output");
  sub->callback([o] { runPost(*o); });
}

RegisterCommand reg(40, [](CLI::App& root) {
  CLI::App* group = root.add_subcommand("post", "Post-processing of a mask: perirenal fat, template sample, artery and ureter reconnection");
  group->require_subcommand(1);
  addStep(group, post::PostStep::Fat, "fat", "Perirenal fat around kidneys and tumours (CT optional)");
  addStep(group, post::PostStep::Sample, "sample", "Quick approximate arteries, veins and ureters from the template case (mask only)");
  addStep(group, post::PostStep::Vessel, "vessel", "Reconnect broken renal arteries (arterial CT optional)");
  addStep(group, post::PostStep::Ureter, "ureter", "Reconnect broken ureters (delayed CT optional)");
});

}  // namespace
}  // namespace nephro::cli
