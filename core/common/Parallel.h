#pragma once
// A minimal parallel-for over an index range on std::threads. Chunks are
// contiguous and the result of each index must not depend on the split, so
// output stays deterministic whatever the thread count.
#include <algorithm>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nephro {

inline unsigned workerCount() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

// Calls body(begin, end) on sub-ranges of [0, count).
inline void parallelFor(int64_t count, const std::function<void(int64_t, int64_t)>& body,
                        unsigned threads = 0) {
  if (threads == 0) threads = workerCount();
  threads = static_cast<unsigned>(std::min<int64_t>(threads, std::max<int64_t>(count, 1)));
  if (threads <= 1) {
    body(0, count);
    return;
  }
  std::vector<std::thread> pool;
  std::exception_ptr failure;
  std::mutex failureMutex;
  int64_t chunk = (count + threads - 1) / threads;
  for (unsigned t = 0; t < threads; ++t) {
    int64_t b = t * chunk, e = std::min(count, b + chunk);
    if (b >= e) break;
    pool.emplace_back([&, b, e] {
      try {
        body(b, e);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failureMutex);
        if (!failure) failure = std::current_exception();
      }
    });
  }
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace nephro
