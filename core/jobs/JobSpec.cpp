#include "jobs/JobSpec.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "image/VolumeIO.h"
#include "inference/ModelRegistry.h"
#include "pipeline/CasePost.h"

using nlohmann::json;

namespace nephro::jobs {
namespace {

const char* kPhases[] = {"A", "P", "D"};

[[noreturn]] void bad(const std::string& detail) { throw RequestError("bad_request", detail); }

std::vector<std::string> stringList(const json& j, const std::string& key) {
  if (!j.contains(key)) return {};
  const json& v = j.at(key);
  if (v.is_string()) {  // "fat,vessel" is accepted too
    std::vector<std::string> out;
    std::stringstream ss(v.get<std::string>());
    std::string item;
    while (std::getline(ss, item, ','))
      if (!item.empty()) out.push_back(item);
    return out;
  }
  if (!v.is_array()) bad("\"" + key + "\" must be a list of strings");
  std::vector<std::string> out;
  for (const json& e : v) {
    if (!e.is_string() || e.get<std::string>().empty()) bad("\"" + key + "\" must be a list of non-empty strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::string scalarText(const json& v, const std::string& key) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) {
    std::ostringstream s;
    s.precision(17);
    s << v.get<double>();
    return s.str();
  }
  if (v.is_boolean()) return v.get<bool>() ? "1" : "0";
  bad("parameter \"" + key + "\" must be a number or a string");
}

}  // namespace

std::vector<std::string> JobSpec::phases() const {
  std::vector<std::string> out;
  for (const char* p : kPhases)
    if (inputs.count(p)) out.push_back(p);
  return out;
}

std::vector<post::PostStepRequest> JobSpec::postRequests() const {
  for (const auto& id : post)
    if (!post::postStepFromId(id)) throw RequestError("unknown_step", "unknown post-processing step \"" + id + "\" (fat, sample, vessel, ureter)");
  std::vector<std::string> settings;
  for (const auto& [key, value] : params) settings.push_back(key + "=" + value);
  std::string list;
  for (const auto& id : post) list += (list.empty() ? "" : ",") + id;
  try {
    return post::parsePostSteps(list.empty() ? std::vector<std::string>{} : std::vector<std::string>{list}, settings);
  } catch (const Error& e) {
    bad(std::string("params: ") + e.what());
  }
}

JobSpec parseJobSpec(const json& body, bool allowInputs) {
  if (!body.is_object()) bad("the pipeline must be a JSON object");
  static const std::set<std::string> known{"inputs", "models", "post", "params", "mesh"};
  for (const auto& [key, value] : body.items())
    if (!known.count(key)) bad("unknown field \"" + key + "\" (inputs, models, post, params, mesh)");
  JobSpec s;
  if (body.contains("inputs")) {
    if (!allowInputs) bad("\"inputs\" is not allowed here: send the files as parts");
    const json& in = body.at("inputs");
    if (!in.is_object()) bad("\"inputs\" must be an object of paths");
    for (const auto& [key, value] : in.items()) {
      if (key != "A" && key != "P" && key != "D" && key != "mask" && key != "labels")
        bad("unknown input \"" + key + "\" (A, P, D, mask, labels)");
      if (!value.is_string() || value.get<std::string>().empty()) bad("input \"" + key + "\" must be a path");
      s.inputs[key] = value.get<std::string>();
    }
  }
  s.models = stringList(body, "models");
  s.post = stringList(body, "post");
  if (body.contains("params")) {
    const json& p = body.at("params");
    if (!p.is_object()) bad("\"params\" must be an object like {\"fat.distance-mm\": 25}");
    for (const auto& [key, value] : p.items()) s.params[key] = scalarText(value, key);
  }
  if (body.contains("mesh")) {
    const json& m = body.at("mesh");
    if (m.is_boolean()) {
      s.mesh = m.get<bool>();
    } else if (m.is_object()) {
      s.mesh = true;
      for (const auto& [key, value] : m.items())
        if (key != "formats" && key != "space") bad("unknown mesh field \"" + key + "\" (formats, space)");
      if (m.contains("formats")) s.meshFormats = stringList(m, "formats");
      if (m.contains("space")) {
        if (!m.at("space").is_string()) bad("mesh \"space\" must be \"LPS\" or \"RAS\"");
        s.meshSpace = m.at("space").get<std::string>();
      }
    } else {
      bad("\"mesh\" must be an object like {\"formats\": [\"obj\"], \"space\": \"LPS\"}");
    }
  }
  if (s.mesh) {
    std::string list;
    for (const auto& f : s.meshFormats) list += (list.empty() ? "" : ",") + f;
    try {
      if (s.meshFormats.empty()) bad("mesh \"formats\" is empty");
      parseMeshFormats(list);
      parseCoordinateSpace(s.meshSpace);
    } catch (const RequestError&) {
      throw;
    } catch (const Error& e) {
      bad(std::string("mesh: ") + e.what());
    }
  }
  s.postRequests();  // unknown steps and parameters are request errors
  if (s.models.empty() && s.post.empty() && !s.mesh) bad("the pipeline names no model, post step or mesh");
  return s;
}

json toJson(const JobSpec& s) {
  json j{{"inputs", s.inputs}, {"models", s.models}, {"post", s.post}, {"params", s.params}};
  if (s.mesh) j["mesh"] = {{"formats", s.meshFormats}, {"space", s.meshSpace}};
  return j;
}

JobSpec jobSpecFromJson(const json& stored) {
  JobSpec s;
  s.inputs = stored.value("inputs", std::map<std::string, std::string>{});
  s.models = stored.value("models", std::vector<std::string>{});
  s.post = stored.value("post", std::vector<std::string>{});
  s.params = stored.value("params", std::map<std::string, std::string>{});
  if (stored.contains("mesh")) {
    s.mesh = true;
    s.meshFormats = stored.at("mesh").value("formats", std::vector<std::string>{"obj"});
    s.meshSpace = stored.at("mesh").value("space", std::string("LPS"));
  }
  return s;
}

LabelTable inputMaskTable(const JobSpec& spec) {
  auto it = spec.inputs.find("labels");
  if (it != spec.inputs.end()) {
    std::ifstream in(it->second, std::ios::binary);
    if (!in) throw inputError(it->second, "label table cannot be read");
    std::stringstream s;
    s << in.rdbuf();
    return LabelTable::fromJson(s.str(), it->second);
  }
  const std::string& mask = spec.inputs.at("mask");
  if (LabelTable::hasSidecar(mask)) return LabelTable::readSidecar(mask);
  return LabelTable();
}

void validateJobSpec(const JobSpec& spec, const std::string& modelsDirectory) {
  if (spec.inputs.count("labels") && !spec.hasMask()) bad("input \"labels\" needs a \"mask\"");
  const std::vector<std::string> phases = spec.phases();
  if (phases.empty() && !spec.hasMask())
    throw RequestError("missing_phases", "the job has no input: send phase images (A, P, D) or a mask");
  // Headers of every input, through the same readers as the command line.
  try {
    for (const auto& ph : phases) readImageInfo(spec.inputs.at(ph));
    if (spec.hasMask()) {
      const ImageInfo info = readImageInfo(spec.inputs.at("mask"));
      if (!isIntegerType(info.pixelType))
        throw inputError(spec.inputs.at("mask"), std::string("is not an integer label image (pixel type ") +
                                                     info.storedComponentType + ")");
    }
  } catch (const RequestError&) {
    throw;
  } catch (const Error& e) {
    throw RequestError("bad_input", e.what(), ErrorKind::Input);
  }
  std::vector<LabelTable> tables;
  std::set<std::string> seen;
  for (const auto& id : spec.models) {
    if (!seen.insert(id).second) bad("model \"" + id + "\" is listed twice");
    inference::ModelManifest m;
    try {
      m = inference::findManifest(id, modelsDirectory);
    } catch (const Error& e) {
      throw RequestError("unknown_model", e.what());
    }
    const std::string missing = inference::missingModelFiles(m);
    if (!missing.empty()) throw RequestError("model_unavailable", "model " + id + ": missing " + missing, ErrorKind::Model);
    if (m.assignPhases(phases).empty()) {
      std::string needed;
      for (const auto& in : m.inputs) needed += (needed.empty() ? "" : "+") + in.phase;
      std::string have;
      for (const auto& p : phases) have += (have.empty() ? "" : "+") + p;
      throw RequestError("missing_phases", "model " + id + " needs phase(s) " + needed + "; the case has " +
                                               (have.empty() ? std::string("none") : have), ErrorKind::Input);
    }
    try {
      tables.push_back(inference::modelLabelTable(inference::loadManifestModel(m), m.labelMap));
    } catch (const Error& e) {
      throw RequestError("model_unavailable", e.what(), ErrorKind::Model);
    }
  }
  if (spec.hasMask()) {
    try {
      tables.push_back(inputMaskTable(spec));
    } catch (const Error& e) {
      throw RequestError("bad_input", e.what(), ErrorKind::Input);
    }
  }
  for (const auto& r : spec.postRequests()) {
    if (pipeline::primaryLayerFor(r.step, tables) < 0)
      throw RequestError("missing_labels", "post " + post::postStepId(r.step) + " needs " + pipeline::postStepNeeds(r.step) +
                                               "; neither the models nor the mask give it", ErrorKind::Input);
  }
}

std::string StageSpec::kindName() const {
  switch (kind) {
    case StageKind::Model: return "model";
    case StageKind::Post: return "post";
    case StageKind::Mesh: return "mesh";
    case StageKind::Report: return "report";
  }
  return "report";
}

std::string StageSpec::name() const {
  if (kind == StageKind::Model) return "model " + model;
  if (kind == StageKind::Post) return "post " + step;
  return kindName();
}

std::string StageSpec::folderName(size_t index) const {
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%02zu-", index);
  std::string n = name();
  for (char& c : n)
    if (c == ' ') c = '-';
  return prefix + n;
}

std::vector<StageSpec> planStages(const JobSpec& spec) {
  std::vector<StageSpec> stages;
  for (const auto& m : spec.models) stages.push_back({StageKind::Model, m, {}});
  for (const auto& p : spec.post) stages.push_back({StageKind::Post, {}, p});
  if (spec.mesh) stages.push_back({StageKind::Mesh, {}, {}});
  stages.push_back({StageKind::Report, {}, {}});
  return stages;
}

std::string jobErrorCode(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage: return "bad_request";
    case ErrorKind::Input: return "bad_input";
    case ErrorKind::Model: return "model";
    case ErrorKind::Output: return "output";
    case ErrorKind::Cancelled: return "cancelled";
    case ErrorKind::Internal: return "internal";
  }
  return "internal";
}

std::string jobErrorText(std::string what) {
  std::replace(what.begin(), what.end(), '\n', ' ');
  return what;
}

}  // namespace nephro::jobs
