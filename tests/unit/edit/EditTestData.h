#pragma once
// Small label layers for the editing tests: an anisotropic grid, boxes and
// balls of labels, and a comparison of voxels.
#include <cmath>
#include <cstring>

#include "image/Volume.h"
#include "labels/LabelTable.h"

namespace nephro::test {

// 48x40x20 voxels of 0.5 x 1.0 x 2.0 mm, oblique-free, origin off zero.
inline Geometry editGrid() {
  Geometry g;
  g.size = {48, 40, 20};
  g.spacing = {0.5, 1.0, 2.0};
  g.origin = {-12.0, 30.0, 100.0};
  return g;
}

inline LabelTable editTable() {
  LabelTable t;
  t.set(LabelTable::schemaEntry("kidney", 1));
  t.set(LabelTable::schemaEntry("tumor", 2));
  t.set(LabelTable::schemaEntry("artery", 3));
  return t;
}

inline void fillBox(Volume& v, Index3 lo, Index3 hi, uint8_t value) {
  const Geometry& g = v.geometry();
  uint8_t* p = v.data<uint8_t>();
  for (int64_t k = lo[2]; k < hi[2]; ++k)
    for (int64_t j = lo[1]; j < hi[1]; ++j)
      for (int64_t i = lo[0]; i < hi[0]; ++i) p[g.offset(i, j, k)] = value;
}

inline int64_t countValue(const Volume& v, int value) {
  int64_t n = 0;
  for (int64_t o = 0; o < v.voxelCount(); ++o) n += v.data<uint8_t>()[o] == value;
  return n;
}

inline bool sameVoxels(const Volume& a, const Volume& b) {
  return a.geometry() == b.geometry() && a.pixelType() == b.pixelType() &&
         std::memcmp(a.raw(), b.raw(), a.byteSize()) == 0;
}

// LPS centre of voxel (i, j, k).
inline Vec3 at(const Geometry& g, double i, double j, double k) {
  return g.indexToPhysical({i, j, k});
}

}  // namespace nephro::test
