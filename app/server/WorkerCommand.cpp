// nephro3d worker: runs job stages that `nephro3d serve --queue` publishes to
// NATS JetStream, reading and writing files under a shared storage root.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "common/Error.h"
#include "inference/ModelRegistry.h"
#include "inference/NnunetPredictor.h"
#include "jobs/EngineStageRunner.h"
#include "queue/NatsClient.h"
#include "queue/QueueWorker.h"

namespace fs = std::filesystem;

namespace nephro::server {
namespace {

struct WorkerCliOptions {
  std::string queue, storageRoot, name;
  std::string device = "auto";
  uint64_t modelMemoryMb = 4096;
  int threads = 0;
  double ackWait = 60;
  int maxDeliver = 3;
  bool status = false;
  std::vector<std::string> models;
  bool noAffinity = false;
};

std::atomic<bool> workerStop{false};
void onWorkerSignal(int) { workerStop = true; }

void work(const WorkerCliOptions& o) {
  if (o.queue.empty()) throw usageError("worker needs --queue nats://HOST:PORT");
  queue::normalizeQueueUrl(o.queue);  // a malformed URL is a usage error before anything else
  if (o.status) {
    queue::QueueSettings qs;
    qs.url = o.queue;
    qs.connectSeconds = 5;
    queue::NatsClient client(qs);
    const auto [pending, ackPending] = client.consumerPending();
    std::printf("{\"stream\": \"%s\", \"messages\": %llu, \"consumer_pending\": %llu, \"ack_pending\": %llu, \"dead_letters\": %llu}\n",
                qs.stream.c_str(), static_cast<unsigned long long>(client.streamMessages(qs.stream)),
                static_cast<unsigned long long>(pending), static_cast<unsigned long long>(ackPending),
                static_cast<unsigned long long>(client.streamMessages(qs.deadStream)));
    return;
  }
  if (o.storageRoot.empty()) throw usageError("worker needs --storage-root DIR (the folder `serve --spool` uses, shared)");
  if (!fs::is_directory(fs::path(o.storageRoot) / "jobs")) throw inputError(o.storageRoot, "storage root has no jobs/ folder (is the shared folder mounted?)");
  const bool cuda = inference::deviceInfo().cudaAvailable;
  if (o.device == "cuda" && !cuda) throw usageError("--device cuda: no CUDA device is available to this build");
  queue::WorkerOptions wo;
  wo.storageRoot = o.storageRoot;
  wo.device = (o.device == "cuda" || (o.device == "auto" && cuda)) ? "cuda" : "cpu";
  wo.name = o.name;
  for (const auto& m : o.models) {
    if (m.empty() || m.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != std::string::npos)
      throw usageError("--models: '" + m + "' is not a model id (letters, digits, '-' and '_')");
    inference::findManifest(m, {});  // an unknown model is a usage error here, not a failed stage later
    wo.models.push_back(m);
  }
  wo.affinity = !o.noAffinity;
  if (wo.name.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    wo.name = std::string(host) + ":" + std::to_string(getpid());
  }
  queue::QueueSettings qs;
  qs.url = o.queue;
  qs.ackWaitSeconds = o.ackWait;
  qs.maxDeliver = o.maxDeliver;
  queue::NatsClient client(qs);
  client.ensureTopology();
  jobs::EngineRunnerOptions ro;
  ro.modelMemoryBytes = o.modelMemoryMb << 20;
  ro.threads = o.threads;
  jobs::EngineStageRunner runner(ro);
  queue::QueueWorker worker(client, runner, wo);
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGINT, onWorkerSignal);
  std::signal(SIGTERM, onWorkerSignal);
  std::string models;
  for (const auto& m : wo.models) models += (models.empty() ? "" : ",") + m;
  std::printf("nephro3d worker %s: taking stages from %s (consumer %s, ack wait %.0f s, max deliver %d), models %s%s, device %s, storage %s\n",
              wo.name.c_str(), client.settings().url.c_str(), client.settings().consumer.c_str(), client.settings().ackWaitSeconds,
              client.settings().maxDeliver, models.empty() ? "all" : models.c_str(), wo.affinity ? "" : " (no affinity)",
              wo.device.c_str(), wo.storageRoot.c_str());
  std::fflush(stdout);
  worker.run(workerStop);
  std::printf("nephro3d worker %s: stopped after %d stage(s), %d network load(s)\n", wo.name.c_str(), worker.stagesDone(),
              runner.cache().loads());
}

cli::RegisterCommand reg(61, [](CLI::App& root) {
  auto o = std::make_shared<WorkerCliOptions>();
  CLI::App* sub = root.add_subcommand("worker", "Run job stages from a NATS JetStream queue fed by `serve --queue`");
  sub->add_option("--queue", o->queue, "nats://HOST:PORT of the nats-server (JetStream enabled)");
  sub->add_option("--storage-root", o->storageRoot, "The shared folder `serve --spool` names, as mounted here");
  sub->add_option("--device", o->device, "auto, cpu or cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  sub->add_option("--name", o->name, "Name in logs and stage results (default HOST:PID)");
  sub->add_option("--model-memory-mb", o->modelMemoryMb, "Memory for loaded networks in MiB (default 4096; least recently used out)")
      ->check(CLI::Range(1, 1 << 24));
  sub->add_option("--threads", o->threads, "CPU threads for networks and meshes (default: all cores)")->check(CLI::Range(0, 1024));
  sub->add_option("--ack-wait", o->ackWait, "Seconds before an unacknowledged stage is redelivered, if this worker creates the queue (default 60)")
      ->check(CLI::Range(1.0, 86400.0));
  sub->add_option("--max-deliver", o->maxDeliver, "Deliveries before a stage is dead-lettered, if this worker creates the queue (default 3)")
      ->check(CLI::Range(1, 100));
  sub->add_option("--models", o->models, "Take only these models' stages (comma-separated ids; mask-only stages always)")
      ->delimiter(',');
  sub->add_flag("--no-affinity", o->noAffinity, "Take stages from every queue in turn instead of the loaded network's first");
  sub->add_flag("--status", o->status, "Print the queue's counts as JSON (stages queued, pending, unacked, dead letters) and exit");
  sub->callback([o] { work(*o); });
});

}  // namespace
}  // namespace nephro::server
