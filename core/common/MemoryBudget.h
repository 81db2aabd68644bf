#pragma once
// How much memory this process may still use: the smaller of the kernel's
// MemAvailable and the room left under the cgroup's memory limit (v2
// memory.max, or v1 memory.limit_in_bytes). NEPHRO3D_MEMORY_LIMIT (bytes, or
// with a K/M/G suffix) caps it further, e.g. for tests or shared nodes.
#include <cstdint>
#include <string>

namespace nephro {

struct MemoryBudget {
  uint64_t availableBytes = 0;  // what the engine may plan to use
  std::string source;           // "MemAvailable", "cgroup memory.max", "NEPHRO3D_MEMORY_LIMIT"
};

MemoryBudget memoryBudget();
// "1.2 GB"
std::string formatGigabytes(double bytes);
// Parses "4000000", "512M", "2G"; 0 on failure.
uint64_t parseByteSize(const std::string& text);

}  // namespace nephro
