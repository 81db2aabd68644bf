#include "gui/WorkspacePresenter.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QPointer>
#include <QRegularExpression>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "gui/MainWindow.h"
#include "gui/StudyPresenter.h"
#include "image/VolumeIO.h"
#include "widgets/LayerExport.h"
#include "widgets/StudyFiles.h"
#include "widgets/edit/EditPresenter.h"
#include "widgets/edit/ReviewPanel.h"

namespace nephro::gui {

using widgets::Phase;
using widgets::WorkspaceState;

namespace {

QString safeName(const QString& name) {
  static const QRegularExpression bad("[^A-Za-z0-9_.-]+");
  QString s = name;
  s.replace(bad, "_");
  return s.isEmpty() ? QString("layer") : s;
}

bool inside(const QString& file, const QString& folder) {
  return !folder.isEmpty() && QFileInfo(file).absoluteFilePath().startsWith(QDir(folder).absolutePath() + "/");
}

}  // namespace

WorkspacePresenter::WorkspacePresenter(MainWindow* window) : QObject(window), window_(window) {
  widgets::WorkspaceModel* ws = window_->workspace();
  connect(ws, &widgets::WorkspaceModel::layersChanged, this, [this, ws] {
    // A layer read from a file holds those voxels until something replaces them.
    for (const widgets::Layer& l : ws->layers())
      if (!savedMasks_.count(l.id) && !l.sourcePath.isEmpty()) savedMasks_[l.id] = l.mask.raw();
    markDirty();
  });
  connect(ws, &widgets::WorkspaceModel::labelDisplayChanged, this, &WorkspacePresenter::markDirty);
  connect(ws, &widgets::WorkspaceModel::layerVisibilityChanged, this, &WorkspacePresenter::markDirty);
  connect(ws, &widgets::WorkspaceModel::drawnCopiesChanged, this, &WorkspacePresenter::markDirty);
}

WorkspacePresenter::~WorkspacePresenter() = default;

void WorkspacePresenter::markDirty() {
  if (!restoring_ && !window_->workspace()->layers().empty()) dirty_ = true;
}

QString WorkspacePresenter::defaultFolder() const {
  const widgets::WorkspaceModel* ws = window_->workspace();
  for (Phase p : ws->loadedPhases()) {
    const QString path = ws->phasePath(p);
    if (path.isEmpty()) continue;
    QString base = widgets::imageBaseName(path);
    static const QRegularExpression phaseSuffix("[_-](A|P|D|arterial|portal|delayed)$",
                                                QRegularExpression::CaseInsensitiveOption);
    base.remove(phaseSuffix);
    return QFileInfo(path).absoluteDir().filePath((base.isEmpty() ? QString("study") : base) + "_workspace");
  }
  return {};
}

QString WorkspacePresenter::runFolder() {
  if (folder_.isEmpty()) {
    const QString beside = defaultFolder();
    if (!beside.isEmpty() && QDir().mkpath(beside) && QFileInfo(beside).isWritable()) {
      folder_ = beside;
    } else {
      // Nowhere to write beside the study: a folder that goes with the window; Save asks where.
      temp_ = std::make_unique<QTemporaryDir>(QDir::temp().filePath("nephro3d-workspace-XXXXXX"));
      if (!temp_->isValid()) {
        window_->showError(tr("No folder for the results: %1 cannot be created").arg(beside));
        return {};
      }
      folder_ = temp_->path();
    }
  }
  const QString stamp = QDateTime::currentDateTime().toString("yyyyMMdd-HHmmss");
  QString run = QDir(folder_).filePath("run-" + stamp);
  for (int i = 2; QFileInfo::exists(run); ++i) run = QDir(folder_).filePath(QString("run-%1-%2").arg(stamp).arg(i));
  if (!QDir().mkpath(run)) {
    window_->showError(tr("%1: cannot be created").arg(run));
    return {};
  }
  return run;
}

WorkspaceState WorkspacePresenter::captureState() const {
  const widgets::WorkspaceModel* ws = window_->workspace();
  WorkspaceState st;
  for (Phase p : ws->loadedPhases()) st.phases[widgets::phaseLetter(p)] = ws->phasePath(p);
  if (!ws->loadedPhases().empty()) st.currentPhase = widgets::phaseLetter(ws->currentPhase());
  for (const widgets::Layer& l : ws->layers()) {
    widgets::WorkspaceLayerState ls;
    ls.name = l.name;
    ls.file = l.sourcePath;
    ls.phase = l.phase;
    ls.visible = l.visible;
    for (const auto& [value, d] : l.display) ls.labels.push_back({value, d.color, d.opacity, d.visible});
    for (const auto& [name, layerId] : ws->chosenCopies())
      if (layerId == l.id) ls.drawnCopies << QString::fromStdString(name);
    st.layers.push_back(ls);
  }
  st.hasWindowLevel = true;
  st.window = window_->windowLevel().window;
  st.level = window_->windowLevel().level;
  if (!window_->meshView()->meshKeys().isEmpty()) {
    const auto c = window_->meshView()->camera();
    st.camera = {true, c.position, c.focalPoint, c.viewUp, c.viewAngle, c.parallelScale, c.parallel};
  }
  st.layout = widgets::layoutText(int(window_->viewLayout()));
  st.largeView = window_->largeView();
  st.docks = window_->saveState();
  return st;
}

bool WorkspacePresenter::save() {
  if (folder_.isEmpty() || isTemporary()) return saveAsDialog();
  return saveTo(folder_);
}

bool WorkspacePresenter::saveAsDialog() {
  const QString start = folder_.isEmpty() || isTemporary() ? defaultFolder() : folder_;
  const QString folder = QFileDialog::getSaveFileName(window_, tr("Save workspace as folder"), start);
  return !folder.isEmpty() && saveTo(folder);
}

bool WorkspacePresenter::saveTo(const QString& target) {
  widgets::WorkspaceModel* ws = window_->workspace();
  const QString folder = QFileInfo(target).absoluteFilePath();
  try {
    if (!QDir().mkpath(folder) || !QFileInfo(folder).isWritable())
      throw outputError(folder.toStdString(), "cannot be created or written");
    // Layers without a file of their own (or whose voxels changed, or that live
    // in a temporary folder) are written into the workspace, each with its table.
    OutputTransaction tx;
    std::vector<std::pair<int, QString>> written;
    QSet<QString> used;
    for (const widgets::Layer& l : ws->layers()) {
      const bool changed = savedMasks_.count(l.id) && savedMasks_[l.id] != l.mask.raw();
      const bool temporary = temp_ && inside(l.sourcePath, temp_->path()) && !inside(l.sourcePath, folder);
      if (!l.sourcePath.isEmpty() && QFileInfo::exists(l.sourcePath) && !changed && !temporary) continue;
      QString name = safeName(l.name);
      while (used.contains(name)) name += QString("_%1").arg(l.id);
      used.insert(name);
      const QString path = QDir(folder).filePath("layers/" + name + ".nii.gz");
      QDir().mkpath(QFileInfo(path).absolutePath());
      writeVolumeTo(l.mask, tx.stage(path.toStdString()));
      const std::string sidecar = LabelTable::sidecarPath(path.toStdString());
      writeFileAtomically(tx.stage(sidecar), widgets::displayedTable(l).toJson());
      written.emplace_back(l.id, path);
    }
    copyReviewState(tx, folder);
    tx.commit();
    for (const auto& [id, path] : written) {
      const bool wasRestoring = restoring_;
      restoring_ = true;
      ws->setLayerSource(id, path);
      restoring_ = wasRestoring;
      savedMasks_[id] = ws->layer(id)->mask.raw();
    }
    writeWorkspace(folder, captureState());
  } catch (const std::exception& e) {
    window_->showError(tr("Saving the workspace failed"), QString::fromStdString(e.what()));
    return false;
  }
  folder_ = folder;
  dirty_ = false;
  if (widgets::ReviewPanel* review = reviewPanel(); review && (review->showsWorkspace() || review->folder().isEmpty()))
    review->showWorkspace(folder);
  window_->preferences().addRecentWorkspace(folder);
  updateRecentMenu();
  window_->jobPanel()->log(tr("Workspace saved to %1").arg(folder));
  emit saved(folder);
  return true;
}

widgets::ReviewPanel* WorkspacePresenter::reviewPanel() const {
  return window_->editPresenter() ? window_->editPresenter()->reviewPanel() : nullptr;
}

void WorkspacePresenter::copyReviewState(OutputTransaction& tx, const QString& folder) const {
  // The review state of the case the Review panel shows (the workspace's own,
  // or a case of an output folder under review) goes with the workspace.
  const widgets::ReviewPanel* review = reviewPanel();
  const auto current = review ? review->currentCase() : std::nullopt;
  if (!current) return;
  const QString from =
      QDir(QString::fromStdString(review->cases()[*current].folder)).absoluteFilePath(edit::kReviewFileName);
  const QString to = QDir(folder).absoluteFilePath(edit::kReviewFileName);
  if (from == to || !QFileInfo::exists(from)) return;
  QFile f(from);
  if (!f.open(QIODevice::ReadOnly)) throw inputError(from.toStdString(), "cannot be read");
  writeFileAtomically(tx.stage(to.toStdString()), f.readAll().toStdString());
}

void WorkspacePresenter::openDialog() {
  const QString folder = QFileDialog::getExistingDirectory(window_, tr("Open workspace or run folder"));
  if (!folder.isEmpty()) open(folder);
}

void WorkspacePresenter::open(const QString& target) {
  const QString folder = QFileInfo(target).absoluteFilePath();
  WorkspaceState state;
  try {
    state = widgets::readWorkspace(folder);
  } catch (const std::exception& e) {
    window_->showError(tr("Opening the workspace failed"), QString::fromStdString(e.what()));
    return;
  }
  if (!confirmDiscard(tr("Open workspace"))) return;
  window_->studyPresenter()->resetStudy();
  folder_ = folder;
  temp_.reset();
  savedMasks_.clear();
  const int generation = window_->studyPresenter()->generation();
  auto* job = new widgets::BackgroundJob(tr("Opening workspace %1").arg(QFileInfo(folder).fileName()), window_);
  QPointer<WorkspacePresenter> self(this);
  window_->startJob(job, [self, state, folder, generation](const Progress& progress) {
    std::map<QString, Volume> phases;
    std::vector<LoadedLayer> layers;
    const double n = double(state.phases.size() + state.layers.size());
    int done = 0;
    for (auto it = state.phases.begin(); it != state.phases.end(); ++it, ++done) {
      progress.throwIfCancelled();
      progress.report(done / n, "reading " + QFileInfo(it.value()).fileName().toStdString());
      phases[it.key()] = readVolume(it.value().toStdString(), {}, progress.sub(done / n, (done + 1) / n));
    }
    for (const auto& l : state.layers) {
      progress.throwIfCancelled();
      const std::string path = l.file.toStdString();
      progress.report(done++ / n, "reading " + QFileInfo(l.file).fileName().toStdString());
      Volume mask = readVolume(path);
      if (!isIntegerType(mask.pixelType())) throw inputError(path, "is not an integer label map");
      LabelTable table = LabelTable::hasSidecar(path) ? LabelTable::readSidecar(path) : LabelTable{};
      if (!table.empty()) table.checkCovers(mask, path);
      layers.push_back({l, std::move(mask), std::move(table)});
    }
    widgets::postToGui(self, [self, state, layers, phases, folder, generation] {
      if (self->window_->studyPresenter()->generation() != generation) return;
      self->apply(state, layers, phases, folder);
    });
  });
}

void WorkspacePresenter::apply(const WorkspaceState& state, const std::vector<LoadedLayer>& layers,
                               const std::map<QString, Volume>& phases, const QString& folder) {
  widgets::WorkspaceModel* ws = window_->workspace();
  restoring_ = true;
  for (const auto& [letter, volume] : phases)
    if (auto p = widgets::phaseFromLetter(letter)) ws->setPhase(*p, volume, state.phases.value(letter));
  if (auto p = widgets::phaseFromLetter(state.currentPhase); p && ws->hasPhase(*p)) ws->setCurrentPhase(*p);
  if (!state.docks.isEmpty()) window_->restoreState(state.docks);
  const int layout = widgets::layoutFromText(state.layout);
  if (layout >= 0) window_->setViewLayout(widgets::ViewLayout(layout));
  if (layout == 0) window_->setLargeView(state.largeView);
  if (state.hasWindowLevel) window_->setWindowLevel(viewers::WindowLevel{state.window, state.level});
  if (state.camera.valid) {
    viewers::MeshView::Camera c;
    c.position = state.camera.position;
    c.focalPoint = state.camera.focalPoint;
    c.viewUp = state.camera.viewUp;
    c.viewAngle = state.camera.viewAngle;
    c.parallelScale = state.camera.parallelScale;
    c.parallel = state.camera.parallel;
    window_->meshView()->setCamera(c);
  }
  for (const LoadedLayer& l : layers) {
    const int id = ws->addLayer(l.state.name, l.mask, l.table, l.state.file);
    ws->setLayerPhase(id, l.state.phase);
    for (const auto& label : l.state.labels) {
      if (!ws->labelDisplay(id, label.value)) continue;
      if (label.color.isValid()) ws->setLabelColor(id, label.value, label.color);
      ws->setLabelOpacity(id, label.value, label.opacity);
      ws->setLabelVisible(id, label.value, label.visible);
    }
    ws->setLayerVisible(id, l.state.visible);
    for (const QString& name : l.state.drawnCopies) ws->setDrawnCopy(name.toStdString(), id);
    savedMasks_[id] = ws->layer(id)->mask.raw();
    window_->buildMeshes(id);
  }
  restoring_ = false;
  dirty_ = false;
  folder_ = folder;
  // The workspace's review state (review.json) in the Review panel.
  if (widgets::ReviewPanel* review = reviewPanel()) review->showWorkspace(folder);
  window_->preferences().addRecentWorkspace(folder);
  updateRecentMenu();
  window_->jobPanel()->log(tr("Workspace %1: %2 phase(s), %3 layer(s)").arg(folder).arg(phases.size()).arg(layers.size()));
  emit opened(folder);
}

bool WorkspacePresenter::ask(const QString& title, const QString& text, bool offerSave, Answer* answer) {
  if (prompt_) {
    *answer = prompt_(title, text, offerSave);
    return true;
  }
  const auto buttons = offerSave ? QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel
                                 : QMessageBox::Discard | QMessageBox::Cancel;
  const auto b = QMessageBox::warning(window_, title, text, buttons, QMessageBox::Cancel);
  *answer = b == QMessageBox::Save ? Answer::Save : b == QMessageBox::Discard ? Answer::Discard : Answer::Cancel;
  return true;
}

bool WorkspacePresenter::confirmDiscard(const QString& action) {
  const widgets::WorkspaceModel* ws = window_->workspace();
  if (!dirty_ || ws->layers().empty()) return true;
  QStringList names;
  for (const widgets::Layer& l : ws->layers()) names << l.name;
  Answer answer = Answer::Cancel;
  ask(action, tr("The workspace has unsaved changes (layers: %1). Save them first?").arg(names.join(", ")), true,
      &answer);
  if (answer == Answer::Save) return save();
  return answer == Answer::Discard;
}

bool WorkspacePresenter::confirmQuit() {
  if (window_->busy()) {
    Answer answer = Answer::Cancel;
    ask(tr("Quit"), tr("A job is still running (%1). Quit and cancel it?").arg(window_->jobPanel()->currentStep()),
        false, &answer);
    if (answer != Answer::Discard) return false;
  }
  return confirmDiscard(tr("Quit"));
}

void WorkspacePresenter::forgetFolder() {
  folder_.clear();
  temp_.reset();
  savedMasks_.clear();
  dirty_ = false;
}

void WorkspacePresenter::addActions(QMenu* file) {
  file->addAction(tr("Open &workspace…"), QKeySequence(tr("Ctrl+Shift+W")), this, &WorkspacePresenter::openDialog);
  recent_ = file->addMenu(tr("Recent work&spaces"));
  updateRecentMenu();
  file->addAction(tr("&Save workspace"), QKeySequence::Save, this, [this] { save(); });
  file->addAction(tr("Save workspace &as…"), QKeySequence::SaveAs, this, [this] { saveAsDialog(); });
}

void WorkspacePresenter::updateRecentMenu() {
  if (!recent_) return;
  recent_->clear();
  const QStringList recent = window_->preferences().recentWorkspaces();
  for (const QString& path : recent) recent_->addAction(path, this, [this, path] { open(path); });
  if (recent.isEmpty()) recent_->addAction(tr("(none)"))->setEnabled(false);
}

}  // namespace nephro::gui
