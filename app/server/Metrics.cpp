#include "server/Metrics.h"

#include <cstdio>

namespace nephro::server {
namespace {

const std::vector<double> kHttpBuckets{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
const std::vector<double> kWorkBuckets{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void header(std::string& out, const std::string& name, const std::string& type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void samples(std::string& out, const std::string& name, const std::map<std::string, double>& values) {
  for (const auto& [labels, v] : values) out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + number(v) + "\n";
}

}  // namespace

std::string escapeLabel(const std::string& value) {
  std::string s;
  for (char c : value) {
    if (c == '\\') s += "\\\\";
    else if (c == '"') s += "\\\"";
    else if (c == '\n') s += "\\n";
    else s += c;
  }
  return s;
}

void Metrics::Histogram::observe(const std::string& labels, double value) {
  auto& c = counts[labels];
  if (c.empty()) c.assign(bounds.size() + 1, 0);
  for (size_t i = 0; i < bounds.size(); ++i)
    if (value <= bounds[i]) ++c[i];
  ++c[bounds.size()];  // +Inf
  sums[labels] += value;
}

void Metrics::Histogram::render(std::string& out, const std::string& name) const {
  for (const auto& [labels, c] : counts) {
    const std::string sep = labels.empty() ? "" : labels + ",";
    for (size_t i = 0; i < bounds.size(); ++i)
      out += name + "_bucket{" + sep + "le=\"" + number(bounds[i]) + "\"} " + std::to_string(c[i]) + "\n";
    out += name + "_bucket{" + sep + "le=\"+Inf\"} " + std::to_string(c[bounds.size()]) + "\n";
    const std::string braces = labels.empty() ? "" : "{" + labels + "}";
    out += name + "_sum" + braces + " " + number(sums.at(labels)) + "\n";
    out += name + "_count" + braces + " " + std::to_string(c[bounds.size()]) + "\n";
  }
}

Metrics::Metrics() {
  httpDuration_.bounds = kHttpBuckets;
  jobDuration_.bounds = kWorkBuckets;
  queueWait_.bounds = kWorkBuckets;
  stageDuration_.bounds = kWorkBuckets;
  for (const char* s : {"succeeded", "failed", "cancelled"}) jobs_[std::string("status=\"") + s + "\""] = 0;
}

void Metrics::httpRequest(const std::string& route, int code, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  httpRequests_["route=\"" + escapeLabel(route) + "\",code=\"" + std::to_string(code) + "\""] += 1;
  httpDuration_.observe("route=\"" + escapeLabel(route) + "\"", seconds);
}

void Metrics::stageFinished(const std::string& kind, const std::string& model, const std::string& device, double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  stageDuration_.observe("stage=\"" + escapeLabel(kind) + "\",model=\"" + escapeLabel(model) + "\",device=\"" +
                             escapeLabel(device) + "\"",
                         seconds);
}

void Metrics::jobFinished(jobs::JobState state, double runSeconds, double queueWaitSeconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  jobs_["status=\"" + jobs::toString(state) + "\""] += 1;
  jobDuration_.observe("status=\"" + jobs::toString(state) + "\"", runSeconds);
  queueWait_.observe("", queueWaitSeconds);
}

void Metrics::modelSwitched() {
  std::lock_guard<std::mutex> lock(mutex_);
  modelSwitches_ += 1;
}
void Metrics::cpuFallback() {
  std::lock_guard<std::mutex> lock(mutex_);
  cpuFallbacks_ += 1;
}
void Metrics::retried() {
  std::lock_guard<std::mutex> lock(mutex_);
  retries_ += 1;
}

std::string Metrics::render(size_t queuePending, int modelsLoaded) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  header(out, "nephro3d_http_requests_total", "counter", "HTTP requests by route pattern and status code.");
  samples(out, "nephro3d_http_requests_total", httpRequests_);
  header(out, "nephro3d_http_request_duration_seconds", "histogram", "HTTP request handling time by route pattern.");
  httpDuration_.render(out, "nephro3d_http_request_duration_seconds");
  header(out, "nephro3d_jobs_total", "counter", "Jobs finished, by final status.");
  samples(out, "nephro3d_jobs_total", jobs_);
  header(out, "nephro3d_job_duration_seconds", "histogram", "Time from a job's first stage start to its end, by status.");
  jobDuration_.render(out, "nephro3d_job_duration_seconds");
  header(out, "nephro3d_queue_wait_seconds", "histogram", "Time a job waited in the queue before its first stage.");
  queueWait_.render(out, "nephro3d_queue_wait_seconds");
  header(out, "nephro3d_stage_duration_seconds", "histogram", "Time of one finished stage, by stage kind, model or step, device.");
  stageDuration_.render(out, "nephro3d_stage_duration_seconds");
  header(out, "nephro3d_queue_pending", "gauge", "Jobs queued or running.");
  out += "nephro3d_queue_pending " + std::to_string(queuePending) + "\n";
  header(out, "nephro3d_models_loaded", "gauge", "Networks held in the model cache.");
  out += "nephro3d_models_loaded " + std::to_string(modelsLoaded) + "\n";
  header(out, "nephro3d_model_switches_total", "counter", "Times a worker ran a different model than its previous model stage.");
  out += "nephro3d_model_switches_total " + number(modelSwitches_) + "\n";
  header(out, "nephro3d_cpu_fallback_total", "counter", "Stages rerun on the CPU after a CUDA out-of-memory.");
  out += "nephro3d_cpu_fallback_total " + number(cpuFallbacks_) + "\n";
  header(out, "nephro3d_job_retries_total", "counter", "Stage retries after a transient error.");
  out += "nephro3d_job_retries_total " + number(retries_) + "\n";
  return out;
}

}  // namespace nephro::server
