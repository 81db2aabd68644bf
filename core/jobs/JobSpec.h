#pragma once
// A job: a case (phase images and/or a label mask) plus a pipeline (models,
// post-processing steps, meshes). The JSON contract, shared by every front end:
//
//   {"inputs": {"A": PATH, "P": PATH, "D": PATH, "mask": PATH, "labels": PATH},
//    "models": ["vessel", ...], "post": ["fat", ...],
//    "params": {"vessel.max-gap-mm": 12}, "mesh": {"formats": ["obj"], "space": "LPS"}}
//
// A job runs as a list of stages, in order: one per model, one per post step,
// one for meshes, and a last "report" stage that writes provenance.json. Each
// stage reads what earlier stages wrote (never their memory), so stages of
// different jobs can interleave and a stage can run in another process.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "labels/LabelTable.h"
#include "mesh/LabelMesher.h"
#include "post/PostSteps.h"

namespace nephro::jobs {

// A request that cannot become a job. `code` is a stable machine-readable
// word ("bad_request", "unknown_model", "unknown_step", "missing_phases",
// "bad_input", "path_outside_data_root", ...); what() is one line of detail.
class RequestError : public Error {
 public:
  RequestError(std::string code, const std::string& detail, ErrorKind kind = ErrorKind::Usage)
      : Error(kind, detail), code_(std::move(code)) {}
  const std::string& code() const { return code_; }

 private:
  std::string code_;
};

struct JobSpec {
  std::map<std::string, std::string> inputs;  // "A" "P" "D" "mask" "labels" -> path
  std::vector<std::string> models;
  std::vector<std::string> post;              // step ids, in order
  std::map<std::string, std::string> params;  // "step.key" -> value as text
  bool mesh = false;
  std::vector<std::string> meshFormats{"obj"};
  std::string meshSpace = "LPS";

  std::vector<std::string> phases() const;  // of inputs, in A, P, D order
  bool hasMask() const { return inputs.count("mask") != 0; }
  // Post-processing requests with their parameters; throws RequestError.
  std::vector<post::PostStepRequest> postRequests() const;
};

// Parses the pipeline part of a request (and "inputs" when `allowInputs`).
// Paths are kept as given; the front end resolves them. Throws RequestError.
JobSpec parseJobSpec(const nlohmann::json& body, bool allowInputs);
nlohmann::json toJson(const JobSpec& spec);
JobSpec jobSpecFromJson(const nlohmann::json& stored);  // a spec written by toJson

// Checks a spec whose inputs are resolved files: models known with their files,
// the case's phases cover each model's inputs, each post step will find its
// labels, and every input passes the readers' header checks (no voxel read).
// Throws RequestError.
void validateJobSpec(const JobSpec& spec, const std::string& modelsDirectory = {});

// The label table of a job's input mask: the "labels" input, else the mask's
// sidecar, else empty (labels named label_N).
LabelTable inputMaskTable(const JobSpec& spec);

enum class StageKind { Model, Post, Mesh, Report };

struct StageSpec {
  StageKind kind = StageKind::Report;
  std::string model;  // Model: the model id
  std::string step;   // Post: the step id
  std::string name() const;                   // "model vessel", "post fat", "mesh", "report"
  std::string folderName(size_t index) const;  // "00-model-vessel"
  std::string kindName() const;                // "model", "post", "mesh", "report"
};

std::vector<StageSpec> planStages(const JobSpec& spec);

// The job JSON's error code for an engine error kind ("bad_input", "model", ...), shared by the
// local scheduler and the queue worker so both report failures alike.
std::string jobErrorCode(ErrorKind kind);
// An engine error as the job's one-line error text.
std::string jobErrorText(std::string what);

}  // namespace nephro::jobs
