#include "inference/NnunetResampling.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/Error.h"
#include "common/Parallel.h"

namespace nephro::inference {

uint16_t doubleToHalf(double value) {
  uint16_t sign = std::signbit(value) ? 0x8000 : 0;
  double a = std::fabs(value);
  if (std::isnan(value)) return sign | 0x7e00;
  if (a >= 65520.0) return sign | 0x7c00;  // rounds to infinity
  int exp2 = 0;
  std::frexp(a, &exp2);  // a = m * 2^exp2, m in [0.5, 1)
  int e = exp2 - 1;      // a in [2^e, 2^(e+1))
  if (a == 0.0) return sign;
  // Quantum of binary16 at this magnitude (subnormals share the 2^-24 quantum).
  const int quantumExp = std::max(e, -14) - 10;
  // Exact scaling by a power of two, then round half to even.
  double r = std::nearbyint(std::ldexp(a, -quantumExp));
  if (e < -14) return sign | static_cast<uint16_t>(r);  // subnormal; r == 1024 encodes the smallest normal
  if (r >= 2048.0) {
    r = 1024.0;
    ++e;
  }
  if (e + 15 >= 31) return sign | 0x7c00;
  return sign | static_cast<uint16_t>(((e + 15) << 10) | (static_cast<int>(r) - 1024));
}

float halfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
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
  return sign ? -v : v;
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
// with the boundary initialisation scipy uses for mode 'nearest'.
void splineFilterCubic(double* c, int64_t n) {
  if (n < 2) return;
  const double z = std::sqrt(3.0) - 2.0;
  const double gain = (1.0 - z) * (1.0 - 1.0 / z);
  for (int64_t i = 0; i < n; ++i) c[i] *= gain;
  // causal initialisation
  {
    double zi = z;
    const double zn = std::pow(z, static_cast<double>(n));
    const double c0 = c[0];
    c[0] = c[0] + zn * c[n - 1];
    for (int64_t i = 1; i < n; ++i) {
      c[0] += zi * (c[i] + zn * c[n - 1 - i]);
      zi *= z;
    }
    c[0] *= z / (1 - zn * zn);
    c[0] += c0;
  }
  for (int64_t i = 1; i < n; ++i) c[i] += z * c[i - 1];
  c[n - 1] *= z / (z - 1);
  for (int64_t i = n - 2; i >= 0; --i) c[i] = z * (c[i + 1] - c[i]);
}

constexpr int64_t kSplinePad = 12;

// One line of scipy.ndimage.zoom(grid_mode=True, mode='nearest') along one axis.
// `work` holds at least n + 2*kSplinePad doubles.
void zoomLine(const double* in, int64_t n, double* out, int64_t m, int order, std::vector<double>& work) {
  const double zoom = static_cast<double>(n) / static_cast<double>(m);
  if (order == 3) {
    const int64_t len = n + 2 * kSplinePad;
    double* c = work.data();
    for (int64_t i = 0; i < kSplinePad; ++i) c[i] = in[0];
    std::memcpy(c + kSplinePad, in, sizeof(double) * n);
    for (int64_t i = 0; i < kSplinePad; ++i) c[kSplinePad + n + i] = in[n - 1];
    splineFilterCubic(c, len);
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
      double t = 0.0;
      for (int i = 0; i < 4; ++i) {
        const int64_t idx = std::min(std::max(start + i, int64_t(0)), len - 1);
        t += c[idx] * w[i];
      }
      out[k] = t;
    }
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

// Applies zoomLine along `axis` of a C-order array.
std::vector<double> zoomAxis(const std::vector<double>& in, const Shape3& shape, int axis, int64_t newSize, int order) {
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
    for (int64_t i = 0; i < total; ++i) out[i] = std::min(std::max(cur[i], lo), hi);
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

}  // namespace nephro::inference
