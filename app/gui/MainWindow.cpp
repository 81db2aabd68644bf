#include "gui/MainWindow.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSlider>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

#include "common/Error.h"
#include "common/Resources.h"
#include "gui/PreferencesDialog.h"
#include "gui/StudyImportDialog.h"
#include "image/VolumeIO.h"
#include "labels/SegNrrd.h"
#include "mesh/LabelMesher.h"
#include "viewers/MeshPanel.h"
#include "widgets/LayerExport.h"
#include "widgets/StatusReadout.h"
#include "widgets/edit/EditPresenter.h"

namespace nephro::gui {

using viewers::SliceAxis;
using widgets::BackgroundJob;
using widgets::Phase;

namespace {

QFrame* framed(QWidget* view) {
  auto* frame = new QFrame;
  frame->setObjectName("viewFrame");
  auto* l = new QVBoxLayout(frame);
  l->setContentsMargins(1, 1, 1, 1);
  l->addWidget(view);
  return frame;
}

QString modelsFolder() {
  try {
    return QString::fromStdString(modelsDir());
  } catch (const std::exception&) {
    return {};
  }
}

}  // namespace

MainWindow::MainWindow(std::unique_ptr<widgets::Preferences> preferences, QWidget* parent)
    : QMainWindow(parent),
      preferences_(preferences ? std::move(preferences)
                               : std::make_unique<widgets::Preferences>()) {
  setObjectName("mainWindow");
  setWindowTitle("Nephro3D");
  setAcceptDrops(true);
  setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks);
  workspace_ = new widgets::WorkspaceModel(this);
  overlayOptions_.fillOpacity = preferences_->overlayOpacity();
  overlayOptions_.outline = preferences_->overlayOutline();

  createViews();
  createDocks();
  createActions();
  setViewLayout(preferences_->defaultLayout());

  connect(workspace_, &widgets::WorkspaceModel::phasesChanged, this, [this] {
    refreshPhaseSelector();
    refreshSliceVolumes();
    QSet<QString> phases;
    for (Phase p : workspace_->loadedPhases()) phases << widgets::phaseLetter(p);
    modelPanel_->setLoadedPhases(phases);
  });
  connect(workspace_, &widgets::WorkspaceModel::currentPhaseChanged, this, [this] {
    refreshPhaseSelector();
    refreshSliceVolumes();
  });
  connect(workspace_, &widgets::WorkspaceModel::layersChanged, this, &MainWindow::refreshOverlays);
  connect(workspace_, &widgets::WorkspaceModel::layerVisibilityChanged, this, [this](int layerId) {
    refreshOverlays();
    if (const auto* layer = workspace_->layer(layerId))
      for (const auto& [value, mesh] : layer->meshes) refreshMeshStyle(layerId, value);
  });
  connect(workspace_, &widgets::WorkspaceModel::labelDisplayChanged, this,
          [this](int layerId, int value) {
            refreshOverlays();
            refreshMeshStyle(layerId, value);
          });
  connect(workspace_, &widgets::WorkspaceModel::meshAdded, this, &MainWindow::onMeshAdded);
  connect(workspace_, &widgets::WorkspaceModel::meshesCleared, this,
          [this](int layerId) { meshView_->removeMeshesWithPrefix(QString("%1:").arg(layerId)); });

  const QByteArray geometry = preferences_->windowGeometry();
  if (!geometry.isEmpty())
    restoreGeometry(geometry);
  else
    resize(1560, 980);
  const QByteArray state = preferences_->windowState();
  if (!state.isEmpty()) restoreState(state);
  statusBar()->showMessage(tr("Open a study: File ▸ Open, or drop files and folders here"));
  connect(workspace_, &widgets::WorkspaceModel::phasesChanged, statusBar(),
          &QStatusBar::clearMessage);
}

MainWindow::~MainWindow() {
  // Workers post results to this window: stop them before it goes.
  for (auto& job : jobs_)
    if (job) job->cancel();
  for (auto& job : jobs_)
    if (job) job->wait();
}

void MainWindow::createViews() {
  for (int i = 0; i < 3; ++i) {
    auto* view = new viewers::SliceView(SliceAxis(i), this);
    view->setWindowLevel(windowLevel_);
    view->setOverlayOptions(overlayOptions_);
    slices_[size_t(i)] = view;
    connect(view, &viewers::SliceView::cursorMoved, this, &MainWindow::setCursorEverywhere);
    connect(view, &viewers::SliceView::hovered, this, [this](const Vec3& p) { showHover(p); });
    connect(view, &viewers::SliceView::hoverLeft, this, [this] { showHover(std::nullopt); });
    connect(view, &viewers::SliceView::windowLevelChanged, this, &MainWindow::setWindowLevel);
    viewFrames_[size_t(i)] = framed(view);
  }
  auto* meshPanel = new viewers::MeshPanel(this);
  meshView_ = meshPanel->view();
  connect(meshPanel, &viewers::MeshPanel::screenshotRequested, this, [this] { saveMeshScreenshot(); });
  viewFrames_[3] = framed(meshPanel);

  viewArea_ = new QWidget(this);
  viewGrid_ = new QGridLayout(viewArea_);
  viewGrid_->setContentsMargins(2, 2, 2, 2);
  viewGrid_->setSpacing(3);
  setCentralWidget(viewArea_);
}

void MainWindow::createDocks() {
  // Left: study tools (models, post-processing).
  modelPanel_ = new widgets::ModelPanel(this);
  const QString models = modelsFolder();
  catalog_ = std::make_shared<widgets::ManifestCatalog>(models);
  modelPanel_->setCatalog(catalog_);
  modelPanel_->setCurrentDevice(preferences_->device());
  modelPanel_->setRunnable(false, tr("This build has no inference engine"));
  connect(modelPanel_, &widgets::ModelPanel::runRequested, this, &MainWindow::runModels);
  connect(modelPanel_, &widgets::ModelPanel::deviceChanged, this,
          [this](const QString& d) { preferences_->setDevice(d); });
  postPanel_ = new widgets::PostPanelHost(this);
  studyPanel_ = new widgets::StudyPanel(workspace_, this);
  connect(studyPanel_, &widgets::StudyPanel::rebuildMeshesRequested, this,
          [this](int id) { buildMeshes(id); });
  auto* tools = new QTabWidget(this);
  tools->addTab(studyPanel_, tr("Study"));
  tools->addTab(modelPanel_, tr("Models"));
  tools->addTab(postPanel_, tr("Post-processing"));
  auto* toolsDock = new QDockWidget(tr("Workspace"), this);
  toolsDock->setObjectName("toolsDock");
  toolsDock->setWidget(tools);
  addDockWidget(Qt::LeftDockWidgetArea, toolsDock);

  // Right: label table above the plots.
  labelModel_ = new widgets::LabelTableModel(workspace_, this);
  labelView_ = new widgets::LabelTableView(this);
  labelView_->setLabelModel(labelModel_);
  plots_ = new widgets::PlotsPanel(workspace_, this);
  connect(labelView_, &widgets::LabelTableView::selectedLabelsChanged, this,
          [this] { plots_->setSelectedLabels(labelView_->selectedLabels()); });
  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(labelView_);
  right->addWidget(plots_);
  right->setStretchFactor(0, 1);
  right->setStretchFactor(1, 1);
  auto* labelsDock = new QDockWidget(tr("Labels"), this);
  labelsDock->setObjectName("labelsDock");
  labelsDock->setWidget(right);
  labelsDock->setMinimumWidth(360);
  addDockWidget(Qt::RightDockWidgetArea, labelsDock);

  // Bottom: jobs and their log.
  jobPanel_ = new widgets::JobPanel(this);
  // Post-processing recomputes follow the panel's sliders; their jobs and reports go to the log.
  postController_ = new widgets::PostController(workspace_, postPanel_, this);
  MeshOptions postMeshOptions;
  postMeshOptions.smoothing = preferences_->smoothingFactor();
  postController_->setMeshOptions(postMeshOptions);
  connect(postController_, &widgets::PostController::jobStarted, this,
          [this](BackgroundJob* job) { jobPanel_->track(job); });
  connect(postController_, &widgets::PostController::logLine, jobPanel_, &widgets::JobPanel::log);
  auto* jobsDock = new QDockWidget(tr("Jobs"), this);
  jobsDock->setObjectName("jobsDock");
  jobsDock->setWidget(jobPanel_);
  addDockWidget(Qt::BottomDockWidgetArea, jobsDock);
  resizeDocks({jobsDock}, {130}, Qt::Vertical);
  // Correction and review: the Edit and Review docks, the slice views' tools.
  editPresenter_ = new widgets::EditPresenter(workspace_, slices_, preferences_.get(), this);
  editPresenter_->attachLabelTable(labelView_);
  editPresenter_->setJobPanel(jobPanel_);
  editPresenter_->setMeshOptions(postMeshOptions);
  editPresenter_->setCaseOpener([this](const auto& files) { openStudy(files); });
  editPresenter_->addDocks(this);
  resizeDocks({toolsDock, labelsDock}, {250, 400}, Qt::Horizontal);

  readout_ = new widgets::StatusReadout(workspace_, statusBar());
}

void MainWindow::createActions() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("Open study &files…"), QKeySequence::Open, this, &MainWindow::openFilesDialog);
  file->addAction(tr("Open study f&older…"), QKeySequence(tr("Ctrl+Shift+O")), this,
                  &MainWindow::openFolderDialog);
  file->addAction(tr("Open &mask layer…"), QKeySequence(tr("Ctrl+M")), this,
                  &MainWindow::openMaskDialog);
  recentMenu_ = file->addMenu(tr("&Recent studies"));
  updateRecentMenu();
  editPresenter_->installMenus(menuBar(), file);
  file->addSeparator();
  file->addAction(tr("Export mask as &NIfTI…"), this, [this] { exportMask(false); });
  file->addAction(tr("Export mask as 3D Slicer &segmentation…"), this,
                  [this] { exportMask(true); });
  file->addAction(tr("Export m&eshes…"), this, &MainWindow::exportMeshes);
  file->addAction(tr("Save 3D &screenshot…"), this, &MainWindow::saveMeshScreenshot);
  file->addSeparator();
  file->addAction(tr("Close study"), this, [this] {
    jobPanel_->cancelAll();
    workspace_->clear();
    ++studyGeneration_;
  });
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QToolBar* bar = addToolBar(tr("View"));
  bar->setObjectName("viewToolbar");
  bar->setMovable(false);
  bar->addAction(tr("Open"), this, &MainWindow::openFilesDialog);
  bar->addSeparator();
  bar->addWidget(new QLabel(tr(" Phase "), bar));
  phaseSelector_ = new QComboBox(bar);
  phaseSelector_->setObjectName("phaseSelector");
  phaseSelector_->setMinimumWidth(120);
  phaseSelector_->setToolTip(tr("Phase shown in the slice views"));
  connect(phaseSelector_, &QComboBox::activated, this, [this](int i) {
    workspace_->setCurrentPhase(Phase(phaseSelector_->itemData(i).toInt()));
  });
  bar->addWidget(phaseSelector_);
  bar->addWidget(new QLabel(tr("  Window "), bar));
  presetSelector_ = new QComboBox(bar);
  presetSelector_->setObjectName("presetSelector");
  for (const auto& p : viewers::windowPresets())
    presetSelector_->addItem(
        QString("%1  (%2 / %3)").arg(p.name).arg(p.value.window).arg(p.value.level), p.name);
  presetSelector_->addItem(tr("Custom"), QString());
  presetSelector_->setToolTip(tr("Window/level preset; right-drag in a slice view to adjust"));
  connect(presetSelector_, &QComboBox::activated, this, [this](int i) {
    const QString name = presetSelector_->itemData(i).toString();
    if (!name.isEmpty()) applyWindowPreset(name);
  });
  bar->addWidget(presetSelector_);
  bar->addWidget(new QLabel(tr("  Overlay "), bar));
  opacitySlider_ = new QSlider(Qt::Horizontal, bar);
  opacitySlider_->setObjectName("overlayOpacity");
  opacitySlider_->setRange(0, 100);
  opacitySlider_->setFixedWidth(110);
  opacitySlider_->setValue(int(std::lround(overlayOptions_.fillOpacity * 100)));
  opacitySlider_->setToolTip(tr("Overlay fill opacity"));
  connect(opacitySlider_, &QSlider::valueChanged, this, [this](int v) {
    overlayOptions_.fillOpacity = v / 100.0;
    for (auto* s : slices_) s->setOverlayOptions(overlayOptions_);
  });
  bar->addWidget(opacitySlider_);
  outlineAction_ = bar->addAction(tr("Outline"));
  outlineAction_->setCheckable(true);
  outlineAction_->setChecked(overlayOptions_.outline);
  outlineAction_->setToolTip(tr("Draw label outlines at full opacity"));
  connect(outlineAction_, &QAction::toggled, this, [this](bool on) {
    overlayOptions_.outline = on;
    for (auto* s : slices_) s->setOverlayOptions(overlayOptions_);
  });
  bar->addSeparator();
  auto* layouts = new QActionGroup(this);
  layoutActions_[0] = bar->addAction(tr("1 + 3"));
  layoutActions_[0]->setToolTip(tr("One large view and three small ones"));
  layoutActions_[1] = bar->addAction(tr("2 × 2"));
  layoutActions_[1]->setToolTip(tr("Four equal views"));
  for (int i = 0; i < 2; ++i) {
    layoutActions_[i]->setCheckable(true);
    layouts->addAction(layoutActions_[i]);
    connect(layoutActions_[i], &QAction::triggered, this,
            [this, i] { setViewLayout(widgets::ViewLayout(i)); });
  }

  QMenu* view = menuBar()->addMenu(tr("&View"));
  view->addAction(layoutActions_[0]);
  view->addAction(layoutActions_[1]);
  QMenu* large = view->addMenu(tr("Large view"));
  const char* names[] = {"Axial", "Coronal", "Sagittal", "3D"};
  for (int i = 0; i < 4; ++i) large->addAction(tr(names[i]), this, [this, i] { setLargeView(i); });
  QMenu* presets = view->addMenu(tr("Window/level"));
  for (const auto& p : viewers::windowPresets())
    presets->addAction(p.name, this, [this, name = p.name] { applyWindowPreset(name); });
  view->addAction(tr("Reset slice views"), this, [this] {
    for (auto* s : slices_) s->resetView();
  });
  view->addSeparator();
  for (QDockWidget* dock : findChildren<QDockWidget*>()) view->addAction(dock->toggleViewAction());

  QMenu* meshes = menuBar()->addMenu(tr("&Meshes"));
  meshes->addAction(tr("&Rebuild meshes of the selected layer"), this, [this] {
    const int id = currentLayerId();
    if (id) buildMeshes(id);
  });

  QMenu* tools = menuBar()->addMenu(tr("&Tools"));
  tools->addAction(tr("&Preferences…"), QKeySequence::Preferences, this,
                   &MainWindow::showPreferences);
  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Mouse and keys"), this, [this] {
    QMessageBox::information(
        this, tr("Mouse and keys"),
        tr("<b>Slice views</b><br>Left click/drag: move the crosshair<br>Wheel, arrows, Page "
           "Up/Down: "
           "slices<br>Right drag: window (horizontal) and level (vertical)<br>Ctrl+wheel or "
           "Ctrl+right "
           "drag: zoom<br>Middle or Shift+left drag: pan<br>Double-click or R: fit<br><br><b>3D "
           "view</b><br>Left drag: rotate<br>Middle drag or Shift+left: pan<br>Wheel or right "
           "drag: zoom"));
  });
  help->addAction(tr("&About Nephro3D"), this, &MainWindow::showAbout);
}

void MainWindow::setViewLayout(widgets::ViewLayout layout) {
  layout_ = layout;
  layoutActions_[int(layout)]->setChecked(true);
  arrangeViews();
}

void MainWindow::setLargeView(int index) {
  largeView_ = std::clamp(index, 0, 3);
  if (layout_ != widgets::ViewLayout::OneLargeThreeSmall)
    setViewLayout(widgets::ViewLayout::OneLargeThreeSmall);
  else
    arrangeViews();
}

void MainWindow::arrangeViews() {
  for (QWidget* f : viewFrames_) viewGrid_->removeWidget(f);
  for (int i = 0; i < 4; ++i) {
    viewGrid_->setRowStretch(i, 0);
    viewGrid_->setColumnStretch(i, 0);
  }
  if (layout_ == widgets::ViewLayout::Grid2x2) {
    // Slicer's four-up: axial, 3D / coronal, sagittal.
    viewGrid_->addWidget(viewFrames_[0], 0, 0);
    viewGrid_->addWidget(viewFrames_[3], 0, 1);
    viewGrid_->addWidget(viewFrames_[1], 1, 0);
    viewGrid_->addWidget(viewFrames_[2], 1, 1);
    viewGrid_->setRowStretch(0, 1);
    viewGrid_->setRowStretch(1, 1);
    viewGrid_->setColumnStretch(0, 1);
    viewGrid_->setColumnStretch(1, 1);
  } else {
    viewGrid_->addWidget(viewFrames_[size_t(largeView_)], 0, 0, 3, 1);
    int row = 0;
    for (int i = 0; i < 4; ++i)
      if (i != largeView_) {
        viewGrid_->addWidget(viewFrames_[size_t(i)], row, 1);
        viewGrid_->setRowStretch(row++, 1);
      }
    viewGrid_->setColumnStretch(0, 2);
    viewGrid_->setColumnStretch(1, 1);
  }
  for (QWidget* f : viewFrames_) f->show();
}

void MainWindow::applyWindowPreset(const QString& name) {
  if (auto wl = viewers::findWindowPreset(name)) setWindowLevel(*wl);
}

void MainWindow::setWindowLevel(const viewers::WindowLevel& wl) {
  windowLevel_ = wl;
  for (auto* s : slices_) s->setWindowLevel(wl);
  int match = presetSelector_->count() - 1;
  for (int i = 0; i < int(viewers::windowPresets().size()); ++i)
    if (viewers::windowPresets()[size_t(i)].value == wl) match = i;
  presetSelector_->setCurrentIndex(match);
}

void MainWindow::refreshPhaseSelector() {
  const QSignalBlocker block(phaseSelector_);
  phaseSelector_->clear();
  for (Phase p : workspace_->loadedPhases())
    phaseSelector_->addItem(QString("%1 — %2").arg(widgets::phaseLetter(p), widgets::phaseName(p)),
                            int(p));
  phaseSelector_->setCurrentIndex(phaseSelector_->findData(int(workspace_->currentPhase())));
  phaseSelector_->setEnabled(phaseSelector_->count() > 1);
  QStringList names;
  for (Phase p : workspace_->loadedPhases())
    names << QFileInfo(workspace_->phasePath(p)).fileName();
  readout_->setStudyText(names.isEmpty() ? tr("No study") : names.join("  ·  "));
}

void MainWindow::refreshSliceVolumes() {
  const Volume& v = workspace_->currentVolume();
  const Phase p = workspace_->currentPhase();
  const QString caption = v.empty() ? QString() : widgets::phaseName(p);
  for (auto* s : slices_) s->setVolume(v, caption);
  if (!v.empty()) setCursorEverywhere(slices_[0]->cursorPosition());
}

void MainWindow::refreshOverlays() {
  std::vector<viewers::OverlayLayer> overlays;
  for (const widgets::Layer& layer : workspace_->layers()) {
    viewers::OverlayLayer o;
    o.mask = layer.mask;
    o.visible = layer.visible;
    const int maxValue = layer.display.empty() ? 0 : layer.display.rbegin()->first;
    o.styles.resize(size_t(maxValue + 1));
    for (const auto& [value, d] : layer.display)
      if (value > 0) o.styles[size_t(value)] = viewers::LabelStyle{d.color, d.opacity, d.visible};
    overlays.push_back(std::move(o));
  }
  for (auto* s : slices_) s->setOverlays(overlays);
}

QString MainWindow::meshKey(int layerId, int value) const {
  return QString("%1:%2").arg(layerId).arg(value);
}

void MainWindow::onMeshAdded(int layerId, int value) {
  const widgets::Layer* layer = workspace_->layer(layerId);
  const widgets::LabelDisplay* d = workspace_->labelDisplay(layerId, value);
  if (!layer || !d) return;
  auto it = layer->meshes.find(value);
  if (it == layer->meshes.end() || !it->second.surface) return;
  meshView_->setMesh(meshKey(layerId, value), it->second.surface, d->color, d->opacity,
                     d->visible && layer->visible);
}

void MainWindow::refreshMeshStyle(int layerId, int value) {
  const widgets::Layer* layer = workspace_->layer(layerId);
  const widgets::LabelDisplay* d = workspace_->labelDisplay(layerId, value);
  if (!layer || !d) return;
  meshView_->setMeshStyle(meshKey(layerId, value), d->color, d->opacity,
                          d->visible && layer->visible);
}

void MainWindow::setCursorEverywhere(const Vec3& lps) {
  for (auto* s : slices_) s->setCursorPosition(lps);
  if (!readout_->hovering()) showHover(std::nullopt);
}

void MainWindow::showHover(const std::optional<Vec3>& hover) {
  readout_->show(hover, slices_[0]->cursorPosition());
}

int MainWindow::currentLayerId() const {
  if (const int id = studyPanel_->selectedLayer()) return id;
  const auto selected = labelView_->selectedLabels();
  if (!selected.empty()) return selected.front().first;
  return workspace_->layers().empty() ? 0 : workspace_->layers().back().id;
}

void MainWindow::startJob(BackgroundJob* job, BackgroundJob::Work work) {
  jobs_.removeIf([](const QPointer<BackgroundJob>& j) { return !j; });
  jobs_.append(job);
  connect(job, &BackgroundJob::finished, job, &QObject::deleteLater);
  job->start(std::move(work));
  jobPanel_->track(job);
}

bool MainWindow::busy() const {
  for (const auto& j : jobs_)
    if (j && j->isRunning()) return true;
  return false;
}

void MainWindow::openStudy(const std::vector<widgets::StudyFile>& files) {
  std::vector<widgets::StudyFile> wanted;
  for (const auto& f : files)
    if (f.role != widgets::FileRole::Ignore) wanted.push_back(f);
  if (wanted.empty()) return;
  // A new set of phases starts a new study; masks alone join the current one.
  const bool newStudy = std::any_of(wanted.begin(), wanted.end(), [](const widgets::StudyFile& f) {
    return f.role != widgets::FileRole::Mask;
  });
  if (newStudy) {
    jobPanel_->cancelAll();
    workspace_->clear();
    ++studyGeneration_;
    const QString first = wanted.front().path;
    preferences_->addRecentStudy(wanted.size() > 1 ? QFileInfo(first).absolutePath() : first);
    updateRecentMenu();
  }
  auto* job = new BackgroundJob(tr("Reading study"), this);
  QPointer<MainWindow> self(this);
  const int generation = studyGeneration_;
  startJob(job, [self, wanted, generation](const Progress& progress) {
    const double share = 1.0 / double(wanted.size());
    for (size_t i = 0; i < wanted.size(); ++i) {
      progress.throwIfCancelled();
      const widgets::StudyFile f = wanted[i];
      const std::string path = f.path.toStdString();
      const Progress sub = progress.sub(i * share, (i + 1) * share);
      sub.report(0, "reading " + QFileInfo(f.path).fileName().toStdString());
      if (auto phase = widgets::phaseOfRole(f.role)) {
        Volume v = readVolume(path, {}, sub);
        if (!isIntegerType(v.pixelType()) && v.pixelType() != PixelType::Float32)
          throw inputError(path, "is not a scalar CT image");
        widgets::postToGui(self, [self, phase, v, f, generation] {
          // A study opened since then replaces this one.
          if (self->studyGeneration_ != generation) return;
          self->workspace_->setPhase(*phase, v, f.path);
        });
      } else {
        Volume mask;
        LabelTable table;
        if (f.path.endsWith(".seg.nrrd", Qt::CaseInsensitive)) {
          std::tie(mask, table) = readSegNrrd(path);
        } else {
          mask = readVolume(path, {}, sub);
          if (!isIntegerType(mask.pixelType()))
            throw inputError(path, "is not an integer label map");
          table = LabelTable::hasSidecar(path) ? LabelTable::readSidecar(path) : LabelTable{};
          if (!table.empty()) table.checkCovers(mask, path);
        }
        const QString name = widgets::imageBaseName(f.path);
        widgets::postToGui(self, [self, mask, table, name, f, generation] {
          if (self->studyGeneration_ != generation) return;
          const int id = self->workspace_->addLayer(name, mask, table, f.path);
          self->buildMeshes(id);
        });
      }
      sub.report(1, "read " + QFileInfo(f.path).fileName().toStdString());
    }
  });
}

void MainWindow::openPaths(const QStringList& paths) {
  const auto files = widgets::classifyStudyFiles(paths);
  if (files.empty()) {
    QMessageBox::warning(this, tr("Open study"),
                         tr("No image files found in %1").arg(paths.join(", ")));
    return;
  }
  StudyImportDialog dialog(files, this);
  if (dialog.exec() == QDialog::Accepted) openStudy(dialog.files());
}

BackgroundJob* MainWindow::buildMeshes(int layerId) {
  const widgets::Layer* layer = workspace_->layer(layerId);
  if (!layer) return nullptr;
  workspace_->clearMeshes(layerId);
  MeshOptions options;
  options.smoothing = preferences_->smoothingFactor();
  const Volume mask = layer->mask;
  const LabelTable table = layer->table;
  auto* job = new BackgroundJob(tr("Meshing %1").arg(layer->name), this);
  QPointer<MainWindow> self(this);
  startJob(job, [self, mask, table, options, layerId](const Progress& progress) {
    buildLabelMeshes(mask, table, options, progress, [self, layerId](const LabelMesh& mesh) {
      // Each mesh is shown as soon as it exists.
      widgets::postToGui(self, [self, layerId, mesh] { self->workspace_->setMesh(layerId, mesh); });
    });
  });
  return job;
}

void MainWindow::setModelEngine(std::shared_ptr<widgets::ModelCatalog> catalog,
                                ModelRunFunction run) {
  catalog_ = std::move(catalog);
  runModel_ = std::move(run);
  modelPanel_->setCatalog(catalog_);
  modelPanel_->setCurrentDevice(preferences_->device());
  modelPanel_->setRunnable(bool(runModel_), tr("This build has no inference engine"));
  QSet<QString> phases;
  for (Phase p : workspace_->loadedPhases()) phases << widgets::phaseLetter(p);
  modelPanel_->setLoadedPhases(phases);
}

void MainWindow::runModels(const QStringList& models, const QString& device) {
  if (!runModel_ || models.isEmpty()) return;
  std::map<std::string, std::string> phaseFiles;
  for (Phase p : workspace_->loadedPhases()) {
    const QString path = workspace_->phasePath(p);
    if (!path.isEmpty()) phaseFiles[widgets::phaseLetter(p).toStdString()] = path.toStdString();
  }
  if (phaseFiles.empty()) return;
  // Results go to a folder of this session; each becomes a layer as soon as it is written.
  const QString outDir = QDir::temp().filePath(QString("nephro3d-%1-%2")
                                                   .arg(QCoreApplication::applicationPid())
                                                   .arg(QDateTime::currentMSecsSinceEpoch()));
  auto* job = new BackgroundJob(tr("Running %1").arg(models.join(", ")), this);
  modelPanel_->setBusy(true);
  connect(job, &BackgroundJob::finished, this, [this] { modelPanel_->setBusy(false); });
  QPointer<MainWindow> self(this);
  const ModelRunFunction run = runModel_;
  const std::string dev = device.toStdString();
  const int generation = studyGeneration_;
  startJob(job, [self, run, models, phaseFiles, dev, outDir, generation](const Progress& progress) {
    std::vector<std::string> ids;
    for (const QString& m : models) ids.push_back(m.toStdString());
    // Each mask becomes a layer while the engine goes on with the next model.
    auto written = [self, generation](const std::string& id, const std::string& out) {
      Volume mask = readVolume(out);
      const LabelTable table = LabelTable::hasSidecar(out) ? LabelTable::readSidecar(out) : LabelTable{};
      const QString name = QString::fromStdString(id);
      const QString path = QString::fromStdString(out);
      widgets::postToGui(self, [self, mask, table, name, path, generation] {
        if (self->studyGeneration_ != generation) return;
        const int layerId = self->workspace_->addLayer(name, mask, table, path);
        self->buildMeshes(layerId);
      });
    };
    run(ids, phaseFiles, dev, outDir.toStdString(), written, progress);
  });
}

void MainWindow::openFilesDialog() {
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Open study files"), QString(),
      tr("Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd);;All files (*)"));
  if (!files.isEmpty()) openPaths(files);
}

void MainWindow::openFolderDialog() {
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Open study folder"));
  if (!folder.isEmpty()) openPaths({folder});
}

void MainWindow::openMaskDialog() {
  if (workspace_->loadedPhases().empty()) {
    QMessageBox::information(this, tr("Open mask"), tr("Open the study's images first."));
    return;
  }
  const QStringList files = QFileDialog::getOpenFileNames(
      this, tr("Open mask layers"), QString(),
      tr("Label maps (*.seg.nrrd *.nii *.nii.gz *.nrrd *.mha);;All files (*)"));
  std::vector<widgets::StudyFile> masks;
  for (const QString& f : files) masks.push_back({f, widgets::FileRole::Mask});
  openStudy(masks);
}

void MainWindow::exportMask(bool segNrrd) {
  const widgets::Layer* layer = workspace_->layer(currentLayerId());
  if (!layer) {
    QMessageBox::information(this, tr("Export mask"), tr("There is no mask layer to export."));
    return;
  }
  const QString suggested = layer->name + (segNrrd ? ".seg.nrrd" : ".nii.gz");
  QString path = QFileDialog::getSaveFileName(
      this, tr("Export %1").arg(layer->name), suggested,
      segNrrd ? tr("3D Slicer segmentation (*.seg.nrrd)") : tr("NIfTI (*.nii.gz *.nii)"));
  if (path.isEmpty()) return;
  // The format follows the extension: make it the one chosen.
  if (segNrrd && !path.endsWith(".seg.nrrd", Qt::CaseInsensitive)) path += ".seg.nrrd";
  if (!segNrrd && !path.endsWith(".nii.gz", Qt::CaseInsensitive) &&
      !path.endsWith(".nii", Qt::CaseInsensitive))
    path += ".nii.gz";
  // The exported table carries the colours as the user set them.
  const LabelTable table = widgets::displayedTable(*layer);
  const Volume mask = layer->mask;
  auto* job = new BackgroundJob(tr("Exporting %1").arg(QFileInfo(path).fileName()), this);
  const std::string target = path.toStdString();
  startJob(job, [mask, table, target](const Progress& progress) {
    widgets::exportMaskLayer(mask, table, target, progress);
  });
}

void MainWindow::exportMeshes() {
  const widgets::Layer* layer = workspace_->layer(currentLayerId());
  if (!layer || layer->meshes.empty()) {
    QMessageBox::information(this, tr("Export meshes"), tr("There are no meshes to export yet."));
    return;
  }
  const QStringList formats = {"obj", "stl", "ply", "vtp", "glb", "obj,stl,ply,vtp,glb"};
  bool ok = false;
  const QString format = QInputDialog::getItem(
      this, tr("Export meshes"), tr("Format (points in LPS millimetres)"), formats, 0, false, &ok);
  if (!ok) return;
  const QString folder = QFileDialog::getExistingDirectory(this, tr("Export meshes into"));
  if (folder.isEmpty()) return;
  std::vector<LabelMesh> meshes;
  for (const auto& [value, mesh] : layer->meshes) meshes.push_back(mesh);
  MeshWriteOptions options;
  options.formats = parseMeshFormats(format.toStdString());
  auto* job = new BackgroundJob(tr("Exporting meshes"), this);
  const std::string target = folder.toStdString();
  startJob(job, [meshes, target, options](const Progress& progress) {
    writeMeshes(meshes, target, options, progress);
  });
}

void MainWindow::saveMeshScreenshot() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save 3D screenshot"),
                                                    "nephro3d-3d.png", tr("PNG image (*.png)"));
  if (path.isEmpty()) return;
  if (!meshView_->saveScreenshot(path))
    QMessageBox::warning(this, tr("Screenshot"), tr("%1: cannot be written").arg(path));
  else
    jobPanel_->log(tr("3D screenshot saved to %1").arg(path));
}

void MainWindow::showPreferences() {
  PreferencesDialog dialog(*preferences_, catalog_->devices(), this);
  if (dialog.exec() != QDialog::Accepted) return;
  overlayOptions_.fillOpacity = preferences_->overlayOpacity();
  overlayOptions_.outline = preferences_->overlayOutline();
  opacitySlider_->setValue(int(std::lround(overlayOptions_.fillOpacity * 100)));
  outlineAction_->setChecked(overlayOptions_.outline);
  for (auto* s : slices_) s->setOverlayOptions(overlayOptions_);
  modelPanel_->setCurrentDevice(preferences_->device());
  MeshOptions postMeshOptions;
  postMeshOptions.smoothing = preferences_->smoothingFactor();
  postController_->setMeshOptions(postMeshOptions);
}

void MainWindow::showAbout() {
  QMessageBox::about(this, tr("About Nephro3D"),
                     tr("<b>Nephro3D</b><br>Kidney CT research workstation: multi-phase "
                        "studies, segmentation models, label meshes.<br>Qt %1, VTK 9, ITK 5.")
                         .arg(qVersion()));
}

void MainWindow::updateRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = preferences_->recentStudies();
  for (const QString& path : recent)
    recentMenu_->addAction(path, this, [this, path] { openPaths({path}); });
  if (recent.isEmpty())
    recentMenu_->addAction(tr("(none)"))->setEnabled(false);
  else {
    recentMenu_->addSeparator();
    recentMenu_->addAction(tr("Clear list"), this, [this] {
      preferences_->clearRecentStudies();
      updateRecentMenu();
    });
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  preferences_->setWindowGeometry(saveGeometry());
  preferences_->setWindowState(saveState());
  preferences_->sync();
  for (auto& job : jobs_)
    if (job) job->cancel();
  for (auto& job : jobs_)
    if (job) job->wait();
  event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
  if (event->mimeData()->hasUrls()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
  QStringList paths;
  for (const QUrl& url : event->mimeData()->urls())
    if (url.isLocalFile()) paths << url.toLocalFile();
  if (paths.isEmpty()) return;
  event->acceptProposedAction();
  // Masks dropped onto an open study join it without questions.
  const auto files = widgets::classifyStudyFiles(paths);
  const bool onlyMasks = std::all_of(files.begin(), files.end(), [](const widgets::StudyFile& f) {
    return f.role == widgets::FileRole::Mask;
  });
  if (onlyMasks && !workspace_->loadedPhases().empty())
    openStudy(files);
  else
    openPaths(paths);
}

}  // namespace nephro::gui
