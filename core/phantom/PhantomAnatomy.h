#pragma once
// Core-internal: the phantom's anatomy as analytic shapes in a reference frame
// (millimetres, LPS axes, z from the pelvis up), and its rasterisation into a
// tissue map. Tissues carry both the ground-truth label and the HU per phase.
#include <array>
#include <cstdint>
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
};

// Rasterises the tissue map on `grid` (axis-aligned, identity direction).
Volume rasteriseTissue(const Geometry& grid, const Frame& frame);

}  // namespace nephro::phantom_detail
