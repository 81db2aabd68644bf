#include "inference/NnunetResampling.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "common/Error.h"
#include "common/Parallel.h"

namespace nephro::inference {

uint16_t doubleToHalf(double value) {
  // Straight from the binary64 fields, rounding half to even once (as numpy's
  // float64 -> float16 does; going through float32 could round twice).
  uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof bits);
  const uint16_t sign = static_cast<uint16_t>((bits >> 48) & 0x8000);
  const uint64_t magnitude = bits & 0x7fffffffffffffffull;
  if (magnitude > 0x7ff0000000000000ull) return sign | 0x7e00;  // NaN
  int e = static_cast<int>(magnitude >> 52) - 1023;             // value in [2^e, 2^(e+1))
  if (e > 15) return sign | 0x7c00;                              // infinity, or too large
  if (e < -25) return sign;                                      // below half the smallest subnormal
  const uint64_t significand = (magnitude & ((1ull << 52) - 1)) | (1ull << 52);
  // Quantum of binary16 at this magnitude (subnormals share the 2^-24 quantum).
  const int quantumExp = std::max(e, -14) - 10;
  const int shift = 52 + quantumExp - e;  // 42 .. 53
  uint64_t r = significand >> shift;
  const uint64_t rest = significand & ((1ull << shift) - 1), half = 1ull << (shift - 1);
  if (rest > half || (rest == half && (r & 1))) ++r;
  if (e < -14) return sign | static_cast<uint16_t>(r);  // subnormal; r == 1024 encodes the smallest normal
  if (r >= 2048) {
    r = 1024;
    ++e;
  }
  if (e + 15 >= 31) return sign | 0x7c00;
  return sign | static_cast<uint16_t>(((e + 15) << 10) | (static_cast<int>(r) - 1024));
}

namespace {
std::vector<float> halfTable() {
  std::vector<float> t(65536);
  for (uint32_t h = 0; h < 65536; ++h) {
    const uint32_t sign = (h & 0x8000) << 16;
    const int exp = (h >> 10) & 0x1f;
    const uint32_t mant = h & 0x3ff;
    float v;
    if (exp == 0) {
      v = std::ldexp(static_cast<float>(mant), -24);
    } else if (exp == 31) {
      v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    } else {
      v = std::ldexp(static_cast<float>(mant | 0x400), exp - 25);
    }
    t[h] = sign ? -v : v;
  }
  return t;
}
}  // namespace

float halfToFloat(uint16_t h) {
  static const std::vector<float> table = halfTable();  // every binary16 is exact in binary32
  return table[h];
}

int64_t roundHalfEven(double value) { return static_cast<int64_t>(std::nearbyint(value)); }

Shape3 computeNewShape(const Shape3& oldShape, const Spacing3& oldSpacing, const Spacing3& newSpacing) {
  Shape3 s{};
  for (int i = 0; i < 3; ++i) s[i] = roundHalfEven(oldSpacing[i] / newSpacing[i] * static_cast<double>(oldShape[i]));
  return s;
}

namespace {

// np.where(max(spacing) / spacing == 1)
std::vector<int> lowResAxes(const Spacing3& sp) {
  const double m = std::max({sp[0], sp[1], sp[2]});
  std::vector<int> axes;
  for (int i = 0; i < 3; ++i)
    if (m / sp[i] == 1.0) axes.push_back(i);
  return axes;
}

bool anisotropic(const Spacing3& sp, double threshold) {
  return std::max({sp[0], sp[1], sp[2]}) / std::min({sp[0], sp[1], sp[2]}) > threshold;
}

// The causal/anticausal recursions of scipy's spline_filter1d (cubic, one pole)
// with the boundary initialisation scipy uses for mode 'nearest', on `lanes`
// interleaved lines: element i of lane j at c[i * lanes + j]. Every lane gets
// exactly the operations, in exactly the order, of a single line.
void splineFilterCubic(double* c, int64_t n, int64_t lanes) {
  if (n < 2) return;
  const double z = std::sqrt(3.0) - 2.0;
  const double gain = (1.0 - z) * (1.0 - 1.0 / z);
  for (int64_t i = 0; i < n * lanes; ++i) c[i] *= gain;
  // causal initialisation
  {
    const double zn = std::pow(z, static_cast<double>(n));
    std::vector<double> zi(static_cast<size_t>(n));
    zi[1 % n] = z;
    for (int64_t i = 2; i < n; ++i) zi[i] = zi[i - 1] * z;
    double* c0 = c;
    const double* cLast = c + (n - 1) * lanes;
    std::vector<double> first(c0, c0 + lanes);
    for (int64_t j = 0; j < lanes; ++j) c0[j] = c0[j] + zn * cLast[j];
    for (int64_t i = 1; i < n; ++i) {
      const double* ci = c + i * lanes;
      const double* cm = c + (n - 1 - i) * lanes;
      for (int64_t j = 0; j < lanes; ++j) c0[j] += zi[i] * (ci[j] + zn * cm[j]);
    }
    const double scale = z / (1 - zn * zn);
    for (int64_t j = 0; j < lanes; ++j) {
      c0[j] *= scale;
      c0[j] += first[j];
    }
  }
  for (int64_t i = 1; i < n; ++i)
    for (int64_t j = 0; j < lanes; ++j) c[i * lanes + j] += z * c[(i - 1) * lanes + j];
  const double endScale = z / (z - 1);
  for (int64_t j = 0; j < lanes; ++j) c[(n - 1) * lanes + j] *= endScale;
  for (int64_t i = n - 2; i >= 0; --i)
    for (int64_t j = 0; j < lanes; ++j) c[i * lanes + j] = z * (c[(i + 1) * lanes + j] - c[i * lanes + j]);
}

constexpr int64_t kSplinePad = 12;

// Cubic scipy.ndimage.zoom(grid_mode=True, mode='nearest') of `lanes` lines
// at once: element i of lane j at in[i * inStride + j], result k of lane j at
// out[k * outStride + j]. `work` holds at least (n + 2*kSplinePad) * lanes doubles.
void zoomCubicLanes(const double* in, int64_t n, int64_t inStride, int64_t lanes, double* out, int64_t m,
                    int64_t outStride, std::vector<double>& work) {
  const double zoom = static_cast<double>(n) / static_cast<double>(m);
  const int64_t len = n + 2 * kSplinePad;
  double* c = work.data();
  for (int64_t i = 0; i < len; ++i) {
    const int64_t src = std::min(std::max(i - kSplinePad, int64_t(0)), n - 1);  // edge padding
    std::memcpy(c + i * lanes, in + src * inStride, sizeof(double) * static_cast<size_t>(lanes));
  }
  splineFilterCubic(c, len, lanes);
  for (int64_t k = 0; k < m; ++k) {
    double cc = (static_cast<double>(k) + 0.5) * zoom - 0.5 + static_cast<double>(kSplinePad);
    cc = std::min(std::max(cc, 0.0), static_cast<double>(len - 1));
    const double fl = std::floor(cc);
    const double y = cc - fl;
    const double zz = 1.0 - y;
    double w[4];
    w[0] = zz * zz * zz / 6.0;
    w[1] = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
    w[2] = (zz * zz * (zz - 2.0) * 3.0 + 4.0) / 6.0;
    w[3] = 1.0 - w[0] - w[1] - w[2];
    const int64_t start = static_cast<int64_t>(fl) - 1;
    const double* taps[4];
    for (int i = 0; i < 4; ++i) taps[i] = c + std::min(std::max(start + i, int64_t(0)), len - 1) * lanes;
    double* dst = out + k * outStride;
    for (int64_t j = 0; j < lanes; ++j) {
      double t = 0.0;
      for (int i = 0; i < 4; ++i) t += taps[i][j] * w[i];
      dst[j] = t;
    }
  }
}

// One line of scipy.ndimage.zoom(grid_mode=True, mode='nearest') along one axis.
// `work` holds at least n + 2*kSplinePad doubles.
void zoomLine(const double* in, int64_t n, double* out, int64_t m, int order, std::vector<double>& work) {
  const double zoom = static_cast<double>(n) / static_cast<double>(m);
  if (order == 3) {
    zoomCubicLanes(in, n, 1, 1, out, m, 1, work);
  } else if (order == 1) {
    for (int64_t k = 0; k < m; ++k) {
      double cc = (static_cast<double>(k) + 0.5) * zoom - 0.5;
      cc = std::min(std::max(cc, 0.0), static_cast<double>(n - 1));
      const double fl = std::floor(cc);
      const double w0 = 1.0 - (cc - fl);
      const double w1 = 1.0 - w0;
      const int64_t i0 = static_cast<int64_t>(fl);
      const int64_t i1 = std::min(i0 + 1, n - 1);
      out[k] = in[i0] * w0 + in[i1] * w1;
    }
  } else {  // order 0
    for (int64_t k = 0; k < m; ++k) {
      double cc = (static_cast<double>(k) + 0.5) * zoom - 0.5;
      cc = std::min(std::max(cc, 0.0), static_cast<double>(n - 1));
      out[k] = in[static_cast<int64_t>(std::floor(cc + 0.5))];
    }
  }
}

// Orders 0 and 1 as weighted sums of whole rows or planes: per element the
// same taps, weights and arithmetic as zoomLine (so the same result), with
// contiguous memory instead of gathering strided lines.
std::vector<double> zoomAxisLinear(const std::vector<double>& in, const Shape3& shape, int axis, int64_t newSize,
                                   int order) {
  const int64_t n = shape[axis];
  const double zoom = static_cast<double>(n) / static_cast<double>(newSize);
  std::vector<int64_t> i0(static_cast<size_t>(newSize)), i1(static_cast<size_t>(newSize));
  std::vector<double> w0(static_cast<size_t>(newSize)), w1(static_cast<size_t>(newSize));
  for (int64_t k = 0; k < newSize; ++k) {
    double cc = (static_cast<double>(k) + 0.5) * zoom - 0.5;
    cc = std::min(std::max(cc, 0.0), static_cast<double>(n - 1));
    const double fl = std::floor(cc);
    if (order == 0) {
      i0[k] = i1[k] = static_cast<int64_t>(std::floor(cc + 0.5));
    } else {
      w0[k] = 1.0 - (cc - fl);
      w1[k] = 1.0 - w0[k];
      i0[k] = static_cast<int64_t>(fl);
      i1[k] = std::min(i0[k] + 1, n - 1);
    }
  }
  int64_t outer = 1, inner = 1;
  for (int a = 0; a < axis; ++a) outer *= shape[a];
  for (int a = axis + 1; a < 3; ++a) inner *= shape[a];
  std::vector<double> out(static_cast<size_t>(outer * newSize * inner));
  parallelFor(outer * newSize, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t o = row / newSize, k = row % newSize;
      const double* a = in.data() + (o * n + i0[k]) * inner;
      const double* b = in.data() + (o * n + i1[k]) * inner;
      double* dst = out.data() + row * inner;
      if (order == 0) {
        std::memcpy(dst, a, sizeof(double) * static_cast<size_t>(inner));
      } else {
        const double wa = w0[k], wb = w1[k];
        for (int64_t j = 0; j < inner; ++j) dst[j] = a[j] * wa + b[j] * wb;
      }
    }
  });
  return out;
}

// Applies zoomLine along `axis` of a C-order array.
std::vector<double> zoomAxis(const std::vector<double>& in, const Shape3& shape, int axis, int64_t newSize, int order) {
  if (order <= 1) return zoomAxisLinear(in, shape, axis, newSize, order);
  if (order == 3 && axis < 2) {
    // Lines along a slow axis in blocks of neighbours: contiguous reads and writes.
    constexpr int64_t kLanes = 32;
    const int64_t n = shape[axis];
    int64_t outer = 1, inner = 1;
    for (int a = 0; a < axis; ++a) outer *= shape[a];
    for (int a = axis + 1; a < 3; ++a) inner *= shape[a];
    const int64_t blocks = (inner + kLanes - 1) / kLanes;
    std::vector<double> out(static_cast<size_t>(outer * newSize * inner));
    parallelFor(outer * blocks, [&](int64_t begin, int64_t end) {
      std::vector<double> work(static_cast<size_t>((n + 2 * kSplinePad) * kLanes));
      for (int64_t u = begin; u < end; ++u) {
        const int64_t o = u / blocks, j0 = (u % blocks) * kLanes, lanes = std::min(kLanes, inner - j0);
        zoomCubicLanes(in.data() + o * n * inner + j0, n, inner, lanes, out.data() + o * newSize * inner + j0, newSize,
                       inner, work);
      }
    });
    return out;
  }
  Shape3 outShape = shape;
  outShape[axis] = newSize;
  std::vector<double> out(static_cast<size_t>(elementCount(outShape)));
  const Shape3 inStride{shape[1] * shape[2], shape[2], 1};
  const Shape3 outStride{outShape[1] * outShape[2], outShape[2], 1};
  // Lines are indexed by the two other axes.
  int a = (axis == 0) ? 1 : 0, b = (axis == 2) ? 1 : 2;
  const int64_t lines = shape[a] * shape[b];
  const int64_t n = shape[axis];
  parallelFor(lines, [&](int64_t begin, int64_t end) {
    std::vector<double> line(n), result(newSize), work(n + 2 * kSplinePad);
    for (int64_t l = begin; l < end; ++l) {
      const int64_t ia = l / shape[b], ib = l % shape[b];
      const int64_t inBase = ia * inStride[a] + ib * inStride[b];
      const int64_t outBase = ia * outStride[a] + ib * outStride[b];
      for (int64_t i = 0; i < n; ++i) line[i] = in[inBase + i * inStride[axis]];
      zoomLine(line.data(), n, result.data(), newSize, order, work);
      for (int64_t i = 0; i < newSize; ++i) out[outBase + i * outStride[axis]] = result[i];
    }
  });
  return out;
}

}  // namespace

std::optional<int> separateZAxis(const Spacing3& currentSpacing, const Spacing3& newSpacing,
                                 const ResamplingSettings& settings) {
  std::vector<int> axes;
  if (settings.forceSeparateZ.has_value()) {
    if (!*settings.forceSeparateZ) return std::nullopt;
    axes = lowResAxes(currentSpacing);
  } else if (anisotropic(currentSpacing, settings.anisotropyThreshold)) {
    axes = lowResAxes(currentSpacing);
  } else if (anisotropic(newSpacing, settings.anisotropyThreshold)) {
    axes = lowResAxes(newSpacing);
  } else {
    return std::nullopt;
  }
  if (axes.size() != 1) return std::nullopt;  // two or three axes tie: no separate axis
  return axes[0];
}

void resizeLikeSkimage(const double* in, const Shape3& inShape, double* out, const Shape3& outShape, int order,
                       std::array<bool, 3> active, int clipPerSliceAxis) {
  std::vector<double> cur(in, in + elementCount(inShape));
  Shape3 shape = inShape;
  for (int axis = 0; axis < 3; ++axis) {
    if (!active[axis]) {
      if (inShape[axis] != outShape[axis]) throw Error(ErrorKind::Internal, "resize: inactive axis changes size");
      continue;
    }
    cur = zoomAxis(cur, shape, axis, outShape[axis], order);
    shape[axis] = outShape[axis];
  }
  // _clip_warp_output: clip to the input's range (per 2D slice in the separate-z path).
  const int64_t total = elementCount(outShape);
  if (clipPerSliceAxis < 0) {
    const auto [mn, mx] = std::minmax_element(in, in + elementCount(inShape));
    const double lo = *mn, hi = *mx;
    parallelFor(total, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) out[i] = std::min(std::max(cur[i], lo), hi);
    });
    return;
  }
  const int s = clipPerSliceAxis;
  const Shape3 inStride{inShape[1] * inShape[2], inShape[2], 1};
  const Shape3 outStride{outShape[1] * outShape[2], outShape[2], 1};
  const int a = (s == 0) ? 1 : 0, b = (s == 2) ? 1 : 2;
  parallelFor(inShape[s], [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      double lo = std::numeric_limits<double>::infinity(), hi = -lo;
      for (int64_t i = 0; i < inShape[a]; ++i)
        for (int64_t j = 0; j < inShape[b]; ++j) {
          const double v = in[k * inStride[s] + i * inStride[a] + j * inStride[b]];
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      for (int64_t i = 0; i < outShape[a]; ++i)
        for (int64_t j = 0; j < outShape[b]; ++j) {
          const int64_t o = k * outStride[s] + i * outStride[a] + j * outStride[b];
          out[o] = std::min(std::max(cur[o], lo), hi);
        }
    }
  });
}

std::vector<double> resampleChannel(std::vector<double> in, const Shape3& shape, const Shape3& newShape,
                                    const Spacing3& currentSpacing, const Spacing3& newSpacing,
                                    const ResamplingSettings& settings) {
  if (shape == newShape) return in;
  const std::optional<int> axis = separateZAxis(currentSpacing, newSpacing, settings);
  if (!axis) {
    std::vector<double> out(static_cast<size_t>(elementCount(newShape)));
    resizeLikeSkimage(in.data(), shape, out.data(), newShape, settings.order);
    return out;
  }
  const int z = *axis;
  Shape3 inPlane = newShape;
  inPlane[z] = shape[z];
  std::array<bool, 3> active{true, true, true};
  active[z] = false;
  std::vector<double> tmp(static_cast<size_t>(elementCount(inPlane)));
  resizeLikeSkimage(in.data(), shape, tmp.data(), inPlane, settings.order, active, z);
  in.clear();
  in.shrink_to_fit();
  if (inPlane[z] == newShape[z]) return tmp;
  // map_coordinates(order=order_z=0, mode='nearest') with identity in-plane coordinates.
  return zoomAxis(tmp, inPlane, z, newShape[z], settings.orderZ);
}

void resampleChannelRows(std::vector<double> in, const Shape3& shape, const Shape3& newShape,
                         const Spacing3& currentSpacing, const Spacing3& newSpacing,
                         const ResamplingSettings& settings, const ResampledRowSink& sink) {
  const int64_t rows = newShape[0] * newShape[1], width = newShape[2];
  const bool streamLastAxis = shape != newShape && !separateZAxis(currentSpacing, newSpacing, settings) &&
                              (settings.order == 0 || settings.order == 1 || settings.order == 3);
  if (!streamLastAxis) {
    const std::vector<double> out = resampleChannel(std::move(in), shape, newShape, currentSpacing, newSpacing, settings);
    parallelFor(rows, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) sink(r, out.data() + r * width);
    });
    return;
  }
  // resizeLikeSkimage with every axis active: axes 0 and 1 in full, then axis 2
  // row by row, clipped to the input's range.
  const auto [mn, mx] = std::minmax_element(in.begin(), in.end());
  const double lo = *mn, hi = *mx;
  Shape3 mid = shape;
  std::vector<double> cur = std::move(in);
  for (int axis = 0; axis < 2; ++axis) {
    cur = zoomAxis(cur, mid, axis, newShape[axis], settings.order);
    mid[axis] = newShape[axis];
  }
  const int64_t n = mid[2];
  parallelFor(rows, [&](int64_t begin, int64_t end) {
    std::vector<double> result(static_cast<size_t>(width)), work(static_cast<size_t>(n + 2 * kSplinePad));
    for (int64_t r = begin; r < end; ++r) {
      zoomLine(cur.data() + r * n, n, result.data(), width, settings.order, work);
      for (double& v : result) v = std::min(std::max(v, lo), hi);
      sink(r, result.data());
    }
  });
}

}  // namespace nephro::inference
