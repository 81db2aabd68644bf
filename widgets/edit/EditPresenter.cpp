#include "widgets/edit/EditPresenter.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QScrollArea>
#include <QTimer>
#include <vtkPolyData.h>

#include "common/Error.h"
#include "edit/CorrectedVersion.h"
#include "handoff/DicomSeg.h"
#include "widgets/JobPanel.h"
#include "widgets/LabelTableView.h"
#include "widgets/Preferences.h"
#include "widgets/edit/EditPanel.h"
#include "widgets/edit/ReviewPanel.h"

namespace nephro::widgets {

using viewers::ToolMode;

EditPresenter::EditPresenter(WorkspaceModel* workspace,
                             const std::array<viewers::SliceView*, 3>& views,
                             Preferences* preferences, QWidget* window)
    : QObject(window), workspace_(workspace), preferences_(preferences), window_(window) {
  for (size_t i = 0; i < 3; ++i) views_[i] = views[i];
  overlay_ = new viewers::ToolOverlay(this);
  overlay_->attach(views);
  panel_ = new EditPanel(window);
  review_ = new ReviewPanel(preferences, window);
  remeshTimer_ = new QTimer(this);
  remeshTimer_->setSingleShot(true);
  remeshTimer_->setInterval(250);
  connect(remeshTimer_, &QTimer::timeout, this, &EditPresenter::remesh);

  // Tools, one checkable action each with its key.
  auto* group = new QActionGroup(this);
  const std::pair<ToolMode, const char*> tools[] = {
      {ToolMode::Navigate, "N"}, {ToolMode::Brush, "B"},  {ToolMode::Eraser, "E"},
      {ToolMode::Scissors, "X"}, {ToolMode::Island, "I"}, {ToolMode::Ruler, "M"},
      {ToolMode::Roi, "O"}};
  QList<QAction*> toolList;
  for (const auto& [mode, key] : tools) {
    auto* a = new QAction(tr(viewers::toolName(mode)), this);
    a->setCheckable(true);
    a->setShortcut(QKeySequence(key));
    a->setToolTip(QString("%1 (%2)").arg(tr(viewers::toolName(mode)), key));
    group->addAction(a);
    const ToolMode m = mode;
    connect(a, &QAction::triggered, this, [this, m] { setTool(m); });
    toolActions_[mode] = a;
    toolList << a;
  }
  toolActions_[ToolMode::Navigate]->setChecked(true);
  panel_->addToolActions(toolList);
  keepLargest_ = new QAction(tr("Keep largest"), this);
  keepLargest_->setShortcut(QKeySequence("K"));
  keepLargest_->setToolTip(tr("Keep the N largest islands of the active label (K)"));
  connect(keepLargest_, &QAction::triggered, this, [this] { keepLargest(); });
  fillBetween_ = new QAction(tr("Fill between slices"), this);
  fillBetween_->setShortcut(QKeySequence("F"));
  fillBetween_->setToolTip(
      tr("Interpolate the active label between the slices drawn last (F)"));
  connect(fillBetween_, &QAction::triggered, this, [this] { fillBetween(); });
  panel_->addOperationActions(keepLargest_, fillBetween_);

  undo_ = new QAction(tr("Undo"), this);
  undo_->setShortcut(QKeySequence::Undo);
  connect(undo_, &QAction::triggered, this, [this] { undo(); });
  redo_ = new QAction(tr("Redo"), this);
  redo_->setShortcut(QKeySequence(tr("Ctrl+Shift+Z")));
  connect(redo_, &QAction::triggered, this, [this] { redo(); });
  save_ = new QAction(tr("Save &correction"), this);
  save_->setShortcut(QKeySequence::Save);
  save_->setToolTip(tr("Write the edited layer as a new corrected version beside the model's output"));
  connect(save_, &QAction::triggered, this, [this] { saveCorrection(); });
  exportSeg_ = new QAction(tr("DICOM &SEG…"), this);
  connect(exportSeg_, &QAction::triggered, this, [this] {
    const Layer* layer = workspace_ ? workspace_->layer(activeLayer_) : nullptr;
    if (!layer) {
      panel_->showMessage(tr("Choose the layer to export in the label table"), true);
      return;
    }
    const QString path = QFileDialog::getSaveFileName(window_, tr("Export DICOM SEG"),
                                                      layer->name + ".seg.dcm", tr("DICOM (*.dcm)"));
    if (!path.isEmpty()) exportDicomSeg(path);
  });

  connect(overlay_, &viewers::ToolOverlay::strokeStarted, this,
          [this](const Vec3& lps, const Vec3& normal) {
            strokeLayer_ = 0;
            edit::EditSession* s = ensureSession(activeLayer_);
            if (!s) return;
            edit::BrushStroke p;
            const bool erasing = overlay_->mode() == ToolMode::Eraser;
            const EditSettings settings = panel_->settings();
            p.label = erasing ? 0 : activeValue_;
            p.shape = settings.shape;
            p.axis = axisFor(*s, normal);
            p.radiusMm = settings.radiusMm;
            p.rule = ruleFor(erasing);
            p.dabs = {lps};
            lastAxis_[activeLayer_] = p.axis;
            try {
              const edit::EditResult r = s->beginStroke(p);
              strokeLayer_ = activeLayer_;
              showResult(strokeLayer_, r, false);
            } catch (const std::exception& e) {
              fail(e);
            }
          });
  connect(overlay_, &viewers::ToolOverlay::strokeMoved, this, [this](const Vec3& lps) {
    edit::EditSession* s = session(strokeLayer_);
    if (!s || !s->strokeActive()) return;
    showResult(strokeLayer_, s->continueStroke(lps), false);
  });
  connect(overlay_, &viewers::ToolOverlay::strokeFinished, this, [this] {
    edit::EditSession* s = session(strokeLayer_);
    if (!s || !s->strokeActive()) return;
    finishStroke(strokeLayer_);
  });
  connect(overlay_, &viewers::ToolOverlay::polygonDrawn, this,
          [this](const std::vector<Vec3>& polygon, const Vec3& normal) {
            edit::EditSession* s = ensureSession(activeLayer_);
            if (!s) return;
            const EditSettings settings = panel_->settings();
            edit::ScissorsCut cut;
            cut.action = settings.scissors;
            cut.label = activeValue_;
            cut.axis = axisFor(*s, normal);
            cut.polygon = polygon;
            cut.slabMm = settings.slabMm;
            cut.rule = ruleFor(cut.action == edit::ScissorsAction::Erase);
            runOperation(cut);
          });
  connect(overlay_, &viewers::ToolOverlay::pointClicked, this, [this](const Vec3& lps, const Vec3&) {
    edit::RemoveIsland op;
    op.seed = lps;
    if (ensureSession(activeLayer_)) runOperation(op);
  });
  connect(overlay_, &viewers::ToolOverlay::measured, panel_, &EditPanel::setMeasurement);
  connect(panel_, &EditPanel::settingsChanged, this, [this] {
    const EditSettings s = panel_->settings();
    overlay_->setBrush(s.radiusMm, s.shape == edit::BrushShape::Sphere);
  });
  connect(panel_, &EditPanel::activeLabelChosen, this,
          [this](int layerId, int value) { setActiveLabel(layerId, value); });
  connect(panel_, &EditPanel::lockToggled, this, [this](int layerId, int value, bool locked) {
    if (edit::EditSession* s = ensureSession(layerId)) {
      s->setLocked(value, locked);
      panel_->showMessage(tr("%1 %2").arg(QString::fromStdString(s->labelName(value)),
                                          locked ? tr("locked") : tr("unlocked")));
    }
  });
  connect(review_, &ReviewPanel::openCaseRequested, this, &EditPresenter::openCase);
  if (workspace_) {
    connect(workspace_, &WorkspaceModel::layersChanged, this, &EditPresenter::onLayersChanged);
    connect(workspace_, &WorkspaceModel::phasesChanged, this, [this] {
      for (auto& [id, s] : sessions_)
        if (!s->hasImage())
          for (Phase p : workspace_->loadedPhases())
            if (workspace_->phase(p).geometry() == s->layer().geometry())
              s->setImage(workspace_->phase(p), workspace_->phasePath(p).toStdString());
    });
  }
  refreshHistory();
}

EditPresenter::~EditPresenter() {
  for (auto& job : jobsRunning_)
    if (job) job->cancel();
  for (auto& job : jobsRunning_)
    if (job) job->wait();
}

void EditPresenter::addDocks(QMainWindow* window) {
  auto* editDock = new QDockWidget(tr("Edit"), window);
  editDock->setObjectName("editDock");
  // Scrolled, so the panels never widen the window's left dock area.
  auto scrolled = [](QWidget* panel, QWidget* parent) {
    auto* scroll = new QScrollArea(parent);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setWidget(panel);
    return scroll;
  };
  editDock->setWidget(scrolled(panel_, editDock));
  auto* reviewDock = new QDockWidget(tr("Review"), window);
  reviewDock->setObjectName("reviewDock");
  reviewDock->setWidget(scrolled(review_, reviewDock));
  // Tabs beside the window's left dock (its study tools), which stays in front.
  QDockWidget* left = window->findChild<QDockWidget*>("toolsDock");
  window->addDockWidget(Qt::LeftDockWidgetArea, editDock);
  window->addDockWidget(Qt::LeftDockWidgetArea, reviewDock);
  if (left) {
    window->tabifyDockWidget(left, editDock);
    window->tabifyDockWidget(editDock, reviewDock);
    left->raise();
  } else {
    window->tabifyDockWidget(editDock, reviewDock);
    editDock->raise();
  }
}

void EditPresenter::installMenus(QMenuBar* bar, QMenu* file) {
  if (file) {
    file->addSeparator();
    file->addAction(save_);
    QMenu* exportMenu = file->addMenu(tr("E&xport"));
    exportMenu->addAction(exportSeg_);
  }
  QMenu* editMenu = bar->addMenu(tr("&Edit"));
  editMenu->addAction(undo_);
  editMenu->addAction(redo_);
  editMenu->addSeparator();
  for (const auto& [mode, a] : toolActions_) editMenu->addAction(a);
  editMenu->addSeparator();
  editMenu->addAction(keepLargest_);
  editMenu->addAction(fillBetween_);
  QMenu* reviewMenu = bar->addMenu(tr("&Review"));
  reviewMenu->addAction(review_->openAction());
  reviewMenu->addAction(review_->nextAction());
  reviewMenu->addAction(review_->previousAction());
  reviewMenu->addSeparator();
  reviewMenu->addAction(save_);
}

void EditPresenter::attachLabelTable(LabelTableView* table) {
  connect(table, &LabelTableView::selectedLabelsChanged, this, [this, table] {
    const auto selected = table->selectedLabels();
    if (!selected.empty()) setActiveLabel(selected.front().first, selected.front().second);
  });
}

void EditPresenter::setJobPanel(JobPanel* jobs) {
  jobs_ = jobs;
}

void EditPresenter::setCaseOpener(std::function<void(const std::vector<StudyFile>&)> open) {
  openCase_ = std::move(open);
}

QAction* EditPresenter::toolAction(ToolMode mode) const {
  auto it = toolActions_.find(mode);
  return it == toolActions_.end() ? nullptr : it->second;
}

void EditPresenter::setTool(ToolMode mode) {
  overlay_->setMode(mode);
  const EditSettings s = panel_->settings();
  overlay_->setBrush(s.radiusMm, s.shape == edit::BrushShape::Sphere);
  if (QAction* a = toolAction(mode)) a->setChecked(true);
  if (mode != ToolMode::Navigate && mode != ToolMode::Ruler && mode != ToolMode::Roi &&
      !activeLayer_)
    panel_->showMessage(tr("Choose the label to edit in the label table"), true);
}

edit::EditSession* EditPresenter::session(int layerId) const {
  auto it = sessions_.find(layerId);
  return it == sessions_.end() ? nullptr : it->second.get();
}

bool EditPresenter::setActiveLabel(int layerId, int value) {
  const Layer* layer = workspace_ ? workspace_->layer(layerId) : nullptr;
  if (!layer || !layer->table.find(value)) return false;
  if (edit::EditSession* s = session(strokeLayer_); s && s->strokeActive())
    finishStroke(strokeLayer_);
  activeLayer_ = layerId;
  activeValue_ = value;
  refreshLabels();
  refreshHistory();
  return true;
}

edit::EditSession* EditPresenter::ensureSession(int layerId) {
  if (edit::EditSession* s = session(layerId)) return s;
  const Layer* layer = workspace_ ? workspace_->layer(layerId) : nullptr;
  if (!layer) {
    panel_->showMessage(tr("Choose the label to edit in the label table"), true);
    return nullptr;
  }
  try {
    Volume mask = layer->mask;
    if (!mask.is<uint8_t>() && !mask.is<uint16_t>()) {
      // Edited in place: the views and the workspace must share the converted voxels.
      mask = edit::toLabelLayer(mask, layer->sourcePath.toStdString());
      const LabelTable table = layer->table;
      workspace_->replaceLayerMask(layerId, mask, table);
      scheduleRemesh(layerId, {});
      layer = workspace_->layer(layerId);
    }
    edit::EditSessionOptions options;
    options.undoBudgetBytes = size_t(preferences_ ? preferences_->undoBudgetMiB() : 256) << 20;
    options.layerPath = layer->sourcePath.toStdString();
    auto s = std::make_unique<edit::EditSession>(mask, layer->table, options);
    for (Phase p : workspace_->loadedPhases())
      if (workspace_->phase(p).geometry() == mask.geometry()) {
        s->setImage(workspace_->phase(p), workspace_->phasePath(p).toStdString());
        break;
      }
    edit::EditSession* raw = s.get();
    sessions_[layerId] = std::move(s);
    return raw;
  } catch (const std::exception& e) {
    fail(e);
    return nullptr;
  }
}

edit::PaintRule EditPresenter::ruleFor(bool erasing) const {
  edit::PaintRule rule = panel_->settings().rule;
  // Erasing "over background" means erasing the active label.
  if (erasing && rule.over == edit::PaintOver::Background) {
    rule.over = edit::PaintOver::Label;
    rule.overLabel = activeValue_;
  }
  return rule;
}

int EditPresenter::axisFor(const edit::EditSession& s, const Vec3& normal) const {
  return edit::nearestIndexAxis(s.layer().geometry(), normal);
}

void EditPresenter::fail(const std::exception& e) {
  panel_->showMessage(QString::fromUtf8(e.what()), true);
}

bool EditPresenter::runOperation(const edit::EditOperation& op) {
  edit::EditSession* s = session(activeLayer_);
  if (!s) return false;
  if (s->strokeActive()) finishStroke(activeLayer_);
  try {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const edit::EditResult r = s->apply(op);
    QApplication::restoreOverrideCursor();
    showResult(activeLayer_, r, true);
    if (!r.changed) panel_->showMessage(tr("Nothing changed"));
    return r.changed;
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    fail(e);
    return false;
  }
}

void EditPresenter::showResult(int layerId, const edit::EditResult& r, bool stepDone) {
  if (r.changed) {
    const edit::EditSession* s = session(layerId);
    for (auto& v : views_)
      if (v && s) v->invalidateRegion(s->layer().geometry(), r.box.begin, r.box.end);
    if (workspace_) workspace_->addVoxelCounts(layerId, r.voxelDeltas);
    if (stepDone) scheduleRemesh(layerId, r.labelsTouched);
    emit edited(layerId);
  }
  if (stepDone) {
    refreshHistory();
    if (r.changed) panel_->showMessage(QString::fromStdString(r.name));
  }
}

void EditPresenter::finishStroke(int layerId) {
  edit::EditSession* s = session(layerId);
  if (!s || !s->strokeActive()) return;
  edit::EditResult r = s->endStroke();
  r.voxelDeltas.clear();  // the label table took them dab by dab
  showResult(layerId, r, true);
}

bool EditPresenter::undo() {
  edit::EditSession* s = session(activeLayer_);
  if (!s || !s->canUndo()) return false;
  if (s->strokeActive()) finishStroke(activeLayer_);
  const edit::EditResult r = s->undo();
  showResult(activeLayer_, r, true);
  panel_->showMessage(tr("Undone: %1").arg(QString::fromStdString(r.name)));
  return true;
}

bool EditPresenter::redo() {
  edit::EditSession* s = session(activeLayer_);
  if (!s || !s->canRedo()) return false;
  const edit::EditResult r = s->redo();
  showResult(activeLayer_, r, true);
  panel_->showMessage(tr("Redone: %1").arg(QString::fromStdString(r.name)));
  return true;
}

bool EditPresenter::keepLargest() {
  if (!ensureSession(activeLayer_)) return false;
  edit::KeepLargestIslands op;
  op.label = activeValue_;
  op.count = panel_->settings().keepCount;
  return runOperation(op);
}

bool EditPresenter::fillBetween() {
  edit::EditSession* s = ensureSession(activeLayer_);
  if (!s) return false;
  edit::FillBetweenSlices op;
  op.label = activeValue_;
  auto axis = lastAxis_.find(activeLayer_);
  op.axis = axis != lastAxis_.end() ? axis->second : 2;
  const auto drawn = s->editedSlices(activeValue_, op.axis);
  // Two or more drawn slices are the keys; otherwise every slice holding the label is.
  if (drawn.size() >= 2) op.keySlices = drawn;
  op.rule = panel_->settings().rule;
  const bool changed = runOperation(op);
  if (changed) s->clearEditedSlices(activeValue_, op.axis);
  return changed;
}

void EditPresenter::refreshLabels() {
  std::vector<EditPanel::LabelItem> items;
  if (workspace_)
    for (const Layer& layer : workspace_->layers()) {
      const edit::EditSession* s = session(layer.id);
      for (const LabelEntry& e : layer.table.entries()) {
        const LabelDisplay* d = workspace_->labelDisplay(layer.id, e.value);
        items.push_back({layer.id, e.value,
                         QString("%1 — %2").arg(QString::fromStdString(e.name), layer.name),
                         d ? d->color : toQColor(e.color), s && s->isLocked(e.value)});
      }
    }
  panel_->setLabels(items, activeLayer_, activeValue_);
}

void EditPresenter::refreshHistory() {
  const edit::EditSession* s = session(activeLayer_);
  const QString undoName = s ? QString::fromStdString(s->undoName()) : QString();
  const QString redoName = s ? QString::fromStdString(s->redoName()) : QString();
  undo_->setEnabled(!undoName.isEmpty());
  redo_->setEnabled(!redoName.isEmpty());
  undo_->setText(undoName.isEmpty() ? tr("&Undo") : tr("&Undo %1").arg(undoName));
  redo_->setText(redoName.isEmpty() ? tr("&Redo") : tr("&Redo %1").arg(redoName));
  if (s)
    panel_->setHistory(s->undoStore().undoNames(), s->undoStore().redoNames());
  else
    panel_->setHistory({}, {});
}

void EditPresenter::onLayersChanged() {
  // A layer that is gone, or whose voxels were replaced, ends its session.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const Layer* layer = workspace_->layer(it->first);
    if (!layer || layer->mask.raw() != it->second->layer().raw())
      it = sessions_.erase(it);
    else
      ++it;
  }
  // Meshes still being made for a layer that is gone are dropped.
  for (auto& [id, generation] : remeshGeneration_)
    if (!workspace_->layer(id)) ++generation;
  const Layer* active = workspace_->layer(activeLayer_);
  if (!active || !active->table.find(activeValue_)) {
    activeLayer_ = activeValue_ = 0;
    // The newest layer's first label, so the brush has something to paint.
    if (!workspace_->layers().empty() && !workspace_->layers().back().table.empty()) {
      activeLayer_ = workspace_->layers().back().id;
      activeValue_ = workspace_->layers().back().table.entries().front().value;
    }
  }
  refreshLabels();
  refreshHistory();
}

void EditPresenter::scheduleRemesh(int layerId, const std::vector<int>& labels) {
  auto& pending = pendingRemesh_[layerId];
  if (labels.empty()) {
    if (const Layer* layer = workspace_ ? workspace_->layer(layerId) : nullptr)
      for (const LabelEntry& e : layer->table.entries()) pending.insert(e.value);
  } else {
    pending.insert(labels.begin(), labels.end());
  }
  remeshTimer_->start();
}

void EditPresenter::remesh() {
  if (!workspace_) return;
  auto pending = std::move(pendingRemesh_);
  pendingRemesh_.clear();
  for (const auto& [layerId, values] : pending) {
    const Layer* layer = workspace_->layer(layerId);
    edit::EditSession* s = session(layerId);
    if (!layer || values.empty()) continue;
    if (s && s->strokeActive()) {  // painting goes on: later
      pendingRemesh_[layerId].insert(values.begin(), values.end());
      remeshTimer_->start();
      continue;
    }
    MeshOptions options = meshOptions_;
    options.maskName = layer->name.toStdString();
    for (int v : values) {
      if (layer->voxelCount(v) > 0) {
        options.labels.push_back(v);
      } else if (const LabelEntry* e = layer->table.find(v)) {
        // An emptied label shows no surface.
        LabelMesh empty;
        empty.value = v;
        empty.name = e->name;
        empty.color = e->color;
        empty.surface = vtkSmartPointer<vtkPolyData>::New();
        workspace_->setMesh(layerId, empty);
      }
    }
    if (options.labels.empty()) continue;
    const int generation = ++remeshGeneration_[layerId];
    // The worker meshes a snapshot: editing goes on meanwhile.
    const Volume mask = layer->mask.clone();
    const LabelTable table = layer->table;
    auto* job = new BackgroundJob(
        tr("Re-meshing %1 (%2 labels)").arg(layer->name).arg(options.labels.size()), this);
    QPointer<EditPresenter> self(this);
    track(job);
    job->start([self, mask, table, options, layerId, generation](const Progress& progress) {
      buildLabelMeshes(mask, table, options, progress, [&](const LabelMesh& mesh) {
        postToGui(self, [self, layerId, generation, mesh] {
          if (self->remeshGeneration_[layerId] == generation && self->workspace_)
            self->workspace_->setMesh(layerId, mesh);
        });
      });
    });
  }
}

void EditPresenter::track(BackgroundJob* job) {
  jobsRunning_.removeIf([](const QPointer<BackgroundJob>& j) { return !j; });
  jobsRunning_.append(job);
  connect(job, &BackgroundJob::finished, job, &QObject::deleteLater);
  if (jobs_) jobs_->track(job);
}

bool EditPresenter::busy() const {
  if (remeshTimer_->isActive()) return true;
  for (const auto& j : jobsRunning_)
    if (j && j->isRunning()) return true;
  return false;
}

QString EditPresenter::saveCorrection() {
  const Layer* layer = workspace_ ? workspace_->layer(activeLayer_) : nullptr;
  edit::EditSession* s = session(activeLayer_);
  if (!layer || !s) {
    panel_->showMessage(tr("Nothing has been edited: there is no correction to save"), true);
    return {};
  }
  if (layer->sourcePath.isEmpty()) {
    panel_->showMessage(tr("%1 was not read from a file: export it instead").arg(layer->name), true);
    return {};
  }
  if (s->strokeActive()) finishStroke(activeLayer_);
  edit::CorrectionInfo info;
  info.reviewer = preferences_ ? preferences_->reviewerName().toStdString() : std::string();
  try {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const edit::SavedCorrection saved =
        edit::saveCorrection(*s, layer->sourcePath.toStdString(), info);
    QApplication::restoreOverrideCursor();
    s->markSaved();
    const QString path = QString::fromStdString(saved.maskPath);
    savedVersion_[activeLayer_] = path;
    QStringList changes;
    for (const auto& [name, c] : saved.changes)
      changes << QString("%1 %2 mL").arg(QString::fromStdString(name)).arg(c.changeMl, 0, 'f', 2);
    const QString text = tr("Saved %1 (%2 voxels changed%3)")
                             .arg(QFileInfo(path).fileName())
                             .arg(saved.voxelsChanged)
                             .arg(changes.isEmpty() ? QString() : ": " + changes.join(", "));
    panel_->showMessage(text);
    if (jobs_) jobs_->log(text);
    review_->refresh();
    return path;
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    fail(e);
    return {};
  }
}

BackgroundJob* EditPresenter::exportDicomSeg(const QString& path) {
  const Layer* layer = workspace_ ? workspace_->layer(activeLayer_) : nullptr;
  if (!layer) {
    panel_->showMessage(tr("Choose the layer to export in the label table"), true);
    return nullptr;
  }
  // The SEG describes a file on disk: an edited layer is saved as a correction first.
  QString maskPath = savedVersion_.count(activeLayer_) ? savedVersion_[activeLayer_] : layer->sourcePath;
  if (const edit::EditSession* s = session(activeLayer_); s && s->modifiedSinceSave()) {
    maskPath = saveCorrection();
    if (maskPath.isEmpty()) return nullptr;
  }
  const Volume mask = layer->mask.clone();
  const LabelTable table = layer->table;
  const std::string reviewer = preferences_ ? preferences_->reviewerName().toStdString() : "";
  const std::string source = maskPath.toStdString(), target = path.toStdString();
  auto* job = new BackgroundJob(tr("Exporting DICOM SEG %1").arg(QFileInfo(path).fileName()), this);
  QPointer<EditPresenter> self(this);
  track(job);
  connect(job, &BackgroundJob::finished, this,
          [this](BackgroundJob::Outcome outcome, const QString& message) {
            if (outcome == BackgroundJob::Outcome::Failed) panel_->showMessage(message, true);
          });
  job->start([self, mask, table, source, target, reviewer](const Progress& progress) {
    const handoff::SegExportReport report =
        handoff::writeDicomSegForMask(mask, table, source, target, {}, reviewer, progress);
    const QString text = QString::fromStdString(target + ": " + report.summary);
    postToGui(self, [self, text] {
      self->panel_->showMessage(text);
      if (self->jobs_) self->jobs_->log(text);
    });
  });
  return job;
}

void EditPresenter::openCase(const edit::ReviewCase& reviewCase) {
  std::vector<StudyFile> files;
  const QDir folder(QString::fromStdString(reviewCase.folder));
  QFile provenance(folder.filePath("provenance.json"));
  if (provenance.open(QIODevice::ReadOnly)) {
    const QJsonObject phases =
        QJsonDocument::fromJson(provenance.readAll()).object().value("phases").toObject();
    for (auto it = phases.begin(); it != phases.end(); ++it) {
      const auto phase = phaseFromLetter(it.key());
      QString file = it.value().toObject().value("file").toString();
      if (!phase || file.isEmpty()) continue;
      if (QFileInfo(file).isRelative()) file = folder.filePath(file);
      if (!QFileInfo::exists(file)) continue;
      files.push_back({file, roleOfPhase(*phase)});
    }
  }
  for (const std::string& m : reviewCase.masks)
    files.push_back({QString::fromStdString(m), FileRole::Mask});
  if (files.empty() || !openCase_) {
    panel_->showMessage(tr("%1: nothing to open").arg(QString::fromStdString(reviewCase.name)), true);
    return;
  }
  openCase_(files);
}

}  // namespace nephro::widgets
