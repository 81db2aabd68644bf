#pragma once
// Prometheus text exposition of the service: request counts and latencies per
// route pattern (never a job id or a file name), job and stage outcomes and
// durations, queue length, loaded models, model switches, CPU fallbacks and
// retries. Written by hand: the format is small.
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "jobs/Scheduler.h"

namespace nephro::server {

class Metrics : public jobs::SchedulerObserver {
 public:
  Metrics();
  void httpRequest(const std::string& route, int code, double seconds);

  void stageFinished(const std::string& kind, const std::string& model, const std::string& device, double seconds) override;
  void jobFinished(jobs::JobState state, double runSeconds, double queueWaitSeconds) override;
  void modelSwitched() override;
  void cpuFallback() override;
  void retried() override;

  // The exposition; gauges are read now.
  std::string render(size_t queuePending, int modelsLoaded) const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::map<std::string, std::vector<uint64_t>> counts;  // by label set
    std::map<std::string, double> sums;
    void observe(const std::string& labels, double value);
    void render(std::string& out, const std::string& name) const;
  };
  mutable std::mutex mutex_;
  std::map<std::string, double> httpRequests_;  // labels -> count
  std::map<std::string, double> jobs_;
  Histogram httpDuration_, jobDuration_, queueWait_, stageDuration_;
  double modelSwitches_ = 0, cpuFallbacks_ = 0, retries_ = 0;
};

// `value` escaped for a label: backslash, double quote and newline.
std::string escapeLabel(const std::string& value);

}  // namespace nephro::server
