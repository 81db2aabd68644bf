// The export dialog: what it ticks to start with (visible layers and labels
// only), the request its choices make, and what the export writes: masks with
// only the chosen labels, meshes per label or merged, points in LPS or RAS,
// and the summary of files with their sizes.
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileInfo>
#include <QtTest>
#include <vtkPolyData.h>

#include "TestSupport.h"
#include "image/VolumeIO.h"
#include "widgets/ExportDialog.h"
#include "widgets/ModelPanel.h"

using namespace nephro;
using namespace nephro::widgets;

namespace {

// Two boxes (labels 1 and 2) and a third hidden label 3.
Volume boxes() {
  Geometry g;
  g.size = {24, 24, 16};
  g.spacing = {1.0, 1.0, 2.0};
  g.origin = {-10, 20, 5};
  Volume v(g, PixelType::UInt8);
  uint8_t* m = v.data<uint8_t>();
  for (int64_t k = 2; k < 14; ++k)
    for (int64_t j = 2; j < 22; ++j)
      for (int64_t i = 2; i < 22; ++i) m[g.offset(i, j, k)] = i < 8 ? 1 : i < 14 ? 2 : i > 15 ? 3 : 0;
  return v;
}

LabelTable table3() {
  LabelTable t;
  t.set(LabelTable::schemaEntry("kidney_left", 1));
  t.set(LabelTable::schemaEntry("tumor", 2));
  t.set(LabelTable::schemaEntry("liver", 3));
  return t;
}

int addMeshedLayer(WorkspaceModel& ws, const QString& name) {
  const Volume mask = boxes();
  const LabelTable table = table3();
  const int id = ws.addLayer(name, mask, table);
  for (const LabelMesh& m : buildLabelMeshes(mask, table, MeshOptions{})) ws.setMesh(id, m);
  return id;
}

}  // namespace

class ExportTest : public QObject {
  Q_OBJECT
 private slots:
  void startsWithWhatIsVisible();
  void writesTheChosenLabelsAndListsTheFiles();
  void rasNegatesXAndY();
  void anyPhaseModelSaysWhichPhaseItReads();
};

namespace {
struct FixedCatalog : ModelCatalog {
  std::vector<ModelDescription> models() const override {
    ModelDescription tumor{"tumor", "tumor", "", {}, true, {}};
    ModelDescription vessel{"vessel", "vessel", "", {"A", "P"}, false, {}};
    vessel.outputSpace = "A";
    return {tumor, vessel};
  }
  std::vector<ComputeDevice> devices() const override { return {{"cpu", "CPU"}}; }
};
}  // namespace

void ExportTest::anyPhaseModelSaysWhichPhaseItReads() {
  // The engine's rule (P, then A, then D), said in the panel, and where the mask will live.
  ModelPanel panel;
  panel.setCatalog(std::make_shared<FixedCatalog>());
  auto* box = panel.findChild<QCheckBox*>("model_tumor");
  QVERIFY(box);
  panel.setLoadedPhases({"A", "P", "D"});
  QVERIFY2(box->text().contains("reads P"), qPrintable(box->text()));
  panel.setLoadedPhases({"A", "D"});
  QVERIFY2(box->text().contains("reads A"), qPrintable(box->text()));
  const auto models = FixedCatalog().models();
  QCOMPARE(modelOutputPhase(models[0], {"D", "A"}), QString("A"));
  QCOMPARE(modelOutputPhase(models[1], {"A", "P"}), QString("A"));
}

void ExportTest::startsWithWhatIsVisible() {
  WorkspaceModel ws;
  const int a = addMeshedLayer(ws, "model a");
  const int b = addMeshedLayer(ws, "model b");
  ws.setLabelVisible(a, 3, false);
  ws.setLayerVisible(b, false);
  ExportDialog dialog(&ws, "/tmp/x");
  QVERIFY(dialog.isLabelChecked(a, 1) && dialog.isLabelChecked(a, 2));
  QVERIFY(!dialog.isLabelChecked(a, 3));
  QVERIFY(!dialog.isLabelChecked(b, 1));
  ExportRequest r = dialog.request();
  QCOMPARE(int(r.layers.size()), 1);
  QCOMPARE(r.layers[0].name, QString("model a"));
  QCOMPARE(r.layers[0].labels, std::vector<int>({1, 2}));
  QCOMPARE(int(r.layers[0].meshes.size()), 2);
  QCOMPARE(r.meshFormats, QStringList({"obj"}));
  QVERIFY(r.maskFormats.isEmpty());
  QCOMPARE(r.space, CoordinateSpace::LPS);
  QVERIFY(!r.merged);
  // The user's choices.
  dialog.setLayerChecked(b, true);
  dialog.setLabelChecked(b, 2, false);
  dialog.setFormatChecked("stl", true);
  dialog.setFormatChecked("nii.gz", true);
  dialog.setSpace(CoordinateSpace::RAS);
  dialog.setMerged(true);
  dialog.setFolder("/tmp/y");
  r = dialog.request();
  QCOMPARE(int(r.layers.size()), 2);
  QCOMPARE(r.layers[1].labels, std::vector<int>({1, 3}));
  QCOMPARE(r.meshFormats, QStringList({"obj", "stl"}));
  QCOMPARE(r.maskFormats, QStringList({"nii.gz"}));
  QCOMPARE(r.space, CoordinateSpace::RAS);
  QVERIFY(r.merged);
  QCOMPARE(r.folder, QString("/tmp/y"));
}

void ExportTest::writesTheChosenLabelsAndListsTheFiles() {
  WorkspaceModel ws;
  const int a = addMeshedLayer(ws, "model a");
  ws.setLabelVisible(a, 3, false);
  const QString dir = QString::fromStdString(test::scratchDir("export_dialog"));
  ExportDialog dialog(&ws, dir + "/per-label");
  dialog.setFormatChecked("nii.gz", true);
  dialog.setFormatChecked("ply", true);
  const auto files = writeExport(dialog.request());
  QStringList names;
  for (const auto& f : files) {
    names << QDir(dir + "/per-label").relativeFilePath(f.path);
    QVERIFY(f.bytes > 0);
    QCOMPARE(f.bytes, QFileInfo(f.path).size());
  }
  names.sort();
  QCOMPARE(names, QStringList({"model_a.json", "model_a.nii.gz", "model_a/kidney_left.mtl", "model_a/kidney_left.obj",
                               "model_a/kidney_left.ply", "model_a/tumor.mtl", "model_a/tumor.obj",
                               "model_a/tumor.ply"}));
  // The mask keeps only the chosen labels.
  const Volume written = readVolume((dir + "/per-label/model_a.nii.gz").toStdString());
  const auto counts = labelVoxelCounts(written);
  QVERIFY(counts.size() < 4 || counts[3] == 0);
  QVERIFY(counts[1] > 0 && counts[2] > 0);
  const QString summary = exportSummary(files, dir + "/per-label");
  QVERIFY2(summary.startsWith("8 files"), qPrintable(summary));
  QVERIFY(summary.contains("model_a/tumor.ply") && summary.contains(" KB"));
  // Merged: one file per layer and format (OBJ with its material file).
  dialog.setMerged(true);
  dialog.setFormatChecked("nii.gz", false);
  dialog.setFormatChecked("ply", false);
  dialog.setFolder(dir + "/merged");
  const auto merged = writeExport(dialog.request());
  QCOMPARE(int(merged.size()), 2);
  QVERIFY(merged[0].path.endsWith("model_a/model_a.obj") || merged[1].path.endsWith("model_a/model_a.obj"));
}

void ExportTest::rasNegatesXAndY() {
  const Volume mask = boxes();
  const auto meshes = buildLabelMeshes(mask, table3(), MeshOptions{});
  const LabelMesh ras = meshInSpace(meshes[0], CoordinateSpace::RAS);
  QCOMPARE(ras.space, CoordinateSpace::RAS);
  double p[3], q[3];
  meshes[0].surface->GetPoint(5, p);
  ras.surface->GetPoint(5, q);
  QCOMPARE(q[0], -p[0]);
  QCOMPARE(q[1], -p[1]);
  QCOMPARE(q[2], p[2]);
  // The original is untouched.
  double again[3];
  meshes[0].surface->GetPoint(5, again);
  QCOMPARE(again[0], p[0]);
}

QTEST_MAIN(ExportTest)
#include "tst_export.moc"
