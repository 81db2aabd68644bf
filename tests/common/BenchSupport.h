#pragma once
// Wall time and peak memory for benchmark programs (Linux /proc).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace nephro::bench {

// Kernel-reported memory figures of this process in KiB ("VmRSS", "VmHWM").
inline long procStatusKiB(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long value = -1;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      value = std::atol(line + n + 1);
      break;
    }
  std::fclose(f);
  return value;
}
inline double rssMiB() { return procStatusKiB("VmRSS") / 1024.0; }
inline double peakRssMiB() { return procStatusKiB("VmHWM") / 1024.0; }
// Resets VmHWM to the current RSS (Linux >= 4.0), so a peak can be taken per stage.
inline void resetPeakRss() {
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace nephro::bench
