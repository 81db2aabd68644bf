#include "widgets/PostController.h"

#include <QTimer>

#include "common/Error.h"
#include "common/PhaseRules.h"

namespace nephro::widgets {
namespace {

constexpr PostStep kSteps[] = {PostStep::Fat, PostStep::Sample, PostStep::Vessel, PostStep::Ureter};

QString qs(const std::string& s) {
  return QString::fromStdString(s);
}

std::vector<PanelParameter> panelParameters(PostStep step) {
  std::vector<PanelParameter> out;
  for (const post::ParameterInfo& info : postStepParameters(step)) {
    PanelParameter p;
    p.key = qs(info.key);
    p.label = qs(info.label);
    p.tooltip = qs(info.description);
    p.minimum = info.minimum;
    p.maximum = info.maximum;
    p.defaultValue = info.defaultValue;
    p.step = info.step > 0 ? info.step : 1.0;
    p.decimals = info.kind == post::ParameterKind::Number ? (info.step < 0.1 ? 2 : info.step < 1 ? 1 : 0) : 0;
    p.unit = info.unit == "mm3" ? QString("mm³") : qs(info.unit);
    p.text = info.kind == post::ParameterKind::LabelList;
    p.flag = info.kind == post::ParameterKind::Flag;
    out.push_back(p);
  }
  return out;
}

}  // namespace

PostController::PostController(WorkspaceModel* workspace, PostPanelHost* panel, QObject* parent)
    : QObject(parent), workspace_(workspace), panel_(panel) {
  for (PostStep step : kSteps) {
    const QString id = qs(postStepId(step));
    panel_->addStep(id, qs(postStepTitle(step)), panelParameters(step));
    StepState& s = steps_[step];
    s.debounce = new QTimer(this);
    s.debounce->setSingleShot(true);
    s.debounce->setInterval(debounceMs_);
    connect(s.debounce, &QTimer::timeout, this, [this, step] { recompute(step); });
  }
  connect(panel_, &PostPanelHost::parameterChanged, this, [this](const QString& id, const QString&) {
    if (auto step = postStepFromId(id.toStdString())) parameterChanged(*step);
  });
  connect(panel_, &PostPanelHost::inputChanged, this, [this](const QString& id) {
    auto step = postStepFromId(id.toStdString());
    if (!step) return;
    // The user's choice of input and CT is kept from now on; the rule's phase follows the input.
    steps_[*step].layerPicked = true;
    steps_[*step].ctDefaulted = true;
    refreshInputs();
    parameterChanged(*step);
  });
  connect(panel_, &PostPanelHost::runRequested, this, [this](const QString& id) {
    if (auto step = postStepFromId(id.toStdString())) {
      steps_[*step].changedAt.start();
      steps_[*step].debounce->stop();
      recompute(*step);
    }
  });
  connect(workspace_, &WorkspaceModel::layersChanged, this, &PostController::refreshInputs);
  connect(workspace_, &WorkspaceModel::phasesChanged, this, &PostController::refreshInputs);
  connect(workspace_, &WorkspaceModel::currentPhaseChanged, this, &PostController::refreshInputs);
  refreshInputs();
}

PostController::~PostController() {
  for (auto& [step, s] : steps_)
    if (s.job) s.job->cancel();
  for (auto& [step, s] : steps_)
    if (s.job) s.job->wait();
}

void PostController::setDebounceMs(int ms) {
  debounceMs_ = ms;
  for (auto& [step, s] : steps_) s.debounce->setInterval(ms);
}

int PostController::resultLayer(PostStep step) const {
  auto it = steps_.find(step);
  return it == steps_.end() ? 0 : it->second.resultLayer;
}

bool PostController::isRunning(PostStep step) const {
  auto it = steps_.find(step);
  return it != steps_.end() && it->second.job && it->second.job->isRunning();
}

PostController::AppliedTimings PostController::lastTimings(PostStep step) const {
  auto it = steps_.find(step);
  return it == steps_.end() ? AppliedTimings{} : it->second.last;
}

int PostController::appliedCount(PostStep step) const {
  auto it = steps_.find(step);
  return it == steps_.end() ? 0 : it->second.applied;
}

int PostController::droppedCount(PostStep step) const {
  auto it = steps_.find(step);
  return it == steps_.end() ? 0 : it->second.dropped;
}

QString PostController::rulePhase(PostStep step, const Layer* layer, bool usesCt) const {
  if (!layer) return {};
  std::vector<std::string> available, sameGrid;
  for (Phase p : workspace_->loadedPhases()) {
    available.push_back(phaseLetter(p).toStdString());
    if (workspace_->phase(p).geometry().sameGrid(layer->mask.geometry()))
      sameGrid.push_back(phaseLetter(p).toStdString());
  }
  return qs(stepCtPhase(usesCt, layer->phase.toStdString(), sameGrid, postStepPreferredPhase(step), available));
}

QString PostController::ctPhase(PostStep step) const {
  if (!postStepUsesCt(step)) return {};
  const QString id = qs(postStepId(step));
  const QString code = panel_->ctChoice(id);
  if (code == "layer") return rulePhase(step, workspace_->layer(panel_->inputLayer(id)), true);
  const std::optional<Phase> p = phaseFromLetter(code);
  return p && workspace_->hasPhase(*p) ? code : QString();
}

QString PostController::layerName(PostStep step) const {
  return tr("post: %1").arg(qs(postStepId(step)));
}

void PostController::refreshInputs() {
  // Inputs are the mask layers that are not results of this panel.
  QList<QPair<int, QString>> layers;
  std::vector<int> results;
  for (const auto& [step, s] : steps_) results.push_back(s.resultLayer);
  for (const Layer& l : workspace_->layers())
    if (std::find(results.begin(), results.end(), l.id) == results.end()) layers.append({l.id, l.name});
  panel_->setLayerChoices(layers);

  const std::vector<Phase> phases = workspace_->loadedPhases();
  for (PostStep step : kSteps) {
    const QString id = qs(postStepId(step));
    StepState& s = steps_[step];
    // Until the user picks one, the input is the first layer with the labels the step needs.
    const Layer* chosen = workspace_->layer(panel_->inputLayer(id));
    if (!s.layerPicked && (!chosen || !missingLabelsFor(step, chosen->table, chosen->voxelCounts).empty()))
      for (const Layer& l : workspace_->layers())
        if (std::find(results.begin(), results.end(), l.id) == results.end() &&
            missingLabelsFor(step, l.table, l.voxelCounts).empty()) {
          panel_->setInputLayer(id, l.id);
          break;
        }

    QList<QPair<QString, QString>> ct = {{QString(), tr("No CT")}};
    if (postStepUsesCt(step) && !phases.empty()) {
      // The rule `run` follows: the CT of the phase the input layer lives in.
      const QString rule = rulePhase(step, workspace_->layer(panel_->inputLayer(id)), true);
      ct.append({"layer", rule.isEmpty() ? tr("Input layer's phase (none loaded)")
                                         : tr("Input layer's phase (%1)").arg(rule)});
      for (Phase p : phases) ct.append({phaseLetter(p), tr("%1 — %2").arg(phaseLetter(p), phaseName(p))});
    }
    panel_->setCtChoices(id, ct);
    if (postStepUsesCt(step) && !phases.empty() && !s.ctDefaulted) {
      panel_->setCtChoice(id, "layer");
      s.ctDefaulted = true;
    }
    const QString noInput = tr("Open or compute a mask layer to post-process.");
    if (layers.isEmpty())
      panel_->setStatus(id, noInput);
    else if (panel_->status(id) == noInput)
      panel_->setStatus(id, QString());
  }
}

void PostController::parameterChanged(PostStep step) {
  StepState& s = steps_[step];
  s.changedAt.start();
  if (!panel_->isLive(qs(postStepId(step)))) return;
  // A running recompute is stale as soon as a new value arrives: stop it now
  // (its result, should it still come, is dropped), and start over after the quiet time.
  if (s.job && s.job->isRunning()) {
    ++s.generation;
    s.job->cancel();
  }
  s.debounce->start();
}

void PostController::recompute(PostStep step) {
  StepState& s = steps_[step];
  const QString id = qs(postStepId(step));
  // Whatever runs now is stale: cancel it, and drop its result if it still arrives.
  ++s.generation;
  if (s.job) s.job->cancel();

  const Layer* layer = workspace_->layer(panel_->inputLayer(id));
  if (!layer) {
    panel_->setStatus(id, tr("Choose an input mask layer."), true);
    return;
  }
  const std::string missing = missingLabelsFor(step, layer->table, layer->voxelCounts);
  if (!missing.empty()) {
    const QString message = tr("%1: %2").arg(layer->name, qs(missing));
    panel_->setStatus(id, message, true);
    emit failed(id, message);
    return;
  }

  PostInputs in;
  in.layerId = layer->id;
  in.mask = layer->mask;
  in.table = layer->table;
  in.maskName = (layer->sourcePath.isEmpty() ? layer->name : layer->sourcePath).toStdString();
  const QString ctLetter = ctPhase(step);
  if (!ctLetter.isEmpty()) {
    const std::optional<Phase> phase = phaseFromLetter(ctLetter);
    if (phase && workspace_->hasPhase(*phase)) {
      in.ct = workspace_->phase(*phase);
      const QString path = workspace_->phasePath(*phase);
      in.ctName = (path.isEmpty() ? phaseName(*phase) : path).toStdString();
    }
  }
  std::map<std::string, double> values;
  const QMap<QString, double> v = panel_->values(id);
  for (auto it = v.begin(); it != v.end(); ++it) values[it.key().toStdString()] = it.value();
  std::map<std::string, std::string> lists;
  const QMap<QString, QString> t = panel_->texts(id);
  for (auto it = t.begin(); it != t.end(); ++it)
    if (!it.value().trimmed().isEmpty()) lists[it.key().toStdString()] = it.value().toStdString();

  auto* job = new BackgroundJob(tr("%1 on %2").arg(qs(postStepTitle(step)), layer->name), this);
  s.job = job;
  const int generation = s.generation;
  connect(job, &BackgroundJob::finished, this,
          [this, step, id, generation](BackgroundJob::Outcome outcome, const QString& message) {
            StepState& st = steps_[step];
            if (outcome == BackgroundJob::Outcome::Failed && generation == st.generation) {
              panel_->setStatus(id, message, true);
              emit failed(id, message);
            }
          });
  connect(job, &BackgroundJob::finished, job, &QObject::deleteLater);
  panel_->setStatus(id, tr("Computing…"));
  QPointer<PostController> self(this);
  auto cache = cache_;
  const MeshOptions meshOptions = meshOptions_;
  QElapsedTimer started;
  started.start();
  job->start([self, step, in, values, lists, cache, meshOptions, generation, started](const Progress& progress) {
    auto elapsedMs = [started] { return double(started.nsecsElapsed()) / 1e6; };
    // The overlay goes up as soon as the mask exists; the meshes follow.
    const int inputLayer = in.layerId;
    auto onMask = [self, step, generation, elapsedMs, inputLayer](const PostRunResult& partial) {
      auto r = std::make_shared<PostRunResult>(partial);
      const double ms = elapsedMs();
      if (PostController* c = self.data())
        postToGui(c, [self, step, generation, r, ms, inputLayer] {
          // A result whose input is gone (another study opened, the layer removed) is stale too.
          if (!self->workspace_->layer(inputLayer)) ++self->steps_[step].generation;
          self->applyMask(step, generation, r, ms);
        });
    };
    auto result = std::make_shared<PostRunResult>(
        runPostStep(step, in, values, lists, *cache, meshOptions, progress, onMask));
    progress.throwIfCancelled();
    const double ms = elapsedMs();
    if (PostController* c = self.data())
      postToGui(c, [self, step, generation, result, ms] { self->applyMeshes(step, generation, result, ms); });
  });
  emit jobStarted(job);
}

void PostController::applyMask(PostStep step, int generation, const std::shared_ptr<PostRunResult>& result,
                               double sinceStartMs) {
  StepState& s = steps_[step];
  const QString id = qs(postStepId(step));
  if (generation != s.generation) {
    ++s.dropped;
    emit resultDropped(id);
    return;
  }
  QElapsedTimer t;
  t.start();
  // One result layer per step, replaced in place.
  if (s.resultLayer && workspace_->layer(s.resultLayer)) {
    workspace_->replaceLayerMask(s.resultLayer, result->mask, result->table, &result->voxelCounts);
  } else {
    s.resultLayer = workspace_->addLayer(layerName(step), result->mask, result->table);
  }
  // The result lives on its input's grid, so in its input's phase.
  const Layer* input = workspace_->layer(panel_->inputLayer(id));
  workspace_->setLayerPhase(s.resultLayer, rulePhase(step, input, true));
  s.last = AppliedTimings{};
  s.last.run = result->timings;
  s.last.overlayApplyMs = double(t.nsecsElapsed()) / 1e6;
  s.last.overlaySinceStartMs = sinceStartMs + s.last.overlayApplyMs;
  s.last.overlaySinceChangeMs = s.changedAt.isValid() ? double(s.changedAt.nsecsElapsed()) / 1e6 : 0.0;
  for (const std::string& line : result->log) emit logLine(tr("%1: %2").arg(id, qs(line)));
  panel_->setStatus(id, tr("%1\nmaking meshes…").arg(result->log.empty() ? QString() : qs(result->log.front())));
  emit overlayUpdated(id, s.resultLayer);
}

void PostController::applyMeshes(PostStep step, int generation, const std::shared_ptr<PostRunResult>& result,
                                 double sinceStartMs) {
  StepState& s = steps_[step];
  const QString id = qs(postStepId(step));
  if (generation != s.generation || !s.resultLayer) return;  // counted as dropped with its mask
  QElapsedTimer t;
  t.start();
  for (const LabelMesh& mesh : result->meshes) workspace_->setMesh(s.resultLayer, mesh);
  ++s.applied;
  s.last.run = result->timings;
  s.last.applyMs = double(t.nsecsElapsed()) / 1e6;
  s.last.sinceStartMs = sinceStartMs + s.last.applyMs;
  s.last.sinceChangeMs = s.changedAt.isValid() ? double(s.changedAt.nsecsElapsed()) / 1e6 : 0.0;

  const PostRunTimings& r = result->timings;
  const QString preparation =
      r.preparedCached ? tr("cached") : tr("%1 ms").arg(r.prepareSeconds * 1000, 0, 'f', 0);
  panel_->setStatus(id, tr("%1\nregion %2×%3×%4%5: preparation %6, engine %7 ms, meshes %8 ms; overlay %9 ms and "
                           "meshes %10 ms after the change")
                            .arg(result->log.empty() ? QString() : qs(result->log.front()))
                            .arg(r.regionSize[0])
                            .arg(r.regionSize[1])
                            .arg(r.regionSize[2])
                            .arg(r.regionCached ? tr(" (cached)") : QString())
                            .arg(preparation)
                            .arg(r.engineSeconds * 1000, 0, 'f', 0)
                            .arg(r.meshSeconds * 1000, 0, 'f', 0)
                            .arg(s.last.overlaySinceChangeMs, 0, 'f', 0)
                            .arg(s.last.sinceChangeMs, 0, 'f', 0));
  emit resultApplied(id, s.resultLayer);
}

}  // namespace nephro::widgets
