#pragma once
// A 3D scalar image with its geometry. Voxels are x-fastest (index i), the
// same memory order as ITK and VTK, so both can wrap the buffer without a copy.
// Copies of a Volume share their voxels (like ITK smart pointers); clone()
// makes an independent copy.
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "image/Geometry.h"

namespace nephro {

enum class PixelType : uint8_t { UInt8, Int16, UInt16, Int32, Float32 };

const char* toString(PixelType t);
size_t bytesPerVoxel(PixelType t);
bool isIntegerType(PixelType t);

template <class T> constexpr PixelType pixelTypeOf();
template <> constexpr PixelType pixelTypeOf<uint8_t>() { return PixelType::UInt8; }
template <> constexpr PixelType pixelTypeOf<int16_t>() { return PixelType::Int16; }
template <> constexpr PixelType pixelTypeOf<uint16_t>() { return PixelType::UInt16; }
template <> constexpr PixelType pixelTypeOf<int32_t>() { return PixelType::Int32; }
template <> constexpr PixelType pixelTypeOf<float>() { return PixelType::Float32; }

// Calls f(T{}) with T the C++ type of `t`; returns what f returns.
template <class F>
decltype(auto) dispatchPixelType(PixelType t, F&& f) {
  switch (t) {
    case PixelType::UInt8: return f(uint8_t{});
    case PixelType::Int16: return f(int16_t{});
    case PixelType::UInt16: return f(uint16_t{});
    case PixelType::Int32: return f(int32_t{});
    case PixelType::Float32: break;
  }
  return f(float{});
}

class Volume {
 public:
  Volume() = default;
  // Allocates zero-filled voxels.
  Volume(const Geometry& geometry, PixelType type);
  // Takes ownership of an existing buffer of geometry.voxelCount() voxels of `type`.
  static Volume adopt(const Geometry& geometry, PixelType type, std::shared_ptr<void> buffer);

  bool empty() const { return !buffer_; }
  const Geometry& geometry() const { return geometry_; }
  PixelType pixelType() const { return type_; }
  int64_t voxelCount() const { return geometry_.voxelCount(); }
  size_t byteSize() const { return static_cast<size_t>(voxelCount()) * bytesPerVoxel(type_); }

  void* raw() { return buffer_.get(); }
  const void* raw() const { return buffer_.get(); }
  template <class T> T* data() {
    checkType(pixelTypeOf<T>());
    return static_cast<T*>(buffer_.get());
  }
  template <class T> const T* data() const {
    checkType(pixelTypeOf<T>());
    return static_cast<const T*>(buffer_.get());
  }
  template <class T> bool is() const { return type_ == pixelTypeOf<T>(); }

  // Value at an index as double (slow path for tools and tests).
  double valueAt(int64_t i, int64_t j, int64_t k) const;
  // Smallest and largest voxel value.
  std::pair<double, double> range() const;

  // Deep copy.
  Volume clone() const;
  // Same geometry, new zero-filled buffer of `type`.
  Volume like(PixelType type) const { return Volume(geometry_, type); }
  // Replaces the geometry, keeping the voxels (the size must not change).
  void setGeometry(const Geometry& geometry);

 private:
  void checkType(PixelType wanted) const;

  Geometry geometry_;
  PixelType type_ = PixelType::UInt8;
  std::shared_ptr<void> buffer_;
};

// Converts voxel values to another pixel type, rounding to nearest and clamping
// to the target range.
Volume castVolume(const Volume& in, PixelType type);

}  // namespace nephro
