#pragma once
// The editing operations on a label layer and what applying one returns. Each
// operation is one undoable step. Geometry is given in LPS millimetres (dab
// centres, polygon vertices, seeds, radii), so a journal replays on the same
// grid bit-identically; the view an operation was drawn in is the index axis
// of the layer's grid normal to that view (0, 1 or 2).
#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "image/Crop.h"
#include "image/Geometry.h"

namespace nephro::edit {

// Which voxels a tool may overwrite (ITK-SNAP's "draw over"): background only,
// one chosen label only, or any label. Locked labels are never overwritten.
enum class PaintOver { Background, Label, Everything };

struct PaintRule {
  PaintOver over = PaintOver::Background;
  int overLabel = 0;  // the label PaintOver::Label may overwrite
  // Change only voxels whose value in the session's image (CT, HU) lies in
  // [first, second], e.g. {150, 600} for a contrast-filled artery.
  std::optional<std::array<double, 2>> huRange;
};

enum class BrushShape { Disc, Sphere };

// A brush or eraser stroke: dabs of `radiusMm` at `dabs` (LPS). Consecutive
// dabs are joined by intermediate dabs at most half a radius (and half a voxel)
// apart, so a fast mouse leaves no gaps. A disc lies in the slice of `axis`
// holding its centre; a sphere is round in millimetres whatever the spacing.
// label 0 is the eraser: it clears the voxels `rule` allows.
struct BrushStroke {
  int label = 0;
  BrushShape shape = BrushShape::Disc;
  int axis = 2;
  double radiusMm = 3.0;
  PaintRule rule;
  std::vector<Vec3> dabs;
};

// Erase or fill inside a polygon drawn on a view plane (vertices in LPS, on a
// slice normal to `axis`), through the whole volume or through a slab of
// `slabMm` centred on the drawing plane.
enum class ScissorsAction { Erase, Fill };
struct ScissorsCut {
  ScissorsAction action = ScissorsAction::Erase;
  int label = 0;  // written by Fill
  int axis = 2;
  std::vector<Vec3> polygon;
  double slabMm = 0.0;  // <= 0: the whole volume
  PaintRule rule;       // Erase clears what the rule allows (Label: one label, Everything: any)
};

// Removes the connected island of the label under `seed` (LPS).
struct RemoveIsland {
  Vec3 seed{0, 0, 0};
  bool fullyConnected = false;  // false: faces only (6-neighbours); true: 26-neighbours
};

// Keeps the `count` largest islands of `label` and clears the others.
struct KeepLargestIslands {
  int label = 0;
  int count = 1;
  bool fullyConnected = false;
};

// Shape interpolation of `label` between key slices normal to `axis`: the
// signed distance maps of consecutive key slices are blended linearly and
// thresholded at zero. With `keySlices` given (slice indices the user drew),
// the label on the slices between them is replaced by the interpolated shape;
// without, the key slices are those holding the label and only the empty
// slices between them are filled.
struct FillBetweenSlices {
  int label = 0;
  int axis = 2;
  std::vector<int64_t> keySlices;
  PaintRule rule;
};

using EditOperation =
    std::variant<BrushStroke, ScissorsCut, RemoveIsland, KeepLargestIslands, FillBetweenSlices>;

// What applying (or undoing, or redoing) a step changed.
struct EditResult {
  bool changed = false;  // false: nothing changed and nothing was stored
  Box box;               // every changed voxel lies inside (empty when unchanged)
  int64_t voxelsChanged = 0;
  // Change of the voxel count per label value (0 = background), labels with a
  // nonzero change only: the label table adds these to its live volumes.
  std::map<int, int64_t> voxelDeltas;
  // Every nonzero label with a voxel added or removed: the ones to re-mesh
  // (a relabel can change a shape with a net delta of zero).
  std::vector<int> labelsTouched;
  std::string name;  // "Brush tumor, 312 voxels"
};

}  // namespace nephro::edit
