// File ▸ Open mask with a label mapping, under Xvfb: a one-label artery mask
// written by another program (value 1, no label table) opened with
// "1=artery", a mask numbered as TotalSegmentator's classes opened with its
// class map, and a bad mapping shown as the engine's one-line error in the
// error banner. The dialog's choices map onto --labels / --label-table.
#include <QApplication>
#include <QDir>
#include <QFile>
#include <QSurfaceFormat>
#include <QtTest>

#include "TestSupport.h"
#include "common/OutputTransaction.h"
#include "gui/MainWindow.h"
#include "gui/MaskLabelsDialog.h"
#include "gui/Style.h"
#include "gui/StudyPresenter.h"
#include "image/VolumeIO.h"
#include "labels/LabelSources.h"
#include "phantom/Phantom.h"
#include "viewers/MeshView.h"
#include "widgets/ErrorBanner.h"
#include "widgets/WorkspaceModel.h"

using namespace nephro;
namespace pl = phantom_label;
using Source = gui::MaskLabelsDialog::Source;

namespace {

bool waitIdle(gui::MainWindow& w, int ms = 60000) {
  QElapsedTimer t;
  t.start();
  int quiet = 0;
  while (t.elapsed() < ms) {
    QTest::qWait(50);
    quiet = w.busy() ? 0 : quiet + 1;
    if (quiet >= 6) return true;
  }
  return false;
}

// The phantom's ground truth renumbered (phantom value -> new value), no label table beside it.
void writePlainMask(const PhantomCase& ph, const std::vector<std::pair<int, int>>& values, const std::string& path) {
  Volume mask(ph.labels.geometry(), PixelType::UInt8);
  std::vector<uint8_t> lut(256, 0);
  for (const auto& [from, to] : values) lut[size_t(from)] = uint8_t(to);
  const uint8_t* gt = ph.labels.data<uint8_t>();
  uint8_t* out = mask.data<uint8_t>();
  for (int64_t v = 0; v < mask.voxelCount(); ++v) out[v] = lut[gt[v]];
  writeVolume(mask, path);
}

const widgets::Layer* layerNamed(gui::MainWindow& w, const QString& name) {
  for (const auto& l : w.workspace()->layers())
    if (l.name == name) return &l;
  return nullptr;
}

}  // namespace

class MaskLabelsTest : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase();
  void dialogChoicesAreTheCommandLinesOptions();
  void plainArteryMaskGetsItsName();
  void totalSegmentatorNumberingGetsNames();
  void datasetJsonAndTableFileNameTheValues();
  void badMappingShowsTheEnginesError();

 private:
  void openStudy(gui::MainWindow& w);
  std::string dir_;
  PhantomCase phantom_;
};

void MaskLabelsTest::initTestCase() {
  dir_ = test::scratchDir("gui_mask_labels");
  PhantomOptions options;
  options.size = PhantomSize::Small;
  options.seed = 5;
  phantom_ = generatePhantom(options);
  writePhantom(phantom_, dir_);
  writePlainMask(phantom_, {{pl::Artery, 1}}, dir_ + "/plain_artery.nii.gz");
  const LabelTable& ts = totalSegmentatorTable();
  writePlainMask(phantom_,
                 {{pl::KidneyLeft, ts.findByName("kidney_left")->value},
                  {pl::KidneyRight, ts.findByName("kidney_right")->value},
                  {pl::Artery, ts.findByName("aorta")->value}},
                 dir_ + "/totalseg.nii.gz");
  QVERIFY(!QFile::exists(QString::fromStdString(LabelTable::sidecarPath(dir_ + "/plain_artery.nii.gz"))));
}

void MaskLabelsTest::openStudy(gui::MainWindow& w) {
  w.openStudy({{QString::fromStdString(dir_ + "/phantom_A.nii.gz"), widgets::FileRole::Arterial}});
  QTRY_VERIFY_WITH_TIMEOUT(w.workspace()->loadedPhases().size() == 1, 60000);
  QVERIFY(waitIdle(w));
}

void MaskLabelsTest::dialogChoicesAreTheCommandLinesOptions() {
  gui::MaskLabelsDialog dialog;
  QCOMPARE(dialog.source(), Source::CaseSchema);
  QVERIFY(dialog.choice().isDefault());
  dialog.setSource(Source::Pairs);
  dialog.setText(" 1=artery,2=vein ");
  QCOMPARE(dialog.choice().labels, std::string("1=artery,2=vein"));
  QVERIFY(dialog.choice().labelTable.empty());
  dialog.setSource(Source::TotalSegmentator);
  QCOMPARE(dialog.choice().labels, std::string("totalseg"));
  dialog.setSource(Source::NnunetDataset);
  dialog.setText("/data/Dataset001/dataset.json");
  QCOMPARE(dialog.choice().labelTable, std::string("/data/Dataset001/dataset.json"));
  dialog.setSource(Source::TableFile);
  dialog.setText("");
  QVERIFY(!dialog.choice().isDefault());
  QVERIFY(!dialog.choice().missing.empty());
}

void MaskLabelsTest::plainArteryMaskGetsItsName() {
  gui::MainWindow window(std::make_unique<widgets::Preferences>(QString::fromStdString(dir_ + "/a.ini")));
  window.show();
  openStudy(window);
  // Without a mapping the case schema numbering is assumed: value 1 is not an artery.
  const QString plain = QString::fromStdString(dir_ + "/plain_artery.nii.gz");
  window.studyPresenter()->openStudy({{plain, widgets::FileRole::Mask}}, {"1=artery", {}, {}});
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 1, 60000);
  QVERIFY(waitIdle(window));
  const widgets::Layer* layer = layerNamed(window, "plain_artery");
  QVERIFY(layer);
  QCOMPARE(int(layer->table.entries().size()), 1);
  QVERIFY(layer->table.find(1));
  QCOMPARE(layer->table.find(1)->name, std::string("artery"));
  // The case schema's display name and colour come with it.
  QCOMPARE(layer->table.find(1)->displayName, LabelTable::schemaEntry("artery", 1).displayName);
  QVERIFY(layer->voxelCount(1) > 0);
  QVERIFY(!window.errorBanner()->isVisible());
}

void MaskLabelsTest::totalSegmentatorNumberingGetsNames() {
  gui::MainWindow window(std::make_unique<widgets::Preferences>(QString::fromStdString(dir_ + "/b.ini")));
  window.show();
  openStudy(window);
  const QString ts = QString::fromStdString(dir_ + "/totalseg.nii.gz");
  window.studyPresenter()->openStudy({{ts, widgets::FileRole::Mask}}, {"totalseg", {}, {}});
  QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == 1, 60000);
  QVERIFY(waitIdle(window));
  const widgets::Layer* layer = layerNamed(window, "totalseg");
  QVERIFY(layer);
  for (const char* name : {"kidney_left", "kidney_right", "aorta"}) {
    const LabelEntry* e = totalSegmentatorTable().findByName(name);
    QVERIFY(e);
    QVERIFY2(layer->table.find(e->value), name);
    QCOMPARE(layer->table.find(e->value)->name, std::string(name));
    QVERIFY2(layer->voxelCount(e->value) > 0, name);
  }
  // The left kidney is where the phantom's left kidney is.
  QCOMPARE(layer->voxelCount(totalSegmentatorTable().findByName("kidney_left")->value),
           int64_t(std::count(phantom_.labels.data<uint8_t>(),
                              phantom_.labels.data<uint8_t>() + phantom_.labels.voxelCount(), uint8_t(pl::KidneyLeft))));
}

void MaskLabelsTest::datasetJsonAndTableFileNameTheValues() {
  gui::MainWindow window(std::make_unique<widgets::Preferences>(QString::fromStdString(dir_ + "/d.ini")));
  window.show();
  openStudy(window);
  const std::string dataset = dir_ + "/dataset.json";
  writeFileAtomically(dataset, R"({"channel_names": {"0": "CT"}, "labels": {"background": 0, "artery": 1}, "numTraining": 1,
                                   "file_ending": ".nii.gz"})");
  const std::string ctbl = dir_ + "/colours.txt";
  writeFileAtomically(ctbl, "# value name r g b a\n0 background 0 0 0 0\n1 Artery 216 101 79 255\n");
  const QString plain = QString::fromStdString(dir_ + "/plain_artery.nii.gz");
  // As the dialog gives them: the dataset and the table file both as --label-table.
  for (const std::string& file : {dataset, ctbl}) {
    const size_t before = window.workspace()->layers().size();
    window.studyPresenter()->openStudy({{plain, widgets::FileRole::Mask}}, {{}, file, {}});
    QTRY_VERIFY_WITH_TIMEOUT(window.workspace()->layers().size() == before + 1, 60000);
    QVERIFY(waitIdle(window));
    const widgets::Layer& layer = window.workspace()->layers().back();
    QVERIFY2(layer.table.find(1), file.c_str());
    QCOMPARE(layer.table.find(1)->name, std::string("artery"));
  }
  QVERIFY(!window.errorBanner()->isVisible());
}

void MaskLabelsTest::badMappingShowsTheEnginesError() {
  gui::MainWindow window(std::make_unique<widgets::Preferences>(QString::fromStdString(dir_ + "/c.ini")));
  window.show();
  openStudy(window);
  const QString plain = QString::fromStdString(dir_ + "/plain_artery.nii.gz");
  widgets::ErrorBanner* banner = window.errorBanner();
  // Not value=name: the engine's own --labels message, and no layer.
  window.studyPresenter()->openStudy({{plain, widgets::FileRole::Mask}}, {"1=artery,two", {}, {}});
  QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 30000);
  QVERIFY(waitIdle(window));
  QCOMPARE(banner->kind(), widgets::ErrorBanner::Kind::Error);
  std::string expected;
  try {
    labelTableFromPairs("1=artery,two");
  } catch (const std::exception& e) {
    expected = e.what();
  }
  QVERIFY(!expected.empty());
  QVERIFY2(banner->headline().contains(QString::fromStdString(expected)), qPrintable(banner->headline()));
  QVERIFY(!banner->headline().contains('\n'));
  QCOMPARE(int(window.workspace()->layers().size()), 0);
  // A table that leaves a value of the mask unnamed: the engine's coverage error names the mask.
  banner->hide();
  window.studyPresenter()->openStudy({{plain, widgets::FileRole::Mask}}, {"2=vein", {}, {}});
  QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 30000);
  QVERIFY(waitIdle(window));
  QVERIFY2(banner->headline().contains("plain_artery.nii.gz"), qPrintable(banner->headline()));
  QCOMPARE(int(window.workspace()->layers().size()), 0);
  // A label table file that is not there.
  banner->hide();
  window.studyPresenter()->openStudy({{plain, widgets::FileRole::Mask}}, {{}, dir_ + "/none.txt", {}});
  QTRY_VERIFY_WITH_TIMEOUT(banner->isVisible(), 30000);
  QVERIFY(waitIdle(window));
  QVERIFY2(banner->headline().contains("none.txt"), qPrintable(banner->headline()));
  QCOMPARE(int(window.workspace()->layers().size()), 0);
}

int main(int argc, char** argv) {
  QSurfaceFormat::setDefaultFormat(viewers::MeshView::defaultFormat());
  QApplication app(argc, argv);
  gui::applyWorkstationStyle(app);
  MaskLabelsTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "tst_mask_labels.moc"
