#include "common/PhaseRules.h"

#include <algorithm>

namespace nephro {
namespace {

bool has(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

const std::vector<std::string>& defaultAnyPhaseOrder() {
  static const std::vector<std::string> order{"P", "A", "D"};
  return order;
}

std::string anyPhaseChoice(const std::vector<std::string>& order, const std::vector<std::string>& available) {
  for (const auto& p : order.empty() ? defaultAnyPhaseOrder() : order)
    if (has(available, p)) return p;
  return {};
}

std::string stepCtPhase(bool usesCt, const std::string& layerPhase, const std::vector<std::string>& sameGrid,
                        const std::string& preferred, const std::vector<std::string>& available) {
  if (!usesCt) return {};
  if (!layerPhase.empty()) return has(available, layerPhase) ? layerPhase : std::string();
  std::vector<std::string> candidates;
  for (const auto& p : sameGrid)
    if (has(available, p)) candidates.push_back(p);
  if (candidates.empty()) return {};
  if (!preferred.empty() && has(candidates, preferred)) return preferred;
  return anyPhaseChoice(defaultAnyPhaseOrder(), candidates);
}

}  // namespace nephro
