#include "pipeline/CaseRunner.h"
#include "pipeline/CaseMemory.h"

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
  if (o.plainNetwork) {
    p.optimizeForInference = false;
    p.maxBatch = 1;
  }
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
              {"shared_channels", r.sharedChannels},
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
                              const ModelRunOptions& options, const Progress& progress, const CaseSteps& steps) {
  const auto t0 = Clock::now();
  if (modelIds.empty()) throw usageError("no model to run on " + c.name());
  // Check everything first: manifests, folders, phases, output folder.
  std::vector<PlannedModel> plan;
  std::set<std::string> seen;
  for (const auto& id : modelIds) {
    if (!seen.insert(id).second) continue;
    plan.push_back(planModel(c, id, options));
  }
  {
    // Each post step must find its labels among the models' (and earlier steps') outputs.
    std::vector<LabelTable> tables;
    for (const auto& p : plan) tables.push_back(inference::modelLabelTable(p.model, p.manifest.labelMap));
    for (const auto& r : steps.post) {
      post::checkPostValues(r);
      if (primaryLayerFor(r.step, tables) < 0)
        throw inputError(c.name(), "post " + post::postStepId(r.step) + " needs " + postStepNeeds(r.step) +
                                       "; none of the chosen models gives it");
    }
  }
  {
    // Memory: the phases plus the largest model must fit, or the run stops here.
    std::set<std::string> phases;
    std::vector<ModelOnPhase> models;
    for (const auto& p : plan) {
      for (const auto& ph : p.inputPhases) phases.insert(ph);
      phases.insert(p.outputPhase);
      models.push_back({&p.model, p.manifest.id, p.outputPhase});
    }
    checkCaseFitsInMemory(c, std::vector<std::string>(phases.begin(), phases.end()), models);
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
  inference::PreprocessedChannelCache channelCache;  // single channels shared across models
  std::vector<CaseLayer> layers;
  // Progress: reading 10 %, models up to `modelsEnd`, then post steps and meshes.
  const double modelsEnd = 1.0 - 0.08 * steps.post.size() - (steps.mesh ? 0.05 : 0.0);

  for (size_t i = 0; i < plan.size(); ++i) {
    const PlannedModel& p = plan[i];
    const Progress mp = progress.sub(0.1 + (modelsEnd - 0.1) * i / plan.size(), 0.1 + (modelsEnd - 0.1) * (i + 1) / plan.size());
    const Progress stage([&](double f, const std::string& s) { mp.report(f, p.manifest.id + ": " + s); }, progress.cancelFlag());
    mp.throwIfCancelled();
    std::unique_ptr<inference::NnunetPredictor> ownPredictor;
    inference::NnunetPredictor* predictorPtr = nullptr;
    if (options.networks) {
      const inference::PredictorOptions po = predictorOptions(p.manifest, options);
      const std::string key = p.manifest.id + "|" + p.manifest.folder + "|" + p.model.configuration.name + "|" +
                              std::to_string(po.tileStep) + "|" + std::to_string(po.mirroring);
      auto& slot = options.networks->predictors[key];
      if (!slot) slot = std::make_unique<inference::NnunetPredictor>(p.model, po);
      predictorPtr = slot.get();
    } else {
      ownPredictor = std::make_unique<inference::NnunetPredictor>(p.model, predictorOptions(p.manifest, options));
      predictorPtr = ownPredictor.get();
    }
    inference::NnunetPredictor& predictor = *predictorPtr;
    bool shared = true;
    int sharedChannels = 0;
    double preSeconds = 0;
    auto it = cache.find(p.preprocessKey);
    if (it == cache.end()) {
      shared = false;
      const auto tp = Clock::now();
      std::vector<Volume> channels = channelsFor(c, p, stage.sub(0.0, 0.02));
      // Names of the images the channels are: a phase, or a phase resampled into another's grid.
      std::vector<std::string> sources;
      for (size_t ch = 0; ch < channels.size(); ++ch) {
        const std::string& ph = p.inputPhases[ch];
        sources.push_back(channels[ch].geometry().sameGrid(c.phase(ph).geometry()) ? ph : ph + "@" + p.outputPhase);
      }
      const int reusedBefore = channelCache.reused;
      it = cache.emplace(p.preprocessKey, inference::preprocessCase(p.model, channels, stage.sub(0.02, 0.1), &channelCache,
                                                                    sources))
               .first;
      sharedChannels = channelCache.reused - reusedBefore;
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
    r.sharedChannels = shared ? static_cast<int>(p.inputPhases.size()) : sharedChannels;
    r.preprocessSeconds = preSeconds;
    r.exportSeconds = exportSeconds;
    const auto tw = Clock::now();
    r.output = (fs::path(outDir) / (p.manifest.id + ".nii.gz")).string();
    const LabelTable table = inference::modelLabelTable(p.model, p.manifest.labelMap);
    writeMaskWithTable(mask, table, r.output);
    r.writeSeconds = secondsSince(tw);
    report.models.push_back(r);
    layers.push_back(CaseLayer{p.manifest.id, p.outputPhase, std::move(mask), table});
    stage.report(1.0, "written");
  }

  for (size_t i = 0; i < steps.post.size(); ++i) {
    const Progress sp = progress.sub(modelsEnd + 0.08 * i, modelsEnd + 0.08 * (i + 1));
    const std::string id = "post " + post::postStepId(steps.post[i].step);
    const Progress stage([&](double f, const std::string& s) { sp.report(f, id + ": " + s); }, progress.cancelFlag());
    report.post.push_back(runPostOnCase(c, layers, steps.post[i], outDir, stage));
  }

  if (steps.mesh) {
    const auto tm = Clock::now();
    const double m0 = modelsEnd + 0.08 * steps.post.size();
    for (size_t i = 0; i < layers.size(); ++i) {
      const Progress lp = progress.sub(m0 + (1.0 - m0) * i / layers.size(), m0 + (1.0 - m0) * (i + 1) / layers.size());
      MeshOptions mo;
      mo.space = steps.meshSpace;
      mo.maskName = c.name() + ":" + layers[i].id;
      const std::vector<LabelMesh> meshes = buildLabelMeshes(layers[i].mask, layers[i].table, mo, lp.sub(0.0, 0.9));
      if (meshes.empty()) continue;
      MeshWriteOptions wo;
      wo.formats = steps.meshFormats;
      for (auto& f : writeMeshes(meshes, (fs::path(outDir) / "meshes" / layers[i].id).string(), wo, lp.sub(0.9, 1.0)))
        report.meshFiles.push_back(std::move(f));
    }
    report.meshSeconds = secondsSince(tm);
  }

  for (const auto& ph : c.phases()) report.readsPerPhase[ph] = c.readCount(ph);
  report.totalSeconds = secondsSince(t0);
  json phases = json::object();
  for (const auto& ph : c.phases()) {
    phases[ph] = {{"file", c.file(ph)}, {"reads", c.readCount(ph)}};
    // What the reader changed (missing DICOM slices interpolated with --allow-gaps).
    const std::vector<std::string> notes = c.phaseNotes(ph);
    if (!notes.empty()) phases[ph]["notes"] = notes;
  }
  json models = json::array();
  for (const auto& r : report.models) models.push_back(recordJson(r));
  const inference::DeviceInfo dev = inference::deviceInfo();
  json prov{{"format", "nephro3d-provenance"},
            {"version", 1},
            {"case", c.name()},
            {"phases", phases},
            {"models", models},
            {"device", dev.description},
            {"seconds", {{"read", report.readSeconds}, {"mesh", report.meshSeconds}, {"total", report.totalSeconds}}}};
  if (!report.post.empty()) {
    json post = json::array();
    for (const auto& r : report.post)
      post.push_back({{"step", r.step},
                      {"parameters", r.parameters},
                      {"input", r.primary},
                      {"context", r.context},
                      {"phase", r.phase},
                      {"ct_phase", r.ctPhase.empty() ? json(nullptr) : json(r.ctPhase)},
                      {"output", r.output},
                      {"report", r.report},
                      {"summary", r.summary},
                      {"seconds", r.seconds}});
    prov["post"] = post;
  }
  if (steps.mesh) prov["meshes"] = {{"space", toString(steps.meshSpace)}, {"files", report.meshFiles}};
  report.provenancePath = (fs::path(outDir) / "provenance.json").string();
  writeFileAtomically(report.provenancePath, prov.dump(2) + "\n");
  progress.report(1.0, "done");
  return report;
}

ModelRunRecord runModelToFile(Case& c, const std::string& modelId, const std::string& outPath,
                              const ModelRunOptions& options, const Progress& progress) {
  PlannedModel p = planModel(c, modelId, options);
  {
    std::set<std::string> phases(p.inputPhases.begin(), p.inputPhases.end());
    phases.insert(p.outputPhase);
    checkCaseFitsInMemory(c, std::vector<std::string>(phases.begin(), phases.end()), {{&p.model, p.manifest.id, p.outputPhase}});
  }
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
