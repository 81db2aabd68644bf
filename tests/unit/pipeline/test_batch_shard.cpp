// Sharded batches: the round-robin split covers every case exactly once for any
// N; --shard runs a shard's cases with one network load and writes its own
// summary; batch-summary merges the shards and reports failed and missing cases.
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <set>

#include "TestSupport.h"
#include "TinyModel.h"
#include "common/Error.h"
#include "image/VolumeIO.h"
#include "pipeline/Batch.h"
#include "pipeline/BatchShard.h"

namespace fs = std::filesystem;
using namespace nephro;

namespace {
std::string readAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
int usageExit(const std::string& shard) {
  try {
    pipeline::parseShard(shard);
  } catch (const Error& e) {
    return e.exitCode();
  }
  return 0;
}
}  // namespace

class BatchShardTest : public QObject {
  Q_OBJECT
  std::string dir_;

  void writeCases(const std::string& in, int count) {
    Geometry g;
    g.size = {20, 18, 10};
    g.spacing = {2.0, 2.0, 2.0};
    for (int k = 0; k < count; ++k) {
      Volume v(g, PixelType::Int16);
      for (int64_t i = 0; i < v.voxelCount(); ++i) v.data<int16_t>()[i] = static_cast<int16_t>((i * (37 + k)) % 900 - 400);
      char name[32];
      std::snprintf(name, sizeof name, "case%02d", k);
      fs::create_directories(in + "/" + name);
      writeVolume(v, in + "/" + name + "/" + name + "_D.nii.gz");
    }
  }

 private slots:
  void initTestCase() {
    dir_ = test::scratchDir("batch-shard");
    test::writeTinyModel(dir_ + "/model", {});
    fs::create_directories(dir_ + "/manifests");
    std::ofstream(dir_ + "/manifests/tiny.json")
        << R"({"id": "tiny", "folder": "../model", "inputs": [{"channel": 0, "phase": "D"}], "output_space": "D",
              "folds": [0], "mirroring": false})";
    setenv("NEPHRO3D_MODELS_DIR", (dir_ + "/manifests").c_str(), 1);
    writeCases(dir_ + "/in", 7);
  }

  void splitCoversEveryCaseOnce() {
    for (size_t cases : {0, 1, 2, 5, 7, 12, 13, 100}) {
      for (int n : {1, 2, 3, 4, 5, 7, 12, 16}) {
        std::vector<int> seen(cases, 0);
        size_t smallest = cases, largest = 0;
        for (int i = 0; i < n; ++i) {
          const auto idx = pipeline::shardCaseIndices(cases, {i, n});
          smallest = std::min(smallest, idx.size());
          largest = std::max(largest, idx.size());
          for (size_t k : idx) {
            QVERIFY(k < cases);
            QCOMPARE(int(k % n), i);  // round-robin: case k in shard k mod N
            ++seen[k];
          }
        }
        for (size_t k = 0; k < cases; ++k) QCOMPARE(seen[k], 1);
        QVERIFY(largest - std::min(smallest, largest) <= 1);  // balanced
      }
    }
  }

  void parseShardValues() {
    const pipeline::ShardSpec s = pipeline::parseShard("3/8");
    QCOMPARE(s.index, 3);
    QCOMPARE(s.count, 8);
    QVERIFY(s.sharded());
    QVERIFY(!pipeline::parseShard("0/1").sharded());
    QCOMPARE(pipeline::shardSummaryFileName(s), std::string("summary.shard-3-of-8.csv"));
    for (const char* bad : {"", "3", "8/8", "9/8", "1/0", "-1/4", "a/4", "1/b", "1/4/2", " 1/4", "1/9999999999"})
      QCOMPARE(usageExit(bad), 2);
  }

  void csvRoundTrip() {
    const auto rows = pipeline::parseCsv("case,status,models,seconds,message\na,failed,tiny,1.5,\"x, \"\"y\"\"\"\nb,done,,0,\n");
    QCOMPARE(rows.size(), size_t(3));
    QCOMPARE(rows[1][4], std::string("x, \"y\""));
    QCOMPARE(rows[2].size(), size_t(5));
    QCOMPARE(rows[2][4], std::string());
  }

  void networkLoadedOncePerBatch() {
    pipeline::BatchOptions bo;
    bo.models = {"tiny"};
    bo.shard = {1, 2};
    bo.run.networks = std::make_shared<pipeline::LoadedNetworks>();
    const auto s = pipeline::runBatch(dir_ + "/in", dir_ + "/direct", bo);
    QCOMPARE(s.cases.size(), size_t(3));  // cases 1, 3, 5 of 7
    QCOMPARE(s.cases[0].name, std::string("case01"));
    QCOMPARE(s.cases[2].name, std::string("case05"));
    QCOMPARE(s.done, 3);
    QCOMPARE(bo.run.networks->predictors.size(), size_t(1));
    QVERIFY(fs::exists(dir_ + "/direct/summary.shard-1-of-2.csv"));
    QVERIFY(!fs::exists(dir_ + "/direct/summary.csv"));
    QVERIFY(!fs::exists(dir_ + "/direct/case00"));
  }

  void shardsMergeAndReportMissing() {
    const std::string in = dir_ + "/in", out = dir_ + "/out";
    std::string log;
    // Bad --shard values: one line, usage error, nothing written.
    for (const char* bad : {"3/3", "x", "1/0"}) {
      QCOMPARE(test::runNephro3d("--batch '" + in + "' '" + out + "' --models tiny --quiet --shard " + bad, &log), 2);
      QVERIFY2(log.find("--shard") != std::string::npos && log.find('\n') == log.size() - 1, log.c_str());
    }
    QVERIFY(!fs::exists(out));
    QCOMPARE(test::runNephro3d("--shard 0/2 models", &log), 2);  // --shard needs --batch

    // Shard 0 of 3 only: batch-summary knows the other cases are missing.
    QCOMPARE(test::runNephro3d("--batch '" + in + "' '" + out + "' --models tiny --quiet --shard 0/3", &log), 0);
    QVERIFY(fs::exists(out + "/summary.shard-0-of-3.csv"));
    QCOMPARE(readAll(out + "/batch-cases.txt"), std::string("case00\ncase01\ncase02\ncase03\ncase04\ncase05\ncase06\n"));
    QCOMPARE(test::runNephro3d("batch-summary '" + out + "'", &log), 7);
    QVERIFY2(log.find("3 complete, 0 failed, 4 missing") != std::string::npos, log.c_str());
    QVERIFY2(log.find("case01: missing") != std::string::npos, log.c_str());

    // The other shards; a rerun of shard 0 resumes (finished cases skipped).
    QCOMPARE(test::runNephro3d("--batch '" + in + "' '" + out + "' --models tiny --quiet --shard 1/3", &log), 0);
    QCOMPARE(test::runNephro3d("--batch '" + in + "' '" + out + "' --models tiny --quiet --shard 2/3", &log), 0);
    QCOMPARE(test::runNephro3d("--batch '" + in + "' '" + out + "' --models tiny --shard 0/3", &log), 0);
    QVERIFY2(log.find("0 done, 3 finished earlier") != std::string::npos, log.c_str());
    QCOMPARE(test::runNephro3d("batch-summary '" + out + "'", &log), 0);
    QVERIFY2(log.find("7 complete, 0 failed, 0 missing; from 3 summary file(s)") != std::string::npos, log.c_str());
    const auto rows = pipeline::parseCsv(readAll(out + "/summary.csv"));
    QCOMPARE(rows.size(), size_t(8));
    std::set<std::string> names;
    for (size_t r = 1; r < rows.size(); ++r) {
      names.insert(rows[r][0]);
      QVERIFY(rows[r][1] == "done" || rows[r][1] == "skipped");
      QVERIFY(fs::exists(out + "/" + rows[r][0] + "/tiny.nii.gz"));
    }
    QCOMPARE(names.size(), size_t(7));
    for (const auto& e : fs::recursive_directory_iterator(out))
      QVERIFY2(e.path().filename().string().rfind(".partial-", 0) != 0, e.path().c_str());

    // A case whose outputs vanished counts as missing; a stale temporary of a killed run is cleaned on rerun.
    fs::remove(out + "/case04/provenance.json");
    std::ofstream(out + "/case04/.partial-1-2-3-tiny.nii.gz") << "half";
    QCOMPARE(test::runNephro3d("batch-summary --quiet '" + out + "'", &log), 7);
    QVERIFY2(log.find("1 missing") != std::string::npos, log.c_str());
    QCOMPARE(test::runNephro3d("--batch '" + in + "' '" + out + "' --models tiny --quiet --shard 1/3", &log), 0);
    QVERIFY(!fs::exists(out + "/case04/.partial-1-2-3-tiny.nii.gz"));
    QCOMPARE(test::runNephro3d("batch-summary --quiet '" + out + "'", &log), 0);
  }

  void failedCaseAndBadFolder() {
    const std::string in = dir_ + "/in-bad", out = dir_ + "/out-bad";
    writeCases(in, 3);
    std::ofstream(in + "/case01/case01_D.nii.gz", std::ios::trunc) << "not an image";
    std::string log;
    QCOMPARE(test::runNephro3d("--batch '" + in + "' '" + out + "' --models tiny --quiet --shard 0/2", &log), 0);
    QCOMPARE(test::runNephro3d("--batch '" + in + "' '" + out + "' --models tiny --quiet --shard 1/2", &log), 3);
    QCOMPARE(test::runNephro3d("batch-summary '" + out + "'", &log), 7);
    QVERIFY2(log.find("case01: failed") != std::string::npos, log.c_str());
    QVERIFY2(log.find("2 complete, 1 failed, 0 missing") != std::string::npos, log.c_str());
    // Not a batch output folder: input error, one line.
    QCOMPARE(test::runNephro3d("batch-summary '" + in + "'", &log), 3);
    QVERIFY2(log.find("batch-cases.txt") != std::string::npos, log.c_str());
    QCOMPARE(test::runNephro3d("batch-summary '" + dir_ + "/nope'", &log), 3);
  }
};

QTEST_GUILESS_MAIN(BatchShardTest)
#include "test_batch_shard.moc"
