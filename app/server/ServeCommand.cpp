// nephro3d serve: the engine as an HTTP service (jobs, the old endpoints as
// aliases, API keys, health, metrics). nephro3d serve --hash-key: a keys-file line.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "common/Error.h"
#include "inference/NnunetPredictor.h"
#include "jobs/EngineStageRunner.h"
#include "jobs/Scheduler.h"
#include "queue/KvJobStore.h"
#include "queue/MaxDeliveriesWatcher.h"
#include "queue/NatsClient.h"
#include "queue/QueueStageRunner.h"
#include "server/ApiKeys.h"
#include "server/HttpService.h"
#include "server/Metrics.h"

namespace fs = std::filesystem;

namespace nephro::server {
namespace {

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string apiKeys, dataRoot, spool;
  uint64_t maxUploadMb = 2048;
  std::string device = "auto";
  uint64_t modelMemoryMb = 4096;
  std::string tlsCert, tlsKey;
  bool hashKey = false;
  std::string keyName = "client";
  bool noGrouping = false;
  int threads = 0;
  int retries = 2;
  std::string queue;        // nats://HOST:PORT: publish stages to workers instead of running them
  int queueSlots = 64;      // stages in flight on the queue
  double ackWait = 60;
  int maxDeliver = 3;
  std::string name;         // this server among those on one queue (default: the host name)
  std::vector<std::string> adopt;  // servers gone for good whose unfinished jobs this one resumes
};

std::atomic<bool> stopRequested{false};
void onStopSignal(int) { stopRequested = true; }

void printKeyLine(const ServeOptions& o) {
  std::string key;
  std::getline(std::cin, key);
  while (!key.empty() && (key.back() == '\r' || key.back() == '\n')) key.pop_back();
  if (key.empty()) throw usageError("--hash-key reads the key on standard input; it was empty");
  if (o.keyName.empty() || o.keyName.find_first_of(" \t#") != std::string::npos)
    throw usageError("--key-name must be one word without '#'");
  std::printf("%s\n", keyFileLine(o.keyName, key).c_str());
}

void serve(const ServeOptions& o) {
  if (o.hashKey) return printKeyLine(o);
  if (o.apiKeys.empty()) throw usageError("serve needs --api-keys FILE (make a line with: nephro3d serve --hash-key)");
  if (o.spool.empty()) throw usageError("serve needs --spool DIR");
  if (!o.queue.empty()) queue::normalizeQueueUrl(o.queue);
  if (!o.adopt.empty() && o.queue.empty()) throw usageError("--adopt takes over jobs of other servers on the same --queue; it needs --queue");
  ServiceOptions so;
  const size_t colon = o.listen.rfind(':');
  if (colon == std::string::npos) throw usageError("--listen must be HOST:PORT");
  so.host = o.listen.substr(0, colon);
  if (so.host.size() > 2 && so.host.front() == '[' && so.host.back() == ']') so.host = so.host.substr(1, so.host.size() - 2);
  try {
    so.port = std::stoi(o.listen.substr(colon + 1));
  } catch (const std::exception&) {
    throw usageError("--listen must be HOST:PORT");
  }
  if (so.port < 0 || so.port > 65535) throw usageError("--listen port must be 0..65535");
  ApiKeys keys = ApiKeys::load(o.apiKeys);
  if (!o.dataRoot.empty()) {
    std::error_code ec;
    if (!fs::is_directory(o.dataRoot)) throw inputError(o.dataRoot, "data root is not a folder");
    so.dataRoot = fs::canonical(o.dataRoot, ec).string();
  }
  so.maxUploadBytes = o.maxUploadMb << 20;
  so.tlsCert = o.tlsCert;
  so.tlsKey = o.tlsKey;
  const bool cuda = inference::deviceInfo().cudaAvailable;
  if (o.device == "cuda" && !cuda) throw usageError("--device cuda: no CUDA device is available to this build");
  so.device = (o.device == "cuda" || (o.device == "auto" && cuda)) ? "cuda" : "cpu";

  jobs::Spool spool(o.spool);
  jobs::EngineRunnerOptions ro;
  ro.modelMemoryBytes = o.modelMemoryMb << 20;
  ro.threads = o.threads;
  jobs::EngineStageRunner engineRunner(ro);
  Metrics metrics;
  jobs::SchedulerOptions sched;
  sched.devices = {so.device};
  sched.groupByModel = !o.noGrouping;
  sched.maxRetries = o.retries;
  // With --queue, stages go to workers through JetStream: one scheduler thread per
  // stage in flight, retries left to the consumer's MaxDeliver.
  std::unique_ptr<queue::NatsClient> nats;
  std::unique_ptr<queue::QueueStageRunner> queueRunner;
  std::unique_ptr<queue::MaxDeliveriesWatcher> maxDeliveries;
  std::unique_ptr<queue::KvJobStore> jobStore;
  std::string serverName = o.name;
  if (!o.queue.empty()) {
    queue::QueueSettings qs;
    qs.url = o.queue;
    qs.ackWaitSeconds = o.ackWait;
    qs.maxDeliver = o.maxDeliver;
    nats = std::make_unique<queue::NatsClient>(qs);
    nats->ensureTopology();
    queueRunner = std::make_unique<queue::QueueStageRunner>(*nats, spool.root());
    maxDeliveries = std::make_unique<queue::MaxDeliveriesWatcher>(*nats, spool.root());
    if (serverName.empty()) {
      char host[256] = {0};
      gethostname(host, sizeof host - 1);
      serverName = host;
    }
    jobStore = std::make_unique<queue::KvJobStore>(*nats, spool, serverName, o.adopt);
    sched.store = jobStore.get();
    sched.devices.assign(static_cast<size_t>(o.queueSlots), "queue");
    sched.groupByModel = false;
    sched.maxRetries = 0;
    so.device = "queue";
  }
  jobs::StageRunner& runner = queueRunner ? static_cast<jobs::StageRunner&>(*queueRunner) : engineRunner;
  jobs::Scheduler scheduler(spool, runner, sched, &metrics);
  const size_t resumed = scheduler.recover();
  HttpService service(so, std::move(keys), spool, scheduler, runner, metrics);
  if (jobStore) {
    service.setSharedJobs(jobStore.get());
    service.setExtraMetrics([&nats] {
      std::string text;
      try {
        const auto [waiting, unacked] = nats->consumerPending();
        const uint64_t dead = nats->streamMessages(nats->settings().deadStream);
        text += "# HELP nephro3d_queue_stages_waiting Stage messages not yet delivered to a worker.\n"
                "# TYPE nephro3d_queue_stages_waiting gauge\nnephro3d_queue_stages_waiting " + std::to_string(waiting) + "\n";
        text += "# HELP nephro3d_queue_stages_unacked Stage messages a worker has but has not finished.\n"
                "# TYPE nephro3d_queue_stages_unacked gauge\nnephro3d_queue_stages_unacked " + std::to_string(unacked) + "\n";
        text += "# HELP nephro3d_queue_dead_letters Stage messages in the dead-letter stream.\n"
                "# TYPE nephro3d_queue_dead_letters gauge\nnephro3d_queue_dead_letters " + std::to_string(dead) + "\n";
      } catch (const std::exception&) {
      }
      return text;
    });
  }
  const int port = service.bind();

  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, onStopSignal);
  std::signal(SIGTERM, onStopSignal);
  scheduler.start();
  if (maxDeliveries) maxDeliveries->start();
  std::printf("nephro3d serve: listening on %s://%s:%d (device %s, spool %s, %zu unfinished job(s) resumed)\n",
              so.tlsCert.empty() ? "http" : "https", so.host.c_str(), port, so.device.c_str(), spool.root().c_str(), resumed);
  if (nats) std::printf("nephro3d serve: stages go to %s (stream %s, consumer %s), job records in bucket %s as server %s\n",
                        nats->settings().url.c_str(), nats->settings().stream.c_str(), nats->settings().consumer.c_str(),
                        nats->settings().bucket.c_str(), serverName.c_str());
  std::fflush(stdout);
  std::thread watcher([&] {
    while (!stopRequested) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    service.drain();
    service.stop();
  });
  service.serve();
  stopRequested = true;
  watcher.join();
  if (maxDeliveries) maxDeliveries->stop();
  scheduler.stop();
  std::fprintf(stderr, "nephro3d serve: stopped; unfinished jobs stay in %s and resume on the next start\n", spool.root().c_str());
}

cli::RegisterCommand reg(60, [](CLI::App& root) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* sub = root.add_subcommand("serve", "Run the engine as an HTTP service (jobs, old endpoints, API keys, metrics)");
  sub->add_option("--listen", o->listen, "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 = any free port)");
  sub->add_option("--api-keys", o->apiKeys, "Keys file: `NAME SHA256HEX` per line, # comments");
  sub->add_option("--data-root", o->dataRoot, "Folder that JSON jobs may name files in (relative paths)");
  sub->add_option("--spool", o->spool, "Folder for job state, inputs and outputs (survives restarts)");
  sub->add_option("--max-upload-mb", o->maxUploadMb, "Largest request body in MiB (default 2048)")->check(CLI::Range(1, 1 << 20));
  sub->add_option("--device", o->device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  sub->add_option("--model-memory-mb", o->modelMemoryMb, "Memory for loaded networks in MiB (default 4096; least recently used out)")
      ->check(CLI::Range(1, 1 << 24));
  sub->add_option("--tls-cert", o->tlsCert, "PEM certificate: serve HTTPS (with --tls-key)");
  sub->add_option("--tls-key", o->tlsKey, "PEM private key of --tls-cert");
  sub->add_option("--threads", o->threads, "CPU threads for networks and meshes (default: all cores)")->check(CLI::Range(0, 1024));
  sub->add_option("--retries", o->retries, "Retries of a stage after a transient error (default 2)")->check(CLI::Range(0, 10));
  sub->add_option("--queue", o->queue, "nats://HOST:PORT: publish stages to `nephro3d worker`s through JetStream (--spool on a shared folder)");
  sub->add_option("--name", o->name, "This server's name among those on one queue: it resumes its own jobs (default: the host name)");
  sub->add_option("--adopt", o->adopt, "With --queue: also resume the unfinished jobs of these servers (names; only once they are gone for good)")
      ->delimiter(',');
  sub->add_option("--queue-slots", o->queueSlots, "Stages in flight on the queue (default 64)")->check(CLI::Range(1, 4096));
  sub->add_option("--ack-wait", o->ackWait, "Seconds before an unacknowledged stage is redelivered (default 60; set when the queue is created)")
      ->check(CLI::Range(1.0, 86400.0));
  sub->add_option("--max-deliver", o->maxDeliver, "Deliveries of a stage before it is dead-lettered (default 3; set when the queue is created)")
      ->check(CLI::Range(1, 100));
  sub->add_flag("--no-grouping", o->noGrouping, "Run stages strictly job after job instead of grouping them by model");
  sub->add_flag("--hash-key", o->hashKey, "Read a key on standard input and print its keys-file line, then exit");
  sub->add_option("--key-name", o->keyName, "Name printed by --hash-key (default client)");
  sub->callback([o] { serve(*o); });
});

}  // namespace
}  // namespace nephro::server
