#pragma once
// Core-internal: the phantom's anatomy as analytic shapes in a reference frame
// (millimetres, LPS axes, z from the pelvis up), and its rasterisation into a
// tissue map. Tissues carry both the ground-truth label and the HU per phase.
#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "image/Volume.h"

namespace nephro::phantom_detail {

enum Tissue : uint8_t {
  Air, SubcutaneousFat, MuscleWall, VisceralFat, Vertebra, Disc, Psoas, Liver, Spleen, Bladder,
  Fascia, PerirenalFatL, PerirenalFatR, CortexL, CortexR, MedullaL, MedullaR, PelvisL, PelvisR,
  Tumor, Ivc, RenalVein, Aorta, IliacL, IliacR, RenalArtery, UreterL, UreterR, TissueCount
};

struct TissueProperties {
  uint8_t label;                 // ground-truth label value
  std::array<float, 3> hu;       // A, P, D
};
const TissueProperties& tissueProperties(Tissue t);

// Maps reference coordinates to the volume: physical = scale * (ref - refCentre).
struct Frame {
  double scale = 1.0;
  Vec3 refCentre{0.0, 0.0, 215.0};
  Vec3 shiftMm{0.0, 0.0, 0.0};   // added to the anatomy in physical space
  double minTubeRadiusRef = 0.0; // thin tubes never get narrower than this (ref mm)
  uint64_t anatomySeed = 1;      // varies sizes, positions and paths: another patient
  bool realisticVessels = false; // the realistic vessel tree (PhantomOptions::realisticVessels)
};

// A voxel's HU where it differs from its tissue's: per-vessel contrast,
// plaque, stents. Applies only while the voxel's tissue is still `tissue`;
// NaN in a phase keeps the tissue's HU there.
struct HuOverride {
  uint8_t tissue = 0;
  std::array<float, 3> hu{};
};
using HuOverrides = std::unordered_map<int64_t, HuOverride>;

// Rasterises the tissue map on `grid` (axis-aligned, identity direction);
// `overrides` (optional) receives the HU overrides by voxel offset.
Volume rasteriseTissue(const Geometry& grid, const Frame& frame, HuOverrides* overrides = nullptr);

}  // namespace nephro::phantom_detail
