#include "image/Volume.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "common/Error.h"
#include "common/Parallel.h"

namespace nephro {

const char* toString(PixelType t) {
  switch (t) {
    case PixelType::UInt8: return "uint8";
    case PixelType::Int16: return "int16";
    case PixelType::UInt16: return "uint16";
    case PixelType::Int32: return "int32";
    case PixelType::Float32: return "float32";
  }
  return "?";
}

size_t bytesPerVoxel(PixelType t) {
  return dispatchPixelType(t, [](auto v) { return sizeof(v); });
}

bool isIntegerType(PixelType t) { return t != PixelType::Float32; }

Volume::Volume(const Geometry& geometry, PixelType type) : geometry_(geometry), type_(type) {
  for (int i = 0; i < 3; ++i)
    if (geometry.size[i] <= 0) throw Error(ErrorKind::Internal, "volume with an empty dimension");
  size_t bytes = byteSize();
  buffer_ = std::shared_ptr<void>(new (std::nothrow) unsigned char[bytes](),
                                  [](void* p) { delete[] static_cast<unsigned char*>(p); });
  if (!buffer_)
    throw Error(ErrorKind::Internal, "out of memory allocating " + std::to_string(bytes) + " bytes");
}

Volume Volume::adopt(const Geometry& geometry, PixelType type, std::shared_ptr<void> buffer) {
  Volume v;
  v.geometry_ = geometry;
  v.type_ = type;
  v.buffer_ = std::move(buffer);
  return v;
}

void Volume::checkType(PixelType wanted) const {
  if (wanted != type_)
    throw Error(ErrorKind::Internal, std::string("volume holds ") + toString(type_) +
                                         " voxels, accessed as " + toString(wanted));
}

double Volume::valueAt(int64_t i, int64_t j, int64_t k) const {
  int64_t o = geometry_.offset(i, j, k);
  return dispatchPixelType(type_, [&](auto v) {
    using T = decltype(v);
    return static_cast<double>(static_cast<const T*>(buffer_.get())[o]);
  });
}

std::pair<double, double> Volume::range() const {
  if (empty()) return {0.0, 0.0};
  return dispatchPixelType(type_, [&](auto v) {
    using T = decltype(v);
    const T* p = static_cast<const T*>(buffer_.get());
    auto [lo, hi] = std::minmax_element(p, p + voxelCount());
    return std::make_pair(static_cast<double>(*lo), static_cast<double>(*hi));
  });
}

Volume Volume::clone() const {
  if (empty()) return {};
  Volume copy(geometry_, type_);
  std::memcpy(copy.raw(), raw(), byteSize());
  return copy;
}

void Volume::setGeometry(const Geometry& geometry) {
  if (geometry.size != geometry_.size)
    throw Error(ErrorKind::Internal, "setGeometry may not change the volume size");
  geometry_ = geometry;
}

Volume castVolume(const Volume& in, PixelType type) {
  if (in.pixelType() == type) return in.clone();
  Volume out(in.geometry(), type);
  dispatchPixelType(in.pixelType(), [&](auto a) {
    using A = decltype(a);
    dispatchPixelType(type, [&](auto b) {
      using B = decltype(b);
      const A* src = static_cast<const A*>(in.raw());
      B* dst = static_cast<B*>(out.raw());
      const double lo = static_cast<double>(std::numeric_limits<B>::lowest());
      const double hi = static_cast<double>(std::numeric_limits<B>::max());
      parallelFor(in.voxelCount(), [&](int64_t b0, int64_t e0) {
        for (int64_t n = b0; n < e0; ++n) {
          double v = static_cast<double>(src[n]);
          if (std::is_integral<B>::value) v = std::nearbyint(std::clamp(v, lo, hi));
          dst[n] = static_cast<B>(v);
        }
      });
      return 0;
    });
    return 0;
  });
  return out;
}

}  // namespace nephro
