#include "post/KidneyIslands.h"

#include <algorithm>
#include <cmath>

#include "image/Crop.h"
#include "post/PostSupport.h"

namespace nephro::post {

using namespace detail;

double KidneyIslandRemoval::removedMl() const {
  double ml = 0;
  for (const KidneyIsland& i : removed) ml += i.volumeMl;
  return ml;
}

namespace {

// Smallest distance from the voxels of piece `island` to those of the main
// pieces, looked for only within `limitMm` of the island's box.
double distanceToMainMm(const Volume& pieces, const std::vector<uint8_t>& isMain, const Box& islandBox, int island,
                        double limitMm) {
  const Box near = padBoxMm(islandBox, limitMm + 1e-6, pieces.geometry());
  const Volume sub = crop(pieces, near);
  const int32_t* p = sub.data<int32_t>();
  Volume main(sub.geometry(), PixelType::UInt8);
  uint8_t* m = main.data<uint8_t>();
  bool any = false;
  for (int64_t i = 0; i < sub.voxelCount(); ++i) {
    m[i] = isMain[static_cast<size_t>(p[i])];
    any = any || m[i];
  }
  if (!any) return std::numeric_limits<double>::infinity();
  const Volume distance = distanceToMm(main);
  const float* d = distance.data<float>();
  double best = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < sub.voxelCount(); ++i)
    if (p[i] == island) best = std::min(best, static_cast<double>(d[i]));
  return best;
}

}  // namespace

KidneyIslandRemoval removeKidneyIslands(const Volume& mask, const std::vector<KidneyLabel>& kidneys,
                                        double minVolumeMl, double minDistanceMm) {
  KidneyIslandRemoval out;
  if (!(minVolumeMl > 0)) return out;
  const double voxelMl = mask.geometry().voxelVolumeMm3() / 1000.0;
  for (const KidneyLabel& kidney : kidneys) {
    const Box box = boundingBox(mask, {kidney.value});
    if (box.empty()) continue;
    const Volume region = crop(mask, box);
    int count = 0;
    const Volume pieces = connectedComponents(binaryOf(region, {kidney.value}), &count, /*fullyConnected=*/true);
    if (count <= 1) continue;
    // Size and box of every piece.
    const Geometry& g = pieces.geometry();
    std::vector<int64_t> size(static_cast<size_t>(count) + 1, 0);
    std::vector<Box> boxes(static_cast<size_t>(count) + 1);
    std::vector<Vec3> sum(static_cast<size_t>(count) + 1, Vec3{0, 0, 0});
    for (Box& b : boxes) b = Box{{g.size[0], g.size[1], g.size[2]}, {0, 0, 0}};
    const int32_t* p = pieces.data<int32_t>();
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) {
          const int32_t c = p[g.offset(i, j, k)];
          if (!c) continue;
          ++size[c];
          sum[c][0] += double(i), sum[c][1] += double(j), sum[c][2] += double(k);
          Box& b = boxes[c];
          const Index3 at{i, j, k};
          for (int d = 0; d < 3; ++d) {
            b.begin[d] = std::min(b.begin[d], at[d]);
            b.end[d] = std::max(b.end[d], at[d] + 1);
          }
        }
    // The main pieces: the largest and every piece of at least the volume
    // limit (a "kidney" label without sides has two kidneys).
    std::vector<uint8_t> isMain(static_cast<size_t>(count) + 1, 0);
    for (int c = 1; c <= count; ++c) isMain[c] = c == 1 || static_cast<double>(size[c]) * voxelMl >= minVolumeMl;
    std::vector<uint8_t> remove(static_cast<size_t>(count) + 1, 0);
    bool any = false;
    for (int c = 2; c <= count; ++c) {
      if (isMain[c]) continue;
      const double ml = static_cast<double>(size[c]) * voxelMl;
      const double distance = distanceToMainMm(pieces, isMain, boxes[c], c, minDistanceMm);
      if (distance <= minDistanceMm) continue;
      remove[c] = 1;
      any = true;
      const double n = static_cast<double>(size[c]);
      out.removed.push_back(
          {kidney.name, kidney.value, ml, distance, g.indexToPhysical({sum[c][0] / n, sum[c][1] / n, sum[c][2] / n})});
    }
    if (!any) continue;
    if (out.mask.empty()) out.mask = mask.clone();
    // Clears the removed pieces' voxels in the full mask.
    dispatchPixelType(out.mask.pixelType(), [&](auto tag) {
      using T = decltype(tag);
      T* m = out.mask.template data<T>();
      const Geometry& full = out.mask.geometry();
      for (int64_t k = 0; k < g.size[2]; ++k)
        for (int64_t j = 0; j < g.size[1]; ++j)
          for (int64_t i = 0; i < g.size[0]; ++i)
            if (remove[p[g.offset(i, j, k)]])
              m[full.offset(box.begin[0] + i, box.begin[1] + j, box.begin[2] + k)] = T(0);
    });
  }
  return out;
}

}  // namespace nephro::post
