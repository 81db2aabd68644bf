#include "image/Crop.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "common/Error.h"

namespace nephro {

Box boundingBox(const Volume& mask, const std::vector<int>& values) {
  const Geometry& g = mask.geometry();
  Box box{{g.size[0], g.size[1], g.size[2]}, {0, 0, 0}};
  dispatchPixelType(mask.pixelType(), [&](auto v) {
    using T = decltype(v);
    const T* p = static_cast<const T*>(mask.raw());
    std::vector<char> wanted;
    if (!values.empty()) {
      int maxV = *std::max_element(values.begin(), values.end());
      wanted.assign(static_cast<size_t>(std::max(maxV, 0)) + 1, 0);
      for (int x : values)
        if (x >= 0) wanted[x] = 1;
    }
    int64_t n = 0;
    for (int64_t k = 0; k < g.size[2]; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i, ++n) {
          const T x = p[n];
          bool hit;
          if (values.empty()) {
            hit = x != T(0);
          } else {
            const auto xi = static_cast<int64_t>(x);
            hit = xi >= 0 && xi < static_cast<int64_t>(wanted.size()) && wanted[xi];
          }
          if (!hit) continue;
          const int64_t idx[3] = {i, j, k};
          for (int d = 0; d < 3; ++d) {
            box.begin[d] = std::min(box.begin[d], idx[d]);
            box.end[d] = std::max(box.end[d], idx[d] + 1);
          }
        }
    return 0;
  });
  if (box.empty()) return Box{};
  return box;
}

Box padBox(const Box& box, int64_t pad, const Geometry& g) {
  Box out = box;
  for (int d = 0; d < 3; ++d) {
    out.begin[d] = std::max<int64_t>(0, box.begin[d] - pad);
    out.end[d] = std::min<int64_t>(g.size[d], box.end[d] + pad);
  }
  return out;
}

Box padBoxMm(const Box& box, double padMm, const Geometry& g) {
  Box out = box;
  for (int d = 0; d < 3; ++d) {
    const auto pad = static_cast<int64_t>(std::ceil(padMm / g.spacing[d]));
    out.begin[d] = std::max<int64_t>(0, box.begin[d] - pad);
    out.end[d] = std::min<int64_t>(g.size[d], box.end[d] + pad);
  }
  return out;
}

Volume crop(const Volume& in, const Box& box) {
  if (box.empty()) throw Error(ErrorKind::Internal, "crop to an empty box");
  const Geometry& g = in.geometry();
  Geometry cg = g;
  cg.size = box.size();
  cg.origin = g.indexToPhysical({double(box.begin[0]), double(box.begin[1]), double(box.begin[2])});
  Volume out(cg, in.pixelType());
  const size_t bpv = bytesPerVoxel(in.pixelType());
  const auto* src = static_cast<const unsigned char*>(in.raw());
  auto* dst = static_cast<unsigned char*>(out.raw());
  const size_t rowBytes = static_cast<size_t>(cg.size[0]) * bpv;
  for (int64_t k = 0; k < cg.size[2]; ++k)
    for (int64_t j = 0; j < cg.size[1]; ++j)
      std::memcpy(dst + cg.offset(0, j, k) * bpv,
                  src + g.offset(box.begin[0], box.begin[1] + j, box.begin[2] + k) * bpv, rowBytes);
  return out;
}

void paste(const Volume& part, const Box& box, Volume& into) {
  if (part.pixelType() != into.pixelType() || part.geometry().size != box.size())
    throw Error(ErrorKind::Internal, "paste: part does not match the box");
  const Geometry& g = into.geometry();
  const Geometry& pg = part.geometry();
  const size_t bpv = bytesPerVoxel(part.pixelType());
  const auto* src = static_cast<const unsigned char*>(part.raw());
  auto* dst = static_cast<unsigned char*>(into.raw());
  const size_t rowBytes = static_cast<size_t>(pg.size[0]) * bpv;
  for (int64_t k = 0; k < pg.size[2]; ++k)
    for (int64_t j = 0; j < pg.size[1]; ++j)
      std::memcpy(dst + g.offset(box.begin[0], box.begin[1] + j, box.begin[2] + k) * bpv,
                  src + pg.offset(0, j, k) * bpv, rowBytes);
}

}  // namespace nephro
