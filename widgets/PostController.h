#pragma once
// Drives the post-processing panel: fills it with the engine's steps and their
// parameters, offers the workspace's mask layers and phases as inputs, and
// recomputes a step in the background when its parameters change (debounced;
// a new value cancels the running recompute and the results of stale runs are
// dropped). Each step's result is one layer, replaced in place with its meshes.
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>
#include <QString>
#include <map>
#include <memory>

#include "widgets/BackgroundJob.h"
#include "widgets/PostPanelHost.h"
#include "widgets/PostRecompute.h"
#include "widgets/WorkspaceModel.h"

class QTimer;

namespace nephro::widgets {

class PostController : public QObject {
  Q_OBJECT
 public:
  PostController(WorkspaceModel* workspace, PostPanelHost* panel, QObject* parent = nullptr);
  // Cancels and waits for the running recomputes.
  ~PostController() override;

  // Quiet time after the last parameter change before a recompute starts.
  void setDebounceMs(int ms);
  int debounceMs() const { return debounceMs_; }
  void setMeshOptions(const MeshOptions& options) { meshOptions_ = options; }

  // Starts a recompute of the step now (what the Run button does).
  void recompute(PostStep step);
  // The step's result layer (0 before its first result).
  int resultLayer(PostStep step) const;
  bool isRunning(PostStep step) const;
  // Timings of the last applied result: the run's parts, and the wall time
  // from the start of the run and from the parameter change to the result
  // shown (layer replaced, meshes handed over).
  struct AppliedTimings {
    PostRunTimings run;
    // The overlay: the result layer replaced (before its meshes are made).
    double overlaySinceStartMs = 0;
    double overlaySinceChangeMs = 0;  // includes the debounce
    double overlayApplyMs = 0;        // replacing the layer on the GUI thread
    // The meshes handed to the workspace: the whole result shown.
    double sinceStartMs = 0;
    double sinceChangeMs = 0;  // includes the debounce
    double applyMs = 0;        // handing over the meshes on the GUI thread
  };
  AppliedTimings lastTimings(PostStep step) const;
  // Results applied and dropped as stale so far.
  int appliedCount(PostStep step) const;
  int droppedCount(PostStep step) const;
  // The phase whose CT the step reads now ("" none): the input layer's phase
  // (the rule `run` follows, core/common/PhaseRules.h) unless the user chose another.
  QString ctPhase(PostStep step) const;
  // Drops the cached regions (the input layers changed in a way ids do not show).
  void clearCache() { cache_->clear(); }

 signals:
  // A recompute job started (for a job panel to follow).
  void jobStarted(nephro::widgets::BackgroundJob* job);
  // A line for the job log (summaries, the reconnection report).
  void logLine(const QString& line);
  // The result layer was replaced (its overlay); its meshes follow.
  void overlayUpdated(const QString& stepId, int layerId);
  // The result and its meshes are in the workspace.
  void resultApplied(const QString& stepId, int layerId);
  void resultDropped(const QString& stepId);
  void failed(const QString& stepId, const QString& message);

 private:
  struct StepState {
    QTimer* debounce = nullptr;
    int generation = 0;
    QPointer<BackgroundJob> job;
    int resultLayer = 0;
    bool ctDefaulted = false;
    bool layerPicked = false;  // the user chose the input layer
    QElapsedTimer changedAt;
    AppliedTimings last;
    int applied = 0, dropped = 0;
  };
  void refreshInputs();
  void parameterChanged(PostStep step);
  void applyMask(PostStep step, int generation, const std::shared_ptr<PostRunResult>& result,
                 double sinceStartMs);
  void applyMeshes(PostStep step, int generation, const std::shared_ptr<PostRunResult>& result,
                   double sinceStartMs);
  QString layerName(PostStep step) const;
  QString rulePhase(PostStep step, const Layer* layer, bool usesCt) const;

  WorkspaceModel* workspace_;
  PostPanelHost* panel_;
  std::shared_ptr<PostRegionCache> cache_ = std::make_shared<PostRegionCache>();
  MeshOptions meshOptions_;
  // Long enough to coalesce the values of one slider drag, short enough to leave
  // most of the half second to the recompute (a stale run is cancelled anyway).
  int debounceMs_ = 80;
  std::map<PostStep, StepState> steps_;
};

}  // namespace nephro::widgets
