#include "pipeline/CaseRunner.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "image/VolumeIO.h"
#include "inference/NnunetPreprocessing.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nephro::pipeline {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// A manifest resolved against a case: model loaded, phases assigned.
struct PlannedModel {
  inference::ModelManifest manifest;
  inference::NnunetModel model;
  std::vector<std::string> inputPhases;
  std::string outputPhase;
  std::string preprocessKey;
};

PlannedModel planModel(const Case& c, const std::string& id, const ModelRunOptions& options) {
  PlannedModel p;
  p.manifest = inference::findManifest(id, options.modelsDirectory);
  p.inputPhases = p.manifest.assignPhases(c.phases());
  if (p.inputPhases.empty()) {
    std::string needed;
    for (const auto& in : p.manifest.inputs) needed += (needed.empty() ? "" : "+") + in.phase;
    throw inputError(c.name(), "lacks the phase(s) model " + id + " needs (" + needed + ")");
  }
  p.outputPhase = p.manifest.outputPhase(p.inputPhases);
  p.model = inference::loadManifestModel(p.manifest);
  std::string key = inference::preprocessingKey(p.model) + "|in";
  for (const auto& ph : p.inputPhases) key += " " + ph;
  key += "|out " + p.outputPhase;
  p.preprocessKey = key;
  return p;
}

inference::PredictorOptions predictorOptions(const inference::ModelManifest& m, const ModelRunOptions& o) {
  inference::PredictorOptions p;
  p.device = o.device;
  p.threads = o.threads;
  p.tileStep = o.tileStep.value_or(m.tileStep);
  p.mirroring = o.mirroring.value_or(m.mirroring);
  return p;
}

std::vector<Volume> channelsFor(Case& c, const PlannedModel& p, const Progress& progress) {
  std::vector<Volume> channels;
  for (size_t i = 0; i < p.inputPhases.size(); ++i)
    channels.push_back(c.phaseOnGridOf(p.inputPhases[i], p.outputPhase,
                                       progress.sub(double(i) / p.inputPhases.size(), double(i + 1) / p.inputPhases.size())));
  return channels;
}

ModelRunRecord recordFor(const PlannedModel& p, const inference::NnunetPredictor& predictor) {
  ModelRunRecord r;
  r.id = p.manifest.id;
  r.version = p.manifest.version;
  r.folder = p.manifest.folder;
  r.configuration = p.model.configuration.name;
  for (const auto& f : p.model.folds) r.folds.push_back(f.fold);
  r.tileStep = predictor.options().tileStep;
  r.mirroring = predictor.options().mirroring;
  r.device = predictor.deviceName();
  r.inputPhases = p.inputPhases;
  r.outputPhase = p.outputPhase;
  r.networkSeconds = predictor.timings().network;
  r.tiles = predictor.timings().tiles;
  return r;
}

json recordJson(const ModelRunRecord& r) {
  return json{{"id", r.id},
              {"version", r.version},
              {"folder", r.folder},
              {"configuration", r.configuration},
              {"folds", r.folds},
              {"tile_step", r.tileStep},
              {"mirroring", r.mirroring},
              {"device", r.device},
              {"input_phases", r.inputPhases},
              {"output_phase", r.outputPhase},
              {"output", r.output},
              {"shared_preprocessing", r.sharedPreprocessing},
              {"tiles", r.tiles},
              {"seconds", {{"preprocess", r.preprocessSeconds}, {"network", r.networkSeconds}, {"export", r.exportSeconds},
                           {"write", r.writeSeconds}}}};
}

}  // namespace

void writeMaskWithTable(const Volume& mask, const LabelTable& table, const std::string& path) {
  OutputTransaction tx;
  const std::string maskTemp = tx.stage(path);
  const std::string tableTemp = tx.stage(LabelTable::sidecarPath(path));
  writeVolumeTo(mask, maskTemp);
  {
    std::ofstream out(tableTemp, std::ios::binary | std::ios::trunc);
    const std::string text = table.toJson();
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw outputError(LabelTable::sidecarPath(path), "write failed");
  }
  tx.commit();
}

std::vector<std::string> modelsAvailableFor(const Case& c, const std::string& modelsDirectory, bool includeLegacy,
                                            bool requireFiles) {
  std::vector<std::string> ids, legacy;
  for (const auto& m : inference::listManifests(modelsDirectory)) {
    if (m.assignPhases(c.phases()).empty()) continue;
    if (requireFiles && !inference::missingModelFiles(m).empty()) continue;
    (m.legacy ? legacy : ids).push_back(m.id);
  }
  if (includeLegacy) ids.insert(ids.end(), legacy.begin(), legacy.end());
  return ids;
}

CaseRunReport runModelsOnCase(Case& c, const std::vector<std::string>& modelIds, const std::string& outDir,
                              const ModelRunOptions& options, const Progress& progress) {
  const auto t0 = Clock::now();
  if (modelIds.empty()) throw usageError("no model to run on " + c.name());
  // Check everything first: manifests, folders, phases, output folder.
  std::vector<PlannedModel> plan;
  std::set<std::string> seen;
  for (const auto& id : modelIds) {
    if (!seen.insert(id).second) continue;
    plan.push_back(planModel(c, id, options));
  }
  std::error_code ec;
  fs::create_directories(outDir, ec);
  if (!fs::is_directory(outDir)) throw outputError(outDir, "cannot create the output folder");

  CaseRunReport report;
  report.caseName = c.name();
  // Read every needed phase up front (each once).
  const auto tRead = Clock::now();
  std::set<std::string> needed;
  for (const auto& p : plan) {
    for (const auto& ph : p.inputPhases) needed.insert(ph);
    needed.insert(p.outputPhase);
  }
  int done = 0;
  for (const auto& ph : needed) {
    c.phase(ph, progress.sub(0.1 * done / needed.size(), 0.1 * (done + 1) / needed.size()));
    ++done;
  }
  report.readSeconds = secondsSince(tRead);

  // Preprocessed inputs shared by key, dropped after their last user.
  std::map<std::string, size_t> lastUse;
  for (size_t i = 0; i < plan.size(); ++i) lastUse[plan[i].preprocessKey] = i;
  std::map<std::string, inference::PreprocessedCase> cache;

  for (size_t i = 0; i < plan.size(); ++i) {
    const PlannedModel& p = plan[i];
    const Progress mp = progress.sub(0.1 + 0.9 * i / plan.size(), 0.1 + 0.9 * (i + 1) / plan.size());
    const Progress stage([&](double f, const std::string& s) { mp.report(f, p.manifest.id + ": " + s); }, progress.cancelFlag());
    mp.throwIfCancelled();
    inference::NnunetPredictor predictor(p.model, predictorOptions(p.manifest, options));
    bool shared = true;
    double preSeconds = 0;
    auto it = cache.find(p.preprocessKey);
    if (it == cache.end()) {
      shared = false;
      const auto tp = Clock::now();
      std::vector<Volume> channels = channelsFor(c, p, stage.sub(0.0, 0.02));
      it = cache.emplace(p.preprocessKey, inference::preprocessCase(p.model, channels, stage.sub(0.02, 0.1))).first;
      preSeconds = secondsSince(tp);
    }
    inference::Logits logits = predictor.predictLogits(it->second, stage.sub(0.1, 0.9));
    const auto te = Clock::now();
    Volume mask = inference::exportSegmentation(p.model, logits, it->second, stage.sub(0.9, 0.97));
    logits = {};
    const double exportSeconds = secondsSince(te);
    if (lastUse[p.preprocessKey] == i) cache.erase(p.preprocessKey);

    ModelRunRecord r = recordFor(p, predictor);
    r.sharedPreprocessing = shared;
    r.preprocessSeconds = preSeconds;
    r.exportSeconds = exportSeconds;
    const auto tw = Clock::now();
    r.output = (fs::path(outDir) / (p.manifest.id + ".nii.gz")).string();
    writeMaskWithTable(mask, inference::modelLabelTable(p.model, p.manifest.labelMap), r.output);
    r.writeSeconds = secondsSince(tw);
    report.models.push_back(r);
    stage.report(1.0, "written");
  }

  for (const auto& ph : c.phases()) report.readsPerPhase[ph] = c.readCount(ph);
  report.totalSeconds = secondsSince(t0);
  json phases = json::object();
  for (const auto& ph : c.phases()) phases[ph] = {{"file", c.file(ph)}, {"reads", c.readCount(ph)}};
  json models = json::array();
  for (const auto& r : report.models) models.push_back(recordJson(r));
  const inference::DeviceInfo dev = inference::deviceInfo();
  json prov{{"format", "nephro3d-provenance"},
            {"version", 1},
            {"case", c.name()},
            {"phases", phases},
            {"models", models},
            {"device", dev.description},
            {"seconds", {{"read", report.readSeconds}, {"total", report.totalSeconds}}}};
  report.provenancePath = (fs::path(outDir) / "provenance.json").string();
  writeFileAtomically(report.provenancePath, prov.dump(2) + "\n");
  progress.report(1.0, "done");
  return report;
}

ModelRunRecord runModelToFile(Case& c, const std::string& modelId, const std::string& outPath,
                              const ModelRunOptions& options, const Progress& progress) {
  PlannedModel p = planModel(c, modelId, options);
  inference::NnunetPredictor predictor(p.model, predictorOptions(p.manifest, options));
  const auto tp = Clock::now();
  std::vector<Volume> channels = channelsFor(c, p, progress.sub(0.0, 0.05));
  inference::PreprocessedCase pre = inference::preprocessCase(p.model, channels, progress.sub(0.05, 0.1));
  const double preSeconds = secondsSince(tp);
  inference::Logits logits = predictor.predictLogits(pre, progress.sub(0.1, 0.9));
  const auto te = Clock::now();
  Volume mask = inference::exportSegmentation(p.model, logits, pre, progress.sub(0.9, 0.97));
  ModelRunRecord r = recordFor(p, predictor);
  r.preprocessSeconds = preSeconds;
  r.exportSeconds = secondsSince(te);
  const auto tw = Clock::now();
  r.output = outPath;
  writeMaskWithTable(mask, inference::modelLabelTable(p.model, p.manifest.labelMap), outPath);
  r.writeSeconds = secondsSince(tw);
  progress.report(1.0, "done");
  return r;
}

}  // namespace nephro::pipeline
