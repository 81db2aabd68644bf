#pragma once
// Reconnection of broken arteries and ureters. Fragments of the structure
// are bridged to the main tree (renal arteries joined to the aorta; the aorta
// and iliacs to their largest piece; a ureter to the kidney and bladder) or to
// each other: candidate bridges run from skeleton
// ends within a maximum gap whose direction agrees with the vessel's, follow a
// minimal-cost path through contrast-enhanced voxels when a CT is given (a
// smooth Hermite curve without one), and are painted as a tube whose radius
// follows the local calibre at both ends (clipped to the lumen with a CT).
// Every candidate is reported.
#include <memory>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "post/Parameters.h"

namespace nephro::post {

enum class TubularStructure { Artery, Ureter };

struct ReconnectionParameters {
  double maxGapMm = 12.0;        // longest gap bridged (between the fragment faces)
  double minFragmentMm3 = 15.0;  // smaller fragments are noise: never bridged
  double maxAngleDeg = 60.0;     // bridge direction vs. the vessel's direction at each end
  double huMin = 150.0;          // contrast window of the CT (used with a CT when not learned)
  double huMax = 1500.0;
  // With a CT: learn the lumen's lower HU bound per fragment from its own
  // voxels (robust percentiles), brighter voxels (stents, calcified plaque)
  // counting as lumen; off = the fixed window huMin..huMax. Setting hu-min or
  // hu-max through a post step request turns it off unless it is given too.
  bool learnHuWindow = true;
  double radiusScale = 1.0;      // tube radius relative to the local vessel radius
  bool keepUnjoined = true;      // keep fragments that could not be joined
  double workingSpacingMm = 1.0; // grid of skeleton and path search (0 = the mask's)

  // Defaults suited to each structure (arteries in the arterial phase, ureters in the delayed one).
  static ReconnectionParameters defaults(TubularStructure structure);
  static std::vector<ParameterInfo> describe(TubularStructure structure);
  bool set(const std::string& key, double value);
  double get(const std::string& key) const;
};

struct Bridge {
  std::string structure;       // label name, e.g. "artery", "ureter_left"
  int fromComponent = 0;       // component ids (1 = largest) of the working region
  int toComponent = 0;
  std::string toKind;          // "end" (fragment end to end) or "side" (end to a vessel wall)
  Vec3 fromPoint{};            // LPS mm, the two faces the bridge joins
  Vec3 toPoint{};
  double gapMm = 0.0;          // gap between the end voxels (centre distance less one voxel width)
  double pathLengthMm = 0.0;   // length of the painted path
  double angleDeg = 0.0;       // worst angle to the vessel direction at the ends
  double cost = 0.0;           // ranking cost (lower is better)
  double contrastFraction = -1.0;  // share of the path in the HU window (-1 without CT)
  double calibreFromMm = 0.0;    // tube diameter painted at the `from` face (from the distance map there)
  double calibreToMm = 0.0;      // ... and at the `to` face (it varies linearly between)
  double huLow = 0.0, huHigh = 0.0;  // the lumen window used with a CT (huHigh 0: no upper bound)
  double lumenFraction = -1.0;   // share of the painted voxels inside that window (-1 without CT)
  std::string decision;        // "bridged" or "rejected: <why>"
  int64_t voxelsPainted = 0;
};

struct ReconnectionResult {
  Volume mask;        // the input mask with bridges painted (and unjoined fragments removed if asked)
  LabelTable table;   // the input table
  std::vector<Bridge> bridges;
  int fragments = 0;  // components of the structure not joined to the main tree before
  int joined = 0;     // of those, joined after
  int removed = 0;    // removed as noise or as unjoined
  int64_t voxelsPainted = 0;
  std::string toJson() const;
};

// The part of a reconnection that no bridge parameter changes: per structure,
// the region around it, its working grid, the components on the mask's grid,
// their skeletons, and every free end with its radius and direction. Made once
// per input, it makes a change of the gap, fragment size, angle, HU window,
// radius scale or keep-unjoined cost only the candidates, paths and painting.
// It holds no reference to the inputs it was made from.
class PreparedReconnection {
 public:
  PreparedReconnection() = default;
  bool empty() const { return !state_; }
  // Whether this preparation serves `parameters`: the same working spacing and
  // region (whose pad, from the maximum gap, is rounded up to 5 mm, so small
  // moves keep it).
  bool validFor(const ReconnectionParameters& parameters) const;
  struct State;

 private:
  std::shared_ptr<const State> state_;
  friend PreparedReconnection prepareReconnection(TubularStructure, const Volume&, const LabelTable&,
                                                  const Volume*, const ReconnectionParameters&, const Progress&,
                                                  const std::string&, const std::string&);
  friend ReconnectionResult reconnect(const PreparedReconnection&, const ReconnectionParameters&, const Progress&);
};

// How far around the structure's labels a reconnection reads the mask (and CT)
// with these parameters.
double reconnectionRegionPadMm(const ReconnectionParameters& parameters);

// Prepares for `parameters` (and any parameters it is validFor). Same checks
// and errors as reconnect.
PreparedReconnection prepareReconnection(TubularStructure structure, const Volume& mask, const LabelTable& table,
                                         const Volume* ct, const ReconnectionParameters& parameters,
                                         const Progress& progress = {}, const std::string& maskName = "mask",
                                         const std::string& ctName = "image");
// The reconnection from a preparation; the same result as the one-shot call
// with the preparation's inputs. Throws an internal error when !prepared.validFor(parameters).
ReconnectionResult reconnect(const PreparedReconnection& prepared, const ReconnectionParameters& parameters,
                             const Progress& progress = {});

// `ct` (optional, same grid as the mask): arterial phase for arteries, delayed for ureters.
// Throws an input error naming `maskName` when the mask lacks the structure's
// labels, and naming `ctName` when the CT's geometry differs from the mask's.
ReconnectionResult reconnect(TubularStructure structure, const Volume& mask, const LabelTable& table,
                             const Volume* ct, const ReconnectionParameters& parameters,
                             const Progress& progress = {}, const std::string& maskName = "mask",
                             const std::string& ctName = "image");

}  // namespace nephro::post
