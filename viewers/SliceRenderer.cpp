#include "viewers/SliceRenderer.h"

#include <algorithm>
#include <cmath>

namespace nephro::viewers {

namespace {

inline uint8_t greyOf(double v, double low, double scale) {
  const double g = (v - low) * scale;
  return static_cast<uint8_t>(g <= 0 ? 0 : (g >= 255 ? 255 : g + 0.5));
}

// Offset of slice pixel (0,0) and the steps along x and y in the voxel buffer.
struct SliceWalk {
  int64_t start = 0, stepX = 0, stepY = 0;
};

SliceWalk sliceWalk(const Geometry& g, const SlicePlane& p, int64_t slice) {
  const int64_t stride[3] = {1, g.size[0], g.size[0] * g.size[1]};
  const Index3 i0 = p.index(0, 0, slice);
  SliceWalk w;
  w.start = i0[0] * stride[0] + i0[1] * stride[1] + i0[2] * stride[2];
  w.stepX = (p.flipCol ? -1 : 1) * stride[p.col];
  w.stepY = (p.flipRow ? -1 : 1) * stride[p.row];
  return w;
}

template <class T>
void sampleSameGrid(const T* data, const SliceWalk& w, int64_t cols, int64_t rows, int32_t* out) {
  for (int64_t y = 0; y < rows; ++y) {
    const T* src = data + w.start + y * w.stepY;
    int32_t* dst = out + y * cols;
    for (int64_t x = 0; x < cols; ++x, src += w.stepX) dst[x] = static_cast<int32_t>(*src);
  }
}

}  // namespace

void SliceRenderer::paintGrey(const Volume& base, const SlicePlane& p, int64_t slice,
                              const WindowLevel& wl, QImage& image) {
  const SliceWalk w = sliceWalk(base.geometry(), p, slice);
  const double low = windowLow(wl);
  const double scale = 255.0 / std::max(wl.window, 1e-6);
  if (base.pixelType() == PixelType::Int16) {
    if (!(lutWindow_ == wl) || int16Lut_.empty()) {
      int16Lut_.resize(65536);
      for (int v = -32768; v <= 32767; ++v) int16Lut_[size_t(v + 32768)] = greyOf(v, low, scale);
      lutWindow_ = wl;
    }
    const uint8_t* lut = int16Lut_.data() + 32768;
    const int16_t* data = base.data<int16_t>();
    for (int64_t y = 0; y < p.rows; ++y) {
      const int16_t* src = data + w.start + y * w.stepY;
      QRgb* dst = reinterpret_cast<QRgb*>(image.scanLine(int(y)));
      for (int64_t x = 0; x < p.cols; ++x, src += w.stepX) {
        const uint32_t g = lut[*src];
        dst[x] = 0xff000000u | (g << 16) | (g << 8) | g;
      }
    }
    return;
  }
  dispatchPixelType(base.pixelType(), [&](auto tag) {
    using T = decltype(tag);
    const T* data = base.data<T>();
    for (int64_t y = 0; y < p.rows; ++y) {
      const T* src = data + w.start + y * w.stepY;
      QRgb* dst = reinterpret_cast<QRgb*>(image.scanLine(int(y)));
      for (int64_t x = 0; x < p.cols; ++x, src += w.stepX) {
        const uint32_t g = greyOf(double(*src), low, scale);
        dst[x] = 0xff000000u | (g << 16) | (g << 8) | g;
      }
    }
    return 0;
  });
}

void SliceRenderer::sampleLabels(const Volume& mask, const Geometry& ref, const SlicePlane& p,
                                 int64_t slice, std::vector<int32_t>& out) {
  out.assign(size_t(p.cols * p.rows), 0);
  const Geometry& mg = mask.geometry();
  if (mg.sameGrid(ref)) {
    const SliceWalk w = sliceWalk(mg, p, slice);
    dispatchPixelType(mask.pixelType(), [&](auto tag) {
      using T = decltype(tag);
      sampleSameGrid(mask.data<T>(), w, p.cols, p.rows, out.data());
      return 0;
    });
    return;
  }
  // Index of the mask as an affine function of the slice pixel: m = m0 + x*mx + y*my.
  auto maskIndex = [&](double x, double y) {
    return mg.physicalToIndex(ref.indexToPhysical(p.continuousIndex(x, y, double(slice))));
  };
  const Vec3 m0 = maskIndex(0.5, 0.5);
  const Vec3 m1 = maskIndex(1.5, 0.5);
  const Vec3 m2 = maskIndex(0.5, 1.5);
  const double mx[3] = {m1[0] - m0[0], m1[1] - m0[1], m1[2] - m0[2]};
  const double my[3] = {m2[0] - m0[0], m2[1] - m0[1], m2[2] - m0[2]};
  dispatchPixelType(mask.pixelType(), [&](auto tag) {
    using T = decltype(tag);
    const T* data = mask.data<T>();
    for (int64_t y = 0; y < p.rows; ++y) {
      double c[3] = {m0[0] + y * my[0], m0[1] + y * my[1], m0[2] + y * my[2]};
      int32_t* dst = out.data() + y * p.cols;
      for (int64_t x = 0; x < p.cols; ++x, c[0] += mx[0], c[1] += mx[1], c[2] += mx[2]) {
        const int64_t i = int64_t(std::floor(c[0] + 0.5));
        const int64_t j = int64_t(std::floor(c[1] + 0.5));
        const int64_t k = int64_t(std::floor(c[2] + 0.5));
        if (mg.contains(i, j, k)) dst[x] = static_cast<int32_t>(data[mg.offset(i, j, k)]);
      }
    }
    return 0;
  });
}

QImage SliceRenderer::render(const Volume& base, const SlicePlane& p, int64_t slice,
                             const WindowLevel& wl, const std::vector<OverlayLayer>& overlays,
                             const OverlayOptions& options) {
  QImage image(int(p.cols), int(p.rows), QImage::Format_RGB32);
  if (p.cols == 0 || p.rows == 0) return image;
  if (base.empty() || slice < 0 || slice >= p.depth) {
    image.fill(Qt::black);
    return image;
  }
  paintGrey(base, p, slice, wl, image);

  const int cols = int(p.cols), rows = int(p.rows);
  for (const OverlayLayer& layer : overlays) {
    if (!layer.visible || layer.mask.empty() || layer.opacity <= 0) continue;
    sampleLabels(layer.mask, base.geometry(), p, slice, labels_);
    // Per value: colour and fixed-point (0..256) fill and outline weights.
    struct Ink {
      uint32_t r, g, b;
      uint32_t fill, line;
    };
    std::vector<Ink> inks(layer.styles.size(), Ink{0, 0, 0, 0, 0});
    for (size_t v = 1; v < layer.styles.size(); ++v) {
      const LabelStyle& s = layer.styles[v];
      if (!s.visible) continue;
      const double a = std::clamp(s.opacity * layer.opacity, 0.0, 1.0);
      inks[v] = Ink{uint32_t(s.color.red()), uint32_t(s.color.green()), uint32_t(s.color.blue()),
                    options.fill ? uint32_t(std::lround(256 * a * options.fillOpacity)) : 0u,
                    options.outline ? uint32_t(std::lround(256 * a)) : 0u};
    }
    const int32_t nInks = int32_t(inks.size());
    for (int y = 0; y < rows; ++y) {
      const int32_t* lab = labels_.data() + size_t(y) * cols;
      const int32_t* up = y > 0 ? lab - cols : nullptr;
      const int32_t* down = y + 1 < rows ? lab + cols : nullptr;
      QRgb* px = reinterpret_cast<QRgb*>(image.scanLine(y));
      for (int x = 0; x < cols; ++x) {
        const int32_t v = lab[x];
        if (v <= 0 || v >= nInks) continue;
        const Ink& ink = inks[size_t(v)];
        const bool edge = (x == 0 || lab[x - 1] != v) || (x + 1 == cols || lab[x + 1] != v) ||
                          !up || up[x] != v || !down || down[x] != v;
        const uint32_t a = edge && ink.line ? ink.line : ink.fill;
        if (a == 0) continue;
        const uint32_t c = px[x];
        const uint32_t r = ((c >> 16 & 0xff) * (256 - a) + ink.r * a) >> 8;
        const uint32_t g = ((c >> 8 & 0xff) * (256 - a) + ink.g * a) >> 8;
        const uint32_t b = ((c & 0xff) * (256 - a) + ink.b * a) >> 8;
        px[x] = 0xff000000u | (r << 16) | (g << 8) | b;
      }
    }
  }
  return image;
}

}  // namespace nephro::viewers
