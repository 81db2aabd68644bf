#pragma once
// The stage message: what `serve --queue` publishes for one stage of one job.
// Volumes never travel; every file is named by URI (file:// under the shared
// storage root today, so an object store can be added later):
//
//   {"v": 1, "job": "<32 hex>", "stage": 2, "folder": "02-mesh", "kind": "mesh", "model": "",
//    "storage": "file:///srv/nephro3d",                      the storage root as the publisher sees it
//    "spec": {"inputs": {"mask": "file:///srv/nephro3d/jobs/<id>/inputs/mask.nii.gz"}, ...pipeline},
//    "earlier": ["file:///srv/nephro3d/jobs/<id>/stages/00-post-fat", ...],
//    "output": "file:///srv/nephro3d/jobs/<id>/stages/02-mesh"}
//
// Subject: nephro3d.stage.model.<model> (taken by the workers that serve the model), or for the
// stages any worker runs nephro3d.stage.any.post.<step>, nephro3d.stage.any.mesh and
// nephro3d.stage.any.report. A worker maps URIs under "storage" onto its own --storage-root (the
// shared folder may be mounted elsewhere there), writes into an attempt folder and renames it
// to "output" when whole. The result goes to the key-value bucket under "stage.<job>.<stage>":
//   {"state": "done"|"failed", "device", "seconds", "worker", "deliveries", "code", "error", "dead_letter"}
// and the job records live beside them under "job.<job>" (KvJobStore).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "jobs/StageRunner.h"

namespace nephro::queue {

struct StageMessage {
  std::string jobId;
  size_t index = 0;
  std::string folder, kind, model, step;
  std::string storage;               // file URI of the publisher's storage root
  nlohmann::json spec;               // jobs::toJson(spec) with inputs as URIs
  std::vector<std::string> earlier;  // URIs of the finished earlier stages
  std::string output;                // URI of the stage folder to create
};

std::string fileUri(const std::string& absolutePath);
// The local path of a URI: file:// only; a URI under `publisherRoot` is moved under `localRoot`.
// Throws RequestError("bad_request") for another scheme.
std::string localPath(const std::string& uri, const std::string& publisherRoot, const std::string& localRoot);

nlohmann::json toJson(const StageMessage& m);
StageMessage stageMessageFromJson(const nlohmann::json& j);  // throws RequestError("bad_request")

// The message for a stage task whose spool root is `storageRoot`; the stage folder is `stageDir`.
StageMessage makeStageMessage(const jobs::StageTask& task, const std::string& storageRoot, const std::string& stageDir);
// The task a worker runs for a message, with paths under its own storage root.
jobs::StageTask taskFromMessage(const StageMessage& m, const std::string& localRoot, const std::string& device);

// "<prefix>.model.vessel", "<prefix>.any.post.fat", "<prefix>.any.mesh", "<prefix>.any.report".
std::string stageSubject(const std::string& prefix, const jobs::StageSpec& stage);
std::string resultKey(const std::string& jobId, size_t index);  // "stage.<job>.<index>"

}  // namespace nephro::queue
