#include "edit/VoxelDelta.h"

#include <algorithm>
#include <set>

#include "common/Error.h"

namespace nephro::edit {

namespace {

// Calls f(offset, count) for each stretch of `count` consecutive box voxels
// (within one row of the layer) starting at box index `local`.
template <class F>
void forEachRowPiece(const Box& box, const Geometry& g, int64_t local, int64_t count, F&& f) {
  const int64_t sx = box.end[0] - box.begin[0], sy = box.end[1] - box.begin[1];
  while (count > 0) {
    const int64_t li = local % sx, row = local / sx;
    const int64_t lj = row % sy, lk = row / sy;
    const int64_t n = std::min(count, sx - li);
    f(g.offset(box.begin[0] + li, box.begin[1] + lj, box.begin[2] + lk), n, li, lj, lk);
    local += n;
    count -= n;
  }
}

}  // namespace

void VoxelDelta::write(Volume& layer, bool after) const {
  const Geometry& g = layer.geometry();
  dispatchPixelType(layer.pixelType(), [&](auto v) {
    using T = decltype(v);
    if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, uint16_t>) {
      T* p = static_cast<T*>(layer.raw());
      int64_t local = 0;
      for (const DeltaRun& r : runs_) {
        if (!r.unchanged()) {
          const T value = static_cast<T>(after ? r.after : r.before);
          forEachRowPiece(box_, g, local, r.length,
                          [&](int64_t offset, int64_t n, int64_t, int64_t, int64_t) {
                            std::fill(p + offset, p + offset + n, value);
                          });
        }
        local += r.length;
      }
    } else {
      throw Error(ErrorKind::Internal,
                  std::string("undo on a ") + toString(layer.pixelType()) + " layer");
    }
    return 0;
  });
}

std::map<int, int64_t> VoxelDelta::countDeltas() const {
  std::map<int, int64_t> d;
  for (const DeltaRun& r : runs_) {
    if (r.unchanged()) continue;
    d[r.before] -= r.length;
    d[r.after] += r.length;
  }
  for (auto it = d.begin(); it != d.end();) it = it->second == 0 ? d.erase(it) : std::next(it);
  return d;
}

std::vector<int> VoxelDelta::labelsTouched() const {
  std::set<int> s;
  for (const DeltaRun& r : runs_) {
    if (r.unchanged()) continue;
    if (r.before) s.insert(r.before);
    if (r.after) s.insert(r.after);
  }
  return {s.begin(), s.end()};
}

DeltaBuilder::DeltaBuilder(const Box& box) : box_(box) {
  sx_ = box.end[0] - box.begin[0];
  sy_ = box.end[1] - box.begin[1];
}

void DeltaBuilder::addSlow(int64_t local, uint16_t before, uint16_t after) {
  if (local < next_) throw Error(ErrorKind::Internal, "voxel changes recorded out of order");
  // Unchanged voxels in between: one run (split where a length would overflow).
  for (int64_t gap = local - next_; gap > 0;) {
    const auto n = static_cast<uint32_t>(std::min<int64_t>(gap, UINT32_MAX));
    if (!runs_.empty() && runs_.back().unchanged() && runs_.back().length <= UINT32_MAX - n) {
      runs_.back().length += n;
    } else {
      runs_.push_back({n, 0, 0});
    }
    gap -= n;
  }
  runs_.push_back({1, before, after});
  next_ = local + 1;
  ++changed_;
}

VoxelDelta DeltaBuilder::finish() {
  VoxelDelta d;
  d.box_ = box_;
  d.changedVoxels_ = changed_;
  if (changed_ > 0) {
    runs_.shrink_to_fit();
    d.runs_ = std::move(runs_);
    // The tight box: walk the changed runs.
    Box tight{{box_.end[0], box_.end[1], box_.end[2]},
              {box_.begin[0], box_.begin[1], box_.begin[2]}};
    Geometry g;  // only offset() of forEachRowPiece's callback is unused here
    g.size = {box_.end[0], box_.end[1], box_.end[2]};
    int64_t local = 0;
    for (const DeltaRun& r : d.runs_) {
      if (!r.unchanged())
        forEachRowPiece(
            box_, g, local, r.length, [&](int64_t, int64_t n, int64_t li, int64_t lj, int64_t lk) {
              const int64_t lo[3] = {box_.begin[0] + li, box_.begin[1] + lj, box_.begin[2] + lk};
              const int64_t hi[3] = {lo[0] + n, lo[1] + 1, lo[2] + 1};
              for (int a = 0; a < 3; ++a) {
                tight.begin[a] = std::min(tight.begin[a], lo[a]);
                tight.end[a] = std::max(tight.end[a], hi[a]);
              }
            });
      local += r.length;
    }
    d.changedBox_ = tight;
  }
  runs_.clear();
  next_ = 0;
  changed_ = 0;
  return d;
}

VoxelDelta deltaFromChanges(const Geometry& grid, std::vector<std::pair<int64_t, uint16_t>> changes,
                            uint16_t after) {
  if (changes.empty()) return {};
  std::sort(changes.begin(), changes.end());
  Box box{{grid.size[0], grid.size[1], grid.size[2]}, {0, 0, 0}};
  const int64_t nx = grid.size[0], nxy = grid.size[0] * grid.size[1];
  for (const auto& c : changes) {
    const int64_t idx[3] = {c.first % nx, (c.first / nx) % grid.size[1], c.first / nxy};
    for (int a = 0; a < 3; ++a) {
      box.begin[a] = std::min(box.begin[a], idx[a]);
      box.end[a] = std::max(box.end[a], idx[a] + 1);
    }
  }
  DeltaBuilder b(box);
  for (const auto& c : changes)
    b.add(b.local(c.first % nx, (c.first / nx) % grid.size[1], c.first / nxy), c.second, after);
  return b.finish();
}

}  // namespace nephro::edit
