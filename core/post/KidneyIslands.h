#pragma once
// Kidney islands: small connected pieces of a kidney label far from that
// label's main (largest) piece, such as a false patch a model paints in the
// pelvis. Removed before the perirenal fat reads the kidneys, so the fat does
// not wrap them.
#include <limits>
#include <string>
#include <vector>

#include "image/Volume.h"

namespace nephro::post {

struct KidneyIsland {
  std::string label;  // kidney_left ...
  int value = 0;
  double volumeMl = 0.0;
  // Distance to the label's main pieces (voxel centre to centre); infinity when
  // none of them lies within the distance limit.
  double distanceMm = std::numeric_limits<double>::infinity();
  Vec3 centreMm{0, 0, 0};  // physical (LPS) centre of its voxels
};

struct KidneyIslandRemoval {
  Volume mask;  // the mask without the islands; empty when nothing was removed
  std::vector<KidneyIsland> removed;
  double removedMl() const;
};

struct KidneyLabel {
  std::string name;
  int value = 0;
};

// Removes every 26-connected piece of each kidney label that is smaller than
// `minVolumeMl` and farther than `minDistanceMm` from that label's main
// pieces: its largest piece and any piece of at least `minVolumeMl` (a
// "kidney" label without sides holds two kidneys). minVolumeMl <= 0 removes
// nothing. Reads only the kidney labels' boxes.
KidneyIslandRemoval removeKidneyIslands(const Volume& mask, const std::vector<KidneyLabel>& kidneys,
                                        double minVolumeMl, double minDistanceMm);

}  // namespace nephro::post
