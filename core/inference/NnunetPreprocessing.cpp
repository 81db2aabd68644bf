#include "inference/NnunetPreprocessing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <sstream>

#include "common/Error.h"
#include "common/Parallel.h"

namespace nephro::inference {

template <class T>
std::vector<T> permuteAxes(const T* in, const Shape3& inShape, const std::array<int, 3>& perm, Shape3& outShape) {
  for (int k = 0; k < 3; ++k) outShape[k] = inShape[perm[k]];
  std::vector<T> out(static_cast<size_t>(elementCount(outShape)));
  const Shape3 inStride{inShape[1] * inShape[2], inShape[2], 1};
  const Shape3 step{inStride[perm[0]], inStride[perm[1]], inStride[perm[2]]};
  if (perm == std::array<int, 3>{0, 1, 2}) {
    std::copy(in, in + out.size(), out.begin());
    return out;
  }
  parallelFor(outShape[0], [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (int64_t j = 0; j < outShape[1]; ++j) {
        T* dst = out.data() + (i * outShape[1] + j) * outShape[2];
        const T* src = in + i * step[0] + j * step[1];
        for (int64_t k = 0; k < outShape[2]; ++k) dst[k] = src[k * step[2]];
      }
  });
  return out;
}

template std::vector<float> permuteAxes<float>(const float*, const Shape3&, const std::array<int, 3>&, Shape3&);
template std::vector<uint8_t> permuteAxes<uint8_t>(const uint8_t*, const Shape3&, const std::array<int, 3>&, Shape3&);
template std::vector<uint16_t> permuteAxes<uint16_t>(const uint16_t*, const Shape3&, const std::array<int, 3>&, Shape3&);

namespace {

double elapsedSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::vector<float> toFloat(const Volume& v) {
  std::vector<float> out(static_cast<size_t>(v.voxelCount()));
  dispatchPixelType(v.pixelType(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = v.data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(src[i]);
    return 0;
  });
  return out;
}

// binary_fill_holes of the cropped nonzero mask: background not reachable from
// the crop's border (6-connected) becomes foreground. Flooding from the crop
// border is equivalent to flooding from the image border, because everything
// outside the bounding box is background.
std::vector<uint8_t> fillHoles(std::vector<uint8_t> mask, const Shape3& s) {
  std::vector<uint8_t> outside(mask.size(), 0);
  std::deque<int64_t> queue;
  auto push = [&](int64_t i) {
    if (!mask[i] && !outside[i]) {
      outside[i] = 1;
      queue.push_back(i);
    }
  };
  for (int64_t z = 0; z < s[0]; ++z)
    for (int64_t y = 0; y < s[1]; ++y)
      for (int64_t x = 0; x < s[2]; ++x)
        if (z == 0 || y == 0 || x == 0 || z == s[0] - 1 || y == s[1] - 1 || x == s[2] - 1)
          push((z * s[1] + y) * s[2] + x);
  while (!queue.empty()) {
    const int64_t i = queue.front();
    queue.pop_front();
    const int64_t x = i % s[2], y = (i / s[2]) % s[1], z = i / (s[1] * s[2]);
    if (x > 0) push(i - 1);
    if (x + 1 < s[2]) push(i + 1);
    if (y > 0) push(i - s[2]);
    if (y + 1 < s[1]) push(i + s[2]);
    if (z > 0) push(i - s[1] * s[2]);
    if (z + 1 < s[0]) push(i + s[1] * s[2]);
  }
  for (size_t i = 0; i < mask.size(); ++i) mask[i] = outside[i] ? 0 : 1;
  return mask;
}

// numpy's float32 mean/std approximated by double accumulation, rounded to float32.
std::pair<float, float> meanStd(const std::vector<float>& x, const std::vector<uint8_t>* mask) {
  double sum = 0;
  int64_t n = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (!mask || (*mask)[i]) {
      sum += x[i];
      ++n;
    }
  if (n == 0) return {0.f, 0.f};
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  double sq = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (!mask || (*mask)[i]) {
      const float d = x[i] - mean;
      sq += static_cast<double>(d * d);
    }
  return {mean, static_cast<float>(std::sqrt(sq / static_cast<double>(n)))};
}

}  // namespace

std::string preprocessingKey(const NnunetModel& model) {
  std::ostringstream key;
  key.precision(17);
  const auto& c = model.configuration;
  key << "tf" << model.plans.transposeForward[0] << model.plans.transposeForward[1] << model.plans.transposeForward[2];
  key << "|sp";
  for (double s : c.spacing) key << ' ' << s;
  key << "|rs" << c.resamplingData.order << c.resamplingData.orderZ
      << (c.resamplingData.forceSeparateZ ? (*c.resamplingData.forceSeparateZ ? "T" : "F") : "N")
      << c.resamplingData.anisotropyThreshold;
  for (size_t ch = 0; ch < c.normalizationSchemes.size(); ++ch) {
    key << "|" << c.normalizationSchemes[ch] << (c.useMaskForNorm[ch] ? "M" : "");
    auto it = model.plans.intensityProperties.find(static_cast<int>(ch));
    if (c.normalizationSchemes[ch] == "CTNormalization" && it != model.plans.intensityProperties.end())
      key << ' ' << it->second.mean << ' ' << it->second.std << ' ' << it->second.percentile005 << ' '
          << it->second.percentile995;
  }
  return key.str();
}

PreprocessedCase preprocessCase(const NnunetModel& model, const std::vector<Volume>& channels, const Progress& progress,
                                PreprocessedChannelCache* cache, const std::vector<std::string>& sources) {
  const auto t0 = std::chrono::steady_clock::now();
  if (static_cast<int>(channels.size()) != model.inputChannels())
    throw modelError(model.id, "needs " + std::to_string(model.inputChannels()) + " input channel(s), got " +
                                   std::to_string(channels.size()));
  const Geometry& g = channels.front().geometry();
  for (const Volume& v : channels)
    if (v.geometry().size != g.size || !v.geometry().sameGrid(g))
      throw Error(ErrorKind::Input, "model " + model.id + ": the input channels do not share one grid (" +
                                        g.describe() + " vs " + v.geometry().describe() + ")");
  PreprocessedCase pre;
  pre.channels = static_cast<int>(channels.size());
  pre.geometry = g;
  const auto& tf = model.plans.transposeForward;
  const Shape3 fileShape{g.size[2], g.size[1], g.size[0]};
  const Spacing3 fileSpacing{std::fabs(g.spacing[2]), std::fabs(g.spacing[1]), std::fabs(g.spacing[0])};
  for (int k = 0; k < 3; ++k) pre.originalSpacing[k] = fileSpacing[tf[k]];
  for (int k = 0; k < 3; ++k) pre.targetSpacing[k] = model.configuration.spacing[k];

  // Cast and transpose.
  std::vector<std::vector<float>> data;
  Shape3 shape{};
  for (const Volume& v : channels) {
    std::vector<float> f = toFloat(v);
    data.push_back(permuteAxes(f.data(), fileShape, tf, shape));
    progress.throwIfCancelled();
  }
  pre.shapeBeforeCropping = shape;
  progress.report(0.1, "preprocess");

  // Crop to the bounding box of voxels nonzero in any channel (full extent if none).
  Shape3 lo{shape[0], shape[1], shape[2]}, hi{-1, -1, -1};
  for (const auto& ch : data)
    for (int64_t z = 0; z < shape[0]; ++z)
      for (int64_t y = 0; y < shape[1]; ++y) {
        const float* row = ch.data() + (z * shape[1] + y) * shape[2];
        int64_t first = -1, last = -1;
        for (int64_t x = 0; x < shape[2]; ++x)
          if (row[x] != 0.f) {
            if (first < 0) first = x;
            last = x;
          }
        if (first < 0) continue;
        lo[0] = std::min(lo[0], z), hi[0] = std::max(hi[0], z);
        lo[1] = std::min(lo[1], y), hi[1] = std::max(hi[1], y);
        lo[2] = std::min(lo[2], first), hi[2] = std::max(hi[2], last);
      }
  if (hi[0] < 0) {
    pre.bboxBegin = {0, 0, 0};
    pre.bboxEnd = shape;
  } else {
    pre.bboxBegin = lo;
    pre.bboxEnd = {hi[0] + 1, hi[1] + 1, hi[2] + 1};
  }
  const Shape3 cs{pre.bboxEnd[0] - pre.bboxBegin[0], pre.bboxEnd[1] - pre.bboxBegin[1], pre.bboxEnd[2] - pre.bboxBegin[2]};
  pre.shapeAfterCropping = cs;
  for (auto& ch : data) {
    if (cs == shape) continue;
    std::vector<float> cropped(static_cast<size_t>(elementCount(cs)));
    for (int64_t z = 0; z < cs[0]; ++z)
      for (int64_t y = 0; y < cs[1]; ++y) {
        const float* src = ch.data() + ((z + pre.bboxBegin[0]) * shape[1] + (y + pre.bboxBegin[1])) * shape[2] + pre.bboxBegin[2];
        std::copy(src, src + cs[2], cropped.data() + (z * cs[1] + y) * cs[2]);
      }
    ch.swap(cropped);
  }
  progress.report(0.2, "preprocess");

  const auto& cfg = model.configuration;
  pre.shape = computeNewShape(cs, pre.originalSpacing, pre.targetSpacing);
  for (int k = 0; k < 3; ++k)
    if (pre.shape[k] < 1) throw inputError(model.id, "the image is too small to resample to the model's spacing");
  const int64_t n = elementCount(pre.shape);
  pre.data.resize(static_cast<size_t>(n) * data.size());

  // A channel's result depends on its image, the crop, its normalisation and the
  // resampling; a masked normalisation depends on every channel, so is not shared.
  const bool masked = std::find(cfg.useMaskForNorm.begin(), cfg.useMaskForNorm.end(), true) != cfg.useMaskForNorm.end();
  std::vector<std::string> keys(data.size());
  std::vector<bool> fromCache(data.size(), false);
  if (cache && sources.size() == data.size() && !masked) {
    for (size_t c = 0; c < data.size(); ++c) {
      std::ostringstream key;
      key.precision(17);
      key << sources[c] << "|tf" << tf[0] << tf[1] << tf[2] << "|crop";
      for (int k = 0; k < 3; ++k) key << ' ' << pre.bboxBegin[k] << ' ' << pre.bboxEnd[k];
      key << "|sp";
      for (double v : cfg.spacing) key << ' ' << v;
      key << "|rs" << cfg.resamplingData.order << cfg.resamplingData.orderZ
          << (cfg.resamplingData.forceSeparateZ ? (*cfg.resamplingData.forceSeparateZ ? "T" : "F") : "N")
          << cfg.resamplingData.anisotropyThreshold << "|" << cfg.normalizationSchemes[c];
      if (cfg.normalizationSchemes[c] == "CTNormalization") {
        const IntensityProperties& ip = model.plans.intensityProperties.at(static_cast<int>(c));
        key << ' ' << ip.mean << ' ' << ip.std << ' ' << ip.percentile005 << ' ' << ip.percentile995;
      }
      keys[c] = key.str();
      auto it = cache->channels.find(keys[c]);
      if (it != cache->channels.end() && static_cast<int64_t>(it->second.size()) == n) {
        std::copy(it->second.begin(), it->second.end(), pre.data.begin() + static_cast<int64_t>(c) * n);
        fromCache[c] = true;
        ++cache->reused;
        data[c] = {};
      }
    }
  }

  // Normalise (before resampling), float32 in-place operations as numpy does them.
  std::vector<uint8_t> nonzeroMask;
  if (std::find(cfg.useMaskForNorm.begin(), cfg.useMaskForNorm.end(), true) != cfg.useMaskForNorm.end()) {
    nonzeroMask.assign(static_cast<size_t>(elementCount(cs)), 0);
    for (const auto& ch : data)
      for (size_t i = 0; i < ch.size(); ++i)
        if (ch[i] != 0.f) nonzeroMask[i] = 1;
    nonzeroMask = fillHoles(std::move(nonzeroMask), cs);
  }
  for (size_t c = 0; c < data.size(); ++c) {
    if (fromCache[c]) continue;
    auto& x = data[c];
    const std::string& scheme = cfg.normalizationSchemes[c];
    if (scheme == "CTNormalization") {
      const IntensityProperties& ip = model.plans.intensityProperties.at(static_cast<int>(c));
      const float lo32 = static_cast<float>(ip.percentile005), hi32 = static_cast<float>(ip.percentile995);
      const float mean = static_cast<float>(ip.mean);
      const float sd = static_cast<float>(std::max(ip.std, 1e-8));
      for (float& v : x) {
        v = std::min(std::max(v, lo32), hi32);
        v -= mean;
        v /= sd;
      }
    } else if (scheme == "ZScoreNormalization") {
      if (cfg.useMaskForNorm[c]) {
        auto [mean, sd] = meanStd(x, &nonzeroMask);
        const float div = static_cast<float>(std::max(static_cast<double>(sd), 1e-8));
        for (size_t i = 0; i < x.size(); ++i)
          if (nonzeroMask[i]) x[i] = (x[i] - mean) / div;
      } else {
        auto [mean, sd] = meanStd(x, nullptr);
        const float div = static_cast<float>(std::max(static_cast<double>(sd), 1e-8));
        for (float& v : x) {
          v -= mean;
          v /= div;
        }
      }
    }
  }
  progress.report(0.3, "preprocess");
  progress.throwIfCancelled();

  // Resample each channel to the target spacing.
  for (size_t c = 0; c < data.size(); ++c) {
    if (fromCache[c]) continue;
    float* dst = pre.data.data() + c * n;
    if (pre.shape == cs) {
      std::copy(data[c].begin(), data[c].end(), dst);
    } else {
      std::vector<double> d(data[c].begin(), data[c].end());
      data[c].clear();
      data[c].shrink_to_fit();
      std::vector<double> r = resampleChannel(std::move(d), cs, pre.shape, pre.originalSpacing, pre.targetSpacing, cfg.resamplingData);
      for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(r[i]);
    }
    if (!keys[c].empty()) cache->channels[keys[c]].assign(dst, dst + n);
    progress.report(0.3 + 0.7 * static_cast<double>(c + 1) / static_cast<double>(data.size()), "preprocess");
    progress.throwIfCancelled();
  }
  pre.seconds = elapsedSince(t0);
  return pre;
}

Volume exportSegmentation(const NnunetModel& model, const Logits& logits, const PreprocessedCase& pre, const Progress& progress) {
  const DatasetInfo& ds = model.dataset;
  const int heads = logits.heads;
  const Shape3 cs = pre.shapeAfterCropping;
  const int64_t n = elementCount(cs);
  const int64_t nIn = elementCount(logits.shape);
  // Label per voxel of the cropped region.
  std::vector<uint16_t> seg(static_cast<size_t>(n), 0);
  std::vector<float> best;
  if (!ds.hasRegions) best.assign(static_cast<size_t>(n), 0.f);
  for (int h = 0; h < heads; ++h) {
    progress.throwIfCancelled();
    const uint16_t* src = logits.values.data() + static_cast<size_t>(h) * nIn;
    const uint16_t label = ds.hasRegions ? static_cast<uint16_t>(ds.regionsClassOrder[h]) : static_cast<uint16_t>(h);
    // One voxel of head h: argmax (ties keep the first, lowest index) or the region's sigmoid > 0.5.
    auto take = [&](int64_t i, float value) {
      if (ds.hasRegions) {
        if (1.0f / (1.0f + std::exp(-value)) > 0.5f) seg[i] = label;
      } else if (h == 0 || value > best[i]) {
        best[i] = value;
        seg[i] = label;
      }
    };
    if (logits.shape == cs) {
      parallelFor(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) take(i, halfToFloat(src[i]));
      });
    } else {
      // Resampled in float64 and stored back as fp16, as nnU-Net keeps the logits' dtype.
      std::vector<double> d(static_cast<size_t>(nIn));
      parallelFor(nIn, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) d[i] = halfToFloat(src[i]);
      });
      const int64_t width = cs[2];
      resampleChannelRows(std::move(d), logits.shape, cs, pre.targetSpacing, pre.originalSpacing,
                          model.configuration.resamplingProbabilities, [&](int64_t row, const double* values) {
                            const int64_t base = row * width;
                            for (int64_t x = 0; x < width; ++x) take(base + x, halfToFloat(doubleToHalf(values[x])));
                          });
    }
    progress.report(static_cast<double>(h + 1) / heads * 0.8, "export");
  }

  // Un-crop into the transposed full shape, then transpose back.
  const Shape3 full = pre.shapeBeforeCropping;
  std::vector<uint16_t> uncropped(static_cast<size_t>(elementCount(full)), 0);
  for (int64_t z = 0; z < cs[0]; ++z)
    for (int64_t y = 0; y < cs[1]; ++y) {
      const uint16_t* src = seg.data() + (z * cs[1] + y) * cs[2];
      uint16_t* dst = uncropped.data() + ((z + pre.bboxBegin[0]) * full[1] + (y + pre.bboxBegin[1])) * full[2] + pre.bboxBegin[2];
      std::copy(src, src + cs[2], dst);
    }
  Shape3 fileShape{};
  std::vector<uint16_t> back = permuteAxes(uncropped.data(), full, model.plans.transposeBackward, fileShape);
  const Geometry& g = pre.geometry;
  if (fileShape != Shape3{g.size[2], g.size[1], g.size[0]})
    throw Error(ErrorKind::Internal, "model " + model.id + ": transpose_backward does not invert transpose_forward");
  const bool wide = ds.maxLabelValue() >= 255;
  Volume out(g, wide ? PixelType::UInt16 : PixelType::UInt8);
  if (wide) {
    std::copy(back.begin(), back.end(), out.data<uint16_t>());
  } else {
    uint8_t* dst = out.data<uint8_t>();
    for (size_t i = 0; i < back.size(); ++i) dst[i] = static_cast<uint8_t>(back[i]);
  }
  progress.report(1.0, "export");
  return out;
}

std::vector<int64_t> slidingWindowSteps(int64_t imageSize, int64_t tile, double stepFraction) {
  const double target = static_cast<double>(tile) * stepFraction;
  const int64_t numSteps = static_cast<int64_t>(std::ceil(static_cast<double>(imageSize - tile) / target)) + 1;
  const double maxStep = static_cast<double>(imageSize - tile);
  const double actual = numSteps > 1 ? maxStep / static_cast<double>(numSteps - 1) : 99999999999.0;
  std::vector<int64_t> steps;
  for (int64_t i = 0; i < numSteps; ++i) steps.push_back(roundHalfEven(actual * static_cast<double>(i)));
  return steps;
}

std::vector<uint16_t> gaussianImportanceMap(const Shape3& patch) {
  // gaussian_filter of a centred delta is the product of the three normalised 1D kernels.
  std::array<std::vector<double>, 3> w;
  for (int a = 0; a < 3; ++a) {
    const int64_t t = patch[a];
    const double sigma = static_cast<double>(t) * (1.0 / 8.0);
    const int64_t radius = static_cast<int64_t>(4.0 * sigma + 0.5);
    std::vector<double> kernel(static_cast<size_t>(2 * radius + 1));
    double sum = 0;
    for (int64_t x = -radius; x <= radius; ++x) {
      kernel[x + radius] = std::exp(-0.5 / (sigma * sigma) * static_cast<double>(x * x));
      sum += kernel[x + radius];
    }
    for (double& k : kernel) k /= sum;
    w[a].assign(static_cast<size_t>(t), 0.0);
    const int64_t center = t / 2;
    for (int64_t i = 0; i < t; ++i) {
      const int64_t d = i - center;
      if (d >= -radius && d <= radius) w[a][i] = kernel[d + radius];
    }
  }
  const double peak = w[0][patch[0] / 2] * w[1][patch[1] / 2] * w[2][patch[2] / 2];
  const double scale = peak / 10.0;
  std::vector<uint16_t> g(static_cast<size_t>(elementCount(patch)));
  uint16_t minNonZero = 0x7bff;
  for (int64_t z = 0; z < patch[0]; ++z)
    for (int64_t y = 0; y < patch[1]; ++y)
      for (int64_t x = 0; x < patch[2]; ++x) {
        const uint16_t h = doubleToHalf(w[0][z] * w[1][y] * w[2][x] / scale);
        g[(z * patch[1] + y) * patch[2] + x] = h;
        if (h != 0) minNonZero = std::min(minNonZero, h);
      }
  for (uint16_t& h : g)
    if (h == 0) h = minNonZero;
  return g;
}

}  // namespace nephro::inference
