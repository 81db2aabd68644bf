#include "common/MemoryBudget.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace nephro {

namespace {

bool readNumber(const std::string& path, uint64_t& out) {
  std::ifstream in(path);
  std::string text;
  if (!(in >> text) || text == "max") return false;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str()) return false;
  out = v;
  return true;
}

// The process's cgroup paths: "0::/a/b" (v2) and "4:memory:/a/b" (v1).
void cgroupPaths(std::string& v2, std::string& v1) {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    const std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (line.compare(0, a, "0") == 0 && controllers.empty()) v2 = path;
    std::istringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');)
      if (c == "memory") v1 = path;
  }
}

void consider(MemoryBudget& b, uint64_t bytes, const char* source) {
  if (bytes > 0 && bytes < b.availableBytes) {
    b.availableBytes = bytes;
    b.source = source;
  }
}

}  // namespace

uint64_t parseByteSize(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v > 0)) return 0;
  double scale = 1;
  switch (std::toupper(static_cast<unsigned char>(*end))) {
    case 'K': scale = 1024.0; break;
    case 'M': scale = 1024.0 * 1024; break;
    case 'G': scale = 1024.0 * 1024 * 1024; break;
    case 'T': scale = 1024.0 * 1024 * 1024 * 1024; break;
    default: break;
  }
  return static_cast<uint64_t>(v * scale);
}

std::string formatGigabytes(double bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GB", bytes / 1e9);
  return b;
}

MemoryBudget memoryBudget() {
  MemoryBudget b;
  b.availableBytes = UINT64_MAX;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    uint64_t kb = 0;
    std::string unit;
    while (in >> key >> kb) {
      std::getline(in, unit);
      if (key == "MemAvailable:") {
        consider(b, kb * 1024, "MemAvailable");
        break;
      }
    }
  }
  std::string v2, v1;
  cgroupPaths(v2, v1);
  uint64_t limit = 0, usage = 0;
  if (!v2.empty() && readNumber("/sys/fs/cgroup" + v2 + "/memory.max", limit)) {
    readNumber("/sys/fs/cgroup" + v2 + "/memory.current", usage);
    if (limit > usage) consider(b, limit - usage, "cgroup memory.max");
  } else if (readNumber("/sys/fs/cgroup/memory.max", limit)) {
    readNumber("/sys/fs/cgroup/memory.current", usage);
    if (limit > usage) consider(b, limit - usage, "cgroup memory.max");
  }
  if (!v1.empty() && readNumber("/sys/fs/cgroup/memory" + v1 + "/memory.limit_in_bytes", limit) && limit < (uint64_t(1) << 60)) {
    readNumber("/sys/fs/cgroup/memory" + v1 + "/memory.usage_in_bytes", usage);
    if (limit > usage) consider(b, limit - usage, "cgroup memory.limit_in_bytes");
  }
  if (const char* env = std::getenv("NEPHRO3D_MEMORY_LIMIT")) consider(b, parseByteSize(env), "NEPHRO3D_MEMORY_LIMIT");
  if (b.availableBytes == UINT64_MAX) b.availableBytes = 0, b.source = "unknown";
  return b;
}

}  // namespace nephro
