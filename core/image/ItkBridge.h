#pragma once
// Core-internal: zero-copy views between nephro::Volume and itk::Image. Include
// only from .cpp files of core/ (ITK headers are heavy).
#include <itkImage.h>
#include <itkImportImageContainer.h>

#include "common/Error.h"
#include "image/Volume.h"

namespace nephro {

template <class T>
using ItkImage = itk::Image<T, 3>;

inline void copyGeometryToItk(const Geometry& g, itk::ImageBase<3>* image) {
  typename itk::ImageBase<3>::RegionType region;
  typename itk::ImageBase<3>::SpacingType spacing;
  typename itk::ImageBase<3>::PointType origin;
  typename itk::ImageBase<3>::DirectionType direction;
  for (unsigned i = 0; i < 3; ++i) {
    region.SetSize(i, static_cast<itk::SizeValueType>(g.size[i]));
    region.SetIndex(i, 0);
    spacing[i] = g.spacing[i];
    origin[i] = g.origin[i];
    for (unsigned j = 0; j < 3; ++j) direction(i, j) = g.direction[i * 3 + j];
  }
  image->SetRegions(region);
  image->SetSpacing(spacing);
  image->SetOrigin(origin);
  image->SetDirection(direction);
}

inline Geometry geometryFromItk(const itk::ImageBase<3>* image) {
  Geometry g;
  auto region = image->GetLargestPossibleRegion();
  for (unsigned i = 0; i < 3; ++i) {
    g.size[i] = static_cast<int64_t>(region.GetSize(i));
    g.spacing[i] = image->GetSpacing()[i];
    g.origin[i] = image->GetOrigin()[i];
    for (unsigned j = 0; j < 3; ++j) g.direction[i * 3 + j] = image->GetDirection()(i, j);
  }
  return g;
}

// An itk::Image that shares the volume's voxels (no copy). The volume must
// outlive the image; writes through the image change the volume.
template <class T>
typename ItkImage<T>::Pointer itkView(const Volume& volume) {
  if (volume.pixelType() != pixelTypeOf<T>())
    throw Error(ErrorKind::Internal, std::string("itkView: volume is ") + toString(volume.pixelType()));
  auto image = ItkImage<T>::New();
  copyGeometryToItk(volume.geometry(), image);
  image->GetPixelContainer()->SetImportPointer(const_cast<T*>(static_cast<const T*>(volume.raw())),
                                               static_cast<itk::SizeValueType>(volume.voxelCount()),
                                               false);
  return image;
}

// Takes the voxels of an ITK image into a Volume (no copy): the Volume keeps the
// image alive, so the buffer stays valid as long as the Volume does.
template <class T>
Volume volumeFromItk(typename ItkImage<T>::Pointer image) {
  Geometry g = geometryFromItk(image);
  auto start = image->GetLargestPossibleRegion().GetIndex();
  if (start[0] != 0 || start[1] != 0 || start[2] != 0) {
    // Region index offsets are folded into the origin so index 0 is the first voxel.
    itk::ContinuousIndex<double, 3> ci;
    for (unsigned i = 0; i < 3; ++i) ci[i] = static_cast<double>(start[i]);
    itk::Point<double, 3> p;
    image->TransformContinuousIndexToPhysicalPoint(ci, p);
    for (unsigned i = 0; i < 3; ++i) g.origin[i] = p[i];
  }
  T* pixels = image->GetBufferPointer();
  std::shared_ptr<void> keep(pixels, [image](void*) mutable { image = nullptr; });
  return Volume::adopt(g, pixelTypeOf<T>(), std::move(keep));
}

}  // namespace nephro
