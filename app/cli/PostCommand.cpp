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
#include "labels/LabelTable.h"
#include "post/PerirenalFat.h"
#include "post/TemplateSample.h"
#include "post/VesselReconnection.h"

namespace nephro::cli {
namespace {

using post::ParameterInfo;
using post::ParameterKind;

enum class Step { Fat, Sample, Vessel, Ureter };

struct PostCommandOptions {
  Step step = Step::Fat;
  std::string mask;
  std::string image;
  std::string out;
  std::string report;
  std::string templatePath;
  std::map<std::string, std::string> values;  // parameter key -> text as given
  bool quiet = false;
};

const std::vector<ParameterInfo>& parametersOf(Step step) {
  static const std::vector<ParameterInfo> vessel = post::ReconnectionParameters::describe(post::TubularStructure::Artery);
  static const std::vector<ParameterInfo> ureter = post::ReconnectionParameters::describe(post::TubularStructure::Ureter);
  switch (step) {
    case Step::Fat: return post::FatParameters::describe();
    case Step::Sample: return post::SampleParameters::describe();
    case Step::Vessel: return vessel;
    case Step::Ureter: break;
  }
  return ureter;
}

// Checks a parameter against its description and hands it to `set`.
template <class Parameters>
void applyParameters(const PostCommandOptions& o, Parameters& p) {
  for (const ParameterInfo& info : parametersOf(o.step)) {
    auto it = o.values.find(info.key);
    if (it == o.values.end() || info.kind == ParameterKind::LabelList) continue;
    double v = 0;
    try {
      size_t used = 0;
      v = std::stod(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument("trailing text");
    } catch (const std::exception&) {
      throw usageError("--" + info.key + " expects a number, got '" + it->second + "'");
    }
    if (v < info.minimum || v > info.maximum) {
      std::ostringstream msg;
      msg << "--" << info.key << " must be within " << info.minimum << " .. " << info.maximum
          << (info.unit.empty() ? "" : " " + info.unit) << ", got " << it->second;
      throw usageError(msg.str());
    }
    if ((info.kind == ParameterKind::Integer || info.kind == ParameterKind::Flag) && v != std::floor(v))
      throw usageError("--" + info.key + " expects a whole number, got '" + it->second + "'");
    p.set(info.key, v);
  }
}


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
  if (o.step == Step::Sample && !o.image.empty()) throw usageError("post sample works from the mask alone; drop --image");

  // Headers first: a geometry mismatch costs no voxel read.
  const ImageInfo maskInfo = readImageInfo(o.mask);
  if (!isIntegerType(maskInfo.pixelType))
    throw inputError(o.mask, std::string("is not an integer label image (pixel type ") + maskInfo.storedComponentType + ")");
  if (!o.image.empty()) {
    const ImageInfo ctInfo = readImageInfo(o.image);
    if (!ctInfo.geometry.sameGrid(maskInfo.geometry))
      throw inputError(o.image, "geometry " + ctInfo.geometry.describe() + " does not match the mask " + o.mask + " (" +
                                    maskInfo.geometry.describe() + ")");
  }
  LabelTable table = LabelTable::hasSidecar(o.mask) ? LabelTable::readSidecar(o.mask) : LabelTable::caseSchema();

  Progress progress = terminalProgress(o.quiet);
  const Volume mask = readVolume(o.mask, {}, progress.sub(0.0, 0.1));
  table.checkCovers(mask, o.mask);
  Volume ct;
  if (!o.image.empty()) ct = readVolume(o.image, {}, progress.sub(0.1, 0.25));
  const Volume* ctp = o.image.empty() ? nullptr : &ct;
  const Progress work = progress.sub(0.25, 0.95);

  Volume outMask;
  LabelTable outTable;
  std::string report, summary;
  switch (o.step) {
    case Step::Fat: {
      post::FatParameters p;
      applyParameters(o, p);
      if (auto it = o.values.find("excluded-labels"); it != o.values.end()) p.excludedLabels = table.valuesFromList(it->second, "--excluded-labels");
      post::FatResult r = post::computePerirenalFat(mask, table, ctp, p, work, o.mask, o.image);
      outMask = r.fat;
      outTable = r.table;
      nlohmann::json j;
      j["volumeMl"] = r.volumeMl;
      j["excludedLabels"] = r.excludedLabels;
      for (const auto& l : r.limitsMm) j["limits"].push_back({{"fat", l.fat}, {"around", l.part}, {"distanceMm", l.distanceMm}});
      report = j.dump(2);
      char line[160];
      std::snprintf(line, sizeof line, "perirenal fat %.1f mL%s", r.volumeMl, ctp ? "" : " (no CT: distance and labels only)");
      summary = line;
      break;
    }
    case Step::Sample: {
      post::SampleParameters p;
      applyParameters(o, p);
      const post::TemplateCase tpl = post::loadTemplate(o.templatePath);
      post::SampleResult r = post::sampleTemplate(mask, table, tpl, p, work, o.mask);
      outMask = r.mask;
      outTable = r.table;
      report = r.toJson();
      for (const auto& s : r.sides) {
        char line[160];
        std::snprintf(line, sizeof line, "%s%s kidney Dice %.3f", summary.empty() ? "" : "; ", s.kidney.c_str(), s.dice);
        summary += line;
      }
      break;
    }
    case Step::Vessel:
    case Step::Ureter: {
      const auto structure = o.step == Step::Vessel ? post::TubularStructure::Artery : post::TubularStructure::Ureter;
      post::ReconnectionParameters p = post::ReconnectionParameters::defaults(structure);
      applyParameters(o, p);
      post::ReconnectionResult r = post::reconnect(structure, mask, table, ctp, p, work, o.mask, o.image);
      outMask = r.mask;
      outTable = r.table;
      report = r.toJson();
      int bridged = 0;
      for (const auto& b : r.bridges) bridged += b.decision == "bridged";
      char line[200];
      std::snprintf(line, sizeof line, "%d bridges, %d of %d fragments joined, %d removed%s", bridged, r.joined, r.fragments,
                    r.removed, ctp ? "" : " (no CT: smooth bridges)");
      summary = line;
      break;
    }
  }
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

void addStep(CLI::App* post, Step step, const char* name, const char* help) {
  auto o = std::make_shared<PostCommandOptions>();
  o->step = step;
  CLI::App* sub = post->add_subcommand(name, help);
  sub->add_option("--mask", o->mask, "Label mask (its label table sidecar mask.json is read; else the case schema)")->required();
  if (step != Step::Sample)
    sub->add_option("--image", o->image,
                    step == Step::Ureter ? "Delayed-phase CT on the mask's grid (optional; refines the bridges)"
                    : step == Step::Vessel ? "Arterial-phase CT on the mask's grid (optional; refines the bridges)"
                                           : "CT on the mask's grid (optional; limits fat to fat HU)");
  sub->add_option("--out", o->out, "Output mask (.nii.gz, .nrrd, .mha); its label table is written beside it")->required();
  sub->add_option("--report", o->report, "JSON report (default: OUT with _report.json)");
  if (step == Step::Sample) sub->add_option("--template", o->templatePath, "Template mask (default: the shipped one)");
  for (const ParameterInfo& info : parametersOf(step)) {
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
  CLI::App* post = root.add_subcommand("post", "Post-processing of a mask: perirenal fat, template sample, artery and ureter reconnection");
  post->require_subcommand(1);
  addStep(post, Step::Fat, "fat", "Perirenal fat around kidneys and tumours (CT optional)");
  addStep(post, Step::Sample, "sample", "Quick approximate arteries, veins and ureters from the template case (mask only)");
  addStep(post, Step::Vessel, "vessel", "Reconnect broken renal arteries (arterial CT optional)");
  addStep(post, Step::Ureter, "ureter", "Reconnect broken ureters (delayed CT optional)");
});

}  // namespace
}  // namespace nephro::cli
