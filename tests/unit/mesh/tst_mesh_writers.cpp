// Mesh files read back by VTK's readers (and the GLB by its own JSON chunk).
#include <QtTest>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>
#include <vtkCellData.h>
#include <vtkFieldData.h>
#include <vtkOBJReader.h>
#include <vtkPLYReader.h>
#include <vtkPointData.h>
#include <vtkSTLReader.h>
#include <vtkStringArray.h>
#include <vtkUnsignedCharArray.h>
#include <vtkXMLPolyDataReader.h>

#include "MeshTestShapes.h"
#include "TestSupport.h"
#include "common/Error.h"
#include "mesh/LabelMesher.h"

using namespace nephro;
using namespace nephro::test;
namespace fs = std::filesystem;

namespace {

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> filesIn(const std::string& folder) {
  std::vector<std::string> names;
  if (!fs::exists(folder)) return names;
  for (const auto& e : fs::directory_iterator(folder)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

struct Counts {
  vtkIdType points = 0, polys = 0;
};

Counts countsOf(vtkPolyData* pd) { return {pd->GetNumberOfPoints(), pd->GetNumberOfPolys()}; }

template <class Reader>
vtkSmartPointer<vtkPolyData> readWith(const std::string& path) {
  vtkNew<Reader> r;
  r->SetFileName(path.c_str());
  r->Update();
  vtkSmartPointer<vtkPolyData> out = r->GetOutput();
  return out;
}

uint32_t u32At(const std::string& bytes, size_t at) {
  uint32_t v;
  std::memcpy(&v, bytes.data() + at, 4);
  return v;
}

}  // namespace

class MeshWritersTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase();
  void everyFormatReadsBack();
  void mergedFilesHoldEveryLabel();
  void glbIsValid();
  void failuresLeaveNothingBehind();

 private:
  std::vector<LabelMesh> meshes_;
  std::vector<LabelMesh> rasMeshes_;
};

void MeshWritersTest::initTestCase() {
  Geometry g;
  g.size = {56, 44, 34};
  g.spacing = {0.9, 0.9, 1.4};
  g.direction = rotation(10, {1, 0, 0});
  g.origin = {-20, 15, -40};
  Volume mask(g, PixelType::UInt8);
  Ellipsoid a;
  a.value = 1;
  a.centre = g.indexToPhysical({15, 20, 16});
  a.semiAxes = {9, 9, 9};
  Ellipsoid b;
  b.value = 2;
  b.centre = g.indexToPhysical({40, 22, 17});
  b.semiAxes = {10, 7, 6};
  paint(mask, a);
  paint(mask, b);
  LabelEntry ea;
  ea.value = 1;
  ea.name = "sphere";
  ea.color = Rgb{200, 40, 30};
  LabelEntry eb;
  eb.value = 2;
  eb.name = "ellipsoid shape";
  eb.color = Rgb{20, 90, 210};
  const LabelTable table({ea, eb});
  meshes_ = buildLabelMeshes(mask, table, MeshOptions{});
  MeshOptions ras;
  ras.space = CoordinateSpace::RAS;
  rasMeshes_ = buildLabelMeshes(mask, table, ras);
  QCOMPARE(int(meshes_.size()), 2);
  QCOMPARE(meshFileBaseName(meshes_[1]), std::string("ellipsoid_shape"));
}

void MeshWritersTest::everyFormatReadsBack() {
  const std::string dir = scratchDir("mesh-writers/per-label");
  MeshWriteOptions options;
  options.formats = parseMeshFormats("obj,stl,ply,vtp,glb");
  const auto written = writeMeshes(meshes_, dir, options);
  QCOMPARE(int(written.size()), 2 * 6);  // five formats plus the MTL, per label
  QCOMPARE(filesIn(dir), (std::vector<std::string>{"ellipsoid_shape.glb", "ellipsoid_shape.mtl", "ellipsoid_shape.obj",
                                                   "ellipsoid_shape.ply", "ellipsoid_shape.stl", "ellipsoid_shape.vtp",
                                                   "sphere.glb", "sphere.mtl", "sphere.obj", "sphere.ply", "sphere.stl",
                                                   "sphere.vtp"}));
  for (const LabelMesh& m : meshes_) {
    const std::string base = dir + "/" + meshFileBaseName(m);
    const Counts expected = countsOf(m.surface);
    for (auto pd : {readWith<vtkOBJReader>(base + ".obj"), readWith<vtkSTLReader>(base + ".stl"),
                    readWith<vtkPLYReader>(base + ".ply"), readWith<vtkXMLPolyDataReader>(base + ".vtp")}) {
      QCOMPARE(pd->GetNumberOfPoints(), expected.points);
      QCOMPARE(pd->GetNumberOfPolys(), expected.polys);
      // Same place in space (first point; STL merges points so compare bounds instead).
      double b1[6], b2[6];
      pd->GetBounds(b1);
      m.surface->GetBounds(b2);
      for (int d = 0; d < 6; ++d) QVERIFY(std::abs(b1[d] - b2[d]) < 1e-3);
    }
    // OBJ carries the coordinate system, the material library, and the name.
    const std::string obj = readText(base + ".obj");
    QVERIFY(obj.find("# SPACE=LPS") != std::string::npos);
    QVERIFY(obj.find("mtllib " + meshFileBaseName(m) + ".mtl") != std::string::npos);
    QVERIFY(obj.find("usemtl " + meshFileBaseName(m)) != std::string::npos);
    const std::string mtl = readText(base + ".mtl");
    char kd[64];
    std::snprintf(kd, sizeof kd, "Kd %.4f %.4f %.4f", m.color.r / 255.0, m.color.g / 255.0, m.color.b / 255.0);
    QVERIFY(mtl.find("newmtl " + meshFileBaseName(m)) != std::string::npos);
    QVERIFY2(mtl.find(kd) != std::string::npos, kd);
    // PLY carries the colour, VTP the space and name.
    auto ply = readWith<vtkPLYReader>(base + ".ply");
    auto* rgb = vtkUnsignedCharArray::SafeDownCast(ply->GetPointData()->GetArray("RGB"));
    QVERIFY(rgb);
    QCOMPARE(int(rgb->GetValue(0)), int(m.color.r));
    QCOMPARE(int(rgb->GetValue(2)), int(m.color.b));
    QVERIFY(readText(base + ".ply").find("comment SPACE=LPS") != std::string::npos);
    QVERIFY(readText(base + ".stl").rfind("Nephro3D SPACE=LPS", 0) == 0);
    auto vtp = readWith<vtkXMLPolyDataReader>(base + ".vtp");
    auto* space = vtkStringArray::SafeDownCast(vtp->GetFieldData()->GetAbstractArray("Space"));
    QVERIFY(space);
    QCOMPARE(space->GetValue(0), std::string("LPS"));
    auto* names = vtkStringArray::SafeDownCast(vtp->GetFieldData()->GetAbstractArray("LabelNames"));
    QVERIFY(names);
    QCOMPARE(names->GetValue(0), m.name);
    QVERIFY(vtp->GetPointData()->GetNormals() || vtp->GetPointData()->GetArray("Normals"));
  }

  const std::string rasDir = scratchDir("mesh-writers/ras");
  MeshWriteOptions objOnly;
  writeMeshes(rasMeshes_, rasDir, objOnly);
  QVERIFY(readText(rasDir + "/sphere.obj").find("# SPACE=RAS") != std::string::npos);
}

void MeshWritersTest::mergedFilesHoldEveryLabel() {
  const std::string dir = scratchDir("mesh-writers/merged");
  MeshWriteOptions options;
  options.formats = parseMeshFormats("obj,stl,ply,vtp,glb");
  options.merged = true;
  options.mergedName = "case";
  writeMeshes(meshes_, dir, options);
  QCOMPARE(filesIn(dir), (std::vector<std::string>{"case.glb", "case.mtl", "case.obj", "case.ply", "case.stl", "case.vtp"}));
  vtkIdType points = 0, polys = 0;
  for (const auto& m : meshes_) {
    points += m.surface->GetNumberOfPoints();
    polys += m.surface->GetNumberOfPolys();
  }
  for (auto pd : {readWith<vtkOBJReader>(dir + "/case.obj"), readWith<vtkSTLReader>(dir + "/case.stl"),
                  readWith<vtkPLYReader>(dir + "/case.ply"), readWith<vtkXMLPolyDataReader>(dir + "/case.vtp")}) {
    QCOMPARE(pd->GetNumberOfPoints(), points);
    QCOMPARE(pd->GetNumberOfPolys(), polys);
  }
  const std::string obj = readText(dir + "/case.obj");
  QVERIFY(obj.find("usemtl sphere") != std::string::npos);
  QVERIFY(obj.find("usemtl ellipsoid_shape") != std::string::npos);
  const std::string mtl = readText(dir + "/case.mtl");
  QVERIFY(mtl.find("newmtl sphere") != std::string::npos);
  QVERIFY(mtl.find("newmtl ellipsoid_shape") != std::string::npos);
  auto vtp = readWith<vtkXMLPolyDataReader>(dir + "/case.vtp");
  QVERIFY(vtp->GetCellData()->GetArray("LabelValue"));
  double range[2];
  vtp->GetCellData()->GetArray("LabelValue")->GetRange(range);
  QCOMPARE(range[0], 1.0);
  QCOMPARE(range[1], 2.0);
}

void MeshWritersTest::glbIsValid() {
  const std::string dir = scratchDir("mesh-writers/glb");
  MeshWriteOptions options;
  options.formats = {MeshFormat::Glb};
  options.merged = true;
  writeMeshes(meshes_, dir, options);
  const std::string bytes = readText(dir + "/labels.glb");
  QVERIFY(bytes.size() > 20);
  QCOMPARE(u32At(bytes, 0), 0x46546C67u);
  QCOMPARE(u32At(bytes, 4), 2u);
  QCOMPARE(size_t(u32At(bytes, 8)), bytes.size());
  const uint32_t jsonLength = u32At(bytes, 12);
  QCOMPARE(u32At(bytes, 16), 0x4E4F534Au);
  QCOMPARE(jsonLength % 4, 0u);
  const nlohmann::json doc = nlohmann::json::parse(bytes.substr(20, jsonLength));
  const size_t binAt = 20 + jsonLength;
  const uint32_t binLength = u32At(bytes, binAt);
  QCOMPARE(u32At(bytes, binAt + 4), 0x004E4942u);
  QCOMPARE(binLength % 4, 0u);
  QCOMPARE(size_t(binAt + 8 + binLength), bytes.size());
  QCOMPARE(doc["asset"]["version"].get<std::string>(), std::string("2.0"));
  QCOMPARE(doc["asset"]["extras"]["space"].get<std::string>(), std::string("LPS"));
  QCOMPARE(doc["buffers"][0]["byteLength"].get<size_t>(), size_t(binLength));
  for (const auto& view : doc["bufferViews"]) {
    QCOMPARE(view["byteOffset"].get<size_t>() % 4, size_t(0));
    QVERIFY(view["byteOffset"].get<size_t>() + view["byteLength"].get<size_t>() <= binLength);
  }
  QCOMPARE(doc["meshes"].size(), meshes_.size());
  // One root node maps LPS millimetres to glTF metres, +Y superior, +Z anterior:
  // a point 10 mm superior ends 0.01 m up, 10 mm posterior 0.01 m back.
  const auto& roots = doc["scenes"][0]["nodes"];
  QCOMPARE(roots.size(), size_t(1));
  const auto& root = doc["nodes"][roots[0].get<size_t>()];
  QCOMPARE(root["children"].size(), meshes_.size());
  const auto m = root["matrix"].get<std::vector<double>>();  // column-major
  auto apply = [&](double x, double y, double z, int row) { return m[row] * x + m[4 + row] * y + m[8 + row] * z; };
  QVERIFY(std::abs(apply(0, 0, 10, 1) - 0.01) < 1e-12);   // superior -> +Y
  QVERIFY(std::abs(apply(0, 10, 0, 2) + 0.01) < 1e-12);   // posterior -> -Z
  QVERIFY(std::abs(apply(10, 0, 0, 0) - 0.01) < 1e-12);   // left -> +X
  for (size_t n = 0; n < meshes_.size(); ++n) {
    const auto& mesh = doc["meshes"][n];
    QCOMPARE(mesh["name"].get<std::string>(), meshFileBaseName(meshes_[n]));
    const auto& prim = mesh["primitives"][0];
    const auto& pos = doc["accessors"][prim["attributes"]["POSITION"].get<size_t>()];
    const auto& nor = doc["accessors"][prim["attributes"]["NORMAL"].get<size_t>()];
    const auto& idx = doc["accessors"][prim["indices"].get<size_t>()];
    QCOMPARE(pos["count"].get<vtkIdType>(), meshes_[n].surface->GetNumberOfPoints());
    QCOMPARE(nor["count"].get<vtkIdType>(), meshes_[n].surface->GetNumberOfPoints());
    QCOMPARE(idx["count"].get<vtkIdType>(), 3 * meshes_[n].surface->GetNumberOfPolys());
    QCOMPARE(idx["componentType"].get<int>(), 5125);
    QCOMPARE(doc["bufferViews"][pos["bufferView"].get<size_t>()]["byteLength"].get<size_t>(),
             size_t(12 * meshes_[n].surface->GetNumberOfPoints()));
    double b[6];
    meshes_[n].surface->GetBounds(b);
    QVERIFY(std::abs(pos["min"][0].get<double>() - b[0]) < 1e-3);
    QVERIFY(std::abs(pos["max"][2].get<double>() - b[5]) < 1e-3);
    // Every index refers to an existing vertex.
    const auto& iview = doc["bufferViews"][idx["bufferView"].get<size_t>()];
    const size_t first = binAt + 8 + iview["byteOffset"].get<size_t>();
    uint32_t largest = 0;
    for (size_t i = 0; i < idx["count"].get<size_t>(); ++i) largest = std::max(largest, u32At(bytes, first + 4 * i));
    QCOMPARE(vtkIdType(largest) + 1, meshes_[n].surface->GetNumberOfPoints());
    const auto& material = doc["materials"][prim["material"].get<size_t>()];
    const double red = material["pbrMetallicRoughness"]["baseColorFactor"][0].get<double>();
    const double expectedRed = std::pow((meshes_[n].color.r / 255.0 + 0.055) / 1.055, 2.4);
    QVERIFY(std::abs(red - expectedRed) < 1e-6);
  }
}

void MeshWritersTest::failuresLeaveNothingBehind() {
  const std::string root = scratchDir("mesh-writers/failures");
  MeshWriteOptions options;
  options.formats = parseMeshFormats("obj,stl");

  // A folder that cannot exist: its parent is a file.
  { std::ofstream(root + "/plain-file") << "x"; }
  try {
    writeMeshes(meshes_, root + "/plain-file/out", options);
    QFAIL("writing under a file succeeded");
  } catch (const Error& e) {
    QCOMPARE(e.kind(), ErrorKind::Output);
    QVERIFY2(std::string(e.what()).find("plain-file") != std::string::npos, e.what());
  }

  // The second label's file cannot be written: the first label's files must not appear either.
  const std::string dir = root + "/half";
  fs::create_directories(dir + "/ellipsoid_shape.stl");  // a folder where a file should go
  try {
    writeMeshes(meshes_, dir, options);
    QFAIL("writing over a folder succeeded");
  } catch (const Error& e) {
    QCOMPARE(e.kind(), ErrorKind::Output);
  }
  QCOMPARE(filesIn(dir), std::vector<std::string>{"ellipsoid_shape.stl"});
  QVERIFY(fs::is_directory(dir + "/ellipsoid_shape.stl"));

  // Nothing to write.
  std::vector<LabelMesh> empty(1);
  empty[0].value = 3;
  empty[0].surface = vtkSmartPointer<vtkPolyData>::New();
  try {
    writeMeshes(empty, root + "/none", options);
    QFAIL("writing no surface succeeded");
  } catch (const Error& e) {
    QCOMPARE(e.kind(), ErrorKind::Output);
  }
  QVERIFY(filesIn(root + "/none").empty());
  try {
    parseMeshFormats("obj,fbx");
    QFAIL("an unknown format was accepted");
  } catch (const Error& e) {
    QCOMPARE(e.kind(), ErrorKind::Usage);
  }
}

QTEST_GUILESS_MAIN(MeshWritersTest)
#include "tst_mesh_writers.moc"
