#pragma once
// nnU-Net v2's preprocessing and export around the network, free of LibTorch:
// transpose, crop to nonzero, normalisation, resampling to the configuration's
// spacing (all before the network), and logit resampling back, argmax or
// regions, un-crop and transpose back (after it). Also the sliding-window
// steps and the fp16 Gaussian importance map.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"
#include "inference/NnunetModel.h"
#include "inference/NnunetResampling.h"

namespace nephro::inference {

// The network input of one case plus what export needs to undo it. All shapes
// and spacings are in the model's transposed C-order frame.
struct PreprocessedCase {
  int channels = 0;
  Shape3 shape{};             // after resampling
  std::vector<float> data;    // channels x shape, C-order
  Shape3 shapeBeforeCropping{};
  Shape3 bboxBegin{}, bboxEnd{};  // crop in the transposed frame, half-open
  Shape3 shapeAfterCropping{};
  Spacing3 originalSpacing{};  // transposed
  Spacing3 targetSpacing{};
  Geometry geometry;           // of the input images (the output's geometry)
  double seconds = 0;
};

// Logits averaged over folds, at the model's resolution (padding removed), as
// IEEE fp16 bits: heads x shape, C-order.
struct Logits {
  int heads = 0;
  Shape3 shape{};
  std::vector<uint16_t> values;
  float at(int head, int64_t index) const { return halfToFloat(values[static_cast<size_t>(head) * elementCount(shape) + index]); }
};

// A string equal for two models exactly when their preprocessing of the same
// images gives the same network input (so a case can share it).
std::string preprocessingKey(const NnunetModel& model);

// Network-resolution channels already preprocessed for one case, so that a
// model reading the same image with the same crop, normalisation and
// resampling as an earlier model takes them instead of computing them again
// (vessel's P channel and tumor's P input, say).
struct PreprocessedChannelCache {
  std::map<std::string, std::vector<float>> channels;  // by channel key
  int reused = 0;                                      // channels taken from the cache so far
};

// Channels must share one grid; they are cast to float32 as nnU-Net's reader does.
// With `cache` and `sources` (one name per channel for the image it is, e.g. the
// phase), identical channels are shared through the cache.
PreprocessedCase preprocessCase(const NnunetModel& model, const std::vector<Volume>& channels,
                                const Progress& progress = {}, PreprocessedChannelCache* cache = nullptr,
                                const std::vector<std::string>& sources = {});

// Mask in the input's geometry: uint8, or uint16 when a label value exceeds 254.
Volume exportSegmentation(const NnunetModel& model, const Logits& logits, const PreprocessedCase& pre,
                          const Progress& progress = {});

// compute_steps_for_sliding_window for one axis (imageSize >= tile).
std::vector<int64_t> slidingWindowSteps(int64_t imageSize, int64_t tile, double stepFraction);

// compute_gaussian(patch, sigma_scale 1/8, value_scaling_factor 10) as fp16 bits,
// zeros replaced by the smallest nonzero value.
std::vector<uint16_t> gaussianImportanceMap(const Shape3& patch);

// Permutes the axes of a C-order 3D array: out axis k is in axis perm[k].
template <class T>
std::vector<T> permuteAxes(const T* in, const Shape3& inShape, const std::array<int, 3>& perm, Shape3& outShape);

}  // namespace nephro::inference
