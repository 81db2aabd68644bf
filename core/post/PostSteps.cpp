#include "post/PostSteps.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "post/PerirenalFat.h"
#include "post/TemplateSample.h"
#include "post/VesselReconnection.h"

namespace nephro::post {
namespace {

const ParameterInfo* findParameter(PostStep step, const std::string& key) {
  for (const ParameterInfo& info : postStepParameters(step))
    if (info.key == key) return &info;
  return nullptr;
}

// The numeric value of a checked parameter.
double numberOf(const ParameterInfo& info, const std::string& text, const std::string& option) {
  double v = 0;
  try {
    size_t used = 0;
    v = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw usageError(option + " expects a number, got '" + text + "'");
  }
  if (!std::isfinite(v) || v < info.minimum || v > info.maximum) {
    std::ostringstream msg;
    msg << option << " must be within " << info.minimum << " .. " << info.maximum
        << (info.unit.empty() ? "" : " " + info.unit) << ", got " << text;
    throw usageError(msg.str());
  }
  if ((info.kind == ParameterKind::Integer || info.kind == ParameterKind::Flag) && v != std::floor(v))
    throw usageError(option + " expects a whole number, got '" + text + "'");
  return v;
}

template <class Parameters>
void apply(const PostStepRequest& r, Parameters& p) {
  for (const auto& [key, text] : r.values) {
    const ParameterInfo* info = findParameter(r.step, key);
    if (info && info->kind != ParameterKind::LabelList) p.set(key, numberOf(*info, text, "--" + key));
  }
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

const std::vector<ParameterInfo>& postStepParameters(PostStep step) {
  static const std::vector<ParameterInfo> vessel = ReconnectionParameters::describe(TubularStructure::Artery);
  static const std::vector<ParameterInfo> ureter = ReconnectionParameters::describe(TubularStructure::Ureter);
  switch (step) {
    case PostStep::Fat: return FatParameters::describe();
    case PostStep::Sample: return SampleParameters::describe();
    case PostStep::Vessel: return vessel;
    case PostStep::Ureter: break;
  }
  return ureter;
}

bool postStepUsesCt(PostStep step) { return step != PostStep::Sample; }

std::string postStepPreferredPhase(PostStep step) {
  switch (step) {
    case PostStep::Vessel: return "A";
    case PostStep::Ureter: return "D";
    default: return "";
  }
}

void checkPostValues(const PostStepRequest& request, const std::string& optionPrefix) {
  for (const auto& [key, text] : request.values) {
    const ParameterInfo* info = findParameter(request.step, key);
    if (!info) throw usageError("post " + postStepId(request.step) + " has no parameter '" + key + "'");
    if (info->kind != ParameterKind::LabelList) numberOf(*info, text, optionPrefix + key);
  }
}

std::vector<PostStepRequest> parsePostSteps(const std::vector<std::string>& stepLists,
                                            const std::vector<std::string>& settings) {
  std::vector<PostStepRequest> requests;
  for (const std::string& list : stepLists) {
    std::stringstream ss(list);
    for (std::string id; std::getline(ss, id, ',');) {
      if (id.empty()) continue;
      const std::optional<PostStep> step = postStepFromId(id);
      if (!step) throw usageError("unknown post-processing step '" + id + "' (fat, sample, vessel or ureter)");
      bool seen = false;
      for (const auto& r : requests) seen = seen || r.step == *step;
      if (!seen) requests.push_back(PostStepRequest{*step, {}, {}});
    }
  }
  for (const std::string& s : settings) {
    const size_t dot = s.find('.'), eq = s.find('=');
    if (dot == std::string::npos || eq == std::string::npos || dot > eq)
      throw usageError("--post-param expects STEP.KEY=VALUE (e.g. fat.distance-mm=25), got '" + s + "'");
    const std::string id = s.substr(0, dot), key = s.substr(dot + 1, eq - dot - 1);
    PostStepRequest* target = nullptr;
    for (auto& r : requests)
      if (postStepId(r.step) == id) target = &r;
    if (!target) throw usageError("--post-param " + s + ": step '" + id + "' is not among --post");
    target->values[key] = s.substr(eq + 1);
  }
  for (const auto& r : requests) checkPostValues(r, "--post-param " + postStepId(r.step) + ".");
  return requests;
}

PostStepOutcome runPostStep(const PostStepRequest& request, const Volume& mask, const LabelTable& table,
                            const Volume* ct, const Progress& progress, const std::string& maskName,
                            const std::string& ctName) {
  checkPostValues(request);
  PostStepOutcome out;
  char line[240];
  switch (request.step) {
    case PostStep::Fat: {
      FatParameters p;
      apply(request, p);
      if (auto it = request.values.find("excluded-labels"); it != request.values.end())
        p.excludedLabels = table.valuesFromList(it->second, "--excluded-labels");
      FatResult r = computePerirenalFat(mask, table, ct, p, progress, maskName, ctName);
      out.mask = std::move(r.fat);
      out.table = r.table;
      nlohmann::json j;
      j["volumeMl"] = r.volumeMl;
      j["excludedLabels"] = r.excludedLabels;
      for (const auto& l : r.limitsMm) j["limits"].push_back({{"fat", l.fat}, {"around", l.part}, {"distanceMm", l.distanceMm}});
      j["kidneyIslandsRemoved"] = r.removedIslands.size();
      double islandMl = 0;
      for (const KidneyIsland& i : r.removedIslands) {
        islandMl += i.volumeMl;
        nlohmann::json island = {{"label", i.label}, {"volumeMl", i.volumeMl},
                                 {"centreMm", {i.centreMm[0], i.centreMm[1], i.centreMm[2]}}};
        if (std::isfinite(i.distanceMm)) island["distanceMm"] = i.distanceMm;
        j["kidneyIslands"].push_back(island);
      }
      j["kidneyIslandsRemovedMl"] = islandMl;
      out.reportJson = j.dump(2);
      std::snprintf(line, sizeof line, "perirenal fat %.1f mL%s", r.volumeMl, ct ? "" : " (no CT: distance and labels only)");
      out.summary = line;
      std::snprintf(line, sizeof line, "; %zu kidney island%s (%.1f mL) removed first", r.removedIslands.size(),
                    r.removedIslands.size() == 1 ? "" : "s", islandMl);
      out.summary += line;
      break;
    }
    case PostStep::Sample: {
      SampleParameters p;
      apply(request, p);
      const TemplateCase tpl = loadTemplate(request.templatePath);
      SampleResult r = sampleTemplate(mask, table, tpl, p, progress, maskName);
      out.reportJson = r.toJson();
      for (const auto& s : r.sides) {
        std::snprintf(line, sizeof line, "%s%s kidney Dice %.3f", out.summary.empty() ? "" : "; ", s.kidney.c_str(), s.dice);
        out.summary += line;
      }
      out.mask = std::move(r.mask);
      out.table = r.table;
      break;
    }
    case PostStep::Vessel:
    case PostStep::Ureter: {
      const auto structure = request.step == PostStep::Vessel ? TubularStructure::Artery : TubularStructure::Ureter;
      ReconnectionParameters p = ReconnectionParameters::defaults(structure);
      apply(request, p);
      // A window given by the user is the window used.
      if ((request.values.count("hu-min") || request.values.count("hu-max")) && !request.values.count("learn-hu-window"))
        p.learnHuWindow = false;
      ReconnectionResult r = reconnect(structure, mask, table, ct, p, progress, maskName, ctName);
      out.reportJson = r.toJson();
      int bridged = 0;
      for (const auto& b : r.bridges) bridged += b.decision == "bridged";
      std::snprintf(line, sizeof line, "%d bridges, %d of %d fragments joined, %d removed%s", bridged, r.joined,
                    r.fragments, r.removed, ct ? "" : " (no CT: smooth bridges)");
      out.summary = line;
      out.mask = std::move(r.mask);
      out.table = r.table;
      break;
    }
  }
  return out;
}

}  // namespace nephro::post
