#include "post/Thinning.h"

#include <vector>

namespace nephro::post {

namespace {

inline int cubeIndex(int x, int y, int z) { return x + 3 * y + 9 * z; }

// Number of 26-connected components of the foreground in the 26-neighbourhood (centre excluded).
int foregroundComponents26(const bool cube[27]) {
  int label[27] = {0};
  int count = 0;
  int stack[27];
  for (int s = 0; s < 27; ++s) {
    if (s == 13 || !cube[s] || label[s]) continue;
    ++count;
    int top = 0;
    stack[top++] = s;
    label[s] = count;
    while (top) {
      const int c = stack[--top];
      const int cx = c % 3, cy = (c / 3) % 3, cz = c / 9;
      for (int dz = -1; dz <= 1; ++dz)
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int x = cx + dx, y = cy + dy, z = cz + dz;
            if (x < 0 || y < 0 || z < 0 || x > 2 || y > 2 || z > 2) continue;
            const int n = cubeIndex(x, y, z);
            if (n == 13 || !cube[n] || label[n]) continue;
            label[n] = count;
            stack[top++] = n;
          }
    }
  }
  return count;
}

// Number of 6-connected background components within the 18-neighbourhood that
// touch one of the centre's six face neighbours.
int backgroundComponents6(const bool cube[27]) {
  auto in18 = [](int x, int y, int z) {
    const int off = (x != 1) + (y != 1) + (z != 1);
    return off >= 1 && off <= 2;
  };
  int label[27] = {0};
  int count = 0;
  int stack[27];
  const int faces[6] = {cubeIndex(0, 1, 1), cubeIndex(2, 1, 1), cubeIndex(1, 0, 1),
                        cubeIndex(1, 2, 1), cubeIndex(1, 1, 0), cubeIndex(1, 1, 2)};
  for (int f : faces) {
    if (cube[f] || label[f]) continue;
    ++count;
    int top = 0;
    stack[top++] = f;
    label[f] = count;
    while (top) {
      const int c = stack[--top];
      const int cx = c % 3, cy = (c / 3) % 3, cz = c / 9;
      const int steps[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};
      for (const auto& s : steps) {
        const int x = cx + s[0], y = cy + s[1], z = cz + s[2];
        if (x < 0 || y < 0 || z < 0 || x > 2 || y > 2 || z > 2 || !in18(x, y, z)) continue;
        const int n = cubeIndex(x, y, z);
        if (cube[n] || label[n]) continue;
        label[n] = count;
        stack[top++] = n;
      }
    }
  }
  return count;
}

}  // namespace

bool isSimplePoint(const bool cube[27]) {
  return foregroundComponents26(cube) == 1 && backgroundComponents6(cube) == 1;
}

Volume thinToCurves(const Volume& binary, const Progress& progress) {
  const Geometry& g = binary.geometry();
  // A one-voxel frame of background avoids bounds checks.
  const int64_t nx = g.size[0] + 2, ny = g.size[1] + 2, nz = g.size[2] + 2;
  std::vector<uint8_t> v(static_cast<size_t>(nx * ny * nz), 0);
  auto at = [&](int64_t i, int64_t j, int64_t k) { return i + nx * (j + ny * k); };
  const uint8_t* in = binary.data<uint8_t>();
  std::vector<int64_t> foreground;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (in[g.offset(i, j, k)]) {
          v[at(i + 1, j + 1, k + 1)] = 1;
          foreground.push_back(at(i + 1, j + 1, k + 1));
        }
  int64_t neighbourOffset[27];
  for (int z = 0; z < 3; ++z)
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 3; ++x) neighbourOffset[cubeIndex(x, y, z)] = (x - 1) + nx * ((y - 1) + ny * (z - 1));
  const int64_t faceOffset[6] = {-1, 1, -nx, nx, -nx * ny, nx * ny};

  bool changed = true;
  int iteration = 0;
  std::vector<int64_t> candidates;
  while (changed) {
    changed = false;
    progress.throwIfCancelled();
    for (int dir = 0; dir < 6; ++dir) {
      candidates.clear();
      for (int64_t p : foreground)
        if (v[p] && !v[p + faceOffset[dir]]) candidates.push_back(p);
      for (int64_t p : candidates) {
        bool cube[27];
        int neighbours = 0;
        for (int n = 0; n < 27; ++n) {
          cube[n] = v[p + neighbourOffset[n]] != 0;
          if (n != 13 && cube[n]) ++neighbours;
        }
        if (neighbours <= 1) continue;  // a curve end (or an isolated voxel) stays
        if (!isSimplePoint(cube)) continue;
        v[p] = 0;
        changed = true;
      }
    }
    // Drop removed voxels from the work list.
    size_t w = 0;
    for (int64_t p : foreground)
      if (v[p]) foreground[w++] = p;
    foreground.resize(w);
    ++iteration;
  }

  Volume out = binary.like(PixelType::UInt8);
  uint8_t* o = out.data<uint8_t>();
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i) o[g.offset(i, j, k)] = v[at(i + 1, j + 1, k + 1)];
  return out;
}

}  // namespace nephro::post
