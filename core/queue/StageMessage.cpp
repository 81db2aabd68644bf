#include "queue/StageMessage.h"

#include <cctype>
#include <cstdio>
#include <filesystem>

#include "jobs/Spool.h"

namespace fs = std::filesystem;

namespace nephro::queue {
namespace {

std::string token(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') ? c : '_';
  return out.empty() ? "_" : out;
}

std::string percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

jobs::RequestError badMessage(const std::string& what) { return jobs::RequestError("bad_request", "stage message: " + what); }

}  // namespace

std::string fileUri(const std::string& absolutePath) {
  std::string out = "file://";
  for (unsigned char c : absolutePath) {
    if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string localPath(const std::string& uri, const std::string& publisherRoot, const std::string& localRoot) {
  if (uri.rfind("file://", 0) != 0) throw badMessage("only file:// URIs are supported, not '" + uri + "'");
  const std::string path = percentDecode(uri.substr(7));
  if (localRoot.empty() || publisherRoot.empty() || publisherRoot == localRoot) return path;
  const fs::path rel = fs::path(path).lexically_relative(publisherRoot);
  if (rel.empty() || *rel.begin() == "..") return path;  // outside the shared root: the same path everywhere
  return (fs::path(localRoot) / rel).string();
}

nlohmann::json toJson(const StageMessage& m) {
  return {{"v", 1},          {"job", m.jobId},     {"stage", m.index}, {"folder", m.folder},  {"kind", m.kind},
          {"model", m.model}, {"step", m.step},     {"storage", m.storage}, {"spec", m.spec},
          {"earlier", m.earlier}, {"output", m.output}};
}

StageMessage stageMessageFromJson(const nlohmann::json& j) {
  try {
    if (!j.is_object() || j.value("v", 0) != 1) throw badMessage("not a version 1 stage message");
    StageMessage m;
    m.jobId = j.at("job").get<std::string>();
    m.index = j.at("stage").get<size_t>();
    m.folder = j.at("folder").get<std::string>();
    m.kind = j.value("kind", "");
    m.model = j.value("model", "");
    m.step = j.value("step", "");
    m.storage = j.at("storage").get<std::string>();
    m.spec = j.at("spec");
    m.earlier = j.at("earlier").get<std::vector<std::string>>();
    m.output = j.at("output").get<std::string>();
    if (!jobs::Spool::isJobId(m.jobId)) throw badMessage("bad job id");
    if (m.folder.empty() || m.folder.find('/') != std::string::npos || m.folder[0] == '.') throw badMessage("bad stage folder");
    return m;
  } catch (const nlohmann::json::exception& e) {
    throw badMessage(e.what());
  }
}

StageMessage makeStageMessage(const jobs::StageTask& task, const std::string& storageRoot, const std::string& stageDir) {
  StageMessage m;
  m.jobId = task.jobId;
  m.index = task.index;
  const jobs::StageSpec& s = task.stage();
  m.folder = s.folderName(task.index);
  m.kind = s.kindName();
  m.model = s.model;
  m.step = s.step;
  m.storage = fileUri(storageRoot);
  jobs::JobSpec spec = task.spec;
  for (auto& [role, path] : spec.inputs) path = fileUri(fs::absolute(path).string());
  m.spec = jobs::toJson(spec);
  for (const auto& e : task.earlierStages) m.earlier.push_back(fileUri(fs::absolute(e).string()));
  m.output = fileUri(fs::absolute(stageDir).string());
  return m;
}

jobs::StageTask taskFromMessage(const StageMessage& m, const std::string& localRoot, const std::string& device) {
  const std::string publisherRoot = localPath(m.storage, {}, {});
  jobs::StageTask t;
  t.jobId = m.jobId;
  try {
    t.spec = jobs::jobSpecFromJson(m.spec);
  } catch (const nlohmann::json::exception& e) {
    throw badMessage(std::string("spec: ") + e.what());
  }
  for (auto& [role, uri] : t.spec.inputs) uri = localPath(uri, publisherRoot, localRoot);
  t.stages = jobs::planStages(t.spec);
  if (m.index >= t.stages.size() || t.stages[m.index].folderName(m.index) != m.folder)
    throw badMessage("stage " + std::to_string(m.index) + " does not match the job's pipeline");
  t.index = m.index;
  t.device = device;
  for (const auto& e : m.earlier) t.earlierStages.push_back(localPath(e, publisherRoot, localRoot));
  return t;
}

std::string stageSubject(const std::string& prefix, const jobs::StageSpec& stage) {
  switch (stage.kind) {
    case jobs::StageKind::Model: return prefix + ".model." + token(stage.model);
    case jobs::StageKind::Post: return prefix + ".any.post." + token(stage.step);
    case jobs::StageKind::Mesh: return prefix + ".any.mesh";
    case jobs::StageKind::Report: return prefix + ".any.report";
  }
  return prefix + ".any.report";
}

std::string resultKey(const std::string& jobId, size_t index) { return "stage." + jobId + "." + std::to_string(index); }

}  // namespace nephro::queue
