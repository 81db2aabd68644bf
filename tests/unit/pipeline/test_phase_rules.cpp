// The phase rules `run` and the workstation share: which phase an "any phase"
// model reads, and whose CT a post-processing step reads.
#include <QtTest>

#include "common/PhaseRules.h"

using namespace nephro;

class PhaseRulesTest : public QObject {
  Q_OBJECT
 private slots:
  void anyPhaseModelsReadTheFirstOfTheirOrder() {
    QCOMPARE(anyPhaseChoice({}, {"A", "P", "D"}), std::string("P"));
    QCOMPARE(anyPhaseChoice({}, {"A", "D"}), std::string("A"));
    QCOMPARE(anyPhaseChoice({"D", "A"}, {"A", "P", "D"}), std::string("D"));
    QCOMPARE(anyPhaseChoice({"P"}, {"A"}), std::string());
  }
  void stepsReadTheCtOfTheirInputLayersPhase() {
    const std::vector<std::string> apd{"A", "P", "D"};
    // The tumour model's layer lives in P: fat reads P whatever phase is on screen.
    QCOMPARE(stepCtPhase(true, "P", {}, "", apd), std::string("P"));
    QCOMPARE(stepCtPhase(true, "A", {}, "D", apd), std::string("A"));
    // A step without a CT, or a layer whose phase is not loaded: no CT.
    QCOMPARE(stepCtPhase(false, "P", {}, "", apd), std::string());
    QCOMPARE(stepCtPhase(true, "D", {}, "", {"A", "P"}), std::string());
  }
  void maskFilesTakeThePhaseWhoseGridTheyShare() {
    const std::vector<std::string> apd{"A", "P", "D"};
    // One grid shared by every phase: the step's preferred phase, else P, A, D.
    QCOMPARE(stepCtPhase(true, "", apd, "A", apd), std::string("A"));
    QCOMPARE(stepCtPhase(true, "", apd, "D", apd), std::string("D"));
    QCOMPARE(stepCtPhase(true, "", apd, "", apd), std::string("P"));
    // Only D shares the mask's grid: D even for a step that prefers A.
    QCOMPARE(stepCtPhase(true, "", {"D"}, "A", apd), std::string("D"));
    // No phase shares it: no CT (a CT must lie on the mask's grid).
    QCOMPARE(stepCtPhase(true, "", {}, "A", apd), std::string());
  }
};

QTEST_APPLESS_MAIN(PhaseRulesTest)
#include "test_phase_rules.moc"
