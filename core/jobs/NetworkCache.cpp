#include "jobs/NetworkCache.h"

namespace nephro::jobs {

std::shared_ptr<inference::NnunetPredictor> NetworkCache::get(
    const std::string& key, uint64_t bytes, const std::function<std::shared_ptr<inference::NnunetPredictor>()>& load) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->key != key) continue;
      entries_.splice(entries_.begin(), entries_, it);
      return entries_.front().predictor;
    }
    // Room first, so the old networks are freed before the new one loads.
    while (!entries_.empty() && used_ + bytes > budget_) {
      used_ -= entries_.back().bytes;
      entries_.pop_back();
      ++evictions_;
    }
  }
  std::shared_ptr<inference::NnunetPredictor> p = load();
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.push_front({key, bytes, p});
  used_ += bytes;
  ++loads_;
  return p;
}

void NetworkCache::drop(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = entries_.begin(); it != entries_.end(); ++it)
    if (it->key == key) {
      used_ -= it->bytes;
      entries_.erase(it);
      return;
    }
}

int NetworkCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(entries_.size());
}
uint64_t NetworkCache::bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return used_;
}
int NetworkCache::loads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return loads_;
}
int NetworkCache::evictions() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return evictions_;
}

}  // namespace nephro::jobs
