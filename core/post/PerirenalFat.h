#pragma once
// Perirenal fat from kidney and tumour masks: the fat within a distance of the
// kidney and tumour surface, outside every other labelled structure, limited to
// fat HU when a CT is given, and connected to the kidney's surroundings. With a
// CT, the renal fascia (a thin shell brighter than fat) also limits the fat: it
// is found as a bump of the mean HU against the distance from each kidney and
// tumour surface, since a fascia thinner than a voxel is no barrier voxel by voxel.
#include <memory>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "post/KidneyIslands.h"
#include "post/Parameters.h"

namespace nephro::post {

struct FatParameters {
  // Band around the kidney and tumour surface; with a CT, the furthest the
  // fascia is looked for (the fat stops at the fascia when one shows).
  double distanceMm = 20.0;
  double huMin = -190.0;     // fat HU window, used only with a CT
  double huMax = -30.0;
  // Labels never counted as fat. Empty: every label present except perirenal fat itself.
  std::vector<int> excludedLabels;
  double closingRadiusMm = 3.0;   // fills noise holes in the HU-thresholded fat
  double workingSpacingMm = 2.0;  // grid of the distance map and the closing (0 = the mask's)
  // Pieces of a kidney label smaller than this and farther than the distance
  // below from the label's main pieces (its largest, and any piece of at
  // least that volume) are no kidney for the fat (0 = keep all).
  double minKidneyIslandMl = 5.0;
  double kidneyIslandDistanceMm = 20.0;

  static const std::vector<ParameterInfo>& describe();
  // Sets a numeric parameter by key; false when the key is unknown.
  bool set(const std::string& key, double value);
  double get(const std::string& key) const;
};

struct FatResult {
  Volume fat;        // uint8, the mask's exact geometry; fat labels only
  LabelTable table;  // perirenal_fat_left / _right (or perirenal_fat without sides)
  std::vector<int> excludedLabels;  // what was actually excluded
  double volumeMl = 0.0;
  // The distance limit used around each part: the renal fascia found in the CT,
  // else the distance parameter.
  struct Limit {
    std::string fat;   // perirenal_fat_left ...
    std::string part;  // "kidney" or "tumor"
    double distanceMm;
  };
  std::vector<Limit> limitsMm;
  std::vector<KidneyIsland> removedIslands;  // kidney islands the fat ignored
};

// The part of the fat computation that does not depend on the HU window nor,
// within one 5 mm step of the region's pad, on the distance and the closing
// radius: the region around the kidneys, its working
// grid, the mask and CT resampled to it, the distance maps of every kidney and
// tumour part and which side and part each voxel is nearest to, and the
// excluded labels. Made once per input, it makes a parameter change cost only
// the band, the components, the closing and the mask-grid pass. It holds no
// reference to the inputs it was made from.
class PreparedFat {
 public:
  PreparedFat() = default;
  bool empty() const { return !state_; }
  // Whether this preparation serves `parameters`: the same working spacing,
  // excluded labels, kidney-island limits and region (whose pad, from the distance and the closing
  // radius, is rounded up to 5 mm, so small moves keep it).
  bool validFor(const FatParameters& parameters) const;
  struct State;

 private:
  std::shared_ptr<const State> state_;
  friend PreparedFat prepareFat(const Volume&, const LabelTable&, const Volume*, const FatParameters&,
                                const Progress&, const std::string&, const std::string&);
  friend FatResult computePerirenalFat(const PreparedFat&, const FatParameters&, const Progress&);
};

// How far around the kidneys and tumours the fat computation reads the mask
// (and CT) with these parameters.
double fatRegionPadMm(const FatParameters& parameters);

// Prepares for `parameters` (and any parameters it is validFor). Same checks
// and errors as computePerirenalFat.
PreparedFat prepareFat(const Volume& mask, const LabelTable& table, const Volume* ct,
                       const FatParameters& parameters, const Progress& progress = {},
                       const std::string& maskName = "mask", const std::string& ctName = "image");
// The fat from a preparation; the same result as the one-shot call with the
// preparation's inputs. Throws an internal error when !prepared.validFor(parameters).
FatResult computePerirenalFat(const PreparedFat& prepared, const FatParameters& parameters,
                              const Progress& progress = {});

// `ct` (optional) must share the mask's grid. Throws an input error naming
// `maskName` when the mask has no kidney label, and naming `ctName` when the CT's
// geometry differs from the mask's.
FatResult computePerirenalFat(const Volume& mask, const LabelTable& table, const Volume* ct,
                              const FatParameters& parameters, const Progress& progress = {},
                              const std::string& maskName = "mask", const std::string& ctName = "image");

}  // namespace nephro::post
