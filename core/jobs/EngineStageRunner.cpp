#include "jobs/EngineStageRunner.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "image/VolumeIO.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPreprocessing.h"
#include "jobs/Sha256.h"
#include "mesh/LabelMesher.h"
#include "pipeline/CasePost.h"
#include "pipeline/CaseRunner.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nephro::jobs {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

json readJsonFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return json();
  std::stringstream s;
  s << in.rdbuf();
  try {
    return json::parse(s.str());
  } catch (const std::exception&) {
    throw Error(ErrorKind::Internal, p.string() + " is not valid JSON");
  }
}

void writeStageJson(const std::string& outDir, const json& record) {
  writeFileAtomically((fs::path(outDir) / "stage.json").string(), record.dump(1) + "\n");
}

// The phase the job's input mask lives on: that of the first CT phase sent with it.
std::string maskPhase(const JobSpec& spec) {
  const auto phases = spec.phases();
  return phases.empty() ? std::string() : phases.front();
}

// Every mask the job has so far: model outputs, the input mask, post results (in that order).
std::vector<pipeline::CaseLayer> loadLayers(const StageTask& task, const Progress& progress) {
  std::vector<pipeline::CaseLayer> models, posts;
  for (const auto& dir : task.earlierStages) {
    const json rec = readJsonFile(fs::path(dir) / "stage.json");
    if (!rec.is_object() || !rec.contains("layer")) continue;
    const json& l = rec.at("layer");
    const std::string path = (fs::path(dir) / l.at("mask").get<std::string>()).string();
    pipeline::CaseLayer layer{l.at("id").get<std::string>(), l.value("phase", std::string()), readVolume(path),
                              LabelTable::readSidecar(path)};
    (layer.id.rfind("post_", 0) == 0 ? posts : models).push_back(std::move(layer));
    progress.throwIfCancelled();
  }
  if (task.spec.hasMask()) {
    const std::string& path = task.spec.inputs.at("mask");
    models.push_back(pipeline::CaseLayer{"mask", maskPhase(task.spec), readVolume(path), inputMaskTable(task.spec)});
  }
  for (auto& p : posts) models.push_back(std::move(p));
  return models;
}

inference::DeviceChoice deviceChoice(const std::string& d) {
  return d == "cuda" ? inference::DeviceChoice::Cuda : inference::DeviceChoice::Cpu;
}

}  // namespace

uint64_t networkMemoryEstimate(const std::string& modelId, const std::string& modelsDirectory) {
  const inference::NnunetModel model = inference::loadManifestModel(inference::findManifest(modelId, modelsDirectory));
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& f : model.folds) bytes += static_cast<uint64_t>(fs::file_size(f.path, ec));
  return 2 * bytes;
}

EngineStageRunner::EngineStageRunner(EngineRunnerOptions options)
    : options_(std::move(options)), cache_(options_.modelMemoryBytes) {}

std::shared_ptr<pipeline::Case> EngineStageRunner::caseOf(const StageTask& task) {
  std::lock_guard<std::mutex> lock(contextMutex_);
  for (auto it = contexts_.begin(); it != contexts_.end(); ++it)
    if (it->first == task.jobId) {
      contexts_.splice(contexts_.begin(), contexts_, it);
      return contexts_.front().second;
    }
  std::map<std::string, std::string> files;
  for (const auto& ph : task.spec.phases()) files[ph] = task.spec.inputs.at(ph);
  auto c = std::make_shared<pipeline::Case>(files.empty() ? pipeline::Case() : pipeline::Case::fromFiles(files, task.jobId));
  contexts_.emplace_front(task.jobId, c);
  while (contexts_.size() > 2) contexts_.pop_back();  // a few CTs at most
  return c;
}

StageOutcome EngineStageRunner::run(const StageTask& task, const Progress& progress) {
  progress.throwIfCancelled();
  StageOutcome o;
  switch (task.stage().kind) {
    case StageKind::Model: o = runModel(task, progress); break;
    case StageKind::Post: o = runPost(task, progress); break;
    case StageKind::Mesh: o = runMesh(task, progress); break;
    case StageKind::Report: o = runReport(task, progress); break;
  }
  if (task.stage().kind == StageKind::Report) {
    std::lock_guard<std::mutex> lock(contextMutex_);
    contexts_.remove_if([&](const auto& c) { return c.first == task.jobId; });
  }
  o.record["stage"] = task.stage().name();
  o.record["device"] = o.device;
  writeStageJson(task.outDir, o.record);
  return o;
}

StageOutcome EngineStageRunner::runModel(const StageTask& task, const Progress& progress) {
  const std::string& id = task.stage().model;
  const auto t0 = Clock::now();
  std::shared_ptr<pipeline::Case> c = caseOf(task);
  const inference::ModelManifest manifest = inference::findManifest(id, options_.modelsDirectory);
  const std::vector<std::string> inputPhases = manifest.assignPhases(c->phases());
  if (inputPhases.empty()) throw inputError(task.jobId, "lacks the phase(s) model " + id + " needs");
  const std::string outputPhase = manifest.outputPhase(inputPhases);
  const inference::NnunetModel model = inference::loadManifestModel(manifest);
  inference::PredictorOptions po;
  po.device = deviceChoice(task.device);
  po.threads = options_.threads;
  po.tileStep = manifest.tileStep;
  po.mirroring = manifest.mirroring;
  const auto tl = Clock::now();
  auto predictor = cache_.get(id + "@" + task.device, networkMemoryEstimate(id, options_.modelsDirectory),
                              [&] { return std::make_shared<inference::NnunetPredictor>(model, po); });
  const double loadSeconds = secondsSince(tl);
  std::vector<Volume> channels;
  for (size_t i = 0; i < inputPhases.size(); ++i) {
    channels.push_back(c->phaseOnGridOf(inputPhases[i], outputPhase, progress.sub(0.0, 0.02)));
    progress.throwIfCancelled();
  }
  const inference::PreprocessedCase pre = inference::preprocessCase(model, channels, progress.sub(0.02, 0.1));
  channels.clear();
  inference::Logits logits = predictor->predictLogits(pre, progress.sub(0.1, 0.9));
  const Volume mask = inference::exportSegmentation(model, logits, pre, progress.sub(0.9, 0.97));
  logits = {};
  const std::string file = id + ".nii.gz";
  pipeline::writeMaskWithTable(mask, inference::modelLabelTable(model, manifest.labelMap),
                               (fs::path(task.outDir) / file).string());
  StageOutcome o;
  o.device = predictor->deviceName();
  o.record = {{"layer", {{"id", id}, {"phase", outputPhase}, {"mask", file}}},
              {"model", {{"id", id}, {"version", manifest.version}, {"configuration", model.configuration.name},
                         {"input_phases", inputPhases}, {"output_phase", outputPhase}}},
              {"seconds", {{"load", loadSeconds}, {"network", predictor->timings().network}, {"total", secondsSince(t0)}}}};
  progress.report(1.0, "written");
  return o;
}

StageOutcome EngineStageRunner::runPost(const StageTask& task, const Progress& progress) {
  std::shared_ptr<pipeline::Case> c = caseOf(task);
  std::vector<pipeline::CaseLayer> layers = loadLayers(task, progress);
  post::PostStepRequest request;
  bool found = false;
  for (const auto& r : task.spec.postRequests())
    if (post::postStepId(r.step) == task.stage().step) {
      request = r;
      found = true;
    }
  if (!found) throw usageError("unknown post-processing step " + task.stage().step);
  const pipeline::PostRunRecord r = pipeline::runPostOnCase(*c, layers, request, task.outDir, progress);
  StageOutcome o;
  o.device = "cpu";
  const std::string id = "post_" + r.step;
  o.record = {{"layer", {{"id", id}, {"phase", r.phase}, {"mask", fs::path(r.output).filename().string()}}},
              {"post", {{"step", r.step}, {"parameters", r.parameters}, {"input", r.primary}, {"context", r.context},
                        {"ct_phase", r.ctPhase}, {"summary", r.summary}}},
              {"seconds", {{"total", r.seconds}}}};
  return o;
}

StageOutcome EngineStageRunner::runMesh(const StageTask& task, const Progress& progress) {
  const auto t0 = Clock::now();
  std::vector<pipeline::CaseLayer> layers = loadLayers(task, progress.sub(0.0, 0.1));
  std::vector<std::string> formats;
  std::stringstream list;
  for (const auto& f : task.spec.meshFormats) list << (list.tellp() > 0 ? "," : "") << f;
  MeshWriteOptions wo;
  wo.formats = parseMeshFormats(list.str());
  json files = json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    const Progress lp = progress.sub(0.1 + 0.9 * i / layers.size(), 0.1 + 0.9 * (i + 1) / layers.size());
    MeshOptions mo;
    mo.space = parseCoordinateSpace(task.spec.meshSpace);
    mo.threads = static_cast<unsigned>(std::max(0, options_.threads));
    mo.maskName = task.jobId + ":" + layers[i].id;
    const std::vector<LabelMesh> meshes = buildLabelMeshes(layers[i].mask, layers[i].table, mo, lp.sub(0.0, 0.9));
    if (meshes.empty()) continue;
    for (const auto& f : writeMeshes(meshes, (fs::path(task.outDir) / "meshes" / layers[i].id).string(), wo, lp.sub(0.9, 1.0)))
      files.push_back(fs::relative(f, task.outDir).generic_string());
  }
  StageOutcome o;
  o.device = "cpu";
  o.record = {{"mesh", {{"space", task.spec.meshSpace}, {"files", files}}}, {"seconds", {{"total", secondsSince(t0)}}}};
  progress.report(1.0, "written");
  return o;
}

StageOutcome EngineStageRunner::runReport(const StageTask& task, const Progress& progress) {
  json inputs = json::object();
  for (const auto& [key, path] : task.spec.inputs)
    inputs[key] = {{"file", fs::path(path).filename().string()}, {"sha256", sha256File(path)}};
  json stages = json::array();
  for (const auto& dir : task.earlierStages) stages.push_back(readJsonFile(fs::path(dir) / "stage.json"));
  JobSpec pipelineOnly = task.spec;
  pipelineOnly.inputs.clear();
  json pipelineJson = toJson(pipelineOnly);
  pipelineJson.erase("inputs");
  const json prov{{"format", "nephro3d-job-provenance"},
                  {"version", 1},
                  {"job", task.jobId},
                  {"inputs", inputs},
                  {"pipeline", pipelineJson},
                  {"stages", stages},
                  {"device", inference::deviceInfo().description}};
  writeFileAtomically((fs::path(task.outDir) / "provenance.json").string(), prov.dump(2) + "\n");
  StageOutcome o;
  o.device = "-";
  o.record = json::object();
  progress.report(1.0, "done");
  return o;
}

}  // namespace nephro::jobs
