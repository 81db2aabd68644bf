#include "widgets/PostRecompute.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <tuple>

#include "common/Error.h"
#include "post/PerirenalFat.h"
#include "post/TemplateSample.h"
#include "post/VesselReconnection.h"

namespace nephro::widgets {
namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double valueOr(const std::map<std::string, double>& values, const std::string& key, double fallback) {
  auto it = values.find(key);
  return it == values.end() ? fallback : it->second;
}

bool hasPresent(const LabelTable& table, const std::vector<int64_t>& counts, const std::string& base) {
  for (int v : table.valuesMatching(base))
    if (v >= 0 && size_t(v) < counts.size() && counts[size_t(v)] > 0) return true;
  return false;
}

// Label values of `table` named after any of `bases` (kidney -> kidney_left, ...).
std::vector<int> valuesOf(const LabelTable& table, std::initializer_list<const char*> bases) {
  std::vector<int> out;
  for (const char* b : bases)
    for (int v : table.valuesMatching(b)) out.push_back(v);
  return out;
}

// The labels around which a step works: its region is their box, padded.
std::vector<int> regionLabels(PostStep step, const LabelTable& table) {
  switch (step) {
    case PostStep::Fat:
    case PostStep::Sample: return valuesOf(table, {"kidney", "tumor"});
    case PostStep::Vessel: return valuesOf(table, {"kidney", "tumor", "artery"});
    case PostStep::Ureter: return valuesOf(table, {"kidney", "ureter", "urinary_bladder"});
  }
  return {};
}

// How far beyond those labels the step can reach with these parameters.
double neededPadMm(PostStep step, const std::map<std::string, double>& v) {
  switch (step) {
    case PostStep::Fat:
      return valueOr(v, "distance-mm", 20) + valueOr(v, "closing-radius-mm", 3) +
             2 * valueOr(v, "working-spacing-mm", 2) + 2;
    case PostStep::Sample: return 40;
    case PostStep::Vessel:
    case PostStep::Ureter: return valueOr(v, "max-gap-mm", 12) + 8;
  }
  return 20;
}

// Keeps the values in `keep` of a label crop, as uint8 (every schema value fits).
Volume keepLabels(const Volume& in, const std::vector<int>& keep) {
  Volume out(in.geometry(), PixelType::UInt8);
  uint8_t* o = out.data<uint8_t>();
  const int64_t n = in.voxelCount();
  uint8_t lut[256] = {};
  for (int v : keep)
    if (v > 0 && v < 256) lut[v] = uint8_t(v);
  dispatchPixelType(in.pixelType(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(in.raw());
    for (int64_t i = 0; i < n; ++i) {
      const int v = int(p[i]);
      o[i] = v > 0 && v < 256 ? lut[v] : 0;
    }
  });
  return out;
}

LabelTable subTable(const LabelTable& table, const std::vector<int>& values) {
  LabelTable out;
  for (int v : values)
    if (const LabelEntry* e = table.find(v)) out.set(*e);
  return out;
}


template <class Parameters>
void applyValues(Parameters& p, const std::vector<post::ParameterInfo>& infos,
                 const std::map<std::string, double>& values) {
  for (const post::ParameterInfo& info : infos) {
    if (info.kind == post::ParameterKind::LabelList) continue;
    auto it = values.find(info.key);
    if (it != values.end()) p.set(info.key, std::clamp(it->second, info.minimum, info.maximum));
  }
}

const post::TemplateCase& shippedTemplate() {
  // Read once: the template does not depend on any parameter.
  static std::mutex mutex;
  static std::unique_ptr<post::TemplateCase> tpl;
  std::lock_guard<std::mutex> lock(mutex);
  if (!tpl) tpl = std::make_unique<post::TemplateCase>(post::loadTemplate());
  return *tpl;
}

}  // namespace

std::string postStepId(PostStep step) {
  switch (step) {
    case PostStep::Fat: return "fat";
    case PostStep::Sample: return "sample";
    case PostStep::Vessel: return "vessel";
    case PostStep::Ureter: return "ureter";
  }
  return {};
}

std::optional<PostStep> postStepFromId(const std::string& id) {
  for (PostStep s : {PostStep::Fat, PostStep::Sample, PostStep::Vessel, PostStep::Ureter})
    if (postStepId(s) == id) return s;
  return std::nullopt;
}

std::string postStepTitle(PostStep step) {
  switch (step) {
    case PostStep::Fat: return "Perirenal fat";
    case PostStep::Sample: return "Template quick-sample";
    case PostStep::Vessel: return "Artery reconnection";
    case PostStep::Ureter: return "Ureter reconnection";
  }
  return {};
}

const std::vector<post::ParameterInfo>& postStepParameters(PostStep step) {
  static const std::vector<post::ParameterInfo> vessel =
      post::ReconnectionParameters::describe(post::TubularStructure::Artery);
  static const std::vector<post::ParameterInfo> ureter =
      post::ReconnectionParameters::describe(post::TubularStructure::Ureter);
  switch (step) {
    case PostStep::Fat: return post::FatParameters::describe();
    case PostStep::Sample: return post::SampleParameters::describe();
    case PostStep::Vessel: return vessel;
    case PostStep::Ureter: break;
  }
  return ureter;
}

bool postStepUsesCt(PostStep step) {
  return step != PostStep::Sample;
}

std::string postStepPreferredPhase(PostStep step) {
  switch (step) {
    case PostStep::Vessel: return "A";
    case PostStep::Ureter: return "D";
    default: return "";
  }
}

std::string missingLabelsFor(PostStep step, const LabelTable& table,
                             const std::vector<int64_t>& counts) {
  switch (step) {
    case PostStep::Fat:
    case PostStep::Sample:
      if (!hasPresent(table, counts, "kidney"))
        return "this layer has no kidney label; choose a mask with kidney (and tumour) labels";
      break;
    case PostStep::Vessel:
      if (!hasPresent(table, counts, "artery"))
        return "this layer has no renal artery label; choose a mask with an 'artery' label";
      break;
    case PostStep::Ureter:
      if (!hasPresent(table, counts, "ureter"))
        return "this layer has no ureter label; choose a mask with ureter_left/ureter_right labels";
      break;
  }
  return {};
}

bool PostRegionCache::Key::operator<(const Key& o) const {
  return std::tie(step, layerId, mask, ct) < std::tie(o.step, o.layerId, o.mask, o.ct);
}

std::shared_ptr<const PostRegionCache::Region> PostRegionCache::region(PostStep step, const PostInputs& in,
                                                                      double padMm, bool* cached) {
  const Key key{step, in.layerId, in.mask.raw(), in.ct.empty() ? nullptr : in.ct.raw()};
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = regions_.find(key);
    if (it != regions_.end() && it->second->padMm >= padMm) {
      if (cached) *cached = true;
      return it->second;
    }
  }
  if (cached) *cached = false;
  // Cropped outside the lock. A little more pad than asked lets small
  // parameter moves reuse it; not much more, since the engine's time grows with it.
  auto r = std::make_shared<Region>();
  r->padMm = std::ceil((padMm + 1.0) / 5.0) * 5.0;
  const std::vector<int> around = regionLabels(step, in.table);
  Box box = around.empty() ? Box{} : boundingBox(in.mask, around);
  if (box.empty()) box = boundingBox(in.mask);
  if (box.empty()) box = Box{{0, 0, 0}, in.mask.geometry().size};
  r->box = padBoxMm(box, r->padMm, in.mask.geometry());
  r->mask = crop(in.mask, r->box);
  if (!in.ct.empty()) r->ct = crop(in.ct, r->box);
  std::lock_guard<std::mutex> lock(mutex_);
  // Only the latest input of a step is worth keeping.
  for (auto it = regions_.begin(); it != regions_.end();)
    it = it->first.step == step ? regions_.erase(it) : std::next(it);
  regions_[key] = r;
  return r;
}

void PostRegionCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  regions_.clear();
}

PostRunResult runPostStep(PostStep step, const PostInputs& in, const std::map<std::string, double>& values,
                          const std::map<std::string, std::string>& labelLists, PostRegionCache& cache,
                          const MeshOptions& meshOptions, const Progress& progress,
                          const std::function<void(const PostRunResult&)>& onMask) {
  const auto t0 = Clock::now();
  PostRunResult out;
  if (in.mask.empty()) throw inputError(in.maskName, "no mask layer chosen");
  if (!isIntegerType(in.mask.pixelType())) throw inputError(in.maskName, "is not an integer label image");
  // Checked on the full grid, before any crop, so the message names the real files.
  if (!in.ct.empty() && !in.ct.geometry().sameGrid(in.mask.geometry()))
    throw inputError(in.ctName, "geometry " + in.ct.geometry().describe() + " does not match the mask " +
                                    in.maskName + " (" + in.mask.geometry().describe() + ")");

  progress.report(0.0, "post " + postStepId(step) + ": region");
  auto tr = Clock::now();
  const auto region = cache.region(step, in, neededPadMm(step, values), &out.timings.regionCached);
  out.timings.regionSeconds = since(tr);
  out.timings.regionSize = region->box.size();
  progress.throwIfCancelled();
  const Volume* ct = region->ct.empty() ? nullptr : &region->ct;
  const Progress work = progress.sub(0.05, 0.8);

  auto te = Clock::now();
  Volume resultCrop;
  std::vector<int> resultValues;
  LabelTable resultTable;
  char line[256];
  switch (step) {
    case PostStep::Fat: {
      post::FatParameters p;
      applyValues(p, postStepParameters(step), values);
      if (auto it = labelLists.find("excluded-labels"); it != labelLists.end())
        p.excludedLabels = in.table.valuesFromList(it->second, "excluded labels");
      post::FatResult r = post::computePerirenalFat(region->mask, in.table, ct, p, work, in.maskName, in.ctName);
      resultCrop = r.fat;
      resultTable = r.table;
      for (const LabelEntry& e : r.table.entries()) resultValues.push_back(e.value);
      std::snprintf(line, sizeof line, "perirenal fat %.1f mL%s", r.volumeMl,
                    ct ? "" : " (no CT: distance and labels only)");
      out.log.push_back(line);
      for (const auto& l : r.limitsMm) {
        std::snprintf(line, sizeof line, "  %s around %s: %.1f mm", l.fat.c_str(), l.part.c_str(), l.distanceMm);
        out.log.push_back(line);
      }
      break;
    }
    case PostStep::Sample: {
      post::SampleParameters p;
      applyValues(p, postStepParameters(step), values);
      post::SampleResult r = post::sampleTemplate(region->mask, in.table, shippedTemplate(), p, work, in.maskName);
      resultValues = valuesOf(r.table, {"artery", "vein", "ureter"});
      resultCrop = r.mask;
      resultTable = r.table;
      out.reportJson = r.toJson();
      for (const auto& s : r.sides) {
        std::snprintf(line, sizeof line, "%s: kidney Dice %.3f after registration (%.3f before), %lld voxels carried",
                      s.kidney.c_str(), s.dice, s.diceBefore, static_cast<long long>(s.voxelsCarried));
        out.log.push_back(line);
      }
      break;
    }
    case PostStep::Vessel:
    case PostStep::Ureter: {
      const auto structure = step == PostStep::Vessel ? post::TubularStructure::Artery : post::TubularStructure::Ureter;
      post::ReconnectionParameters p = post::ReconnectionParameters::defaults(structure);
      applyValues(p, postStepParameters(step), values);
      post::ReconnectionResult r = post::reconnect(structure, region->mask, in.table, ct, p, work, in.maskName, in.ctName);
      resultValues = step == PostStep::Vessel ? valuesOf(r.table, {"artery"}) : valuesOf(r.table, {"ureter"});
      resultCrop = r.mask;
      resultTable = r.table;
      out.reportJson = r.toJson();
      int bridged = 0, rejected = 0;
      for (const auto& b : r.bridges) (b.decision == "bridged" ? bridged : rejected) += 1;
      std::snprintf(line, sizeof line, "%d bridges accepted, %d rejected; %d of %d fragments joined, %d removed%s",
                    bridged, rejected, r.joined, r.fragments, r.removed, ct ? "" : " (no CT: smooth bridges)");
      out.log.push_back(line);
      for (const auto& b : r.bridges) {
        std::snprintf(line, sizeof line, "  %s %d->%d (%s): gap %.1f mm, path %.1f mm, angle %.0f deg, cost %.2f: %s",
                      b.structure.c_str(), b.fromComponent, b.toComponent, b.toKind.c_str(), b.gapMm,
                      b.pathLengthMm, b.angleDeg, b.cost, b.decision.c_str());
        out.log.push_back(line);
      }
      break;
    }
  }
  out.timings.engineSeconds = since(te);
  progress.throwIfCancelled();

  // The result layer holds what the step made, on the input's full grid.
  auto tp = Clock::now();
  const Volume kept = keepLabels(resultCrop, resultValues);
  out.table = subTable(resultTable, resultValues);
  out.mask = Volume(in.mask.geometry(), PixelType::UInt8);
  paste(kept, region->box, out.mask);
  // Counted on the region: outside it the result is background.
  out.voxelCounts = labelVoxelCounts(kept);
  if (!out.voxelCounts.empty()) out.voxelCounts[0] += out.mask.voxelCount() - kept.voxelCount();
  out.timings.pasteSeconds = since(tp);
  progress.report(0.8, "post " + postStepId(step) + ": meshes");
  progress.throwIfCancelled();
  if (onMask) {
    out.timings.totalSeconds = since(t0);
    onMask(out);
  }

  // Meshes from the crop: same physical placement, a fraction of the voxels.
  auto tm = Clock::now();
  MeshOptions mo = meshOptions;
  mo.labels.clear();
  for (int v : resultValues)
    if (size_t(v) < out.voxelCounts.size() && out.voxelCounts[size_t(v)] > 0) mo.labels.push_back(v);
  if (!mo.labels.empty()) out.meshes = buildLabelMeshes(kept, out.table, mo, progress.sub(0.8, 1.0));
  out.timings.meshSeconds = since(tm);
  out.timings.totalSeconds = since(t0);
  progress.report(1.0, "post " + postStepId(step) + ": done");
  return out;
}

}  // namespace nephro::widgets
