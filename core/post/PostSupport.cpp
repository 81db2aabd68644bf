#include "post/PostSupport.h"

#include <algorithm>
#include <cmath>

#include <itkConnectedComponentImageFilter.h>
#include <itkRelabelComponentImageFilter.h>
#include <itkSignedMaurerDistanceMapImageFilter.h>

#include "common/Error.h"
#include "image/ItkBridge.h"
#include "image/Resample.h"

namespace nephro::post::detail {

void requireSameGrid(const Volume& mask, const Volume& ct, const std::string& maskName,
                     const std::string& ctName) {
  if (!ct.geometry().sameGrid(mask.geometry()))
    throw inputError(ctName, "geometry " + ct.geometry().describe() + " does not match the mask " +
                                 maskName + " (" + mask.geometry().describe() + ")");
}

void requireLabelImage(const Volume& mask, const std::string& maskName) {
  if (mask.empty() || !isIntegerType(mask.pixelType()))
    throw inputError(maskName, "is not an integer label image");
}

std::vector<int> presentValues(const LabelTable& table, const std::string& name,
                               const std::vector<int>& present) {
  std::vector<int> out;
  for (int v : table.valuesMatching(name))
    if (std::find(present.begin(), present.end(), v) != present.end()) out.push_back(v);
  return out;
}

std::vector<uint8_t> valueSet(const std::vector<int>& values, int maxValue) {
  std::vector<uint8_t> set(static_cast<size_t>(maxValue) + 1, 0);
  for (int v : values)
    if (v >= 0 && v <= maxValue) set[v] = 1;
  return set;
}

Volume binaryOf(const Volume& mask, const std::vector<int>& values) {
  Volume out = mask.like(PixelType::UInt8);
  uint8_t* o = out.data<uint8_t>();
  const int64_t n = mask.voxelCount();
  dispatchPixelType(mask.pixelType(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = static_cast<const T*>(mask.raw());
    int maxV = 0;
    for (int v : values) maxV = std::max(maxV, v);
    auto set = valueSet(values, maxV);
    for (int64_t i = 0; i < n; ++i) {
      const auto x = static_cast<int64_t>(p[i]);
      o[i] = (x > 0 && x <= maxV && set[x]) ? 1 : 0;
    }
    return 0;
  });
  return out;
}

int64_t countNonzero(const Volume& binary) {
  const uint8_t* p = binary.data<uint8_t>();
  return std::count_if(p, p + binary.voxelCount(), [](uint8_t v) { return v != 0; });
}

Volume signedDistanceMm(const Volume& binary) {
  if (countNonzero(binary) == 0) {
    Volume out = binary.like(PixelType::Float32);
    std::fill(out.data<float>(), out.data<float>() + out.voxelCount(), 1e6f);
    return out;
  }
  using Filter = itk::SignedMaurerDistanceMapImageFilter<ItkImage<uint8_t>, ItkImage<float>>;
  auto filter = Filter::New();
  filter->SetInput(itkView<uint8_t>(binary));
  filter->SetUseImageSpacing(true);
  filter->SetSquaredDistance(false);
  filter->SetInsideIsPositive(false);
  filter->SetBackgroundValue(0);
  filter->Update();
  ItkImage<float>::Pointer image = filter->GetOutput();
  image->DisconnectPipeline();
  Volume out = volumeFromItk<float>(image);
  out.setGeometry(binary.geometry());
  return out;
}

Volume distanceToMm(const Volume& binary) {
  Volume d = signedDistanceMm(binary);
  float* p = d.data<float>();
  for (int64_t i = 0; i < d.voxelCount(); ++i) p[i] = std::max(p[i], 0.0f);
  return d;
}

Volume dilateMm(const Volume& binary, double radiusMm) {
  if (radiusMm <= 0) return binary.clone();
  Volume d = signedDistanceMm(binary);
  Volume out = binary.like(PixelType::UInt8);
  const float* pd = d.data<float>();
  uint8_t* po = out.data<uint8_t>();
  const float r = static_cast<float>(radiusMm);
  for (int64_t i = 0; i < out.voxelCount(); ++i) po[i] = pd[i] <= r ? 1 : 0;
  return out;
}

Volume erodeMm(const Volume& binary, double radiusMm) {
  if (radiusMm <= 0) return binary.clone();
  Volume d = signedDistanceMm(binary);
  Volume out = binary.like(PixelType::UInt8);
  const float* pd = d.data<float>();
  uint8_t* po = out.data<uint8_t>();
  const float r = static_cast<float>(radiusMm);
  // Inside distances are negative: keep voxels deeper than the radius.
  for (int64_t i = 0; i < out.voxelCount(); ++i) po[i] = pd[i] < -r ? 1 : 0;
  return out;
}

namespace {

Volume closeWhole(const Volume& binary, double radiusMm) {
  // Erosion of the dilation: the complement's distance map stands in for erosion.
  Volume dilated = dilateMm(binary, radiusMm);
  uint8_t* p = dilated.data<uint8_t>();
  for (int64_t i = 0; i < dilated.voxelCount(); ++i) p[i] = p[i] ? 0 : 1;
  Volume backGrown = dilateMm(dilated, radiusMm);
  uint8_t* q = backGrown.data<uint8_t>();
  for (int64_t i = 0; i < backGrown.voxelCount(); ++i) q[i] = q[i] ? 0 : 1;
  // Closing never removes a voxel of the input.
  const uint8_t* in = binary.data<uint8_t>();
  for (int64_t i = 0; i < backGrown.voxelCount(); ++i) q[i] = q[i] | in[i];
  return backGrown;
}

}  // namespace

Volume closeMm(const Volume& binary, double radiusMm) {
  if (radiusMm <= 0) return binary.clone();
  // Only the box of the foreground, grown by the radius and one voxel, is
  // worked on: the dilation cannot reach that box's border (or reaches the
  // grid's own), so the nearest background voxel of any dilated voxel lies in
  // it and the distance maps there are those of the whole grid.
  const Box fg = boundingBox(binary);
  if (fg.empty()) return binary.clone();
  const Box box = padBox(padBoxMm(fg, radiusMm, binary.geometry()), 1, binary.geometry());
  if (box.size() == binary.geometry().size) return closeWhole(binary, radiusMm);
  Volume out = binary.like(PixelType::UInt8);
  paste(closeWhole(crop(binary, box), radiusMm), box, out);
  return out;
}

Volume connectedComponents(const Volume& binary, int* count, bool fullyConnected) {
  using CC = itk::ConnectedComponentImageFilter<ItkImage<uint8_t>, ItkImage<int32_t>>;
  using Relabel = itk::RelabelComponentImageFilter<ItkImage<int32_t>, ItkImage<int32_t>>;
  auto cc = CC::New();
  cc->SetInput(itkView<uint8_t>(binary));
  cc->SetFullyConnected(fullyConnected);
  cc->SetBackgroundValue(0);
  auto relabel = Relabel::New();
  relabel->SetInput(cc->GetOutput());
  relabel->Update();
  if (count) *count = static_cast<int>(relabel->GetNumberOfObjects());
  ItkImage<int32_t>::Pointer image = relabel->GetOutput();
  image->DisconnectPipeline();
  Volume out = volumeFromItk<int32_t>(image);
  out.setGeometry(binary.geometry());
  return out;
}

Geometry workingGrid(const Geometry& g, double spacingMm) {
  if (spacingMm <= 0) return g;
  Vec3 s = g.spacing;
  bool change = false;
  for (int d = 0; d < 3; ++d)
    if (s[d] < spacingMm) {
      s[d] = spacingMm;
      change = true;
    }
  return change ? regridWithSpacing(g, s) : g;
}

double dice(const Volume& a, const Volume& b) {
  const uint8_t* pa = a.data<uint8_t>();
  const uint8_t* pb = b.data<uint8_t>();
  int64_t na = 0, nb = 0, both = 0;
  for (int64_t i = 0; i < a.voxelCount(); ++i) {
    const bool x = pa[i] != 0, y = pb[i] != 0;
    na += x;
    nb += y;
    both += x && y;
  }
  return na + nb == 0 ? 1.0 : 2.0 * double(both) / double(na + nb);
}

}  // namespace nephro::post::detail
