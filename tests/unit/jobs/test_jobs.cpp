// The job model without the network: the spool's layout and crash rules, the
// scheduler's grouping by model, retries, CPU fallback, cancel and restart,
// driven through the StageRunner seam by a runner that only writes files.
#include <QtTest>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "TestSupport.h"
#include "common/Error.h"
#include "jobs/JobSpec.h"
#include "jobs/Scheduler.h"
#include "jobs/Spool.h"

namespace fs = std::filesystem;
using namespace nephro;
using namespace nephro::jobs;

namespace {

// Behaviour per job id, chosen by the test.
struct FakeRunner : StageRunner {
  std::mutex mutex;
  std::vector<std::string> runs;  // "job:stage@device"
  std::map<std::string, std::string> behaviour;
  std::map<std::string, int> failures;
  std::atomic<bool> slowStarted{false};

  StageOutcome run(const StageTask& t, const Progress& progress) override {
    std::string b;
    {
      std::lock_guard<std::mutex> lock(mutex);
      runs.push_back(t.jobId + ":" + t.stage().name() + "@" + t.device);
      b = behaviour[t.jobId];
    }
    // Earlier stages are visible as finished folders.
    for (const auto& dir : t.earlierStages)
      if (!fs::is_directory(dir)) throw Error(ErrorKind::Internal, "earlier stage missing: " + dir);
    if (b == "transient-once" && failures[t.jobId]++ == 0) throw outputError(t.outDir, "disk hiccup");
    if (b == "bad-input") throw inputError("case.nii.gz", "is truncated");
    if (b == "oom" && t.device == "cuda" && t.stage().kind == StageKind::Model) throw Error(ErrorKind::Internal, "CUDA out of memory. Tried to allocate 2 GiB");
    if (b == "slow") {
      slowStarted = true;
      for (int i = 0; i < 500; ++i) {
        progress.throwIfCancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
    std::ofstream(fs::path(t.outDir) / "out.txt") << t.stage().name() << "\n";
    StageOutcome o;
    o.device = t.device;
    return o;
  }
  std::vector<std::string> runsOf(const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::string> out;
    for (const auto& r : runs)
      if (r.rfind(id + ":", 0) == 0) out.push_back(r.substr(id.size() + 1));
    return out;
  }
};

JobRecord newJob(const Spool& spool, std::vector<std::string> models) {
  JobRecord r;
  r.id = spool.newJobId();
  r.spec.models = std::move(models);
  return r;
}

SchedulerOptions fastOptions() {
  SchedulerOptions o;
  o.backoffSeconds = 0.01;
  return o;
}

}  // namespace

class JobsTest : public QObject {
  Q_OBJECT

 private slots:
  void specContract() {
    using nlohmann::json;
    const JobSpec s = parseJobSpec(json::parse(R"({"inputs": {"A": "a.nii.gz", "mask": "m.nii.gz"}, "models": ["vessel"],
        "post": ["fat"], "params": {"fat.distance-mm": 12}, "mesh": {"formats": ["obj", "stl"], "space": "RAS"}})"), true);
    QCOMPARE(s.inputs.at("A"), std::string("a.nii.gz"));
    QCOMPARE(s.params.at("fat.distance-mm"), std::string("12"));
    QVERIFY(s.mesh);
    const auto stages = planStages(s);
    QCOMPARE(int(stages.size()), 4);  // model, post, mesh, report
    QCOMPARE(stages[0].folderName(0), std::string("00-model-vessel"));
    QCOMPARE(stages[3].name(), std::string("report"));
    auto code = [](const char* text, bool inputs) -> std::string {
      try {
        parseJobSpec(json::parse(text), inputs);
      } catch (const RequestError& e) {
        return e.code();
      }
      return "accepted";
    };
    QCOMPARE(code(R"({"models": []})", false), std::string("bad_request"));  // nothing to do
    QCOMPARE(code(R"({"inputs": {"A": "x"}, "models": ["vessel"]})", false), std::string("bad_request"));
    QCOMPARE(code(R"({"models": ["vessel"], "colour": 1})", false), std::string("bad_request"));
    QCOMPARE(code(R"({"post": ["smooth"]})", false), std::string("unknown_step"));
    QCOMPARE(code(R"({"post": ["fat"], "params": {"fat.nonsense": 1}})", false), std::string("bad_request"));
    QCOMPARE(code(R"({"mesh": {"formats": ["dwg"]}})", false), std::string("bad_request"));
    QCOMPARE(code(R"([1, 2])", false), std::string("bad_request"));
    // A stored spec reads back as it was.
    const JobSpec back = jobSpecFromJson(toJson(s));
    QCOMPARE(back.meshFormats, s.meshFormats);
    QCOMPARE(back.meshSpace, std::string("RAS"));
    QCOMPARE(back.post, s.post);
  }

  void spoolAttemptsAndScan() {
    Spool spool(test::scratchDir("jobs-spool"));
    JobRecord r = newJob(spool, {"a"});
    r.stages = {{"model a", "00-model-a"}, {"report", "01-report"}};
    spool.save(r);
    // Two attempts at the same stage: the first complete one wins, the other leaves nothing.
    const std::string first = spool.beginAttempt(r.id, "00-model-a");
    const std::string second = spool.beginAttempt(r.id, "00-model-a");
    std::ofstream(fs::path(first) / "mask.txt") << "first\n";
    std::ofstream(fs::path(second) / "mask.txt") << "second\n";
    QVERIFY(spool.commitAttempt(r.id, "00-model-a", first));
    QVERIFY(!spool.commitAttempt(r.id, "00-model-a", second));
    QVERIFY(!fs::exists(second));
    const auto files = spool.stageArtifacts(r.id, "00-model-a");
    QCOMPARE(int(files.size()), 1);
    QCOMPARE(files[0].bytes, uint64_t(6));
    // A folder without job.json (an upload cut short) is removed by the scan; a
    // half-done attempt is dropped; finished stages are found again.
    const std::string orphan = spool.newJobId();
    spool.inputsDir(orphan);
    spool.beginAttempt(r.id, "01-report");
    const auto jobs = spool.scan();
    QCOMPARE(int(jobs.size()), 1);
    QVERIFY(!fs::exists(spool.jobDir(orphan)));
    QVERIFY(!fs::exists(fs::path(spool.jobDir(r.id)) / "work"));
    QVERIFY(jobs[0].stages[0].done);
    QVERIFY(!jobs[0].stages[1].done);
    QCOMPARE(int(jobs[0].artifacts.size()), 1);
    QCOMPARE(spool.artifactPath(jobs[0], "mask.txt"), spool.stageDir(r.id, "00-model-a") + "/mask.txt");
    QVERIFY(spool.artifactPath(jobs[0], "../job.json").empty());
  }

  void groupingCutsModelSwitches() {
    int switches[2] = {0, 0};
    for (int grouped = 0; grouped < 2; ++grouped) {
      Spool spool(test::scratchDir(grouped ? "jobs-grouped" : "jobs-ungrouped"));
      FakeRunner runner;
      SchedulerOptions o = fastOptions();
      o.groupByModel = grouped == 1;
      Scheduler s(spool, runner, o);
      std::vector<std::string> ids;
      for (int i = 0; i < 6; ++i) ids.push_back(s.submit(newJob(spool, {i % 2 ? "b" : "a"})).id);
      s.start();
      for (const auto& id : ids) QCOMPARE(toString(s.waitFor(id, 30)->state), std::string("succeeded"));
      switches[grouped] = s.modelSwitches();
    }
    QCOMPARE(switches[0], 5);  // a b a b a b
    QCOMPARE(switches[1], 1);  // a a a b b b
  }

  void transientErrorsAreRetriedBadInputIsNot() {
    Spool spool(test::scratchDir("jobs-retry"));
    FakeRunner runner;
    Scheduler s(spool, runner, fastOptions());
    const JobRecord flaky = s.submit(newJob(spool, {"a"}));
    const JobRecord bad = s.submit(newJob(spool, {"a"}));
    runner.behaviour[flaky.id] = "transient-once";
    runner.behaviour[bad.id] = "bad-input";
    s.start();
    const JobRecord f = *s.waitFor(flaky.id, 30);
    QCOMPARE(toString(f.state), std::string("succeeded"));
    QCOMPARE(f.stages[0].attempts, 2);
    QCOMPARE(s.retries(), 1);
    const JobRecord b = *s.waitFor(bad.id, 30);
    QCOMPARE(toString(b.state), std::string("failed"));
    QCOMPARE(b.errorCode, std::string("bad_input"));
    QCOMPARE(b.error, std::string("case.nii.gz: is truncated"));
    QCOMPARE(int(runner.runsOf(bad.id).size()), 1);
    QVERIFY(!fs::exists(spool.stageDir(bad.id, "00-model-a")));
  }

  void cudaOutOfMemoryFallsBackToCpu() {
    Spool spool(test::scratchDir("jobs-oom"));
    FakeRunner runner;
    SchedulerOptions o = fastOptions();
    o.devices = {"cuda"};
    Scheduler s(spool, runner, o);
    const JobRecord j = s.submit(newJob(spool, {"a"}));
    runner.behaviour[j.id] = "oom";
    s.start();
    const JobRecord r = *s.waitFor(j.id, 30);
    QCOMPARE(toString(r.state), std::string("succeeded"));
    QCOMPARE(s.cpuFallbacks(), 1);
    QCOMPARE(s.retries(), 0);
    QCOMPARE(r.stages[0].device, std::string("cpu"));
    QCOMPARE(runner.runsOf(j.id), (std::vector<std::string>{"model a@cuda", "model a@cpu", "report@cuda"}));
  }

  void cancelStopsARunningStage() {
    Spool spool(test::scratchDir("jobs-cancel"));
    FakeRunner runner;
    Scheduler s(spool, runner, fastOptions());
    const JobRecord j = s.submit(newJob(spool, {"a"}));
    const JobRecord queued = s.submit(newJob(spool, {"b"}));
    runner.behaviour[j.id] = "slow";
    s.start();
    for (int i = 0; i < 500 && !runner.slowStarted; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    QVERIFY(runner.slowStarted);
    QCOMPARE(int(s.cancel(queued.id)), int(Scheduler::CancelResult::Cancelled));  // never ran
    QCOMPARE(int(s.cancel(j.id)), int(Scheduler::CancelResult::Cancelling));
    const JobRecord r = *s.waitFor(j.id, 10);
    QCOMPARE(toString(r.state), std::string("cancelled"));
    QVERIFY(!fs::exists(spool.stageDir(j.id, "00-model-a")));
    QCOMPARE(int(s.cancel(j.id)), int(Scheduler::CancelResult::AlreadyFinished));
    QVERIFY(runner.runsOf(queued.id).empty());
  }

  void restartResumesFromTheFirstUnfinishedStage() {
    const std::string dir = test::scratchDir("jobs-restart");
    std::string id;
    {
      Spool spool(dir);
      FakeRunner runner;
      Scheduler s(spool, runner, fastOptions());
      JobRecord j = newJob(spool, {"a", "b"});
      j.idempotency = "key-hash";
      id = s.submit(j).id;
      // Stage 0 finished before the "crash"; the scheduler never started.
      const std::string attempt = spool.beginAttempt(id, "00-model-a");
      std::ofstream(fs::path(attempt) / "out.txt") << "a\n";
      spool.commitAttempt(id, "00-model-a", attempt);
      spool.beginAttempt(id, "01-model-b");  // a half-done attempt
    }
    Spool spool(dir);
    FakeRunner runner;
    Scheduler s(spool, runner, fastOptions());
    QCOMPARE(int(s.recover()), 1);
    bool created = true;
    JobRecord again = newJob(spool, {"a"});
    again.idempotency = "key-hash";
    QCOMPARE(s.submit(again, &created).id, id);  // the same job, not a new one
    QVERIFY(!created);
    s.start();
    const JobRecord r = *s.waitFor(id, 30);
    QCOMPARE(toString(r.state), std::string("succeeded"));
    QCOMPARE(runner.runsOf(id), (std::vector<std::string>{"model b@cpu", "report@cpu"}));
    QCOMPARE(int(r.artifacts.size()), 3);  // one file per stage
    QVERIFY(!fs::exists(fs::path(spool.jobDir(id)) / "work"));
  }
};

QTEST_GUILESS_MAIN(JobsTest)
#include "test_jobs.moc"
