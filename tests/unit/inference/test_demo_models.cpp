// The shipped demo models on phantoms with seeds never used in training
// (train_demo.py trains on seeds 101-106): prints Dice per label and checks
// kidney >= 0.90, artery and vein >= 0.80, ureter >= 0.70, tumour >= 0.80.
// The legacy models are older versions kept for comparison: printed only.
#include <QtTest>

#include <map>
#include <set>

#include "common/Resources.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPredictor.h"
#include "phantom/Phantom.h"

using namespace nephro;
using namespace nephro::inference;
namespace pl = phantom_label;

namespace {

struct Expectation {
  const char* model;
  std::vector<const char*> phases;
  // model label name -> ground-truth values and the Dice it must reach (-1: printed only)
  std::map<std::string, std::pair<std::set<int>, double>> labels;
};

const std::vector<Expectation>& expectations() {
  static const std::vector<Expectation> e = {
      {"vessel", {"A", "P"}, {{"kidney", {{pl::KidneyLeft, pl::KidneyRight, pl::Tumor}, 0.90}},
                              {"artery", {{pl::Artery}, 0.80}}, {"vein", {{pl::Vein}, 0.80}}}},
      {"ureter", {"D"}, {{"kidney", {{pl::KidneyLeft, pl::KidneyRight, pl::Tumor}, 0.90}},
                         {"ureter", {{pl::UreterLeft, pl::UreterRight}, 0.70}}}},
      {"tumor", {"P"}, {{"kidney", {{pl::KidneyLeft, pl::KidneyRight}, 0.90}}, {"tumor", {{pl::Tumor}, 0.80}}}},
      {"totalseg", {"P"}, {{"kidney_left", {{pl::KidneyLeft, pl::Tumor}, 0.90}}, {"kidney_right", {{pl::KidneyRight}, 0.90}},
                           {"liver", {{pl::Liver}, -1}}, {"spleen", {{pl::Spleen}, -1}}, {"aorta", {{pl::Aorta}, -1}}}},
      {"kidney_tumor_legacy", {"P"}, {{"kidney", {{pl::KidneyLeft, pl::KidneyRight}, -1}}, {"tumor", {{pl::Tumor}, -1}}}},
      {"ureter_legacy", {"D"}, {{"kidney", {{pl::KidneyLeft, pl::KidneyRight, pl::Tumor}, -1}},
                                {"ureter", {{pl::UreterLeft, pl::UreterRight}, -1}}}},
  };
  return e;
}

}  // namespace

class DemoModelsTest : public QObject {
  Q_OBJECT
 private slots:
  void diceOnUnseenPhantoms() {
    std::vector<ModelManifest> manifests;
    std::vector<Expectation> present;
    for (const auto& e : expectations()) {
      ModelManifest m = findManifest(e.model);
      const std::string missing = missingModelFiles(m);
      if (!missing.empty()) {
        qInfo("%s: not evaluated (%s)", e.model, missing.c_str());
        continue;
      }
      manifests.push_back(m);
      present.push_back(e);
    }
    if (manifests.empty()) QSKIP("no demo model files present (models/train_demo.py writes them)");
    QString failures;
    for (uint64_t seed : {1, 2}) {
      PhantomOptions po;
      po.seed = seed;
      PhantomCase ph = generatePhantom(po);
      std::map<std::string, const Volume*> phases{{"A", &ph.arterial}, {"P", &ph.portal}, {"D", &ph.delayed}};
      const uint8_t* gt = ph.labels.data<uint8_t>();
      for (size_t i = 0; i < manifests.size(); ++i) {
        const Expectation& e = present[i];
        NnunetModel model = loadManifestModel(manifests[i]);
        PredictorOptions o;
        o.mirroring = manifests[i].mirroring;
        o.tileStep = manifests[i].tileStep;
        NnunetPredictor predictor(model, o);
        std::vector<Volume> channels;
        for (const char* p : e.phases) channels.push_back(*phases[p]);
        Volume mask = predictor.predict(channels);
        QVERIFY(mask.geometry() == ph.arterial.geometry());
        const uint8_t* pred = mask.data<uint8_t>();
        for (const auto& l : model.dataset.labels) {
          auto it = e.labels.find(l.name);
          if (it == e.labels.end()) continue;
          const int value = l.values.front();
          int64_t inter = 0, a = 0, b = 0;
          for (int64_t v = 0; v < mask.voxelCount(); ++v) {
            const bool p = pred[v] == value, g = it->second.first.count(gt[v]) != 0;
            inter += p && g;
            a += p;
            b += g;
          }
          const double dice = (a + b) ? 2.0 * inter / double(a + b) : 1.0;
          qInfo("seed %llu %-19s %-18s Dice %.3f", (unsigned long long)seed, e.model, l.name.c_str(), dice);
          if (it->second.second >= 0 && dice < it->second.second)
            failures += QString("seed %1 %2 %3 Dice %4 < %5; ").arg(seed).arg(e.model).arg(l.name.c_str()).arg(dice, 0, 'f', 3).arg(it->second.second);
        }
      }
    }
    QVERIFY2(failures.isEmpty(), qPrintable(failures));
  }
};

QTEST_GUILESS_MAIN(DemoModelsTest)
#include "test_demo_models.moc"
