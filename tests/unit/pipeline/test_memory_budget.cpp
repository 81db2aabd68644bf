// Memory estimate and the up-front refusal: `models --image` prints the
// estimate per stage, and a run whose estimate exceeds the memory available is
// refused with exit 3 before any phase is read (the limit is lowered with
// NEPHRO3D_MEMORY_LIMIT, as a cgroup limit would).
#include <QtTest>

#include <cstdlib>
#include <filesystem>

#include "TestSupport.h"
#include "common/MemoryBudget.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"

using namespace nephro;
namespace fs = std::filesystem;

class TestMemoryBudget : public QObject {
  Q_OBJECT
  std::string dir_;

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("memory-budget");
    PhantomOptions o;
    o.seed = 4;
    const PhantomCase ph = generatePhantom(o);
    writeVolume(ph.portal, dir_ + "/case_P.nii.gz");
  }

  void parsesSizes() {
    QCOMPARE(parseByteSize("4096"), uint64_t(4096));
    QCOMPARE(parseByteSize("2K"), uint64_t(2048));
    QCOMPARE(parseByteSize("1.5G"), uint64_t(1.5 * 1024 * 1024 * 1024));
    QCOMPARE(parseByteSize("lots"), uint64_t(0));
  }

  void budgetReadsTheKernel() {
    ::unsetenv("NEPHRO3D_MEMORY_LIMIT");
    const MemoryBudget b = memoryBudget();
    QVERIFY2(b.availableBytes > (uint64_t(64) << 20), b.source.c_str());
    ::setenv("NEPHRO3D_MEMORY_LIMIT", "1M", 1);
    const MemoryBudget capped = memoryBudget();
    QCOMPARE(capped.availableBytes, uint64_t(1) << 20);
    QCOMPARE(capped.source, std::string("NEPHRO3D_MEMORY_LIMIT"));
    ::unsetenv("NEPHRO3D_MEMORY_LIMIT");
  }

  void modelsPrintsTheEstimatePerStage() {
    std::string log;
    QVERIFY2(test::runNephro3d("models --image '" + dir_ + "/case_P.nii.gz'", &log) == 0, log.c_str());
    QVERIFY2(log.find("memory per stage") != std::string::npos, log.c_str());
    QVERIFY2(log.find("preprocess") != std::string::npos && log.find("peak") != std::string::npos, log.c_str());
    QVERIFY2(log.find("available:") != std::string::npos, log.c_str());
  }

  void runBeyondTheBudgetIsRefusedUpFront() {
    ::setenv("NEPHRO3D_MEMORY_LIMIT", "8M", 1);
    std::string log;
    const int code = test::runNephro3d("run --image-p '" + dir_ + "/case_P.nii.gz' --models tumor --out '" + dir_ + "/out'", &log);
    ::unsetenv("NEPHRO3D_MEMORY_LIMIT");
    QVERIFY2(code == 3, log.c_str());
    QVERIFY2(log.find("needs about") != std::string::npos && log.find("NEPHRO3D_MEMORY_LIMIT") != std::string::npos, log.c_str());
    QVERIFY2(!fs::exists(dir_ + "/out/tumor.nii.gz"), log.c_str());
  }
};

QTEST_APPLESS_MAIN(TestMemoryBudget)
#include "test_memory_budget.moc"
