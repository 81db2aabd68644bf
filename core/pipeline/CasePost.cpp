#include "pipeline/CasePost.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "common/PhaseRules.h"
#include "image/Resample.h"
#include "image/VolumeIO.h"
#include "pipeline/CaseRunner.h"

namespace fs = std::filesystem;

namespace nephro::pipeline {
namespace {

// "kidney_left" -> "kidney"
std::string baseName(const std::string& name) {
  for (const char* side : {"_left", "_right"}) {
    const std::string s(side);
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0)
      return name.substr(0, name.size() - s.size());
  }
  return name;
}

bool hasBase(const LabelTable& t, const std::string& base) {
  for (const LabelEntry& e : t.entries())
    if (baseName(e.name) == base) return true;
  return false;
}

int score(post::PostStep step, const LabelTable& t) {
  switch (step) {
    case post::PostStep::Fat:
    case post::PostStep::Sample:
      return hasBase(t, "kidney") ? (t.findByName("tumor") ? 2 : 1) : 0;
    case post::PostStep::Vessel: return hasBase(t, "artery") ? 1 : 0;
    case post::PostStep::Ureter: return hasBase(t, "ureter") ? 1 : 0;
  }
  return 0;
}

// Context labels never taken from other layers: the primary owns its kidneys
// and tumour, and whatever structure families it already has.
bool takenFromPrimaryOnly(const std::string& name, const LabelTable& primary) {
  const std::string base = baseName(name);
  return base == "kidney" || base == "tumor" || hasBase(primary, base);
}

void writeText(const std::string& tempPath, const std::string& text, const std::string& finalPath) {
  std::ofstream f(tempPath, std::ios::binary | std::ios::trunc);
  f.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!f) throw outputError(finalPath, "write failed");
}

}  // namespace

int primaryLayerFor(post::PostStep step, const std::vector<LabelTable>& tables) {
  int best = -1, bestScore = 0;
  for (size_t i = 0; i < tables.size(); ++i) {
    const int s = score(step, tables[i]);
    if (s > bestScore) {
      best = static_cast<int>(i);
      bestScore = s;
    }
  }
  return best;
}

std::string postStepNeeds(post::PostStep step) {
  switch (step) {
    case post::PostStep::Fat:
    case post::PostStep::Sample: return "a kidney label (models tumor, vessel, ureter or totalseg give one)";
    case post::PostStep::Vessel: return "an artery label (model vessel gives one)";
    case post::PostStep::Ureter: return "a ureter label (model ureter gives one)";
  }
  return {};
}

PostRunRecord runPostOnCase(Case& c, std::vector<CaseLayer>& layers, const post::PostStepRequest& request,
                            const std::string& outDir, const Progress& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string stepId = post::postStepId(request.step);
  std::vector<LabelTable> tables;
  for (const auto& l : layers) tables.push_back(l.table);
  const int primaryIndex = primaryLayerFor(request.step, tables);
  if (primaryIndex < 0) throw inputError(c.name(), "post " + stepId + " needs " + postStepNeeds(request.step));
  const CaseLayer& primary = layers[static_cast<size_t>(primaryIndex)];

  PostRunRecord record;
  record.step = stepId;
  record.parameters = request.values;
  record.primary = primary.id;
  record.phase = primary.phase;

  // The step's input: the primary mask plus context labels of the other layers.
  // uint8: model outputs are (at most 255 labels); context labels beyond 255 are dropped.
  Volume mask = primary.mask.is<uint8_t>() ? primary.mask.clone() : castVolume(primary.mask, PixelType::UInt8);
  LabelTable table = primary.table;
  uint8_t* out = mask.data<uint8_t>();
  for (size_t i = 0; i < layers.size(); ++i) {
    const CaseLayer& other = layers[i];
    if (static_cast<int>(i) == primaryIndex || other.id.rfind("post_", 0) == 0) continue;
    std::map<int, int> valueMap;  // other's value -> composed value
    for (const LabelEntry& e : other.table.entries()) {
      if (takenFromPrimaryOnly(e.name, primary.table) || table.findByName(e.name)) continue;
      const std::optional<int> schemaValue = LabelTable::caseSchema().valueOf(e.name);
      const int value = (schemaValue && !table.find(*schemaValue)) ? *schemaValue : table.maxValue() + 1;
      if (value > 255) continue;  // uint8 masks: the primary's labels come first
      LabelEntry entry = e;
      entry.value = value;
      table.set(entry);
      valueMap[e.value] = value;
    }
    if (valueMap.empty() || !gridsOverlap(other.mask.geometry(), mask.geometry())) continue;
    Volume onGrid = other.mask.geometry().sameGrid(mask.geometry())
                        ? other.mask
                        : resampleToGrid(other.mask, mask.geometry(), Interpolation::Nearest);
    if (!onGrid.is<uint8_t>()) onGrid = castVolume(onGrid, PixelType::UInt8);
    const uint8_t* in = onGrid.data<uint8_t>();
    std::vector<int> lut(256, 0);
    for (const auto& [from, to] : valueMap) lut[static_cast<size_t>(from)] = to;
    for (int64_t v = 0; v < mask.voxelCount(); ++v)
      if (out[v] == 0 && lut[in[v]] != 0) out[v] = static_cast<uint8_t>(lut[in[v]]);
    record.context.push_back(other.id);
    progress.throwIfCancelled();
  }

  // The CT of the phase the primary lives in: the rule the workstation follows too.
  const Volume* ct = nullptr;
  const std::string ctPhase = stepCtPhase(post::postStepUsesCt(request.step), primary.phase, {},
                                          post::postStepPreferredPhase(request.step), c.phases());
  if (!ctPhase.empty()) {
    ct = &c.phase(ctPhase);
    record.ctPhase = ctPhase;
  }
  const std::string maskName = c.name() + ":" + primary.id;
  const std::string ctName = ct ? c.file(primary.phase) : std::string();
  post::PostStepOutcome r = post::runPostStep(request, mask, table, ct, progress.sub(0.0, 0.9), maskName, ctName);
  progress.throwIfCancelled();

  record.output = (fs::path(outDir) / ("post_" + stepId + ".nii.gz")).string();
  record.report = (fs::path(outDir) / ("post_" + stepId + "_report.json")).string();
  record.summary = r.summary;
  OutputTransaction tx;
  writeVolumeTo(r.mask, tx.stage(record.output));
  writeText(tx.stage(LabelTable::sidecarPath(record.output)), r.table.toJson(), LabelTable::sidecarPath(record.output));
  writeText(tx.stage(record.report), r.reportJson + "\n", record.report);
  tx.commit();
  layers.push_back(CaseLayer{"post_" + stepId, primary.phase, std::move(r.mask), r.table});
  record.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  progress.report(1.0, "written");  // the case runner names the step
  return record;
}

}  // namespace nephro::pipeline
