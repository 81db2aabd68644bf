#pragma once
// The 3D view: label meshes (LPS millimetres) drawn by VTK's OpenGL renderer
// inside a Qt 6 QOpenGLWidget. VTK's own Qt modules are built against Qt 5,
// so this widget adapts the render window and its interactor itself: VTK
// renders into its own framebuffer, which paintGL() blits into the widget's.
#include <QColor>
#include <QImage>
#include <QMap>
#include <QOpenGLWidget>
#include <array>
#include <QSurfaceFormat>
#include <QTimer>
#include <optional>

#include <vtkSmartPointer.h>

#include "image/Geometry.h"

class vtkActor;
class vtkGenericOpenGLRenderWindow;
class vtkGenericRenderWindowInteractor;
class vtkObject;
class vtkPolyData;
class vtkRenderer;

namespace nephro::viewers {

class MeshView : public QOpenGLWidget {
  Q_OBJECT
 public:
  enum class Direction { Anterior, Posterior, Left, Right, Superior, Inferior };

  explicit MeshView(QWidget* parent = nullptr);
  ~MeshView() override;

  // The format to set with QSurfaceFormat::setDefaultFormat() before QApplication exists.
  static QSurfaceFormat defaultFormat();

  // Adds or replaces the mesh under `key` (e.g. "layer:label").
  void setMesh(const QString& key, vtkPolyData* mesh, const QColor& color, double opacity,
               bool visible);
  void setMeshStyle(const QString& key, const QColor& color, double opacity, bool visible);
  void removeMesh(const QString& key);
  void removeMeshesWithPrefix(const QString& prefix);
  bool hasMesh(const QString& key) const { return actors_.contains(key); }
  QStringList meshKeys() const { return actors_.keys(); }
  // Whether the mesh under `key` is drawn (false when there is none).
  bool meshVisible(const QString& key) const;

  // Fits the camera to the visible meshes, keeping the viewing direction.
  void resetView();
  // The anterior view fitted to the meshes; the camera follows new meshes again.
  void resetToAnterior();
  // Until the user moves the camera, it is fitted to the meshes whenever they change.
  bool userMovedCamera() const { return userMoved_; }
  struct Camera {
    std::array<double, 3> position{}, focalPoint{}, viewUp{0, 0, 1};
    double viewAngle = 30, parallelScale = 1;
    bool parallel = false;
  };
  Camera camera() const;
  // Puts the camera there (a restored workspace): counts as the user's placement.
  void setCamera(const Camera& camera);
  // Looks at the meshes from a patient direction (anterior: the viewer stands in front).
  void viewFrom(Direction direction);
  // The rendered picture, as the widget shows it.
  QImage screenshot();
  bool saveScreenshot(const QString& path);
  // Widget position of an LPS point with the current camera (nullopt before the first frame).
  std::optional<QPointF> project(const Vec3& lps);
  vtkRenderer* renderer() const;
  // Time the last VTK render took, in milliseconds.
  double lastRenderMs() const { return lastRenderMs_; }
  // Asks for a new frame (after changing the scene).
  void requestRender();

 protected:
  void initializeGL() override;
  void paintGL() override;
  bool event(QEvent* event) override;

 private:
  void updateSize();
  void scheduleFit();
  void cleanupContext();
  void onRenderWindowEvent(vtkObject* caller, unsigned long eventId, void* callData);
  bool forwardMouse(QEvent* event);

  vtkSmartPointer<vtkGenericOpenGLRenderWindow> window_;
  vtkSmartPointer<vtkGenericRenderWindowInteractor> interactor_;
  vtkSmartPointer<vtkRenderer> renderer_;
  QMap<QString, vtkSmartPointer<vtkActor>> actors_;
  unsigned long observerTags_[3] = {0, 0, 0};
  bool inPaint_ = false;
  bool needsRender_ = true;
  bool initialized_ = false;
  bool cameraPlaced_ = false;
  bool userMoved_ = false;
  bool fitPending_ = false;
  int wheelAccumulator_ = 0;
  double lastRenderMs_ = 0;
  QTimer renderTimer_;
};

}  // namespace nephro::viewers
