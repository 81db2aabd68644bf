// Job records in the queue's key-value bucket against a real nats-server (URL as
// argv[1]; kv_revisions_test.sh starts one): writes with the expected revision
// never lose an update, and a final record is never replaced by one that is not.
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <filesystem>

#include "jobs/Spool.h"
#include "queue/KvJobStore.h"
#include "queue/NatsClient.h"

using namespace nephro;

static int failures = 0;
#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
      ++failures;                                                           \
    }                                                                       \
  } while (0)

int main(int argc, char** argv) {
  if (argc < 3) {
    std::printf("usage: kv_revisions_test nats://HOST:PORT SPOOL\n");
    return 2;
  }
  queue::QueueSettings qs;
  qs.url = argv[1];
  queue::NatsClient a(qs), b(qs);
  a.ensureTopology();
  b.ensureTopology();

  // A write with a stale revision is refused; with the current one it goes through.
  CHECK(a.putIfRevision("test.k", "1", 0));
  CHECK(!b.putIfRevision("test.k", "x", 0));  // exists already
  const auto r1 = b.getRevisioned("test.k");
  CHECK(r1 && r1->value == "1");
  CHECK(a.putIfRevision("test.k", "2", r1->revision));
  CHECK(!b.putIfRevision("test.k", "3", r1->revision));  // b's revision is stale now
  CHECK(b.getRevisioned("test.k")->value == "2");

  // Two clients, two threads each, incrementing one counter by read-modify-write: no increment is lost.
  CHECK(a.putIfRevision("test.counter", "0", 0));
  const int perThread = 50;
  std::vector<std::thread> threads;
  int conflicts[4] = {0, 0, 0, 0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      queue::NatsClient& c = (t % 2) ? b : a;
      for (int i = 0; i < perThread; ++i)
        for (;;) {
          const auto cur = c.getRevisioned("test.counter");
          if (c.putIfRevision("test.counter", std::to_string(std::stoi(cur->value) + 1), cur->revision)) break;
          ++conflicts[t];
        }
    });
  }
  for (auto& th : threads) th.join();
  const int total = std::stoi(a.getRevisioned("test.counter")->value);
  std::printf("counter %d after %d increments by 4 writers (%d conflicts retried)\n", total, 4 * perThread,
              conflicts[0] + conflicts[1] + conflicts[2] + conflicts[3]);
  CHECK(total == 4 * perThread);

  // Job records: a cancel through one store survives the running server's next non-final save.
  jobs::Spool spool(argv[2]);
  queue::KvJobStore s1(a, spool, "s1"), s2(b, spool, "s2");
  jobs::JobRecord r;
  r.id = spool.newJobId();
  r.state = jobs::JobState::Queued;
  r.created = jobs::unixNow();
  s1.save(r);
  CHECK(s2.find(r.id) && s2.find(r.id)->state == jobs::JobState::Queued);
  const auto cancelled = s2.requestCancel(r.id);
  CHECK(cancelled && cancelled->state == jobs::JobState::Cancelled);
  r.state = jobs::JobState::Running;  // s1 has not seen the cancel yet
  s1.save(r);
  CHECK(s1.find(r.id)->state == jobs::JobState::Cancelled);
  r.state = jobs::JobState::Cancelled;  // s1 noticed and finished it
  s1.save(r);
  CHECK(s2.find(r.id)->state == jobs::JobState::Cancelled);
  // Each server resumes only its own jobs; every server lists every job.
  CHECK(s1.load().size() == 1 && s2.load().empty());
  CHECK(s2.list().size() == 1);
  CHECK(!s2.requestCancel(spool.newJobId()));
  // A server adopting s1 (gone for good) resumes s1's unfinished jobs, not its finished ones, and then owns them.
  jobs::JobRecord r2;
  r2.id = spool.newJobId();
  r2.state = jobs::JobState::Running;
  r2.created = jobs::unixNow();
  s1.save(r2);
  queue::KvJobStore s3(b, spool, "s3", {"s1"});
  const auto taken = s3.load();
  CHECK(taken.size() == 1 && taken[0].id == r2.id);
  s3.save(taken[0]);
  CHECK(s1.load().size() == 1 && s1.load()[0].id == r.id);  // s1 keeps only its finished job
  CHECK(s3.load().size() == 1);

  std::printf(failures ? "FAILED (%d)\n" : "PASS\n", failures);
  return failures ? 1 : 0;
}
