#include "jobs/Spool.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <sys/statvfs.h>
#include <unistd.h>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "jobs/Sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace nephro::jobs {
namespace {

std::string readText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string randomHex(size_t digits) {
  static thread_local std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string s;
  while (s.size() < digits) {
    uint32_t v = rd();
    for (int i = 0; i < 8 && s.size() < digits; ++i, v >>= 4) s.push_back(hex[v & 15]);
  }
  return s;
}

}  // namespace

std::string toString(JobState s) {
  switch (s) {
    case JobState::Queued: return "queued";
    case JobState::Running: return "running";
    case JobState::Succeeded: return "succeeded";
    case JobState::Failed: return "failed";
    case JobState::Cancelled: return "cancelled";
  }
  return "failed";
}

JobState jobStateFromString(const std::string& t) {
  if (t == "queued") return JobState::Queued;
  if (t == "running") return JobState::Running;
  if (t == "succeeded") return JobState::Succeeded;
  if (t == "cancelled") return JobState::Cancelled;
  return JobState::Failed;
}

double unixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string isoTime(double t) {
  if (t <= 0) return {};
  const std::time_t secs = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>((t - static_cast<double>(secs)) * 1000.0));
  return out;
}

json toJson(const JobRecord& r) {
  json stages = json::array();
  for (const auto& s : r.stages)
    stages.push_back({{"name", s.name}, {"folder", s.folder}, {"done", s.done}, {"seconds", s.seconds},
                      {"device", s.device}, {"attempts", s.attempts}});
  json artifacts = json::array();
  for (const auto& a : r.artifacts)
    artifacts.push_back({{"name", a.name}, {"stage", a.stageFolder}, {"bytes", a.bytes}, {"sha256", a.sha256}});
  return json{{"format", "nephro3d-job"},
              {"version", 1},
              {"id", r.id},
              {"state", toString(r.state)},
              {"stage", r.stage},
              {"progress", r.progress},
              {"error", r.error},
              {"error_code", r.errorCode},
              {"created", r.created},
              {"started", r.started},
              {"finished", r.finished},
              {"attempts", r.attempts},
              {"kind", r.kind},
              {"client", r.client},
              {"idempotency", r.idempotency},
              {"spec", toJson(r.spec)},
              {"stages", stages},
              {"artifacts", artifacts}};
}

JobRecord jobRecordFromJson(const json& j) {
  JobRecord r;
  r.id = j.at("id").get<std::string>();
  r.state = jobStateFromString(j.value("state", std::string("queued")));
  r.stage = j.value("stage", std::string());
  r.progress = j.value("progress", 0.0);
  r.error = j.value("error", std::string());
  r.errorCode = j.value("error_code", std::string());
  r.created = j.value("created", 0.0);
  r.started = j.value("started", 0.0);
  r.finished = j.value("finished", 0.0);
  r.attempts = j.value("attempts", 0);
  r.kind = j.value("kind", std::string("job"));
  r.client = j.value("client", std::string());
  r.idempotency = j.value("idempotency", std::string());
  r.spec = jobSpecFromJson(j.at("spec"));
  for (const auto& s : j.value("stages", json::array()))
    r.stages.push_back({s.value("name", std::string()), s.value("folder", std::string()), s.value("done", false),
                        s.value("seconds", 0.0), s.value("device", std::string()), s.value("attempts", 0)});
  for (const auto& a : j.value("artifacts", json::array()))
    r.artifacts.push_back({a.value("name", std::string()), a.value("stage", std::string()), a.value("bytes", uint64_t(0)),
                           a.value("sha256", std::string())});
  return r;
}

json publicJson(const JobRecord& r, const std::string& urlPrefix) {
  json artifacts = json::array();
  for (const auto& a : r.artifacts)
    artifacts.push_back({{"name", a.name}, {"bytes", a.bytes}, {"sha256", a.sha256},
                         {"url", urlPrefix + r.id + "/artifacts/" + a.name}});
  json stages = json::array();
  for (const auto& s : r.stages)
    stages.push_back({{"name", s.name}, {"done", s.done}, {"seconds", s.seconds}, {"device", s.device}, {"attempts", s.attempts}});
  const double now = unixNow();
  const double queueWait = (r.started > 0 ? r.started : (isFinal(r.state) ? r.finished : now)) - r.created;
  const double run = r.started > 0 ? (r.finished > 0 ? r.finished : now) - r.started : 0.0;
  return json{{"id", r.id},
              {"state", toString(r.state)},
              {"stage", r.stage.empty() ? json(nullptr) : json(r.stage)},
              {"progress", r.progress},
              {"error", r.error.empty() ? json(nullptr) : json(r.error)},
              {"error_code", r.errorCode.empty() ? json(nullptr) : json(r.errorCode)},
              {"created", isoTime(r.created)},
              {"started", r.started > 0 ? json(isoTime(r.started)) : json(nullptr)},
              {"finished", r.finished > 0 ? json(isoTime(r.finished)) : json(nullptr)},
              {"attempts", r.attempts},
              {"kind", r.kind},
              {"timings", {{"queue_wait_seconds", std::max(0.0, queueWait)}, {"run_seconds", std::max(0.0, run)}}},
              {"stages", stages},
              {"artifacts", artifacts}};
}

Spool::Spool(std::string root) : root_(std::move(root)) {
  std::error_code ec;
  fs::create_directories(fs::path(root_) / "jobs", ec);
  if (!fs::is_directory(fs::path(root_) / "jobs")) throw outputError(root_, "cannot create the spool folder");
  root_ = fs::canonical(root_).string();
  if (!writable()) throw outputError(root_, "spool folder is not writable");
}

std::string Spool::newJobId() const {
  for (;;) {
    std::string id = randomHex(32);
    if (!fs::exists(jobDir(id))) return id;
  }
}

bool Spool::isJobId(const std::string& t) {
  return t.size() == 32 && std::all_of(t.begin(), t.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string Spool::jobDir(const std::string& id) const { return (fs::path(root_) / "jobs" / id).string(); }

std::string Spool::inputsDir(const std::string& id) const {
  const fs::path p = fs::path(jobDir(id)) / "inputs";
  std::error_code ec;
  fs::create_directories(p, ec);
  if (!fs::is_directory(p)) throw outputError(p.string(), "cannot create the job's input folder");
  return p.string();
}

std::string Spool::stageDir(const std::string& id, const std::string& folder) const {
  return (fs::path(jobDir(id)) / "stages" / folder).string();
}

std::string Spool::beginAttempt(const std::string& id, const std::string& folder) const {
  const fs::path p = fs::path(jobDir(id)) / "work" / (folder + "." + std::to_string(::getpid()) + "-" + randomHex(8));
  std::error_code ec;
  fs::create_directories(p, ec);
  if (!fs::is_directory(p)) throw outputError(p.string(), "cannot create the stage's attempt folder");
  return p.string();
}

bool Spool::commitAttempt(const std::string& id, const std::string& folder, const std::string& attemptDir) const {
  const fs::path target = stageDir(id, folder);
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  // rename(2) onto an existing non-empty folder fails: the first complete attempt wins.
  if (::rename(attemptDir.c_str(), target.c_str()) != 0) {
    const bool already = fs::is_directory(target);
    discardAttempt(attemptDir);
    if (already) return false;
    throw outputError(target.string(), "cannot move the finished stage into place");
  }
  return true;
}

void Spool::discardAttempt(const std::string& attemptDir) const {
  std::error_code ec;
  fs::remove_all(attemptDir, ec);
}

void Spool::clearAttempts(const std::string& id) const {
  std::error_code ec;
  fs::remove_all(fs::path(jobDir(id)) / "work", ec);
}

bool Spool::stageDone(const std::string& id, const std::string& folder) const { return fs::is_directory(stageDir(id, folder)); }

std::vector<Artifact> Spool::stageArtifacts(const std::string& id, const std::string& folder) const {
  std::vector<Artifact> out;
  const fs::path dir = stageDir(id, folder);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || it->is_symlink()) continue;
    const std::string rel = fs::relative(it->path(), dir).generic_string();
    if (rel == "stage.json") continue;
    Artifact a;
    a.name = rel;
    a.stageFolder = folder;
    a.bytes = static_cast<uint64_t>(it->file_size());
    a.sha256 = sha256File(it->path().string());
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(), [](const Artifact& a, const Artifact& b) { return a.name < b.name; });
  return out;
}

std::string Spool::artifactPath(const JobRecord& r, const std::string& name) const {
  for (const auto& a : r.artifacts)
    if (a.name == name) return (fs::path(stageDir(r.id, a.stageFolder)) / a.name).string();
  return {};
}

void Spool::save(const JobRecord& r) const {
  writeFileAtomically((fs::path(jobDir(r.id)) / "job.json").string(), toJson(r).dump(1) + "\n");
}

std::vector<JobRecord> Spool::scan() const {
  std::vector<JobRecord> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(root_) / "jobs", ec)) {
    if (!entry.is_directory()) continue;
    const std::string id = entry.path().filename().string();
    const fs::path recordPath = entry.path() / "job.json";
    if (!isJobId(id)) continue;
    if (!fs::is_regular_file(recordPath)) {
      removeJob(id);  // an upload that never became a job
      continue;
    }
    JobRecord r;
    try {
      r = jobRecordFromJson(json::parse(readText(recordPath)));
    } catch (const std::exception&) {
      continue;  // unreadable record: left on disk for an operator, not served
    }
    fs::remove_all(entry.path() / "work", ec);
    if (!isFinal(r.state)) {
      r.artifacts.clear();
      for (auto& s : r.stages) {
        s.done = stageDone(r.id, s.folder);
        if (s.done) {
          auto files = stageArtifacts(r.id, s.folder);
          r.artifacts.insert(r.artifacts.end(), files.begin(), files.end());
        }
      }
    }
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const JobRecord& a, const JobRecord& b) { return a.created < b.created; });
  return out;
}

void Spool::removeJob(const std::string& id) const {
  if (!isJobId(id)) return;
  std::error_code ec;
  fs::remove_all(jobDir(id), ec);
}

uint64_t Spool::freeBytes() const {
  struct statvfs s {};
  if (::statvfs(root_.c_str(), &s) != 0) return 0;
  return static_cast<uint64_t>(s.f_bavail) * s.f_frsize;
}

bool Spool::writable() const {
  const fs::path probe = fs::path(root_) / (".probe-" + randomHex(8));
  std::ofstream f(probe);
  const bool ok = static_cast<bool>(f << "ok");
  f.close();
  std::error_code ec;
  fs::remove(probe, ec);
  return ok && !ec;
}

}  // namespace nephro::jobs

#include "jobs/StageRunner.h"

namespace nephro::jobs {

StageTask makeStageTask(const Spool& spool, const JobRecord& record, size_t index, const std::string& device) {
  StageTask t;
  t.jobId = record.id;
  t.spec = record.spec;
  t.stages = planStages(record.spec);
  t.index = index;
  t.device = device;
  for (size_t i = 0; i < index && i < t.stages.size(); ++i)
    t.earlierStages.push_back(spool.stageDir(record.id, t.stages[i].folderName(i)));
  return t;
}

}  // namespace nephro::jobs
