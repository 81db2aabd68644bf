#include "gui/MainWindow.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QScreen>
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
#include "gui/ExportPresenter.h"
#include "gui/HelpMenu.h"
#include "gui/LayerViewsPresenter.h"
#include "gui/MeshPanel.h"
#include "gui/StudyPresenter.h"
#include "gui/WorkspacePresenter.h"
#include "widgets/ErrorBanner.h"
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
  study_ = new StudyPresenter(this);
  workspaceFiles_ = new WorkspacePresenter(this);
  export_ = new ExportPresenter(this);
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
  layerViews_ = new LayerViewsPresenter(workspace_, slices_, meshView_, this);

  defaultDocks_ = saveState();
  const QByteArray geometry = preferences_->windowGeometry();
  if (!geometry.isEmpty())
    restoreGeometry(geometry);
  else
    resize(1560, 980);
  const QByteArray state = preferences_->windowState();
  if (!state.isEmpty())
    restoreState(state);
  else
    resetLayout();
  fitToScreen();
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
  auto* meshPanel = new MeshPanel(this);
  meshView_ = meshPanel->view();
  meshPanel_ = meshPanel;
  connect(meshPanel, &MeshPanel::screenshotRequested, export_, &ExportPresenter::saveMeshScreenshot);
  viewFrames_[3] = framed(meshPanel_);

  // The error banner above the views; it never blocks them.
  auto* central = new QWidget(this);
  auto* cl = new QVBoxLayout(central);
  cl->setContentsMargins(0, 0, 0, 0);
  cl->setSpacing(0);
  banner_ = new widgets::ErrorBanner(central);
  viewArea_ = new QWidget(central);
  viewGrid_ = new QGridLayout(viewArea_);
  viewGrid_->setContentsMargins(2, 2, 2, 2);
  viewGrid_->setSpacing(3);
  cl->addWidget(banner_);
  cl->addWidget(viewArea_, 1);
  setCentralWidget(central);
}

void MainWindow::createDocks() {
  // Left: study tools (models, post-processing).
  modelPanel_ = new widgets::ModelPanel(this);
  const QString models = modelsFolder();
  catalog_ = std::make_shared<widgets::ManifestCatalog>(models);
  modelPanel_->setCatalog(catalog_);
  modelPanel_->setCurrentDevice(preferences_->device());
  modelPanel_->setRunnable(false, tr("This build has no inference engine"));
  connect(modelPanel_, &widgets::ModelPanel::runRequested, study_, &StudyPresenter::runModels);
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
  // Wide enough for the post-processing sliders and their texts.
  tools->setMinimumWidth(320);
  addDockWidget(Qt::LeftDockWidgetArea, toolsDock);

  // Right: label table above the plots.
  labelModel_ = new widgets::LabelTableModel(workspace_, this);
  labelView_ = new widgets::LabelTableView(this);
  labelView_->setLabelModel(labelModel_);
  plots_ = new widgets::PlotsPanel(workspace_, this);
  connect(labelView_, &widgets::LabelTableView::selectedLabelsChanged, this,
          [this] { plots_->setSelectedLabels(labelView_->selectedLabels()); });
  // Never fewer than eight label rows (plus the header).
  labelView_->setMinimumHeight(labelView_->verticalHeader()->defaultSectionSize() * 9 + 6);
  auto* right = new QSplitter(Qt::Vertical, this);
  right->addWidget(labelView_);
  right->addWidget(plots_);
  right->setChildrenCollapsible(false);
  right->setStretchFactor(0, 3);
  right->setStretchFactor(1, 2);
  auto* labelsDock = new QDockWidget(tr("Labels"), this);
  labelsDock->setObjectName("labelsDock");
  labelsDock->setWidget(right);
  labelsDock->setMinimumWidth(380);
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
  connect(postController_, &widgets::PostController::failed, this, [this](const QString& step, const QString& m) {
    banner_->showMessage(tr("Post-processing %1 failed: %2").arg(step, m.section('\n', 0, 0)), m);
  });
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
  file->addAction(tr("Open study &files…"), QKeySequence::Open, study_, &StudyPresenter::openFilesDialog);
  file->addAction(tr("Open study f&older…"), QKeySequence(tr("Ctrl+Shift+O")),
                  study_, &StudyPresenter::openFolderDialog);
  file->addAction(tr("Open &mask layer…"), QKeySequence(tr("Ctrl+M")),
                  study_, &StudyPresenter::openMaskDialog);
  recentMenu_ = file->addMenu(tr("&Recent studies"));
  updateRecentMenu();
  editPresenter_->installMenus(menuBar(), file);
  file->addSeparator();
  file->addSeparator();
  workspaceFiles_->addActions(file);
  file->addSeparator();
  file->addAction(tr("&Export…"), QKeySequence(tr("Ctrl+E")), export_, &ExportPresenter::exportDialog);
  file->addAction(tr("Export mask as &NIfTI…"), this, [this] { export_->exportMask(false); });
  file->addAction(tr("Export mask as 3D Slicer &segmentation…"), this, [this] { export_->exportMask(true); });
  file->addAction(tr("Save 3D &screenshot…"), export_, &ExportPresenter::saveMeshScreenshot);
  file->addSeparator();
  file->addAction(tr("Close study"), this, [this] { study_->closeStudy(); });
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QToolBar* bar = addToolBar(tr("View"));
  bar->setObjectName("viewToolbar");
  bar->setMovable(false);
  bar->addAction(tr("Open"), study_, &StudyPresenter::openFilesDialog);
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
  view->addAction(tr("Reset &layout"), this, &MainWindow::resetLayout);
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
  addHelpMenu(this);
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
  // A failure shows the engine's one-line error and its details; a cancel is said too.
  connect(job, &BackgroundJob::finished, this, [this, title = job->title()](BackgroundJob::Outcome o, const QString& m) {
    if (o == BackgroundJob::Outcome::Failed)
      banner_->showMessage(tr("%1 failed: %2").arg(title, m.section('\n', 0, 0)), m);
    else if (o == BackgroundJob::Outcome::Cancelled)
      banner_->showMessage(tr("%1 cancelled").arg(title), {}, widgets::ErrorBanner::Kind::Notice);
  });
}

void MainWindow::fitToScreen() {
  // The window never grows past the screen (docks shrink instead).
  const QScreen* screen = this->screen() ? this->screen() : QGuiApplication::primaryScreen();
  if (!screen) return;
  const QRect avail = screen->availableGeometry();
  setMaximumSize(avail.size());
  if (width() > avail.width() || height() > avail.height())
    resize(std::min(width(), avail.width()), std::min(height(), avail.height()));
}

void MainWindow::resetLayout() {
  restoreState(defaultDocks_);
  for (QDockWidget* dock : findChildren<QDockWidget*>()) dock->show();
  fitToScreen();
  const int w = width();
  resizeDocks({findChild<QDockWidget*>("toolsDock"), findChild<QDockWidget*>("labelsDock")},
              {std::max(320, w / 5), std::max(400, w * 3 / 10)}, Qt::Horizontal);
  resizeDocks({findChild<QDockWidget*>("jobsDock")}, {std::clamp(height() / 7, 90, 150)}, Qt::Vertical);
}

void MainWindow::showError(const QString& headline, const QString& details) {
  banner_->showMessage(headline, details);
}

bool MainWindow::busy() const {
  for (const auto& j : jobs_)
    if (j && j->isRunning()) return true;
  return false;
}

void MainWindow::openStudy(const std::vector<widgets::StudyFile>& files) {
  study_->openStudy(files);
}

void MainWindow::openPaths(const QStringList& paths) {
  study_->openPaths(paths);
}

BackgroundJob* MainWindow::buildMeshes(int layerId) {
  return study_->buildMeshes(layerId);
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

void MainWindow::updateRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = preferences_->recentStudies();
  for (const QString& path : recent)
    recentMenu_->addAction(path, this, [this, path] { study_->openPaths({path}); });
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
  if (!workspaceFiles_->confirmQuit()) {
    event->ignore();
    return;
  }
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
