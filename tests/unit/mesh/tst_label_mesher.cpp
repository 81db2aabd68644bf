// Label maps to surface meshes: geometry, orientation, options and errors.
#include <QtTest>

#include <cmath>
#include <set>

#include <vtkMassProperties.h>
#include <vtkPointData.h>
#include <vtkPolyDataConnectivityFilter.h>
#include <vtkStaticPointLocator.h>

#include "MeshTestShapes.h"
#include "common/Error.h"
#include "mesh/LabelMesher.h"
#include "mesh/MeshInternal.h"
#include "phantom/Phantom.h"

using namespace nephro;
using namespace nephro::test;

namespace {

struct Scene {
  Volume mask;
  std::vector<Ellipsoid> shapes;
};

// A sphere (label 1) and an ellipsoid (label 2) inside a grid with the given
// spacing and direction, centred so both are well inside.
Scene sphereAndEllipsoid(const Vec3& spacing, const Mat3& direction) {
  Geometry g;
  g.size = {72, 64, 48};
  g.spacing = spacing;
  g.direction = direction;
  g.origin = {0, 0, 0};
  // Put the grid centre at (10, -20, 30) mm.
  const Vec3 c = g.indexToPhysical({(g.size[0] - 1) / 2.0, (g.size[1] - 1) / 2.0, (g.size[2] - 1) / 2.0});
  g.origin = {10 - c[0], -20 - c[1], 30 - c[2]};
  Scene s;
  s.mask = Volume(g, PixelType::UInt8);
  const Vec3 mid = g.indexToPhysical({(g.size[0] - 1) / 2.0, (g.size[1] - 1) / 2.0, (g.size[2] - 1) / 2.0});
  Ellipsoid sphere;
  sphere.value = 1;
  sphere.centre = {mid[0] - 14, mid[1] - 3, mid[2] + 2};
  sphere.semiAxes = {11, 11, 11};
  Ellipsoid ell;
  ell.value = 2;
  ell.centre = {mid[0] + 13, mid[1] + 4, mid[2] - 3};
  ell.semiAxes = {13, 9, 7.5};
  ell.axes = rotation(25, {0.3, -1, 0.5});
  s.shapes = {sphere, ell};
  for (const auto& e : s.shapes) paint(s.mask, e);
  return s;
}

LabelTable twoLabelTable() {
  LabelEntry a;
  a.value = 1;
  a.name = "sphere";
  a.color = Rgb{200, 40, 30};
  LabelEntry b;
  b.value = 2;
  b.name = "ellipsoid shape";
  b.color = Rgb{20, 90, 210};
  return LabelTable({a, b});
}

const LabelMesh& meshOf(const std::vector<LabelMesh>& meshes, int value) {
  for (const auto& m : meshes)
    if (m.value == value) return m;
  throw std::runtime_error("no mesh for label " + std::to_string(value));
}

ErrorKind errorKindOf(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message) *message = e.what();
    return e.kind();
  }
  return ErrorKind::Internal;  // "no error" reads as a wrong kind in the checks below
}

}  // namespace

class LabelMesherTest : public QObject {
  Q_OBJECT

 private slots:
  void analyticShapes_data();
  void analyticShapes();
  void rasIsLpsWithFirstTwoAxesNegated();
  void jointModeSharesBoundaries();
  void smallComponentsAreDropped();
  void thinTubesAreNotDecimated();
  void thinLabelsSurviveSmoothing();
  void labelsTouchingTheBorderAreClosed();
  void phantomLabelsAreClosedAndOutward();
  void readyCallbackSeesEveryLabel();
  void labelsAreChosenByValueOrName();
  void badInputIsRejected();
  void cancelStops();
};

void LabelMesherTest::analyticShapes_data() {
  QTest::addColumn<double>("sx");
  QTest::addColumn<double>("sy");
  QTest::addColumn<double>("sz");
  QTest::addColumn<QString>("direction");
  QTest::newRow("anisotropic axis-aligned") << 0.8 << 0.9 << 1.5 << "identity";
  QTest::newRow("anisotropic oblique") << 0.7 << 1.0 << 1.3 << "oblique";
  QTest::newRow("anisotropic oblique mirrored") << 0.9 << 0.75 << 1.2 << "mirrored";
}

void LabelMesherTest::analyticShapes() {
  QFETCH(double, sx);
  QFETCH(double, sy);
  QFETCH(double, sz);
  QFETCH(QString, direction);
  Mat3 dir{1, 0, 0, 0, 1, 0, 0, 0, 1};
  if (direction != "identity") dir = rotation(35, {1, 2, -0.7});
  if (direction == "mirrored")
    for (int r = 0; r < 3; ++r) dir[r * 3 + 1] = -dir[r * 3 + 1];  // flip the j axis: determinant -1
  const Scene scene = sphereAndEllipsoid({sx, sy, sz}, dir);
  QCOMPARE(scene.mask.geometry().determinant() < 0, direction == "mirrored");

  MeshOptions options;
  options.smoothing = 0.5;
  const auto meshes = buildLabelMeshes(scene.mask, twoLabelTable(), options);
  QCOMPARE(int(meshes.size()), 2);
  for (const Ellipsoid& shape : scene.shapes) {
    const LabelMesh& mesh = meshOf(meshes, shape.value);
    vtkPolyData* pd = mesh.surface;
    QVERIFY(pd->GetNumberOfCells() > 1000);
    QCOMPARE(mesh.space, CoordinateSpace::LPS);

    vtkNew<vtkMassProperties> mass;
    mass->SetInputData(pd);
    mass->Update();
    const double relError = std::abs(mass->GetVolume() - shape.volume()) / shape.volume();
    qInfo("label %d: mesh volume %.1f mm3, analytic %.1f mm3, error %.2f %%", shape.value, mass->GetVolume(),
          shape.volume(), 100 * relError);
    QVERIFY2(relError < 0.02, qPrintable(QString("volume error %1 %").arg(100 * relError)));

    QCOMPARE(openEdges(pd), vtkIdType(0));
    QVERIFY(consistentlyOriented(pd));

    const SolidMeasure solid = measureSolid(pd);
    QVERIFY2(solid.volume > 0, "faces point inward");
    QVERIFY(std::abs(solid.volume - mass->GetVolume()) < 1e-3 * mass->GetVolume());

    // Point normals point away from the centroid on (almost) every point of a convex shape.
    vtkDataArray* normals = pd->GetPointData()->GetNormals();
    QVERIFY(normals);
    int64_t outward = 0;
    double p[3], n[3];
    for (vtkIdType i = 0; i < pd->GetNumberOfPoints(); ++i) {
      pd->GetPoint(i, p);
      normals->GetTuple(i, n);
      const double dot = (p[0] - solid.centroid[0]) * n[0] + (p[1] - solid.centroid[1]) * n[1] +
                         (p[2] - solid.centroid[2]) * n[2];
      if (dot > 0) ++outward;
    }
    QCOMPARE(outward, int64_t(pd->GetNumberOfPoints()));

    // The centroid lies within half a voxel (along every index axis) of the voxels' centroid.
    const Geometry& g = scene.mask.geometry();
    const Vec3 expected = g.physicalToIndex(labelCentroid(scene.mask, shape.value));
    const Vec3 got = g.physicalToIndex(solid.centroid);
    for (int d = 0; d < 3; ++d)
      QVERIFY2(std::abs(got[d] - expected[d]) < 0.5,
               qPrintable(QString("centroid off by %1 voxel on axis %2").arg(got[d] - expected[d]).arg(d)));
  }
}

void LabelMesherTest::rasIsLpsWithFirstTwoAxesNegated() {
  const Scene scene = sphereAndEllipsoid({0.8, 0.9, 1.5}, rotation(20, {0, 1, 1}));
  MeshOptions lps;
  MeshOptions ras;
  ras.space = CoordinateSpace::RAS;
  const auto a = buildLabelMeshes(scene.mask, twoLabelTable(), lps);
  const auto b = buildLabelMeshes(scene.mask, twoLabelTable(), ras);
  QCOMPARE(a.size(), b.size());
  for (size_t n = 0; n < a.size(); ++n) {
    QCOMPARE(b[n].space, CoordinateSpace::RAS);
    vtkPolyData* pa = a[n].surface;
    vtkPolyData* pb = b[n].surface;
    QCOMPARE(pa->GetNumberOfPoints(), pb->GetNumberOfPoints());
    QCOMPARE(pa->GetNumberOfCells(), pb->GetNumberOfCells());
    double p[3], q[3];
    double worst = 0;
    for (vtkIdType i = 0; i < pa->GetNumberOfPoints(); ++i) {
      pa->GetPoint(i, p);
      pb->GetPoint(i, q);
      worst = std::max({worst, std::abs(q[0] + p[0]), std::abs(q[1] + p[1]), std::abs(q[2] - p[2])});
    }
    QVERIFY2(worst < 1e-3, qPrintable(QString("RAS point differs from negated LPS by %1 mm").arg(worst)));
    QVERIFY(measureSolid(pb).volume > 0);
  }
}

void LabelMesherTest::jointModeSharesBoundaries() {
  // Two half-ellipsoids that touch along a plane: a kidney and its tumour.
  Geometry g;
  g.size = {60, 50, 40};
  g.spacing = {0.8, 0.8, 1.2};
  g.direction = rotation(15, {0, 0, 1});
  Volume mask(g, PixelType::UInt8);
  Ellipsoid whole;
  whole.centre = g.indexToPhysical({29.5, 24.5, 19.5});
  whole.semiAxes = {16, 12, 12};
  auto* p = mask.data<uint8_t>();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (whole.contains(g.indexToPhysical({double(i), double(j), double(k)}))) p[g.offset(i, j, k)] = i < 30 ? 1 : 2;

  auto sharedPoints = [](vtkPolyData* a, vtkPolyData* b) {
    vtkNew<vtkStaticPointLocator> locator;
    locator->SetDataSet(b);
    locator->BuildLocator();
    int64_t shared = 0;
    double x[3];
    for (vtkIdType i = 0; i < a->GetNumberOfPoints(); ++i) {
      a->GetPoint(i, x);
      const vtkIdType near = locator->FindClosestPoint(x);
      double y[3];
      b->GetPoint(near, y);
      if (std::hypot(x[0] - y[0], x[1] - y[1], x[2] - y[2]) < 1e-4) ++shared;
    }
    return shared;
  };

  MeshOptions separate;
  MeshOptions joint;
  joint.joint = true;
  const auto s = buildLabelMeshes(mask, LabelTable{}, separate);
  const auto j = buildLabelMeshes(mask, LabelTable{}, joint);
  {
    MeshOptions raw = joint;
    raw.keepThinLabels = false;
    const auto r = buildLabelMeshes(mask, LabelTable{}, raw);
    const auto counts = labelVoxelCounts(mask);
    for (int n = 0; n < 2; ++n)
      qInfo("label %d: voxels %.0f, separate %.0f, joint %.0f (guarded %.0f, factor %.3g)", n + 1,
            counts[n + 1] * g.voxelVolumeMm3(), measureSolid(s[n].surface).volume, measureSolid(r[n].surface).volume,
            measureSolid(j[n].surface).volume, j[n].smoothing);
  }
  QCOMPARE(int(j.size()), 2);
  QCOMPARE(j[0].name, std::string("label_1"));
  const int64_t sharedJoint = sharedPoints(j[0].surface, j[1].surface);
  const int64_t sharedSeparate = sharedPoints(s[0].surface, s[1].surface);
  qInfo("points shared across the boundary: joint %lld, separate %lld", (long long)sharedJoint,
        (long long)sharedSeparate);
  // The cut face is about 24 mm x 24 mm at 0.8-1.2 mm spacing: hundreds of points.
  QVERIFY(sharedJoint > 300);
  QVERIFY(sharedSeparate < sharedJoint / 10);
  for (const auto& m : j) {
    QCOMPARE(openEdges(m.surface), vtkIdType(0));
    QVERIFY(consistentlyOriented(m.surface));
    QVERIFY(measureSolid(m.surface).volume > 0);
  }
  QCOMPARE(errorKindOf([&] {
             MeshOptions bad = joint;
             bad.decimate = 0.5;
             buildLabelMeshes(mask, LabelTable{}, bad);
           }),
           ErrorKind::Usage);
}

void LabelMesherTest::smallComponentsAreDropped() {
  Geometry g;
  g.size = {50, 40, 30};
  g.spacing = {1.0, 1.0, 2.0};
  Volume mask(g, PixelType::UInt8);
  Ellipsoid big;
  big.centre = {20, 20, 30};
  big.semiAxes = {10, 10, 10};
  paint(mask, big);
  // A 2x2x2-voxel speck of the same label: 16 mm3.
  for (int k = 3; k < 5; ++k)
    for (int j = 3; j < 5; ++j)
      for (int i = 42; i < 44; ++i) mask.data<uint8_t>()[g.offset(i, j, k)] = 1;
  auto regions = [](vtkPolyData* pd) {
    vtkNew<vtkPolyDataConnectivityFilter> c;
    c->SetInputData(pd);
    c->SetExtractionModeToAllRegions();
    c->Update();
    return c->GetNumberOfExtractedRegions();
  };
  MeshOptions keep;
  keep.minComponentMm3 = 16;  // not smaller than 16: kept
  QCOMPARE(regions(buildLabelMeshes(mask, LabelTable{}, keep)[0].surface), 2);
  MeshOptions drop;
  drop.minComponentMm3 = 17;
  const auto dropped = buildLabelMeshes(mask, LabelTable{}, drop);
  QCOMPARE(regions(dropped[0].surface), 1);
  QCOMPARE(openEdges(dropped[0].surface), vtkIdType(0));
  // Everything below the threshold: an empty surface, not an error.
  MeshOptions all;
  all.minComponentMm3 = 1e7;
  QCOMPARE(buildLabelMeshes(mask, LabelTable{}, all)[0].surface->GetNumberOfCells(), vtkIdType(0));
}

void LabelMesherTest::thinTubesAreNotDecimated() {
  Geometry g;
  g.size = {90, 40, 40};
  g.spacing = {1, 1, 1};
  Volume mask(g, PixelType::UInt8);
  auto* p = mask.data<uint8_t>();
  // Label 1: a tube of radius 2 voxels, 60 voxels long, bent in a gentle arc.
  // Label 2: a sphere of radius 12 voxels.
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        if (i >= 5 && i < 65) {
          const double cy = 10 + 4 * std::sin((i - 5) / 60.0 * M_PI);
          if (std::hypot(j - cy, k - 10.0) <= 2.0) p[g.offset(i, j, k)] = 1;
        }
        if (std::hypot(i - 70.0, j - 25.0, k - 25.0) <= 12.0) p[g.offset(i, j, k)] = 2;
      }
  MeshOptions plain;
  plain.smoothing = 0.5;
  MeshOptions dec = plain;
  dec.decimate = 0.6;
  MeshOptions decTubes = dec;
  decTubes.decimateTubes = true;
  const auto a = buildLabelMeshes(mask, LabelTable{}, plain);
  const auto b = buildLabelMeshes(mask, LabelTable{}, dec);
  const auto c = buildLabelMeshes(mask, LabelTable{}, decTubes);
  QVERIFY(b[0].tubular);
  QVERIFY(!b[1].tubular);
  QVERIFY(!b[0].decimated);
  QVERIFY(b[1].decimated);
  QCOMPARE(b[0].surface->GetNumberOfCells(), a[0].surface->GetNumberOfCells());
  QVERIFY(b[1].surface->GetNumberOfCells() < 0.6 * a[1].surface->GetNumberOfCells());
  QVERIFY(c[0].decimated);
  QVERIFY(c[0].surface->GetNumberOfCells() < 0.6 * a[0].surface->GetNumberOfCells());
  // Everything but the tube decimated on request (which is why tubes are spared by default).
  for (const LabelMesh* m : {&b[0], &b[1], &c[1]}) {
    QVERIFY(consistentlyOriented(m->surface));
    QVERIFY(measureSolid(m->surface).volume > 0);
  }

  // The criterion itself: radius in voxels from the distance map.
  Box tubeBox = mesh_internal::scanLabels(mask, 1)[1].box();
  auto tube = mesh_internal::binaryCrop(mask, 1, tubeBox);
  const double r = mesh_internal::thicknessRadiusVoxels(tube);
  QVERIFY2(r >= 1.0 && r <= 2.5, qPrintable(QString("tube radius estimate %1").arg(r)));
  auto sphere = mesh_internal::binaryCrop(mask, 2, mesh_internal::scanLabels(mask, 1)[2].box());
  QVERIFY(mesh_internal::thicknessRadiusVoxels(sphere) > 6.0);
}

void LabelMesherTest::thinLabelsSurviveSmoothing() {
  // A tube of radius 1.5 voxels, a ball of radius 2 voxels, a ball of radius 10.
  Geometry g;
  g.size = {70, 50, 40};
  g.spacing = {2.5, 2.5, 3.0};
  Volume mask(g, PixelType::UInt8);
  auto* p = mask.data<uint8_t>();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) {
        if (i >= 4 && i < 40 && std::hypot(j - 8.2, k - 8.3) <= 1.5) p[g.offset(i, j, k)] = 1;
        if (std::hypot(i - 10.2, j - 30.1, k - 25.3) <= 2.0) p[g.offset(i, j, k)] = 2;
        if (std::hypot(i - 50.2, j - 30.1, k - 20.3) <= 10.0) p[g.offset(i, j, k)] = 3;
      }
  const auto counts = labelVoxelCounts(mask);
  auto keptFraction = [&](const LabelMesh& m) {
    return measureSolid(m.surface).volume / (counts[m.value] * g.voxelVolumeMm3());
  };
  MeshOptions slicer;
  slicer.keepThinLabels = false;
  const auto plain = buildLabelMeshes(mask, LabelTable{}, slicer);
  const auto kept = buildLabelMeshes(mask, LabelTable{}, MeshOptions{});
  for (int n = 0; n < 3; ++n)
    qInfo("label %d: volume kept %.3f (factor 0.5) vs %.3f (factor %.4g, guarded)", n + 1, keptFraction(plain[n]),
          keptFraction(kept[n]), kept[n].smoothing);
  // Slicer's factor erases the two thin labels...
  QVERIFY(keptFraction(plain[0]) < 0.3);
  QVERIFY(keptFraction(plain[1]) < 0.3);
  // ...the guard keeps them with a lower factor...
  for (int n = 0; n < 2; ++n) {
    QVERIFY(kept[n].smoothing < 0.5);
    QVERIFY(keptFraction(kept[n]) > 0.7);
    QVERIFY(consistentlyOriented(kept[n].surface));
  }
  // ...and leaves a large label exactly as Slicer smooths it.
  QCOMPARE(kept[2].smoothing, 0.5);
  QCOMPARE(kept[2].surface->GetNumberOfPoints(), plain[2].surface->GetNumberOfPoints());
  double a[3], b[3];
  kept[2].surface->GetPoint(100, a);
  plain[2].surface->GetPoint(100, b);
  QCOMPARE(a[0], b[0]);
  QCOMPARE(a[2], b[2]);
}

void LabelMesherTest::labelsTouchingTheBorderAreClosed() {
  // A box that fills the grid to every face: closed by the one-voxel pad.
  Geometry g;
  g.size = {20, 16, 12};
  g.spacing = {1.0, 1.5, 2.0};
  Volume mask(g, PixelType::Int16);
  auto* p = mask.data<int16_t>();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) p[g.offset(i, j, k)] = i < 10 ? 4 : 9;
  MeshOptions options;
  options.smoothing = 0;
  const auto meshes = buildLabelMeshes(mask, LabelTable{}, options);
  QCOMPARE(int(meshes.size()), 2);
  for (const auto& m : meshes) {
    QCOMPARE(openEdges(m.surface), vtkIdType(0));
    QVERIFY(consistentlyOriented(m.surface));
    // Unsmoothed flying edges passes half-way between voxel centres, so the
    // box keeps its 10 x 16 x 12 voxels less the bevel along its 12 edges
    // (an eighth of a voxel's cross-section per unit length): about 1 %.
    const double voxels = 10.0 * 16 * 12 * g.voxelVolumeMm3();
    const SolidMeasure solid = measureSolid(m.surface);
    QVERIFY2(solid.volume < voxels && solid.volume > 0.98 * voxels,
             qPrintable(QString("volume %1, voxels %2").arg(solid.volume).arg(voxels)));
  }
  Volume empty(g, PixelType::UInt8);
  QCOMPARE(errorKindOf([&] { buildLabelMeshes(empty, LabelTable{}, options); }), ErrorKind::Input);
}

void LabelMesherTest::phantomLabelsAreClosedAndOutward() {
  // Realistic shapes: thin tubes, shells, labels cut by the field of view.
  PhantomOptions po;
  po.size = PhantomSize::Small;
  const PhantomCase phantom = generatePhantom(po);
  const auto counts = labelVoxelCounts(phantom.labels);
  const double voxelMm3 = phantom.labels.geometry().voxelVolumeMm3();
  for (bool joint : {false, true}) {
    MeshOptions options;
    options.joint = joint;
    const auto meshes = buildLabelMeshes(phantom.labels, phantom.table, options);
    QCOMPARE(int(meshes.size()), int(labelValuesPresent(phantom.labels).size()));
    for (const auto& m : meshes) {
      QVERIFY2(consistentlyOriented(m.surface), m.name.c_str());
      const double volume = measureSolid(m.surface).volume;
      const double voxels = counts[m.value] * voxelMm3;
      qInfo("%s %s: mesh %.0f mm3, voxels %.0f mm3 (%.1f %%)", joint ? "joint" : "separate", m.name.c_str(), volume,
            voxels, 100 * (volume / voxels - 1));
      QVERIFY2(volume > 0, m.name.c_str());
      // Every label keeps most of its volume, thin ones included.
      QVERIFY2(volume > 0.6 * voxels, m.name.c_str());
    }
  }
}

void LabelMesherTest::readyCallbackSeesEveryLabel() {
  const Scene scene = sphereAndEllipsoid({1, 1, 1}, rotation(0, {0, 0, 1}));
  std::set<int> seen;
  int calls = 0;
  bool allHadSurfaces = true;
  MeshOptions options;
  options.threads = 2;
  const auto meshes = buildLabelMeshes(scene.mask, twoLabelTable(), options, {}, [&](const LabelMesh& m) {
    ++calls;  // calls are serialised: no lock needed here
    seen.insert(m.value);
    allHadSurfaces = allHadSurfaces && m.surface && m.surface->GetNumberOfCells() > 0;
  });
  QCOMPARE(calls, 2);
  QVERIFY(allHadSurfaces);
  QCOMPARE(seen, (std::set<int>{1, 2}));
  QCOMPARE(meshes[0].name, std::string("sphere"));
  QCOMPARE(meshes[1].color, (Rgb{20, 90, 210}));
}

void LabelMesherTest::labelsAreChosenByValueOrName() {
  const LabelTable table = twoLabelTable();
  QCOMPARE(resolveLabelList("2", table), std::vector<int>{2});
  QCOMPARE(resolveLabelList("sphere, 2", table), (std::vector<int>{1, 2}));
  QCOMPARE(errorKindOf([&] { resolveLabelList("liver", table); }), ErrorKind::Usage);
  const Scene scene = sphereAndEllipsoid({1, 1, 1}, rotation(0, {0, 0, 1}));
  MeshOptions only2;
  only2.labels = {2};
  const auto meshes = buildLabelMeshes(scene.mask, table, only2);
  QCOMPARE(int(meshes.size()), 1);
  QCOMPARE(meshes[0].value, 2);
}

void LabelMesherTest::badInputIsRejected() {
  const Scene scene = sphereAndEllipsoid({1, 1, 1}, rotation(0, {0, 0, 1}));
  const LabelTable table = twoLabelTable();
  std::string message;

  MeshOptions named;
  named.maskName = "case7/mask.nii.gz";
  const Volume floats = castVolume(scene.mask, PixelType::Float32);
  QCOMPARE(errorKindOf([&] { buildLabelMeshes(floats, table, named); }, &message), ErrorKind::Input);
  QVERIFY2(message.find("case7/mask.nii.gz") != std::string::npos && message.find("integer") != std::string::npos,
           message.c_str());

  MeshOptions empty = named;
  empty.labels = {1, 5};
  LabelTable withFive = table;
  LabelEntry five;
  five.value = 5;
  five.name = "cyst";
  withFive.set(five);
  QCOMPARE(errorKindOf([&] { buildLabelMeshes(scene.mask, withFive, empty); }, &message), ErrorKind::Input);
  QVERIFY2(message.find("label 5") != std::string::npos && message.find("no voxel") != std::string::npos,
           message.c_str());

  LabelTable onlyOne({table.entries()[0]});
  QCOMPARE(errorKindOf([&] { buildLabelMeshes(scene.mask, onlyOne, named); }, &message), ErrorKind::Input);
  QVERIFY2(message.find("label 2 is not in the label table") != std::string::npos, message.c_str());

  Volume wide(scene.mask.geometry(), PixelType::Int32);
  wide.data<int32_t>()[100] = 70000;
  QCOMPARE(errorKindOf([&] { buildLabelMeshes(wide, LabelTable{}, named); }), ErrorKind::Input);

  MeshOptions badSmoothing;
  badSmoothing.smoothing = 1.5;
  QCOMPARE(errorKindOf([&] { buildLabelMeshes(scene.mask, table, badSmoothing); }), ErrorKind::Usage);
  QCOMPARE(errorKindOf([&] { parseCoordinateSpace("XYZ"); }), ErrorKind::Usage);
  QCOMPARE(parseCoordinateSpace("ras"), CoordinateSpace::RAS);
}

void LabelMesherTest::cancelStops() {
  const Scene scene = sphereAndEllipsoid({1, 1, 1}, rotation(0, {0, 0, 1}));
  auto flag = std::make_shared<std::atomic<bool>>(false);
  int reports = 0;
  Progress progress(
      [&](double, const std::string&) {
        if (++reports == 1) flag->store(true);
      },
      flag);
  QCOMPARE(errorKindOf([&] { buildLabelMeshes(scene.mask, twoLabelTable(), MeshOptions{}, progress); }),
           ErrorKind::Cancelled);
}

QTEST_GUILESS_MAIN(LabelMesherTest)
#include "tst_label_mesher.moc"
