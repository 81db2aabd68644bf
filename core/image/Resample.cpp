#include "image/Resample.h"

#include <algorithm>
#include <cmath>

#include <itkLinearInterpolateImageFunction.h>
#include <itkNearestNeighborInterpolateImageFunction.h>
#include <itkResampleImageFilter.h>

#include "image/ItkBridge.h"

namespace nephro {

Volume resampleToGrid(const Volume& in, const Geometry& target, Interpolation interpolation,
                      double outsideValue) {
  if (in.geometry() == target) return in;
  return dispatchPixelType(in.pixelType(), [&](auto v) {
    using T = decltype(v);
    using Image = ItkImage<T>;
    auto source = itkView<T>(in);
    auto filter = itk::ResampleImageFilter<Image, Image>::New();
    filter->SetInput(source);
    auto reference = Image::New();
    copyGeometryToItk(target, reference);
    filter->SetOutputParametersFromImage(reference);
    filter->SetDefaultPixelValue(static_cast<T>(outsideValue));
    if (interpolation == Interpolation::Nearest)
      filter->SetInterpolator(itk::NearestNeighborInterpolateImageFunction<Image, double>::New());
    else
      filter->SetInterpolator(itk::LinearInterpolateImageFunction<Image, double>::New());
    filter->Update();
    typename Image::Pointer out = filter->GetOutput();
    out->DisconnectPipeline();
    Volume result = volumeFromItk<T>(out);
    result.setGeometry(target);  // bit-exact target geometry
    return result;
  });
}

Geometry regridWithSpacing(const Geometry& g, const Vec3& spacing) {
  Geometry out = g;
  for (int d = 0; d < 3; ++d) {
    const double extent = g.size[d] * g.spacing[d];
    out.size[d] = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(extent / spacing[d] - 1e-6)));
    out.spacing[d] = spacing[d];
  }
  // Keep the physical corner of the box: the first voxel centre moves by half
  // the difference of the spacings along each axis.
  Vec3 shift{};
  for (int d = 0; d < 3; ++d) shift[d] = 0.5 * (spacing[d] - g.spacing[d]);
  for (int r = 0; r < 3; ++r) {
    double s = 0;
    for (int c = 0; c < 3; ++c) s += g.direction[r * 3 + c] * shift[c];
    out.origin[r] = g.origin[r] + s;
  }
  return out;
}

namespace {
void physicalBox(const Geometry& g, Vec3& lo, Vec3& hi) {
  lo = {1e300, 1e300, 1e300};
  hi = {-1e300, -1e300, -1e300};
  for (int corner = 0; corner < 8; ++corner) {
    Vec3 ijk{(corner & 1) ? g.size[0] - 0.5 : -0.5, (corner & 2) ? g.size[1] - 0.5 : -0.5,
             (corner & 4) ? g.size[2] - 0.5 : -0.5};
    Vec3 p = g.indexToPhysical(ijk);
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::min(lo[d], p[d]);
      hi[d] = std::max(hi[d], p[d]);
    }
  }
}
}  // namespace

bool gridsOverlap(const Geometry& a, const Geometry& b) {
  Vec3 alo, ahi, blo, bhi;
  physicalBox(a, alo, ahi);
  physicalBox(b, blo, bhi);
  for (int d = 0; d < 3; ++d)
    if (ahi[d] <= blo[d] || bhi[d] <= alo[d]) return false;
  return true;
}

}  // namespace nephro
