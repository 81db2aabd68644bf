#include "post/VesselReconnection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "image/Crop.h"
#include "image/Resample.h"
#include "post/PostSupport.h"
#include "post/ReconnectionInternal.h"

namespace nephro::post {

using namespace detail;
using namespace reconnection;

// ---------------------------------------------------------------- parameters

ReconnectionParameters ReconnectionParameters::defaults(TubularStructure structure) {
  ReconnectionParameters p;
  if (structure == TubularStructure::Artery) {
    // Arterial phase: arteries ~300 HU (less in thin ones through partial
    // volume); renal veins stay below ~140 HU.
    p.huMin = 140.0;
    p.huMax = 1000.0;
  } else {
    // Delayed phase: excreted contrast in the collecting system and ureters.
    p.huMin = 150.0;
    p.huMax = 2000.0;
  }
  return p;
}

std::vector<ParameterInfo> ReconnectionParameters::describe(TubularStructure structure) {
  const ReconnectionParameters d = defaults(structure);
  return {
      {"max-gap-mm", "Maximum gap", "Longest gap between fragment faces that is bridged",
       ParameterKind::Number, 1.0, 40.0, d.maxGapMm, 0.5, "mm"},
      {"min-fragment-mm3", "Minimum fragment", "Smaller fragments are noise and never bridged",
       ParameterKind::Number, 0.0, 500.0, d.minFragmentMm3, 1.0, "mm3"},
      {"max-angle-deg", "Maximum angle", "Largest angle between a bridge and the vessel direction at its ends",
       ParameterKind::Number, 5.0, 120.0, d.maxAngleDeg, 1.0, "deg"},
      {"hu-min", "Lowest contrast HU", "Lower end of the contrast window for the path (with a CT only)",
       ParameterKind::Number, -100.0, 1000.0, d.huMin, 5.0, "HU"},
      {"hu-max", "Highest contrast HU", "Upper end of the contrast window for the path (with a CT only)",
       ParameterKind::Number, 100.0, 3000.0, d.huMax, 5.0, "HU"},
      {"learn-hu-window", "Learn contrast window", "Learn the lumen's HU window per fragment from its own voxels (with a CT; else hu-min..hu-max)",
       ParameterKind::Flag, 0.0, 1.0, d.learnHuWindow ? 1.0 : 0.0, 1.0, ""},
      {"radius-scale", "Radius scale", "Bridge tube radius relative to the vessel radius at its ends",
       ParameterKind::Number, 0.3, 2.0, d.radiusScale, 0.05, ""},
      {"keep-unjoined", "Keep unjoined fragments", "Keep fragments that could not be joined (else remove them)",
       ParameterKind::Flag, 0.0, 1.0, d.keepUnjoined ? 1.0 : 0.0, 1.0, ""},
      {"working-spacing-mm", "Working spacing", "Grid of the skeleton and the path search (0 = the mask's)",
       ParameterKind::Number, 0.0, 3.0, d.workingSpacingMm, 0.25, "mm"},
  };
}

bool ReconnectionParameters::set(const std::string& key, double value) {
  if (key == "max-gap-mm") maxGapMm = value;
  else if (key == "min-fragment-mm3") minFragmentMm3 = value;
  else if (key == "max-angle-deg") maxAngleDeg = value;
  else if (key == "hu-min") huMin = value;
  else if (key == "hu-max") huMax = value;
  else if (key == "learn-hu-window") learnHuWindow = value != 0.0;
  else if (key == "radius-scale") radiusScale = value;
  else if (key == "keep-unjoined") keepUnjoined = value != 0.0;
  else if (key == "working-spacing-mm") workingSpacingMm = value;
  else return false;
  return true;
}

double ReconnectionParameters::get(const std::string& key) const {
  if (key == "max-gap-mm") return maxGapMm;
  if (key == "min-fragment-mm3") return minFragmentMm3;
  if (key == "max-angle-deg") return maxAngleDeg;
  if (key == "hu-min") return huMin;
  if (key == "hu-max") return huMax;
  if (key == "learn-hu-window") return learnHuWindow ? 1.0 : 0.0;
  if (key == "radius-scale") return radiusScale;
  if (key == "keep-unjoined") return keepUnjoined ? 1.0 : 0.0;
  if (key == "working-spacing-mm") return workingSpacingMm;
  throw usageError("unknown reconnection parameter '" + key + "'");
}

std::string ReconnectionResult::toJson() const {
  nlohmann::json j;
  j["fragments"] = fragments;
  j["joined"] = joined;
  j["removed"] = removed;
  j["voxelsPainted"] = voxelsPainted;
  auto& list = j["bridges"] = nlohmann::json::array();
  for (const Bridge& b : bridges) {
    list.push_back({{"structure", b.structure},
                    {"from", {{"component", b.fromComponent}, {"pointMm", b.fromPoint}}},
                    {"to", {{"component", b.toComponent}, {"kind", b.toKind}, {"pointMm", b.toPoint}}},
                    {"gapMm", b.gapMm},
                    {"pathLengthMm", b.pathLengthMm},
                    {"angleDeg", b.angleDeg},
                    {"cost", b.cost},
                    {"contrastFraction", b.contrastFraction},
                    {"calibreMm", {b.calibreFromMm, b.calibreToMm}},
                    {"huWindow", {b.huLow, b.huHigh}},
                    {"lumenFraction", b.lumenFraction},
                    {"decision", b.decision},
                    {"voxelsPainted", b.voxelsPainted}});
  }
  return j.dump(2);
}

// ---------------------------------------------------------------- one structure

namespace {

void computeGroup(const GroupPrep& gp, Volume& labelsFine, const LabelTable& table,
                  const ReconnectionParameters& p, std::vector<Bridge>& report, ReconnectionResult& totals,
                  const Progress& progress) {
  const Bridging bridging = classifyFragments(gp, p);
  progress.report(0.4, "reconnect " + gp.grp.name + ": candidates");
  progress.throwIfCancelled();
  std::vector<Candidate> candidates = findCandidates(gp, bridging, p);
  traceCandidatePaths(gp, candidates, table, p);
  progress.report(0.7, "reconnect " + gp.grp.name + ": bridges");
  progress.throwIfCancelled();
  chooseAndPaint(gp, bridging, candidates, labelsFine, p, totals);
  for (Candidate& cd : candidates) report.push_back(cd.bridge);
  totals.fragments += bridging.fragmentsBefore;
  progress.report(1.0, "reconnect " + gp.grp.name + ": done");
}

// ---------------------------------------------------------------- entry point

// The region's pad around the structure, rounded up to 5 mm so that a
// preparation serves nearby gaps (and the one-shot call uses the same region).
double regionPadMm(const ReconnectionParameters& p) { return std::ceil((p.maxGapMm + 10.0) / 5.0) * 5.0; }

void checkParameters(const ReconnectionParameters& p, bool withCt) {
  if (!(p.maxGapMm > 0)) throw usageError("maximum gap must be positive");
  if (withCt && !(p.huMin < p.huMax)) throw usageError("contrast HU window is empty");
}

}  // namespace

struct PreparedReconnection::State {
  double padMm = 0;
  double workingSpacingMm = 0;
  bool withCt = false;
  Volume mask;  // the input, copied
  LabelTable table;
  std::vector<GroupPrep> groups;
};

double reconnectionRegionPadMm(const ReconnectionParameters& p) { return regionPadMm(p); }

bool PreparedReconnection::validFor(const ReconnectionParameters& p) const {
  return state_ && state_->workingSpacingMm == p.workingSpacingMm && regionPadMm(p) == state_->padMm;
}

PreparedReconnection prepareReconnection(TubularStructure structure, const Volume& mask, const LabelTable& table,
                                         const Volume* ct, const ReconnectionParameters& p, const Progress& progress,
                                         const std::string& maskName, const std::string& ctName) {
  requireLabelImage(mask, maskName);
  if (ct) requireSameGrid(mask, *ct, maskName, ctName);
  checkParameters(p, ct != nullptr);
  const std::vector<int> present = labelValuesPresent(mask);
  auto has = [&](const std::string& name) -> std::optional<int> {
    auto v = table.valueOf(name);
    if (v && std::find(present.begin(), present.end(), *v) != present.end()) return v;
    return std::nullopt;
  };
  std::vector<Group> groups;
  const std::vector<int> kidneys = presentValues(table, "kidney", present);
  const std::vector<int> tumors = presentValues(table, "tumor", present);
  // Vessels and ureters run through the perirenal fat.
  const std::vector<int> fat = presentValues(table, "perirenal_fat", present);
  if (structure == TubularStructure::Artery) {
    Group grp;
    grp.name = "artery";
    grp.structure = presentValues(table, "artery", present);
    if (grp.structure.empty())
      throw inputError(maskName, "has no artery label: artery reconnection needs one");
    grp.paintValue = grp.structure.front();
    grp.anchors = presentValues(table, "aorta", present);
    grp.passable = kidneys;
    grp.passable.insert(grp.passable.end(), tumors.begin(), tumors.end());
    grp.passable.insert(grp.passable.end(), fat.begin(), fat.end());
    groups.push_back(grp);
    // The aorta and the iliacs: their pieces are joined to the largest one,
    // each bridge painted with its fragment's own label.
    Group large;
    large.name = "aorta and iliacs";
    large.structure = grp.anchors;
    for (int v : presentValues(table, "iliac_artery", present)) large.structure.push_back(v);
    if (!large.structure.empty()) {
      large.paintValue = large.structure.front();
      large.ownLabels = true;
      large.passable = grp.passable;
      groups.push_back(large);
    }
  } else {
    const auto bladder = has("urinary_bladder");
    for (const char* side : {"_left", "_right", ""}) {
      const auto ureter = has(std::string("ureter") + side);
      if (!ureter) continue;
      Group grp;
      grp.name = table.find(*ureter)->name;
      grp.structure = {*ureter};
      grp.paintValue = *ureter;
      grp.ordered = true;
      if (*side) {
        if (auto k = has(std::string("kidney") + side)) grp.anchors.push_back(*k);
      } else {
        grp.anchors = kidneys;
      }
      if (bladder) grp.anchors.push_back(*bladder);
      grp.passable = tumors;
      grp.passable.insert(grp.passable.end(), fat.begin(), fat.end());
      // From the kidney towards the bladder (or downwards without one).
      if (!grp.anchors.empty() && bladder && grp.anchors.front() != *bladder) {
        const Box kb = boundingBox(mask, {grp.anchors.front()}), bb = boundingBox(mask, {*bladder});
        auto centre = [&](const Box& b) {
          return mask.geometry().indexToPhysical({0.5 * (b.begin[0] + b.end[0] - 1), 0.5 * (b.begin[1] + b.end[1] - 1),
                                                  0.5 * (b.begin[2] + b.end[2] - 1)});
        };
        const Vec3 axis = sub(centre(bb), centre(kb));
        if (norm(axis) > 1e-6) grp.orderAxis = mul(axis, 1.0 / norm(axis));
      }
      groups.push_back(grp);
    }
    if (groups.empty())
      throw inputError(maskName, "has no ureter label (ureter_left, ureter_right or ureter): ureter reconnection needs one");
  }

  auto st = std::make_shared<PreparedReconnection::State>();
  st->padMm = regionPadMm(p);
  st->workingSpacingMm = p.workingSpacingMm;
  st->withCt = ct != nullptr;
  st->mask = mask.clone();
  st->table = table;
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    GroupPrep gp;
    gp.grp = groups[gi];
    // The region: the structure plus the reach of a bridge (anchors beyond it do not matter).
    gp.box = padBoxMm(boundingBox(mask, gp.grp.structure), st->padMm, mask.geometry());
    gp.labelsFine = castVolume(crop(mask, gp.box), PixelType::Int32);
    if (ct) gp.ctFine = castVolume(crop(*ct, gp.box), PixelType::Float32);
    prepareGroup(gp, p, progress.sub(double(gi) / groups.size(), double(gi + 1) / groups.size()));
    st->groups.push_back(std::move(gp));
  }
  PreparedReconnection prepared;
  prepared.state_ = std::move(st);
  return prepared;
}

ReconnectionResult reconnect(const PreparedReconnection& prepared, const ReconnectionParameters& p,
                             const Progress& progress) {
  if (!prepared.validFor(p))
    throw Error(ErrorKind::Internal, "reconnection prepared for other parameters (region or spacing)");
  const PreparedReconnection::State& st = *prepared.state_;
  checkParameters(p, st.withCt);
  ReconnectionResult result;
  result.table = st.table;
  result.mask = st.mask.clone();
  for (size_t gi = 0; gi < st.groups.size(); ++gi) {
    const GroupPrep& gp = st.groups[gi];
    const Progress sub = progress.sub(double(gi) / st.groups.size(), double(gi + 1) / st.groups.size());
    Volume labelsC = gp.labelsFine.clone();
    computeGroup(gp, labelsC, st.table, p, result.bridges, result, sub);
    // Only what this group changed goes back: the regions of groups overlap,
    // and each crop holds the input, not the other groups' bridges.
    Volume current = castVolume(crop(result.mask, gp.box), PixelType::Int32);
    int32_t* cur = current.data<int32_t>();
    const int32_t* before = gp.labelsFine.data<int32_t>();
    const int32_t* after = labelsC.data<int32_t>();
    for (int64_t i = 0; i < current.voxelCount(); ++i)
      if (after[i] != before[i]) cur[i] = after[i];
    paste(castVolume(current, result.mask.pixelType()), gp.box, result.mask);
  }
  return result;
}

ReconnectionResult reconnect(TubularStructure structure, const Volume& mask, const LabelTable& table,
                             const Volume* ct, const ReconnectionParameters& p, const Progress& progress,
                             const std::string& maskName, const std::string& ctName) {
  const PreparedReconnection prepared =
      prepareReconnection(structure, mask, table, ct, p, progress.sub(0.0, 0.6), maskName, ctName);
  return reconnect(prepared, p, progress.sub(0.6, 1.0));
}

}  // namespace nephro::post
