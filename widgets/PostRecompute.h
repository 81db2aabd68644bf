#pragma once
// The recompute path behind the post-processing panel, free of widgets: one
// step (fat, sample, vessel, ureter) run on the region around the kidneys of
// an input mask, its result pasted back into the mask's full grid, and the
// meshes of the result's labels. What does not depend on the parameters (the
// region box, the cropped mask and CT, the template) is cached between runs,
// and so is the engine's preparation of the step (distance maps, skeletons,
// registration inputs) for as long as the moved parameter does not change it,
// so a slider move pays only for the parameter-dependent part and the meshing.
#include <array>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Crop.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "mesh/LabelMesher.h"
#include "post/Parameters.h"
#include "post/PerirenalFat.h"
#include "post/PostSteps.h"
#include "post/TemplateSample.h"
#include "post/VesselReconnection.h"

namespace nephro::widgets {

// The steps, their ids, parameters and CT phases as the engine names them.
using post::PostStep;
using post::postStepFromId;
using post::postStepId;
using post::postStepParameters;
using post::postStepPreferredPhase;
using post::postStepUsesCt;

std::string postStepTitle(PostStep step);

// Empty when `table` (with `voxelCounts`, index = value) has the labels the
// step needs; else one sentence saying what is missing.
std::string missingLabelsFor(PostStep step, const LabelTable& table,
                             const std::vector<int64_t>& voxelCounts);

struct PostInputs {
  int layerId = 0;   // identifies the input in the cache
  Volume mask;       // the input label layer (shared buffer, not copied)
  LabelTable table;
  Volume ct;         // empty: no CT; else on the mask's grid
  std::string maskName = "mask";
  std::string ctName = "image";
};

struct PostRunTimings {
  double regionSeconds = 0;   // finding and cropping the region (0 when cached)
  double prepareSeconds = 0;  // the engine's parameter-independent part (0 when cached)
  double engineSeconds = 0;   // the engine's parameter-dependent part on the region
  double pasteSeconds = 0;   // the result back into the full grid
  double meshSeconds = 0;    // meshes of the result's labels
  double totalSeconds = 0;
  bool regionCached = false;
  bool preparedCached = false;
  int meshesMade = 0;    // labels meshed in this run
  int meshesReused = 0;  // labels whose voxels had not changed: their previous meshes are kept
  std::array<int64_t, 3> regionSize{};
};

struct PostRunResult {
  Volume mask;        // uint8 on the input's full grid: the step's result labels only
  LabelTable table;   // those labels
  std::vector<int64_t> voxelCounts;  // of `mask`, index = value
  std::vector<LabelMesh> meshes;  // LPS, one per result label present
  std::vector<std::string> log;   // summary lines and, for reconnection, every bridge
  std::string reportJson;         // the engine's report (reconnection, sample)
  PostRunTimings timings;
};

// Thread-safe cache of what a run needs besides the parameters.
class PostRegionCache {
 public:
  struct Region {
    Box box;
    Volume mask;  // cropped input
    Volume ct;    // cropped CT (empty without one)
    double padMm = 0;
  };
  // The region for the step around the input's kidneys (fat, sample), its
  // arteries (vessel) or its kidneys, ureters and bladder (ureter), at least
  // `padMm` wide; reuses a cached one when it covers it.
  std::shared_ptr<const Region> region(PostStep step, const PostInputs& in, double padMm,
                                       bool* cached);
  // The step's preparation on `region` for these parameters: the cached one
  // when it was made on this region and serves them, else `make()`'s (kept).
  post::PreparedFat preparedFat(const std::shared_ptr<const Region>& region, const post::FatParameters& p,
                                const std::function<post::PreparedFat()>& make, bool* cached);
  // The sample's `make` gets the kept preparation on this region made for
  // another spacing or clamp (empty when there is none) to remake it from.
  post::PreparedSample preparedSample(const std::shared_ptr<const Region>& region, const post::SampleParameters& p,
                                      const std::function<post::PreparedSample(const post::PreparedSample&)>& make,
                                      bool* cached);
  post::PreparedReconnection preparedReconnection(PostStep step, const std::shared_ptr<const Region>& region,
                                                  const post::ReconnectionParameters& p,
                                                  const std::function<post::PreparedReconnection()>& make,
                                                  bool* cached);
  // The step's latest result on the region and the meshes made from it, so
  // that a label whose voxels a parameter move left unchanged keeps its mesh.
  struct ResultMeshes {
    std::shared_ptr<const Region> region;
    Volume labels;  // uint8 on the region: the result labels
    MeshOptions options;
    std::vector<LabelMesh> meshes;
  };
  ResultMeshes lastMeshes(PostStep step);
  void setLastMeshes(PostStep step, ResultMeshes meshes);
  void clear();

 private:
  std::map<PostStep, ResultMeshes> meshes_;
  struct Preparation {
    std::shared_ptr<const Region> region;  // what it was made on
    post::PreparedFat fat;
    post::PreparedSample sample;
    post::PreparedReconnection reconnection;
  };
  template <class Prepared, class Parameters>
  Prepared prepared(PostStep step, const std::shared_ptr<const Region>& region, const Parameters& p,
                    Prepared Preparation::*slot, const std::function<Prepared()>& make, bool* cached);
  std::map<PostStep, Preparation> preparations_;
  struct Key {
    PostStep step;
    int layerId;
    const void* mask;
    const void* ct;
    bool operator<(const Key& o) const;
  };
  std::mutex mutex_;
  std::map<Key, std::shared_ptr<const Region>> regions_;
};

// Runs the step with `values` (parameter key -> value) and `labelLists`
// (key -> comma-separated label values or names). Throws nephro::Error (input
// errors for missing labels or a CT that does not match) and honours cancel.
// `onMask` (optional) gets the result before its meshes are made (mask,
// table, log and timings filled), so the overlay can be shown sooner.
PostRunResult runPostStep(PostStep step, const PostInputs& in,
                          const std::map<std::string, double>& values,
                          const std::map<std::string, std::string>& labelLists,
                          PostRegionCache& cache, const MeshOptions& meshOptions,
                          const Progress& progress = {},
                          const std::function<void(const PostRunResult&)>& onMask = {});

}  // namespace nephro::widgets
