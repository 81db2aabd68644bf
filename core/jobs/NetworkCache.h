#pragma once
// Loaded networks kept between stages (and jobs), bounded by a memory budget:
// the least recently used network goes first. A network larger than the whole
// budget is still loaded, alone. Used from one worker thread per device; the
// lock only guards the counters read by metrics.
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "inference/NnunetPredictor.h"

namespace nephro::jobs {

class NetworkCache {
 public:
  explicit NetworkCache(uint64_t budgetBytes) : budget_(budgetBytes) {}

  // The cached predictor for `key`, or the one `load` makes (then cached with `bytes`).
  std::shared_ptr<inference::NnunetPredictor> get(const std::string& key, uint64_t bytes,
                                                  const std::function<std::shared_ptr<inference::NnunetPredictor>()>& load);
  void drop(const std::string& key);
  int size() const;
  uint64_t bytes() const;
  int loads() const;
  int evictions() const;

 private:
  struct Entry {
    std::string key;
    uint64_t bytes;
    std::shared_ptr<inference::NnunetPredictor> predictor;
  };
  uint64_t budget_;
  mutable std::mutex mutex_;
  std::list<Entry> entries_;  // most recently used first
  uint64_t used_ = 0;
  int loads_ = 0, evictions_ = 0;
};

}  // namespace nephro::jobs
