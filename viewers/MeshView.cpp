#include "viewers/MeshView.h"

#include <QElapsedTimer>
#include <QMouseEvent>
#include <QOpenGLContext>
#include <QScreen>
#include <QWheelEvent>
#include <cmath>

#include <vtkActor.h>
#include <vtkCallbackCommand.h>
#include <vtkCamera.h>
#include <vtkCommand.h>
#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkLight.h>
#include <vtkOpenGLState.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderer.h>

namespace nephro::viewers {

QSurfaceFormat MeshView::defaultFormat() {
  QSurfaceFormat format;
  format.setRenderableType(QSurfaceFormat::OpenGL);
  format.setVersion(3, 2);
  format.setProfile(QSurfaceFormat::CoreProfile);
  format.setSwapBehavior(QSurfaceFormat::DoubleBuffer);
  format.setRedBufferSize(8);
  format.setGreenBufferSize(8);
  format.setBlueBufferSize(8);
  format.setAlphaBufferSize(8);
  format.setDepthBufferSize(24);
  format.setStencilBufferSize(0);
  // Multisampling on Qt's side silently yields a plain context; VTK does its own.
  format.setSamples(0);
  return format;
}

MeshView::MeshView(QWidget* parent) : QOpenGLWidget(parent) {
  setObjectName("meshView");
  setFocusPolicy(Qt::StrongFocus);
  setUpdateBehavior(QOpenGLWidget::NoPartialUpdate);
  setMouseTracking(true);
  setMinimumSize(160, 160);

  window_ = vtkSmartPointer<vtkGenericOpenGLRenderWindow>::New();
  window_->SetReadyForRendering(false);
  window_->SetFrameBlitModeToNoBlit();
  window_->SetMultiSamples(0);

  renderer_ = vtkSmartPointer<vtkRenderer>::New();
  renderer_->GradientBackgroundOn();
  renderer_->SetBackground(0.07, 0.08, 0.10);
  renderer_->SetBackground2(0.23, 0.26, 0.31);
  renderer_->SetUseFXAA(true);
  window_->AddRenderer(renderer_);

  interactor_ = vtkSmartPointer<vtkGenericRenderWindowInteractor>::New();
  interactor_->SetRenderWindow(window_);
  // Initialize only while the window is not ready, or GLEW starts without a context.
  interactor_->Initialize();
  auto style = vtkSmartPointer<vtkInteractorStyleTrackballCamera>::New();
  interactor_->SetInteractorStyle(style);

  connect(this, &QOpenGLWidget::resized, this, &MeshView::updateSize);
  renderTimer_.setSingleShot(true);
  connect(&renderTimer_, &QTimer::timeout, this, qOverload<>(&QWidget::update));
}

MeshView::~MeshView() {
  makeCurrent();
  cleanupContext();
  doneCurrent();
}

void MeshView::cleanupContext() {
  if (!initialized_) return;
  for (unsigned long tag : observerTags_) window_->RemoveObserver(tag);
  renderer_->RemoveAllViewProps();
  window_->Finalize();
  window_->SetReadyForRendering(false);
  initialized_ = false;
}

void MeshView::onRenderWindowEvent(vtkObject*, unsigned long eventId, void* callData) {
  switch (eventId) {
    case vtkCommand::WindowMakeCurrentEvent:
      if (context()) context()->makeCurrent(context()->surface());
      break;
    case vtkCommand::WindowIsCurrentEvent: {
      QOpenGLContext* current = QOpenGLContext::currentContext();
      *static_cast<bool*>(callData) =
          current && current == context() && current->surface() == context()->surface();
      break;
    }
    case vtkCommand::WindowFrameEvent:
      // A render VTK started on its own (camera interaction): show it.
      if (!inPaint_ && !(window_->GetDoubleBuffer() && !window_->GetSwapBuffers())) update();
      break;
    default:
      break;
  }
}

void MeshView::initializeGL() {
  observerTags_[0] = window_->AddObserver(vtkCommand::WindowMakeCurrentEvent, this,
                                          &MeshView::onRenderWindowEvent);
  observerTags_[1] =
      window_->AddObserver(vtkCommand::WindowIsCurrentEvent, this, &MeshView::onRenderWindowEvent);
  observerTags_[2] =
      window_->AddObserver(vtkCommand::WindowFrameEvent, this, &MeshView::onRenderWindowEvent);
  if (window_->GetUseOffScreenBuffers()) window_->SetUseOffScreenBuffers(false);
  window_->SetForceMaximumHardwareLineWidth(1);
  window_->SetReadyForRendering(true);
  window_->SetOwnContext(0);
  window_->OpenGLInitContext();
  window_->GetState()->Reset();
  window_->GetState()->vtkglDepthFunc(GL_LEQUAL);
  connect(
      context(), &QOpenGLContext::aboutToBeDestroyed, this,
      [this] {
        makeCurrent();
        cleanupContext();
      },
      Qt::DirectConnection);
  initialized_ = true;
  updateSize();
}

void MeshView::updateSize() {
  const double ratio = devicePixelRatioF();
  const int w = std::max(1, int(std::lround(width() * ratio)));
  const int h = std::max(1, int(std::lround(height() * ratio)));
  interactor_->UpdateSize(w, h);
  window_->SetSize(w, h);
  if (screen()) {
    const QSize s = screen()->size() * ratio;
    window_->SetScreenSize(s.width(), s.height());
  }
  window_->SetDPI(int(std::lround(72 * ratio)));
  needsRender_ = true;
}

void MeshView::paintGL() {
  if (!initialized_) return;
  inPaint_ = true;
  vtkOpenGLState* state = window_->GetState();
  state->Reset();
  state->Push();
  state->vtkglDepthFunc(GL_LEQUAL);
  if (needsRender_) {
    QElapsedTimer timer;
    timer.start();
    interactor_->Render();
    needsRender_ = false;
    lastRenderMs_ = timer.nsecsElapsed() / 1e6;
  }
  // A repaint elsewhere (a progress bar) during the render can switch contexts.
  makeCurrent();
  const double ratio = devicePixelRatioF();
  const int w = int(std::lround(width() * ratio)), h = int(std::lround(height() * ratio));
  const int* source = window_->GetSize();
  state->vtkglBindFramebuffer(GL_DRAW_FRAMEBUFFER, defaultFramebufferObject());
  GLenum attachment = GL_COLOR_ATTACHMENT0;
  state->vtkglDrawBuffers(1, &attachment);
  state->vtkglDisable(GL_SCISSOR_TEST);
  window_->BlitDisplayFramebuffer(0, 0, 0, source[0], source[1], 0, 0, w, h, GL_COLOR_BUFFER_BIT,
                                  GL_LINEAR);
  // Opaque alpha, or compositors blend the view with what lies behind the window.
  state->vtkglColorMask(false, false, false, true);
  state->vtkglClearColor(0, 0, 0, 1);
  state->vtkglViewport(0, 0, w, h);
  state->vtkglClear(GL_COLOR_BUFFER_BIT);
  state->vtkglColorMask(true, true, true, true);
  state->Pop();
  inPaint_ = false;
}

void MeshView::requestRender() {
  needsRender_ = true;
  // Scene changes come in bursts (a mesh per label): render at most once per
  // render time, so the GUI thread always has as much time free as it renders.
  if (!renderTimer_.isActive()) renderTimer_.start(int(std::clamp(lastRenderMs_, 15.0, 500.0)));
}

void MeshView::setMesh(const QString& key, vtkPolyData* mesh, const QColor& color, double opacity,
                       bool visible) {
  removeMesh(key);
  auto mapper = vtkSmartPointer<vtkPolyDataMapper>::New();
  mapper->SetInputData(mesh);
  // Label values stored as point scalars would be taken for colours.
  mapper->ScalarVisibilityOff();
  auto actor = vtkSmartPointer<vtkActor>::New();
  actor->SetMapper(mapper);
  vtkProperty* p = actor->GetProperty();
  p->SetInterpolationToPhong();
  p->SetAmbient(0.12);
  p->SetDiffuse(0.85);
  p->SetSpecular(0.25);
  p->SetSpecularPower(20);
  actors_.insert(key, actor);
  renderer_->AddActor(actor);
  setMeshStyle(key, color, opacity, visible);
  if (!cameraPlaced_ && !userMoved_) {
    viewFrom(Direction::Anterior);
    cameraPlaced_ = true;
  }
  scheduleFit();
  requestRender();
}

void MeshView::scheduleFit() {
  // Meshes arrive one by one: fit once they have, unless the user placed the camera.
  if (userMoved_ || fitPending_) return;
  fitPending_ = true;
  QTimer::singleShot(0, this, [this] {
    fitPending_ = false;
    if (!userMoved_ && !actors_.isEmpty()) resetView();
  });
}

void MeshView::resetToAnterior() {
  userMoved_ = false;
  viewFrom(Direction::Anterior);
}

MeshView::Camera MeshView::camera() const {
  Camera c;
  vtkCamera* cam = renderer_->GetActiveCamera();
  cam->GetPosition(c.position.data());
  cam->GetFocalPoint(c.focalPoint.data());
  cam->GetViewUp(c.viewUp.data());
  c.viewAngle = cam->GetViewAngle();
  c.parallelScale = cam->GetParallelScale();
  c.parallel = cam->GetParallelProjection() != 0;
  return c;
}

void MeshView::setCamera(const Camera& c) {
  vtkCamera* cam = renderer_->GetActiveCamera();
  cam->SetFocalPoint(c.focalPoint.data());
  cam->SetPosition(c.position.data());
  cam->SetViewUp(c.viewUp.data());
  cam->SetViewAngle(c.viewAngle);
  cam->SetParallelScale(c.parallelScale);
  cam->SetParallelProjection(c.parallel ? 1 : 0);
  renderer_->ResetCameraClippingRange();
  userMoved_ = true;
  cameraPlaced_ = true;
  requestRender();
}

bool MeshView::meshVisible(const QString& key) const {
  auto it = actors_.find(key);
  return it != actors_.end() && it.value()->GetVisibility();
}

void MeshView::setMeshStyle(const QString& key, const QColor& color, double opacity, bool visible) {
  auto it = actors_.find(key);
  if (it == actors_.end()) return;
  vtkActor* actor = it.value();
  actor->GetProperty()->SetColor(color.redF(), color.greenF(), color.blueF());
  actor->GetProperty()->SetOpacity(opacity);
  actor->SetVisibility(visible && opacity > 0);
  requestRender();
}

void MeshView::removeMesh(const QString& key) {
  auto it = actors_.find(key);
  if (it == actors_.end()) return;
  renderer_->RemoveActor(it.value());
  actors_.erase(it);
  requestRender();
}

void MeshView::removeMeshesWithPrefix(const QString& prefix) {
  for (const QString& key : actors_.keys())
    if (key.startsWith(prefix)) removeMesh(key);
  if (actors_.isEmpty()) cameraPlaced_ = false;
  scheduleFit();
}

void MeshView::resetView() {
  renderer_->ResetCamera();
  renderer_->GetActiveCamera()->Zoom(1.15);
  renderer_->ResetCameraClippingRange();
  requestRender();
}

void MeshView::viewFrom(Direction direction) {
  // LPS: +x patient left, +y posterior, +z superior. The camera sits on the named side.
  double position[3] = {0, -1, 0};
  double up[3] = {0, 0, 1};
  switch (direction) {
    case Direction::Anterior:
      position[0] = 0, position[1] = -1, position[2] = 0;
      break;
    case Direction::Posterior:
      position[0] = 0, position[1] = 1, position[2] = 0;
      break;
    case Direction::Left:
      position[0] = 1, position[1] = 0, position[2] = 0;
      break;
    case Direction::Right:
      position[0] = -1, position[1] = 0, position[2] = 0;
      break;
    case Direction::Superior:
      position[0] = 0, position[1] = 0, position[2] = 1;
      up[0] = 0, up[1] = -1, up[2] = 0;
      break;
    case Direction::Inferior:
      position[0] = 0, position[1] = 0, position[2] = -1;
      up[0] = 0, up[1] = -1, up[2] = 0;
      break;
  }
  vtkCamera* camera = renderer_->GetActiveCamera();
  camera->SetFocalPoint(0, 0, 0);
  camera->SetPosition(position);
  camera->SetViewUp(up);
  resetView();
}

vtkRenderer* MeshView::renderer() const {
  return renderer_;
}

QImage MeshView::screenshot() {
  return grabFramebuffer();
}

bool MeshView::saveScreenshot(const QString& path) {
  return screenshot().save(path, "PNG");
}

std::optional<QPointF> MeshView::project(const Vec3& lps) {
  if (!initialized_) return std::nullopt;
  renderer_->SetWorldPoint(lps[0], lps[1], lps[2], 1.0);
  renderer_->WorldToDisplay();
  double d[3];
  renderer_->GetDisplayPoint(d);
  const double ratio = devicePixelRatioF();
  return QPointF(d[0] / ratio, height() - d[1] / ratio);
}

bool MeshView::forwardMouse(QEvent* event) {
  auto* e = static_cast<QMouseEvent*>(event);
  const double ratio = devicePixelRatioF();
  const bool ctrl = e->modifiers() & Qt::ControlModifier;
  const bool shift = e->modifiers() & Qt::ShiftModifier;
  const bool dbl = event->type() == QEvent::MouseButtonDblClick;
  interactor_->SetEventInformationFlipY(int(e->position().x() * ratio),
                                        int(e->position().y() * ratio), ctrl, shift, 0, dbl);
  interactor_->SetAltKey(e->modifiers() & Qt::AltModifier ? 1 : 0);
  const bool press = event->type() == QEvent::MouseButtonPress || dbl;
  unsigned long vtkEvent = 0;
  if (event->type() == QEvent::MouseMove) {
    vtkEvent = vtkCommand::MouseMoveEvent;
  } else {
    switch (e->button()) {
      case Qt::LeftButton:
        vtkEvent = press ? vtkCommand::LeftButtonPressEvent : vtkCommand::LeftButtonReleaseEvent;
        break;
      case Qt::MiddleButton:
        vtkEvent =
            press ? vtkCommand::MiddleButtonPressEvent : vtkCommand::MiddleButtonReleaseEvent;
        break;
      case Qt::RightButton:
        vtkEvent = press ? vtkCommand::RightButtonPressEvent : vtkCommand::RightButtonReleaseEvent;
        break;
      default:
        return false;
    }
  }
  if (press) userMoved_ = true;  // a drag turns, pans or zooms: the user's camera from now on
  makeCurrent();
  interactor_->InvokeEvent(vtkEvent, e);
  return true;
}

bool MeshView::event(QEvent* event) {
  switch (event->type()) {
    case QEvent::MouseButtonPress:
    case QEvent::MouseButtonRelease:
    case QEvent::MouseButtonDblClick:
    case QEvent::MouseMove:
      if (initialized_ && forwardMouse(event)) return true;
      break;
    case QEvent::Wheel: {
      if (!initialized_) break;
      auto* e = static_cast<QWheelEvent*>(event);
      wheelAccumulator_ += e->angleDelta().y();
      userMoved_ = true;
      const double ratio = devicePixelRatioF();
      interactor_->SetEventInformationFlipY(
          int(e->position().x() * ratio), int(e->position().y() * ratio),
          e->modifiers() & Qt::ControlModifier, e->modifiers() & Qt::ShiftModifier);
      makeCurrent();
      while (wheelAccumulator_ >= 120) {
        wheelAccumulator_ -= 120;
        interactor_->InvokeEvent(vtkCommand::MouseWheelForwardEvent, e);
      }
      while (wheelAccumulator_ <= -120) {
        wheelAccumulator_ += 120;
        interactor_->InvokeEvent(vtkCommand::MouseWheelBackwardEvent, e);
      }
      return true;
    }
    case QEvent::Enter:
      if (initialized_) interactor_->InvokeEvent(vtkCommand::EnterEvent, event);
      break;
    case QEvent::Leave:
      if (initialized_) interactor_->InvokeEvent(vtkCommand::LeaveEvent, event);
      break;
    case QEvent::TouchBegin:
    case QEvent::TouchUpdate:
    case QEvent::TouchEnd:
    case QEvent::TouchCancel:
      // Qt 6 also delivers touches as mouse events; handling both would double every gesture.
      event->ignore();
      return true;
    default:
      break;
  }
  return QOpenGLWidget::event(event);
}

}  // namespace nephro::viewers
