// bench_serve [--duration S] [--clients N] [--model-jobs N] [--work DIR]
//
// Starts `nephro3d serve` twice on a free loopback port (stages grouped by
// model, then --no-grouping) and, each time for S seconds, runs N clients
// that submit /smoothing/base mask-only jobs on the phantom's labels and wait
// for them, while a burst of model jobs (tumor and ureter alternating, on a
// crop of the phantom) is queued at the start. Prints throughput, p50/p95
// latency, errors, the server's peak RSS (VmHWM) and model switches.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "image/Crop.h"
#include "image/VolumeIO.h"
#include "jobs/Sha256.h"

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kKey = "bench-key";

std::string readFile(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

long vmHwmKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

struct ServerProcess {
  pid_t pid = -1;
  int port = 0;
  bool start(const std::string& engine, const std::vector<std::string>& args, const std::string& log) {
    int out[2];
    if (::pipe(out) != 0) return false;
    pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      const int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(err, 2);
      ::close(out[0]);
      std::vector<char*> argv{const_cast<char*>(engine.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(engine.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    std::string text;
    char buf[512];
    ssize_t n;
    while (port == 0 && (n = ::read(out[0], buf, sizeof buf)) > 0) {  // ends when the server exits
      text.append(buf, static_cast<size_t>(n));
      const size_t at = text.find("127.0.0.1:");
      if (at != std::string::npos && text.find(' ', at) != std::string::npos) port = std::atoi(text.c_str() + at + 10);
    }
    ::close(out[0]);
    return port > 0;
  }
  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

double metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + name.size() + 2);
}

struct RunResult {
  int maskJobs = 0, maskErrors = 0, modelJobs = 0, modelErrors = 0;
  double seconds = 0, p50 = 0, p95 = 0, modelMeanSeconds = 0, peakRssMiB = 0, switches = 0;
};

RunResult runOnce(const std::string& engine, const std::string& work, bool grouped, double duration, int clients,
                  int modelJobs) {
  RunResult result;
  const std::string spool = work + (grouped ? "/spool-grouped" : "/spool-ungrouped");
  fs::remove_all(spool);
  ServerProcess server;
  std::vector<std::string> args{"serve", "--listen", "127.0.0.1:0", "--api-keys", work + "/keys", "--data-root",
                                work + "/data", "--spool", spool};
  if (!grouped) args.push_back("--no-grouping");
  if (!server.start(engine, args, work + (grouped ? "/server-grouped.log" : "/server-ungrouped.log"))) {
    std::fprintf(stderr, "bench_serve: the server did not start (see %s/server-*.log)\n", work.c_str());
    std::exit(1);
  }
  const httplib::Headers auth{{"X-API-Key", kKey}};
  const httplib::MultipartFormDataItems maskParts{
      {"mask", readFile(work + "/data/ph/phantom_labels.nii.gz"), "phantom_labels.nii.gz", "application/octet-stream"},
      {"labels", readFile(work + "/data/ph/phantom_labels.json"), "phantom_labels.json", "application/json"}};

  // The model burst first, so the queue holds every model job at once.
  std::vector<std::string> modelIds;
  httplib::Client admin("127.0.0.1", server.port);
  admin.set_read_timeout(600, 0);
  for (int i = 0; i < modelJobs; ++i) {
    const std::string model = i % 2 ? "ureter" : "tumor";
    const json body{{"inputs", {{"A", "crop/case_A.nii.gz"}, {"P", "crop/case_P.nii.gz"}, {"D", "crop/case_D.nii.gz"}}},
                    {"models", {model}}};
    auto r = admin.Post("/v1/jobs", auth, body.dump(), "application/json");
    if (r && r->status == 202) modelIds.push_back(json::parse(r->body).at("id"));
    else ++result.modelErrors;
  }

  std::mutex mutex;
  std::vector<double> latencies;
  std::atomic<int> errors{0};
  const auto t0 = Clock::now();
  const auto until = t0 + std::chrono::duration<double>(duration);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c)
    threads.emplace_back([&] {
      httplib::Client cli("127.0.0.1", server.port);
      cli.set_read_timeout(600, 0);
      while (Clock::now() < until) {
        const auto s = Clock::now();
        auto r = cli.Post("/smoothing/base?wait=600", auth, maskParts);
        const double seconds = std::chrono::duration<double>(Clock::now() - s).count();
        if (!r || r->status != 200) {
          ++errors;
          continue;
        }
        std::lock_guard<std::mutex> lock(mutex);
        latencies.push_back(seconds);
      }
    });
  for (auto& t : threads) t.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  result.maskJobs = static_cast<int>(latencies.size());
  result.maskErrors = errors;
  result.p50 = percentile(latencies, 0.5);
  result.p95 = percentile(latencies, 0.95);

  double modelSeconds = 0;
  for (const auto& id : modelIds) {
    for (int i = 0; i < 6000; ++i) {  // bounded: 10 minutes per job
      auto r = admin.Get(("/v1/jobs/" + id).c_str(), auth);
      const json j = r && r->status == 200 ? json::parse(r->body) : json();
      const std::string state = j.is_object() ? j.value("state", "") : "";
      if (state == "succeeded") {
        ++result.modelJobs;
        modelSeconds += j.at("timings").at("queue_wait_seconds").get<double>() + j.at("timings").at("run_seconds").get<double>();
        break;
      }
      if (state == "failed" || state == "cancelled" || state.empty()) {
        ++result.modelErrors;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  result.modelMeanSeconds = result.modelJobs ? modelSeconds / result.modelJobs : 0;
  auto m = admin.Get("/metrics", auth);
  result.switches = m ? metric(m->body, "nephro3d_model_switches_total") : -1;
  result.peakRssMiB = vmHwmKiB(server.pid) / 1024.0;
  server.stop();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  double duration = 60;
  int clients = 8, modelJobs = 4;
  std::string work = std::string(NEPHRO3D_BINARY_DIR) + "/bench-serve";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--duration") duration = std::atof(argv[i + 1]);
    else if (a == "--clients") clients = std::atoi(argv[i + 1]);
    else if (a == "--model-jobs") modelJobs = std::atoi(argv[i + 1]);
    else if (a == "--work") work = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: bench_serve [--duration S] [--clients N] [--model-jobs N] [--work DIR]\n");
      return 2;
    }
  }
  const std::string engine = std::string(NEPHRO3D_BINARY_DIR) + "/bin/nephro3d-engine";
  ::setenv("NEPHRO3D_MODELS_DIR", (std::string(NEPHRO3D_SOURCE_DIR) + "/models").c_str(), 0);
  ::setenv("NEPHRO3D_RESOURCE_DIR", (std::string(NEPHRO3D_SOURCE_DIR) + "/resources").c_str(), 0);
  fs::create_directories(work + "/data/crop");
  if (!fs::exists(work + "/data/ph/phantom_labels.nii.gz") &&
      std::system((engine + " phantom --out '" + work + "/data/ph' -q").c_str()) != 0)
    return 1;
  // Model jobs run on the middle eighth of the phantom: a few tiles each, so the
  // model burst measures scheduling rather than one long network run.
  for (const char* ph : {"A", "P", "D"}) {
    const nephro::Volume v = nephro::readVolume(work + "/data/ph/phantom_" + ph + ".nii.gz");
    const auto s = v.geometry().size;
    nephro::Box box{{s[0] / 4, s[1] / 4, s[2] / 4}, {s[0] * 3 / 4, s[1] * 3 / 4, s[2] * 3 / 4}};
    nephro::writeVolume(nephro::crop(v, box), work + "/data/crop/case_" + ph + ".nii.gz");
  }
  std::ofstream(work + "/keys") << "bench " << nephro::jobs::sha256Hex(kKey) << "\n";

  std::printf("bench_serve: %d clients x /smoothing/base (phantom labels, %.0f s) + %d model jobs (tumor/ureter alternating), %u cores\n",
              clients, duration, modelJobs, std::thread::hardware_concurrency());
  int exitCode = 0;
  for (const bool grouped : {true, false}) {
    const RunResult r = runOnce(engine, work, grouped, duration, clients, modelJobs);
    std::printf("%-11s mask jobs %4d in %5.1f s = %5.2f jobs/s  latency p50 %6.2f s p95 %6.2f s  errors %d | model jobs %d (mean %.1f s, errors %d) | "
                "model switches %.0f | server peak RSS %.0f MiB\n",
                grouped ? "grouped" : "ungrouped", r.maskJobs, r.seconds, r.maskJobs / r.seconds, r.p50, r.p95, r.maskErrors,
                r.modelJobs, r.modelMeanSeconds, r.modelErrors, r.switches, r.peakRssMiB);
    std::fflush(stdout);
    if (r.maskErrors || r.modelErrors) exitCode = 1;
  }
  return exitCode;
}
