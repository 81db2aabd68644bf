#pragma once
// The job spool: every job is a folder on disk, so a server killed at any
// moment loses nothing and never shows a partial file.
//
//   <spool>/jobs/<id>/job.json                 the job's record (replaced atomically: temp + rename)
//   <spool>/jobs/<id>/inputs/                  uploaded files (written before job.json exists)
//   <spool>/jobs/<id>/work/<stage>.<tag>/      an attempt at a stage, in progress
//   <spool>/jobs/<id>/stages/<stage>/          a finished stage: the attempt folder renamed whole
//
// A job folder without job.json is an upload that never became a job; scan()
// removes it. A stage is done exactly when stages/<stage>/ exists: attempts
// write into their own folder and the first complete rename wins, so two
// processes running the same stage (a retry, a redelivered queue message) never
// mix their files. Artifacts are the files of finished stage folders; they are
// looked up by name in the record, never built from a request's text.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/JobSpec.h"

namespace nephro::jobs {

enum class JobState { Queued, Running, Succeeded, Failed, Cancelled };
std::string toString(JobState state);
JobState jobStateFromString(const std::string& text);
inline bool isFinal(JobState s) { return s == JobState::Succeeded || s == JobState::Failed || s == JobState::Cancelled; }

struct Artifact {
  std::string name;         // relative to its stage folder: "vessel.nii.gz", "meshes/mask/kidney_left.obj"
  std::string stageFolder;  // "00-model-vessel"
  uint64_t bytes = 0;
  std::string sha256;
};

struct StageRecord {
  std::string name;    // "model vessel"
  std::string folder;  // "00-model-vessel"
  bool done = false;
  double seconds = 0;
  std::string device;
  int attempts = 0;
};

struct JobRecord {
  std::string id;
  JobState state = JobState::Queued;
  std::string stage;      // the running (or last) stage's name
  double progress = 0;    // 0..1 over the whole job
  std::string error;      // the engine's one-line error (failed) or why it was cancelled
  std::string errorCode;  // "bad_input", "model", "internal", "cancelled", ...
  double created = 0, started = 0, finished = 0;  // Unix seconds; 0 = not yet
  int attempts = 0;       // stage runs, retries and runs after a restart included
  std::string kind = "job";  // the route that made it: "job", "nnunet/inference", "smoothing/base", "postprocess"
  std::string client;        // the API key's name
  std::string idempotency;   // hash of (key name, Idempotency-Key), or empty
  JobSpec spec;
  std::vector<StageRecord> stages;
  std::vector<Artifact> artifacts;
};

nlohmann::json toJson(const JobRecord& r);  // stored form
JobRecord jobRecordFromJson(const nlohmann::json& j);
// The public form of the contract: id, state, stage, progress, error, created,
// finished, attempts, artifacts [{name, bytes, sha256, url}], plus timings.
nlohmann::json publicJson(const JobRecord& r, const std::string& urlPrefix = "/v1/jobs/");
std::string isoTime(double unixSeconds);  // "" for 0
double unixNow();

class Spool {
 public:
  // Creates the folders; throws an output error when the spool is not writable.
  explicit Spool(std::string root);

  const std::string& root() const { return root_; }
  std::string newJobId() const;  // 32 random hex digits
  static bool isJobId(const std::string& text);
  std::string jobDir(const std::string& id) const;
  std::string inputsDir(const std::string& id) const;  // created on demand
  std::string stageDir(const std::string& id, const std::string& folder) const;

  // A fresh, empty attempt folder for a stage.
  std::string beginAttempt(const std::string& id, const std::string& folder) const;
  // Renames the attempt to stages/<folder>. False when that stage was already
  // done by another attempt (this attempt is then removed).
  bool commitAttempt(const std::string& id, const std::string& folder, const std::string& attemptDir) const;
  void discardAttempt(const std::string& attemptDir) const;
  void clearAttempts(const std::string& id) const;  // the job's work/ folder, once it is final
  bool stageDone(const std::string& id, const std::string& folder) const;
  // Files of a finished stage (its stage.json excluded) with size and sha256.
  std::vector<Artifact> stageArtifacts(const std::string& id, const std::string& folder) const;
  // The file of an artifact the record lists, or "" when the record has no such name.
  std::string artifactPath(const JobRecord& r, const std::string& name) const;

  void save(const JobRecord& r) const;
  // Every job with a job.json (oldest first). Removes abandoned uploads and
  // unfinished attempt folders, marks the stages whose folder exists as done
  // and lists their artifacts.
  std::vector<JobRecord> scan() const;
  void removeJob(const std::string& id) const;  // a rejected upload

  // Free bytes on the spool's file system, and whether a file can be created.
  uint64_t freeBytes() const;
  bool writable() const;

 private:
  std::string root_;
};

}  // namespace nephro::jobs
