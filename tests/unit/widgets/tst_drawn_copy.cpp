// Overlapping labels: when several layers carry one structure, the label table
// groups their rows and the views draw one copy: the newest visible one, or
// the one chosen with the row's "Draw this copy". The choice survives a
// workspace.json round trip and falls back to the newest when its layer goes.
#include <QAction>
#include <QDir>
#include <QFont>
#include <QMenu>
#include <QSignalSpy>
#include <QtTest>
#include <memory>

#include "TestSupport.h"
#include "common/OutputTransaction.h"
#include "image/VolumeIO.h"
#include "widgets/LabelTableModel.h"
#include "widgets/LabelTableView.h"
#include "widgets/WorkspaceFile.h"
#include "widgets/WorkspaceModel.h"

using namespace nephro;
using namespace nephro::widgets;

namespace {

// 8x8x8 voxels: kidney_left (1) in the lower half, artery (2) one slab.
Volume testMask() {
  Geometry g;
  g.size = {8, 8, 8};
  Volume m(g, PixelType::UInt8);
  for (int k = 0; k < 4; ++k)
    for (int j = 0; j < 8; ++j)
      for (int i = 0; i < 8; ++i) m.data<uint8_t>()[g.offset(i, j, k)] = 1;
  for (int j = 0; j < 8; ++j)
    for (int i = 0; i < 8; ++i) m.data<uint8_t>()[g.offset(i, j, 7)] = 2;
  return m;
}

LabelTable testTable() {
  return LabelTable({LabelEntry{1, "kidney_left", "Left kidney", Rgb{185, 102, 83}, "", ""},
                     LabelEntry{2, "artery", "Renal artery", Rgb{216, 101, 79}, "", ""}});
}

// Triggers the named action of a row's context menu.
bool trigger(LabelTableView& view, int row, const char* action) {
  std::unique_ptr<QMenu> menu(view.rowMenu(row, nullptr));
  if (!menu) return false;
  auto* a = menu->findChild<QAction*>(action);
  if (!a) return false;
  a->trigger();
  return true;
}

}  // namespace

class DrawnCopyTest : public QObject {
  Q_OBJECT
 private slots:
  void newestIsDrawnUnlessAnotherIsChosen() {
    WorkspaceModel ws;
    LabelTableModel model(&ws);
    LabelTableView view;
    view.setLabelModel(&model);
    const int a = ws.addLayer("a", testMask(), testTable());
    const int b = ws.addLayer("b", testMask(), testTable());
    const int c = ws.addLayer("c", testMask(), LabelTable({testTable().entries()[0]}));
    // Grouped: kidney_left of a, b, c, then artery of a and b.
    const int ra = model.rowOf(a, 1), rb = model.rowOf(b, 1), rc = model.rowOf(c, 1);
    QCOMPARE(ra, 0);
    QCOMPARE(rb, 1);
    QCOMPARE(rc, 2);
    QCOMPARE(model.index(ra, 0).data(LabelTableModel::CopiesRole).toInt(), 3);
    // The newest copy is drawn, the others are not.
    QVERIFY(ws.isDrawn(c, 1));
    QVERIFY(!ws.isDrawn(a, 1) && !ws.isDrawn(b, 1));
    QCOMPARE(ws.shadowedBy(a, 1), c);
    QVERIFY(model.index(rc, LabelTableModel::Name).data(Qt::FontRole).value<QFont>().bold());
    QVERIFY(model.index(ra, LabelTableModel::Name).data(Qt::FontRole).value<QFont>().italic());
    // The artery of b is the newest artery.
    QVERIFY(ws.isDrawn(b, 2) && !ws.isDrawn(a, 2));

    // "Draw this copy" on a's row: a's kidney is drawn, b's and c's are not; artery unchanged.
    QSignalSpy changed(&ws, &WorkspaceModel::drawnCopiesChanged);
    QVERIFY(trigger(view, ra, "drawThisCopy"));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(ws.chosenCopy("kidney_left"), a);
    QVERIFY(model.isChosenCopy(ra));
    QVERIFY(ws.isDrawn(a, 1));
    QVERIFY(!ws.isDrawn(b, 1) && !ws.isDrawn(c, 1));
    QCOMPARE(ws.shadowedBy(c, 1), a);
    QVERIFY(model.index(ra, 0).data(LabelTableModel::DrawnRole).toBool());
    QVERIFY(!model.index(rc, 0).data(LabelTableModel::DrawnRole).toBool());
    QVERIFY(ws.isDrawn(b, 2));
    // The chosen copy hidden: the newest shown one is drawn meanwhile; shown again, it is back.
    ws.setLabelVisible(a, 1, false);
    QVERIFY(ws.isDrawn(c, 1));
    ws.setLabelVisible(a, 1, true);
    QVERIFY(ws.isDrawn(a, 1) && !ws.isDrawn(c, 1));
    // Choosing a hidden layer's copy shows that layer.
    ws.setLayerVisible(b, false);
    QVERIFY(trigger(view, rb, "drawThisCopy"));
    QVERIFY(ws.layer(b)->visible);
    QVERIFY(ws.isDrawn(b, 1) && !ws.isDrawn(a, 1));
    // "Draw the newest copy" gives the choice back.
    QVERIFY(trigger(view, model.rowOf(b, 1), "drawNewestCopy"));
    QCOMPARE(ws.chosenCopy("kidney_left"), 0);
    QVERIFY(ws.isDrawn(c, 1));
    // A structure only one layer carries has no menu.
    const int d = ws.addLayer("d", testMask(), LabelTable({LabelEntry{1, "spleen", "Spleen", Rgb{}, "", ""}}));
    QVERIFY(!std::unique_ptr<QMenu>(view.rowMenu(model.rowOf(d, 1), nullptr)));
  }

  void removedChoiceFallsBackToNewest() {
    WorkspaceModel ws;
    const int a = ws.addLayer("a", testMask(), testTable());
    const int b = ws.addLayer("b", testMask(), testTable());
    ws.setDrawnCopy("kidney_left", a);
    QVERIFY(ws.isDrawn(a, 1) && !ws.isDrawn(b, 1));
    QSignalSpy changed(&ws, &WorkspaceModel::drawnCopiesChanged);
    ws.removeLayer(a);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(ws.chosenCopy("kidney_left"), 0);
    QVERIFY(ws.isDrawn(b, 1));
    // A new layer with the same structure is newer: it is drawn.
    const int c = ws.addLayer("c", testMask(), testTable());
    QVERIFY(ws.isDrawn(c, 1) && !ws.isDrawn(b, 1));
    // A layer without that structure cannot be chosen for it.
    const int e = ws.addLayer("e", testMask(), LabelTable({LabelEntry{1, "spleen", "Spleen", Rgb{}, "", ""}}));
    ws.setDrawnCopy("kidney_left", e);
    QCOMPARE(ws.chosenCopy("kidney_left"), 0);
  }

  void choiceSurvivesWorkspaceFile() {
    const QString dir = QString::fromStdString(test::scratchDir("drawn-copy"));
    for (const char* name : {"a", "b"}) {
      const std::string path = (dir + "/" + name + ".nii.gz").toStdString();
      writeVolume(testMask(), path);
      writeFileAtomically(LabelTable::sidecarPath(path), testTable().toJson());
    }
    WorkspaceState st;
    WorkspaceLayerState a{"a", dir + "/a.nii.gz", "P", true, {}, {"kidney_left"}};
    WorkspaceLayerState b{"b", dir + "/b.nii.gz", "P", true, {}, {}};
    st.layers = {a, b};
    writeWorkspace(dir, st);
    const WorkspaceState read = readWorkspace(dir);
    QCOMPARE(int(read.layers.size()), 2);
    QCOMPARE(read.layers[0].drawnCopies, QStringList({"kidney_left"}));
    QVERIFY(read.layers[1].drawnCopies.isEmpty());
  }
};

QTEST_MAIN(DrawnCopyTest)
#include "tst_drawn_copy.moc"
