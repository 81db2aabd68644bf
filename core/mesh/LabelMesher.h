#pragma once
// Label maps to smoothed surface meshes in patient coordinates, and the files
// users open them in (OBJ+MTL, binary STL, PLY, VTP, glTF binary).
//
// Each label is cropped to its bounding box plus one voxel, contoured with
// discrete flying edges, optionally decimated, smoothed with the windowed-sinc
// filter exactly as 3D Slicer does, moved from index space into LPS or RAS
// millimetres with the mask's geometry, and given consistent outward normals.
// Labels are meshed in parallel; memory is bounded by the largest crops being
// worked on, never by a copy of the whole volume.
//
// No Qt, no LibTorch: the GUI includes this header directly.
#include <functional>
#include <string>
#include <vector>

#include <vtkPolyData.h>
#include <vtkSmartPointer.h>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"

namespace nephro {

// Patient coordinate convention of mesh points. LPS is ITK's (and the volumes');
// RAS negates the first two coordinates (Slicer's world, NIfTI's scanner space).
enum class CoordinateSpace { LPS, RAS };
const char* toString(CoordinateSpace space);
// "LPS" / "RAS" (any case); throws a usage error otherwise.
CoordinateSpace parseCoordinateSpace(const std::string& text);

struct MeshOptions {
  std::vector<int> labels;     // label values to mesh; empty = every nonzero value present
  double smoothing = 0.5;      // Slicer's smoothing factor s in [0, 1]; 0 = no smoothing
  double decimate = 0.0;       // target reduction of triangles in [0, 0.95]; 0 = off
  bool decimateTubes = false;  // also decimate thin tubular labels (vessels, ureters)
  double minComponentMm3 = 0;  // drop connected pieces smaller than this volume
  bool joint = false;          // neighbouring labels share their boundary exactly
  // Slicer's smoothing filters away labels only a few voxels thick (small
  // vessels, ureters at coarse spacing). When set, a label that smoothing
  // would shrink below 90 % of its contoured volume is smoothed with a halved
  // factor until it keeps 90 % (in joint mode it is then meshed on its own).
  // Off = Slicer's result for every label.
  bool keepThinLabels = true;
  // After smoothing, move the surface along its normals so that it encloses the
  // label's voxel volume (smoothing alone leaves thin labels with 0.8-0.95 of
  // it). Off = the smoothed surface as it is (Slicer's volume).
  bool preserveVolume = true;
  // Measure the distance from the final surface to the unsmoothed one
  // (LabelMesh::distance); costs a closest-point search per vertex.
  bool surfaceDistance = false;
  CoordinateSpace space = CoordinateSpace::LPS;
  unsigned threads = 0;        // 0 = one per hardware thread
  std::string maskName = "mask";  // names the mask (its file) in error messages
};

// Distance (mm) from the vertices of a final surface to the unsmoothed one.
struct SurfaceDistance {
  double meanMm = -1.0;  // -1: not measured
  double p95Mm = -1.0;
  double maxMm = -1.0;
};

struct LabelMesh {
  int value = 0;
  std::string name;  // from the label table ("kidney_left")
  Rgb color;
  CoordinateSpace space = CoordinateSpace::LPS;
  bool tubular = false;   // judged thin and tubular (only when decimating), hence not decimated unless asked
  bool decimated = false;
  double smoothing = 0;   // the smoothing factor used (lower than asked for a thin label)
  double voxelVolumeMm3 = 0;    // the label's voxels (after --min-component)
  double meshVolumeMm3 = 0;     // enclosed by `surface`
  double volumeOffsetMm = 0;    // normal offset of the volume correction (index units scaled by the mean spacing)
  SurfaceDistance distance;     // to the unsmoothed surface, when asked for
  // Triangles in patient millimetres (`space`), outward-facing, with point
  // normals ("Normals"). Empty (no cells) when nothing of the label survived
  // the minimum component volume.
  vtkSmartPointer<vtkPolyData> surface;
};

// Meshes the labels of an integer mask. Results are ordered by label value.
// Names and colours come from `table`; with an empty table every label is
// named "label_<N>" with a stable colour. Throws an input error for a
// non-integer mask, a label value outside 1..65535, a label absent from a
// non-empty table, or a requested label with no voxel; a usage error for
// options out of range (decimation is not offered in joint mode: it would
// break the shared boundaries); Error(Cancelled) on cancel.
//
// onMeshReady is called once per finished label, from worker threads, one call
// at a time (calls are serialised); it must not block for long, and a GUI must
// hand the mesh over to its own thread (e.g. a queued signal). The LabelMesh
// is also part of the returned vector; its polydata is not modified afterwards.
std::vector<LabelMesh> buildLabelMeshes(const Volume& mask, const LabelTable& table,
                                        const MeshOptions& options, const Progress& progress = {},
                                        const std::function<void(const LabelMesh&)>& onMeshReady = {});

// Resolves a label list given as values or names ("1,kidney_left"); a base
// name stands for its sides ("kidney" -> kidney_left, kidney_right). Throws a
// usage error naming an unknown entry.
std::vector<int> resolveLabelList(const std::string& commaList, const LabelTable& table);

enum class MeshFormat { Obj, Stl, Ply, Vtp, Glb };
const char* extension(MeshFormat format);  // "obj", "stl", ...
// "obj,stl,glb" -> formats; throws a usage error for an unknown format.
std::vector<MeshFormat> parseMeshFormats(const std::string& commaList);

struct MeshWriteOptions {
  std::vector<MeshFormat> formats{MeshFormat::Obj};
  bool merged = false;                 // one file with every label instead of one per label
  std::string mergedName = "labels";   // base name of the merged file
};

// File base name for a label: its name with anything but [A-Za-z0-9_-.]
// replaced by '_', or "label_<value>" when it has none.
std::string meshFileBaseName(const LabelMesh& mesh);

// Writes the meshes into `folder` (created if needed) in every format; all
// files appear together or none do (OutputTransaction). Every file records its
// coordinate space (OBJ/PLY comment, STL header, VTP field data, GLB asset
// extras). Returns the written paths. Throws an output error naming the folder
// or file when it cannot be written.
std::vector<std::string> writeMeshes(const std::vector<LabelMesh>& meshes, const std::string& folder,
                                     const MeshWriteOptions& options, const Progress& progress = {});

}  // namespace nephro
