#pragma once
// nnU-Net v2's resample_data_or_seg_to_shape, ported so that results match
// scipy/scikit-image to floating-point rounding: skimage.transform.resize
// (mode 'edge', no anti-aliasing) = scipy.ndimage.zoom(grid_mode=True,
// mode='nearest') with a cubic B-spline prefilter on a 12-voxel edge-padded
// copy, clipped to the input range; the separate-z variant resizes slices in
// 2D and maps the slow axis with order 0. Arrays are C-order (axis 0 slowest).
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "inference/NnunetModel.h"

namespace nephro::inference {

using Shape3 = std::array<int64_t, 3>;
using Spacing3 = std::array<double, 3>;

inline int64_t elementCount(const Shape3& s) { return s[0] * s[1] * s[2]; }

// IEEE binary16 conversions, round to nearest even (as numpy and torch do).
uint16_t doubleToHalf(double value);
inline uint16_t floatToHalf(float value) { return doubleToHalf(static_cast<double>(value)); }
float halfToFloat(uint16_t bits);

// Python's round() for the shapes and steps: half to even.
int64_t roundHalfEven(double value);

// compute_new_shape: round(old_spacing / new_spacing * old_shape) per axis.
Shape3 computeNewShape(const Shape3& oldShape, const Spacing3& oldSpacing, const Spacing3& newSpacing);

// determine_do_sep_z_and_axis: the axis to treat separately, or nullopt.
std::optional<int> separateZAxis(const Spacing3& currentSpacing, const Spacing3& newSpacing,
                                 const ResamplingSettings& settings);

// skimage.transform.resize(in, outShape, order, mode='edge', anti_aliasing=False)
// with order 0, 1 or 3, including the final clip to the input's range. Axes
// whose `active` flag is false are left alone (they must keep their size);
// with clipPerSliceAxis set, the clip range is taken per slice along that axis
// (the 2D resize of each slice in the separate-z path).
void resizeLikeSkimage(const double* in, const Shape3& inShape, double* out, const Shape3& outShape, int order,
                       std::array<bool, 3> active = {true, true, true}, int clipPerSliceAxis = -1);

// resample_data_or_seg for one channel of non-segmentation data. Returns the
// input unchanged when the shapes are equal (no interpolation at all).
std::vector<double> resampleChannel(std::vector<double> in, const Shape3& shape, const Shape3& newShape,
                                    const Spacing3& currentSpacing, const Spacing3& newSpacing,
                                    const ResamplingSettings& settings);

// resampleChannel delivering the result one x-row at a time instead of as one
// array: sink(row, values) with row = z * newShape[1] + y and newShape[2]
// values. Rows arrive from several threads at once, each exactly once. The
// values are the same as resampleChannel's; the last pass, the clip and the
// consumer share one sweep, so no full-size float64 copy is made.
using ResampledRowSink = std::function<void(int64_t row, const double* values)>;
void resampleChannelRows(std::vector<double> in, const Shape3& shape, const Shape3& newShape,
                         const Spacing3& currentSpacing, const Spacing3& newSpacing,
                         const ResamplingSettings& settings, const ResampledRowSink& sink);

}  // namespace nephro::inference
