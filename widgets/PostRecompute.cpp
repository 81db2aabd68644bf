#include "widgets/PostRecompute.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
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
// Artery reconnection reads and changes only the arteries' surroundings, and
// its result layer is the arteries; ureter reconnection orders the fragments
// from the kidney to the bladder, so it needs them whole.
std::vector<int> regionLabels(PostStep step, const LabelTable& table) {
  switch (step) {
    case PostStep::Fat:
    case PostStep::Sample: return valuesOf(table, {"kidney", "tumor"});
    case PostStep::Vessel: return valuesOf(table, {"artery"});
    case PostStep::Ureter: return valuesOf(table, {"kidney", "ureter", "urinary_bladder"});
  }
  return {};
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

// How far beyond those labels the step can reach with these parameters: at
// least as far as the engine reads, so that its result on the region is its
// result on the whole mask.
double neededPadMm(PostStep step, const std::map<std::string, double>& v) {
  switch (step) {
    case PostStep::Fat: {
      post::FatParameters p;
      applyValues(p, postStepParameters(step), v);
      return post::fatRegionPadMm(p);
    }
    case PostStep::Sample: return 40;
    case PostStep::Vessel:
    case PostStep::Ureter: {
      auto p = post::ReconnectionParameters::defaults(step == PostStep::Vessel ? post::TubularStructure::Artery
                                                                               : post::TubularStructure::Ureter);
      applyValues(p, postStepParameters(step), v);
      return post::reconnectionRegionPadMm(p);
    }
  }
  return 20;
}

// Keeps the values in `keep` of a label crop, as uint8 (every schema value
// fits), and counts them (index = value).
Volume keepLabels(const Volume& in, const std::vector<int>& keep, std::vector<int64_t>& counts) {
  Volume out(in.geometry(), PixelType::UInt8);
  uint8_t* o = out.data<uint8_t>();
  const int64_t n = in.voxelCount();
  uint8_t lut[256] = {};
  for (int v : keep)
    if (v > 0 && v < 256) lut[v] = uint8_t(v);
  int64_t histogram[256] = {};
  dispatchPixelType(in.pixelType(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(in.raw());
    for (int64_t i = 0; i < n; ++i) {
      const int v = int(p[i]);
      const uint8_t k = v > 0 && v < 256 ? lut[v] : 0;
      o[i] = k;
      ++histogram[k];
    }
  });
  int top = 0;
  for (int v = 1; v < 256; ++v)
    if (histogram[v]) top = v;
  counts.assign(histogram, histogram + top + 1);
  return out;
}

// A zeroed uint8 volume from calloc, whose large blocks are fresh pages the
// system zeroes when first touched: the result layer is background outside
// the region, and clearing the whole grid would cost more than the step itself.
Volume zeroedLabels(const Geometry& g) {
  const size_t bytes = static_cast<size_t>(g.voxelCount());
  std::shared_ptr<void> buffer(std::calloc(bytes, 1), std::free);
  if (!buffer) throw Error(ErrorKind::Internal, "out of memory allocating " + std::to_string(bytes) + " bytes");
  return Volume::adopt(g, PixelType::UInt8, std::move(buffer));
}

// Whether two option sets make the same mesh of a label (the label list aside).
bool sameMeshing(const MeshOptions& a, const MeshOptions& b) {
  return a.smoothing == b.smoothing && a.decimate == b.decimate && a.decimateTubes == b.decimateTubes &&
         a.minComponentMm3 == b.minComponentMm3 && a.joint == b.joint && a.keepThinLabels == b.keepThinLabels &&
         a.space == b.space;
}

LabelTable subTable(const LabelTable& table, const std::vector<int>& values) {
  LabelTable out;
  for (int v : values)
    if (const LabelEntry* e = table.find(v)) out.set(*e);
  return out;
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

std::string postStepTitle(PostStep step) {
  switch (step) {
    case PostStep::Fat: return "Perirenal fat";
    case PostStep::Sample: return "Template quick-sample";
    case PostStep::Vessel: return "Artery reconnection";
    case PostStep::Ureter: return "Ureter reconnection";
  }
  return {};
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

template <class Prepared, class Parameters>
Prepared PostRegionCache::prepared(PostStep step, const std::shared_ptr<const Region>& region, const Parameters& p,
                                   Prepared Preparation::*slot, const std::function<Prepared()>& make, bool* cached) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = preparations_.find(step);
    if (it != preparations_.end() && it->second.region == region && (it->second.*slot).validFor(p)) {
      if (cached) *cached = true;
      return it->second.*slot;
    }
  }
  if (cached) *cached = false;
  // Made outside the lock; only the latest preparation of a step is kept.
  Prepared made = make();
  std::lock_guard<std::mutex> lock(mutex_);
  Preparation& kept = preparations_[step];
  kept = Preparation{};
  kept.region = region;
  kept.*slot = made;
  return made;
}

post::PreparedFat PostRegionCache::preparedFat(const std::shared_ptr<const Region>& region,
                                               const post::FatParameters& p,
                                               const std::function<post::PreparedFat()>& make, bool* cached) {
  return prepared(PostStep::Fat, region, p, &Preparation::fat, make, cached);
}

post::PreparedSample PostRegionCache::preparedSample(
    const std::shared_ptr<const Region>& region, const post::SampleParameters& p,
    const std::function<post::PreparedSample(const post::PreparedSample&)>& make, bool* cached) {
  post::PreparedSample stale;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = preparations_.find(PostStep::Sample);
    if (it != preparations_.end() && it->second.region == region) stale = it->second.sample;
  }
  const std::function<post::PreparedSample()> remake = [&] { return make(stale); };
  return prepared(PostStep::Sample, region, p, &Preparation::sample, remake, cached);
}

post::PreparedReconnection PostRegionCache::preparedReconnection(
    PostStep step, const std::shared_ptr<const Region>& region, const post::ReconnectionParameters& p,
    const std::function<post::PreparedReconnection()>& make, bool* cached) {
  return prepared(step, region, p, &Preparation::reconnection, make, cached);
}

PostRegionCache::ResultMeshes PostRegionCache::lastMeshes(PostStep step) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = meshes_.find(step);
  return it == meshes_.end() ? ResultMeshes{} : it->second;
}

void PostRegionCache::setLastMeshes(PostStep step, ResultMeshes meshes) {
  std::lock_guard<std::mutex> lock(mutex_);
  meshes_[step] = std::move(meshes);
}

void PostRegionCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  regions_.clear();
  preparations_.clear();
  meshes_.clear();
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
      auto tq = Clock::now();
      const post::PreparedFat prepared = cache.preparedFat(
          region, p, [&] { return post::prepareFat(region->mask, in.table, ct, p, work, in.maskName, in.ctName); },
          &out.timings.preparedCached);
      out.timings.prepareSeconds = since(tq);
      te = Clock::now();
      post::FatResult r = post::computePerirenalFat(prepared, p, work);
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
      double islandMl = 0;
      for (const post::KidneyIsland& i : r.removedIslands) islandMl += i.volumeMl;
      std::snprintf(line, sizeof line, "  kidney islands removed first: %zu (%.1f mL)", r.removedIslands.size(), islandMl);
      out.log.push_back(line);
      for (const post::KidneyIsland& i : r.removedIslands) {
        std::snprintf(line, sizeof line, "    %s island %.2f mL", i.label.c_str(), i.volumeMl);
        out.log.push_back(line);
      }
      break;
    }
    case PostStep::Sample: {
      post::SampleParameters p;
      applyValues(p, postStepParameters(step), values);
      auto tq = Clock::now();
      const post::PreparedSample prepared = cache.preparedSample(
          region, p,
          [&](const post::PreparedSample& stale) {
            // A new spacing or clamp remakes only the distance maps.
            return stale.empty() ? post::prepareSample(region->mask, in.table, shippedTemplate(), p, work, in.maskName)
                                 : post::prepareSample(stale, p, work);
          },
          &out.timings.preparedCached);
      out.timings.prepareSeconds = since(tq);
      te = Clock::now();
      post::SampleResult r = post::sampleTemplate(prepared, p, work);
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
      auto tq = Clock::now();
      const post::PreparedReconnection prepared = cache.preparedReconnection(
          step, region, p,
          [&] { return post::prepareReconnection(structure, region->mask, in.table, ct, p, work, in.maskName, in.ctName); },
          &out.timings.preparedCached);
      out.timings.prepareSeconds = since(tq);
      te = Clock::now();
      post::ReconnectionResult r = post::reconnect(prepared, p, work);
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
  // Counted on the region: outside it the result is background.
  const Volume kept = keepLabels(resultCrop, resultValues, out.voxelCounts);
  out.table = subTable(resultTable, resultValues);
  out.mask = zeroedLabels(in.mask.geometry());
  paste(kept, region->box, out.mask);
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
  // A label whose voxels did not change keeps its previous mesh (same voxels,
  // same options: the same mesh). Joint meshes share boundaries, so there any
  // change remakes them all.
  const PostRegionCache::ResultMeshes last = cache.lastMeshes(step);
  std::vector<uint8_t> changed(256, 1);
  if (last.region == region && !mo.joint && sameMeshing(last.options, mo) && !last.labels.empty() &&
      last.labels.geometry().sameGrid(kept.geometry())) {
    changed.assign(256, 0);
    const uint8_t* now = kept.data<uint8_t>();
    const uint8_t* before = last.labels.data<uint8_t>();
    for (int64_t i = 0; i < kept.voxelCount(); ++i)
      if (now[i] != before[i]) changed[now[i]] = changed[before[i]] = 1;
  }
  std::vector<int> toMesh;
  for (int v : mo.labels) {
    const LabelEntry* e = out.table.find(v);
    auto old = std::find_if(last.meshes.begin(), last.meshes.end(), [&](const LabelMesh& m) { return m.value == v; });
    if (!changed[size_t(v)] && e && old != last.meshes.end() && old->name == e->name && old->color == e->color)
      out.meshes.push_back(*old);
    else
      toMesh.push_back(v);
  }
  out.timings.meshesReused = static_cast<int>(out.meshes.size());
  out.timings.meshesMade = static_cast<int>(toMesh.size());
  if (!toMesh.empty()) {
    mo.labels = toMesh;
    for (LabelMesh& m : buildLabelMeshes(kept, out.table, mo, progress.sub(0.8, 1.0))) out.meshes.push_back(std::move(m));
    std::sort(out.meshes.begin(), out.meshes.end(),
              [](const LabelMesh& a, const LabelMesh& b) { return a.value < b.value; });
  }
  cache.setLastMeshes(step, {region, kept, mo, out.meshes});
  out.timings.meshSeconds = since(tm);
  out.timings.totalSeconds = since(t0);
  progress.report(1.0, "post " + postStepId(step) + ": done");
  return out;
}

}  // namespace nephro::widgets
