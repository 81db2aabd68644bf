#pragma once
// A deterministic multi-phase abdominal contrast CT with exact ground truth:
// body wall, spine, liver, spleen, both kidneys (cortex, medulla, pelvis), an
// exophytic tumour on the left kidney, aorta with tortuous tapering renal
// arteries (one splitting at the hilum) and the iliac bifurcation, IVC with
// renal veins, ureters from the pelves to the bladder, and perirenal fat inside
// a fascia around each kidney. Same options -> same bytes.
#include <cstdint>
#include <optional>
#include <string>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"

namespace nephro {

enum class PhantomSize { Small, Full };

struct PhantomOptions {
  PhantomSize size = PhantomSize::Small;
  uint64_t seed = 1;
  // Override the grid of the size preset (the anatomy scales to the field of view).
  std::optional<Index3> dimensions;
  std::optional<Vec3> spacing;
  double noiseSigmaHu = 12.0;
  // Partial-volume blur, Gaussian sigma in voxels (0 = none).
  double blurSigmaVoxels = 0.6;
  // Rigid shift (mm) of the anatomy in phases P and D relative to A (0 = aligned).
  double misregistrationMm = 0.0;
  // The realistic vessel tree: calibre varying along and between vessels
  // (aorta 16-25 mm, iliacs 8-12 mm, renal arteries 4-7 mm, an accessory renal
  // artery 2-3 mm), internal iliac branches, tortuous iliacs, arterial contrast
  // per vessel falling off distally, calcified plaque and stents (1000-3000 HU),
  // ureters with peristaltic narrowing; thin tubes may narrow to about one
  // voxel. Off (the default): the simple tree the demo models were trained on.
  bool realisticVessels = false;
};

// Ground-truth label values of the phantom (names follow the case schema and
// TotalSegmentator).
namespace phantom_label {
enum : uint8_t {
  KidneyLeft = 1, KidneyRight = 2, Tumor = 3, Artery = 4, Vein = 5, UreterLeft = 6,
  UreterRight = 7, PerirenalFatLeft = 8, PerirenalFatRight = 9, Aorta = 10, InferiorVenaCava = 11,
  IliacArteryLeft = 12, IliacArteryRight = 13, Liver = 14, Spleen = 15, Vertebrae = 16,
  UrinaryBladder = 17, SkeletalMuscle = 18, SubcutaneousFat = 19, Count = 20
};
}

struct PhantomCase {
  Volume arterial;   // phase A, int16 HU
  Volume portal;     // phase P, int16 HU
  Volume delayed;    // phase D, int16 HU
  Volume labels;     // uint8 ground truth in A's space
  LabelTable table;  // for `labels`
};

PhantomCase generatePhantom(const PhantomOptions& options, const Progress& progress = {});
// The preset grid of a size.
Geometry phantomGeometry(const PhantomOptions& options);
// The ground-truth table (independent of options).
LabelTable phantomLabelTable();

// Writes DIR/phantom_A.nii.gz, _P, _D, phantom_labels.nii.gz and phantom_labels.json
// (all or nothing).
void writePhantom(const PhantomCase& phantom, const std::string& folder,
                  const Progress& progress = {});

}  // namespace nephro
