#include "mesh/LabelMesher.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <limits>
#include <mutex>
#include <sstream>
#include <thread>

#include <vtkAppendPolyData.h>
#include <vtkCellArray.h>
#include <vtkCellArrayIterator.h>
#include <vtkCellData.h>
#include <vtkDecimatePro.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkImageData.h>
#include <vtkIntArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkTriangleMeshPointNormals.h>
#include <vtkReverseSense.h>
#include <vtkStaticCleanPolyData.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include "common/Error.h"
#include "common/Parallel.h"
#include "image/Crop.h"
#include "mesh/MeshInternal.h"

namespace nephro {

const char* toString(CoordinateSpace space) { return space == CoordinateSpace::RAS ? "RAS" : "LPS"; }

CoordinateSpace parseCoordinateSpace(const std::string& text) {
  std::string t;
  for (char c : text) t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (t == "LPS") return CoordinateSpace::LPS;
  if (t == "RAS") return CoordinateSpace::RAS;
  throw usageError("coordinate space '" + text + "' is not LPS or RAS");
}

std::vector<int> resolveLabelList(const std::string& commaList, const LabelTable& table) {
  std::vector<int> values;
  std::stringstream s(commaList);
  std::string item;
  while (std::getline(s, item, ',')) {
    while (!item.empty() && std::isspace(static_cast<unsigned char>(item.back()))) item.pop_back();
    size_t first = 0;
    while (first < item.size() && std::isspace(static_cast<unsigned char>(item[first]))) ++first;
    item = item.substr(first);
    if (item.empty()) continue;
    int value = 0;
    const bool numeric = std::all_of(item.begin(), item.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (numeric) {
      value = std::stoi(item);
      if (value <= 0) throw usageError("label '" + item + "' must be a positive value");
    } else if (auto v = table.valueOf(item)) {
      value = *v;
    } else {
      // A base name stands for its sides: kidney -> kidney_left, kidney_right.
      const std::vector<int> matching = table.valuesMatching(item);
      if (matching.empty()) throw usageError("label '" + item + "' is not a value or a name in the label table");
      for (int m : matching)
        if (std::find(values.begin(), values.end(), m) == values.end()) values.push_back(m);
      continue;
    }
    if (std::find(values.begin(), values.end(), value) == values.end()) values.push_back(value);
  }
  if (values.empty()) throw usageError("the label list '" + commaList + "' names no label");
  return values;
}

namespace mesh_internal {

LabelStats scanLabels(const Volume& mask, unsigned threads, const std::string& maskName) {
  const Geometry& g = mask.geometry();
  const int64_t nz = g.size[2];
  const unsigned workers = std::max<unsigned>(1, std::min<unsigned>(threads ? threads : workerCount(), static_cast<unsigned>(std::max<int64_t>(nz, 1))));
  std::vector<LabelStats> partial(workers);
  std::atomic<bool> outOfRange{false};
  std::atomic<int64_t> badValue{0};
  const int64_t chunk = (nz + workers - 1) / workers;
  parallelFor(
      workers,
      [&](int64_t tb, int64_t te) {
        for (int64_t t = tb; t < te; ++t) {
          LabelStats& st = partial[t];
          const int64_t kb = t * chunk, ke = std::min(nz, kb + chunk);
          dispatchPixelType(mask.pixelType(), [&](auto zero) {
            using T = decltype(zero);
            if constexpr (std::is_floating_point_v<T>) {
              return 0;
            } else {
              const T* p = static_cast<const T*>(mask.raw());
              for (int64_t k = kb; k < ke; ++k)
                for (int64_t j = 0; j < g.size[1]; ++j) {
                  const T* row = p + g.offset(0, j, k);
                  for (int64_t i = 0; i < g.size[0]; ++i) {
                    const T x = row[i];
                    if (x == T(0)) continue;
                    const int64_t v = static_cast<int64_t>(x);
                    if (v < 0 || v > kMaxLabelValue) {
                      outOfRange = true;
                      badValue = v;
                      continue;
                    }
                    if (static_cast<size_t>(v) >= st.size()) st.resize(static_cast<size_t>(v) + 1);
                    st[v].add(i, j, k);
                  }
                }
              return 0;
            }
          });
        }
      },
      workers);
  if (outOfRange)
    throw inputError(maskName, "holds label value " + std::to_string(badValue.load()) + " outside 1.." +
                                 std::to_string(kMaxLabelValue));
  LabelStats all;
  for (const LabelStats& st : partial) {
    if (st.size() > all.size()) all.resize(st.size());
    for (size_t v = 0; v < st.size(); ++v) all[v].merge(st[v]);
  }
  return all;
}

vtkSmartPointer<vtkImageData> binaryCrop(const Volume& mask, int value, const Box& box) {
  // One voxel of background on every side, even where the box touches the
  // volume's border, so every surface is closed.
  const Index3 sz = box.size();
  auto image = vtkSmartPointer<vtkImageData>::New();
  image->SetDimensions(static_cast<int>(sz[0] + 2), static_cast<int>(sz[1] + 2), static_cast<int>(sz[2] + 2));
  image->AllocateScalars(VTK_UNSIGNED_CHAR, 1);
  auto* out = static_cast<uint8_t*>(image->GetScalarPointer());
  const int64_t ox = sz[0] + 2, oy = sz[1] + 2;
  std::fill(out, out + ox * oy * (sz[2] + 2), uint8_t(0));
  const Geometry& g = mask.geometry();
  dispatchPixelType(mask.pixelType(), [&](auto zero) {
    using T = decltype(zero);
    const T* p = static_cast<const T*>(mask.raw());
    const T target = static_cast<T>(value);
    for (int64_t k = box.begin[2]; k < box.end[2]; ++k)
      for (int64_t j = box.begin[1]; j < box.end[1]; ++j) {
        const T* row = p + g.offset(box.begin[0], j, k);
        uint8_t* dst = out + 1 + ox * ((j - box.begin[1] + 1) + oy * (k - box.begin[2] + 1));
        for (int64_t i = 0; i < sz[0]; ++i) dst[i] = row[i] == target ? 1 : 0;
      }
    return 0;
  });
  return image;
}

int64_t removeSmallComponents(vtkImageData* binary, int64_t minVoxels) {
  int dims[3];
  binary->GetDimensions(dims);
  auto* v = static_cast<uint8_t*>(binary->GetScalarPointer());
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2];
  const int64_t n = nx * ny * nz;
  int64_t kept = 0;
  std::vector<int64_t> component, stack;
  // 26-connectivity: pieces that touch at an edge or a corner stay one piece.
  for (int64_t seed = 0; seed < n; ++seed) {
    if (v[seed] != 1) continue;
    component.clear();
    stack.assign(1, seed);
    v[seed] = 2;
    while (!stack.empty()) {
      const int64_t at = stack.back();
      stack.pop_back();
      component.push_back(at);
      const int64_t i = at % nx, j = (at / nx) % ny, k = at / (nx * ny);
      for (int64_t dk = -1; dk <= 1; ++dk)
        for (int64_t dj = -1; dj <= 1; ++dj)
          for (int64_t di = -1; di <= 1; ++di) {
            const int64_t a = i + di, b = j + dj, c = k + dk;
            if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue;
            const int64_t q = a + nx * (b + ny * c);
            if (v[q] == 1) {
              v[q] = 2;
              stack.push_back(q);
            }
          }
    }
    if (static_cast<int64_t>(component.size()) < minVoxels)
      for (int64_t q : component) v[q] = 0;
    else
      kept += static_cast<int64_t>(component.size());
  }
  for (int64_t q = 0; q < n; ++q)
    if (v[q]) v[q] = 1;
  return kept;
}

namespace {
// Felzenszwalb & Huttenlocher's exact 1D squared distance transform, in place
// on `f` (length n, stride 1), using scratch buffers.
void distance1d(std::vector<float>& f, std::vector<float>& d, std::vector<int>& vtx, std::vector<float>& z) {
  const int n = static_cast<int>(f.size());
  const float inf = std::numeric_limits<float>::infinity();
  int k = 0;
  vtx[0] = 0;
  z[0] = -inf;
  z[1] = inf;
  for (int q = 1; q < n; ++q) {
    if (f[q] == inf) continue;
    if (f[vtx[k]] == inf) {
      vtx[k] = q;
      continue;
    }
    float s;
    while (true) {
      s = ((f[q] + float(q) * q) - (f[vtx[k]] + float(vtx[k]) * vtx[k])) / (2.0f * (q - vtx[k]));
      if (s > z[k] || k == 0) break;
      --k;
    }
    if (s <= z[k] && k == 0) {
      vtx[0] = q;
      z[1] = inf;
      continue;
    }
    ++k;
    vtx[k] = q;
    z[k] = s;
    z[k + 1] = inf;
  }
  if (f[vtx[0]] == inf) {
    std::fill(d.begin(), d.begin() + n, inf);
  } else {
    k = 0;
    for (int q = 0; q < n; ++q) {
      while (z[k + 1] < q) ++k;
      const float dq = float(q - vtx[k]);
      d[q] = dq * dq + f[vtx[k]];
    }
  }
  std::copy(d.begin(), d.begin() + n, f.begin());
}
}  // namespace

double thicknessRadiusVoxels(vtkImageData* binary) {
  int dims[3];
  binary->GetDimensions(dims);
  const auto* v = static_cast<const uint8_t*>(binary->GetScalarPointer());
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2];
  const float inf = std::numeric_limits<float>::infinity();
  // Squared distance from each label voxel to the nearest background voxel, in voxels.
  std::vector<float> dist(static_cast<size_t>(nx * ny * nz));
  for (size_t q = 0; q < dist.size(); ++q) dist[q] = v[q] ? inf : 0.0f;
  const int64_t longest = std::max({nx, ny, nz});
  std::vector<float> f(longest), d(longest), z(longest + 1);
  std::vector<int> vtx(longest);
  auto pass = [&](int64_t count, int64_t stride, auto startOf, int64_t lines) {
    f.resize(count);
    for (int64_t l = 0; l < lines; ++l) {
      const int64_t s = startOf(l);
      for (int64_t q = 0; q < count; ++q) f[q] = dist[s + q * stride];
      distance1d(f, d, vtx, z);
      for (int64_t q = 0; q < count; ++q) dist[s + q * stride] = f[q];
    }
  };
  pass(nx, 1, [&](int64_t l) { return l * nx; }, ny * nz);
  pass(ny, nx, [&](int64_t l) { return (l % nx) + nx * ny * (l / nx); }, nx * nz);
  pass(nz, nx * ny, [&](int64_t l) { return l; }, nx * ny);
  std::vector<float> inside;
  for (size_t q = 0; q < dist.size(); ++q)
    if (v[q]) inside.push_back(dist[q]);
  if (inside.empty()) return 0.0;
  const size_t at = static_cast<size_t>(0.95 * double(inside.size() - 1));
  std::nth_element(inside.begin(), inside.begin() + static_cast<std::ptrdiff_t>(at), inside.end());
  return std::sqrt(double(inside[at]));
}

bool isTubular(vtkImageData* binary, int64_t voxelCount) {
  // A label is thin and tubular when its typical inscribed radius (the 95th
  // percentile of the distance from its voxels to the background) is at most
  // kTubeRadiusVoxels and its length estimated as volume / (pi r^2) is at least
  // kTubeLengthInDiameters diameters. Decimation works in voxel units, so the
  // radius is measured in voxels: a cross-section this thin has too few
  // vertices around it to lose any.
  const double r = thicknessRadiusVoxels(binary);
  if (r <= 0.0 || r > kTubeRadiusVoxels) return false;
  const double length = double(voxelCount) / (M_PI * r * r);
  return length >= kTubeLengthInDiameters * 2.0 * r;
}

vtkSmartPointer<vtkPolyData> contour(vtkImageData* binary) {
  vtkNew<vtkDiscreteFlyingEdges3D> fe;
  fe->SetInputData(binary);
  fe->SetValue(0, 1);
  fe->ComputeGradientsOff();
  fe->ComputeNormalsOff();  // wrong at shared label boundaries; computed after smoothing
  fe->ComputeScalarsOff();
  fe->Update();
  vtkSmartPointer<vtkPolyData> out = fe->GetOutput();
  return out;
}

vtkSmartPointer<vtkPolyData> decimate(vtkPolyData* surface, double targetReduction) {
  // Slicer's settings.
  vtkNew<vtkDecimatePro> d;
  d->SetInputData(surface);
  d->SetFeatureAngle(60);
  d->SplittingOff();
  d->PreserveTopologyOn();
  d->SetMaximumError(1);
  d->SetTargetReduction(targetReduction);
  d->Update();
  vtkSmartPointer<vtkPolyData> out = d->GetOutput();
  return out;
}

vtkSmartPointer<vtkPolyData> smooth(vtkPolyData* surface, double s) {
  if (s <= 0.0) return surface;
  // 3D Slicer's binary-labelmap-to-closed-surface smoothing.
  vtkNew<vtkWindowedSincPolyDataFilter> w;
  w->SetInputData(surface);
  w->SetNumberOfIterations(static_cast<int>(std::floor(20.0 + 40.0 * s + 1e-9)));
  w->SetPassBand(std::pow(10.0, -4.0 * s));
  w->BoundarySmoothingOff();
  w->FeatureEdgeSmoothingOff();
  w->NonManifoldSmoothingOn();
  w->NormalizeCoordinatesOn();
  w->Update();
  vtkSmartPointer<vtkPolyData> out = w->GetOutput();
  return out;
}

double enclosedVolume(vtkPolyData* surface) {
  double sum = 0.0;
  forEachTriangle(surface, [&](const vtkIdType*, const double* a, const double* b, const double* c) {
    sum += a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0]);
  });
  return sum / 6.0;
}

vtkSmartPointer<vtkPolyData> smoothKeepingVolume(vtkPolyData* surface, bool keepThin, double& factor) {
  vtkSmartPointer<vtkPolyData> smoothed = smooth(surface, factor);
  if (!keepThin || factor <= 0.0) return smoothed;
  // The windowed-sinc pass band is relative to the mesh's own spectrum, so a
  // label only a few voxels thick (a ureter, a small vessel at 2-3 mm
  // spacing) is filtered away as "noise". Halve the factor until the label
  // keeps 90 % of its contoured volume; large labels never get here.
  const double before = enclosedVolume(surface);
  while (before > 0.0 && enclosedVolume(smoothed) < kMinVolumeKept * before) {
    factor = factor > kMinSmoothingTried ? factor * 0.5 : 0.0;
    if (factor == 0.0) return surface;
    smoothed = smooth(surface, factor);
  }
  return smoothed;
}

std::array<double, 16> indexToSpaceMatrix(const Geometry& g, CoordinateSpace space, const Index3& shift) {
  std::array<double, 16> m = g.indexToPhysicalMatrix();
  // Points are in crop indices: fold the crop's offset into the translation.
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) m[r * 4 + 3] += m[r * 4 + c] * double(shift[c]);
  if (space == CoordinateSpace::RAS)
    for (int c = 0; c < 4; ++c) {
      m[c] = -m[c];
      m[4 + c] = -m[4 + c];
    }
  return m;
}

vtkSmartPointer<vtkPolyData> toPatient(vtkPolyData* surface, const std::array<double, 16>& m) {
  const vtkIdType n = surface->GetNumberOfPoints();
  vtkNew<vtkPoints> points;
  points->SetDataTypeToFloat();
  points->SetNumberOfPoints(n);
  double p[3];
  for (vtkIdType id = 0; id < n; ++id) {
    surface->GetPoint(id, p);
    points->SetPoint(id, m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + m[3],
                     m[4] * p[0] + m[5] * p[1] + m[6] * p[2] + m[7],
                     m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11]);
  }
  auto out = vtkSmartPointer<vtkPolyData>::New();
  out->SetPoints(points);
  out->SetPolys(surface->GetPolys());

  const double det = m[0] * (m[5] * m[10] - m[6] * m[9]) - m[1] * (m[4] * m[10] - m[6] * m[8]) +
                     m[2] * (m[4] * m[9] - m[5] * m[8]);
  vtkSmartPointer<vtkPolyData> oriented = out;
  if (det < 0) {
    // A mirroring transform turns outward faces inward: reverse every triangle.
    vtkNew<vtkReverseSense> flip;
    flip->SetInputData(out);
    flip->ReverseCellsOn();
    flip->ReverseNormalsOff();
    flip->Update();
    oriented = flip->GetOutput();
  }
  // Flying edges orients every triangle of a 0/1 image the same way (outward),
  // and the flip above keeps that under a mirroring matrix; the tests check
  // the orientation edge by edge. So the normals need no consistency pass
  // (vtkPolyDataNormals' traversal, Slicer's guard for multi-label marching
  // cubes), which took most of the time on large labels, nor auto-orientation,
  // which would turn the inner wall of a hollow label outward.
  vtkNew<vtkTriangleMeshPointNormals> normals;
  normals->SetInputData(oriented);
  normals->Update();
  vtkSmartPointer<vtkPolyData> result = normals->GetOutput();
  // 32-bit connectivity halves the triangles' memory; meshes never approach 2^31 points.
  if (result->GetNumberOfPoints() < (vtkIdType(1) << 31)) result->GetPolys()->ConvertTo32BitStorage();
  return result;
}

vtkSmartPointer<vtkPolyData> emptySurface() {
  auto out = vtkSmartPointer<vtkPolyData>::New();
  vtkNew<vtkPoints> points;
  points->SetDataTypeToFloat();
  out->SetPoints(points);
  vtkNew<vtkCellArray> polys;
  out->SetPolys(polys);
  return out;
}

}  // namespace mesh_internal

using namespace mesh_internal;

namespace {

struct WorkItem {
  int value = 0;
  Box box;
  int64_t voxels = 0;
  LabelMesh* mesh = nullptr;
};

// Runs `body` on every item from a small pool of threads, largest crops first,
// so only `threads` crops are alive at a time.
void runPool(std::vector<WorkItem>& items, unsigned threads, const Progress& progress,
             const std::function<void(WorkItem&)>& body, const std::function<void(WorkItem&)>& done,
             double progressBegin, double progressEnd, const std::string& stage) {
  std::sort(items.begin(), items.end(), [](const WorkItem& a, const WorkItem& b) {
    const Index3 sa = a.box.size(), sb = b.box.size();
    return sa[0] * sa[1] * sa[2] > sb[0] * sb[1] * sb[2];
  });
  int64_t totalWork = 0;
  for (const WorkItem& it : items) {
    const Index3 s = it.box.size();
    totalWork += s[0] * s[1] * s[2];
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;  // serialises `done`, progress reports and the first failure
  std::exception_ptr failure;
  int64_t workDone = 0;
  auto worker = [&] {
    while (!stop) {
      const size_t at = next++;
      if (at >= items.size()) break;
      try {
        progress.throwIfCancelled();
        body(items[at]);
        std::lock_guard<std::mutex> lock(mutex);
        const Index3 s = items[at].box.size();
        workDone += s[0] * s[1] * s[2];
        done(items[at]);
        progress.report(progressBegin + (progressEnd - progressBegin) * double(workDone) / double(std::max<int64_t>(totalWork, 1)), stage);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!failure) failure = std::current_exception();
        stop = true;
      }
    }
  };
  const unsigned n = std::max<unsigned>(1, std::min<unsigned>(threads ? threads : workerCount(), static_cast<unsigned>(items.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
}

// One label on its own crop: contour, optional decimation, smoothing (with
// the thin-label guard), patient space.
void meshOneLabel(const Volume& mask, const WorkItem& it, const MeshOptions& options, int64_t minVoxels,
                  const Progress& progress) {
  vtkSmartPointer<vtkImageData> binary = binaryCrop(mask, it.value, it.box);
  int64_t voxels = it.voxels;
  if (minVoxels > 1) voxels = removeSmallComponents(binary, minVoxels);
  if (voxels == 0) {
    it.mesh->surface = emptySurface();
    return;
  }
  vtkSmartPointer<vtkPolyData> surface = contour(binary);
  progress.throwIfCancelled();
  if (options.decimate > 0.0) {
    it.mesh->tubular = isTubular(binary, voxels);
    if (!it.mesh->tubular || options.decimateTubes) {
      surface = decimate(surface, options.decimate);
      it.mesh->decimated = true;
    }
  }
  binary = nullptr;  // the crop is done with before the heavier surface steps
  progress.throwIfCancelled();
  const vtkSmartPointer<vtkPolyData> unsmoothed = surface;
  double factor = options.smoothing;
  surface = smoothKeepingVolume(surface, options.keepThinLabels, factor);
  it.mesh->smoothing = factor;
  progress.throwIfCancelled();
  const Geometry& g = mask.geometry();
  const double meanSpacing = (g.spacing[0] + g.spacing[1] + g.spacing[2]) / 3.0;
  if (options.preserveVolume && factor > 0.0) {
    // Index space: one voxel encloses 1. The offset stays within half a voxel.
    double offset = 0.0;
    surface = correctVolume(surface, double(voxels), 0.5, &offset);
    it.mesh->volumeOffsetMm = offset * meanSpacing;
  }
  it.mesh->voxelVolumeMm3 = double(voxels) * g.voxelVolumeMm3();
  it.mesh->meshVolumeMm3 = enclosedVolume(surface) * g.voxelVolumeMm3();
  const Index3 shift{it.box.begin[0] - 1, it.box.begin[1] - 1, it.box.begin[2] - 1};
  const std::array<double, 16> matrix = indexToSpaceMatrix(g, options.space, shift);
  if (options.surfaceDistance) it.mesh->distance = surfaceDistance(surface, unsmoothed, matrix);
  it.mesh->surface = toPatient(surface, matrix);
}

}  // namespace

std::vector<LabelMesh> buildLabelMeshes(const Volume& mask, const LabelTable& table, const MeshOptions& options,
                                        const Progress& progress,
                                        const std::function<void(const LabelMesh&)>& onMeshReady) {
  if (mask.empty()) throw inputError(options.maskName, "is empty");
  if (!isIntegerType(mask.pixelType()))
    throw inputError(options.maskName, std::string("is not an integer label image (pixel type ") + toString(mask.pixelType()) + ")");
  if (!(options.smoothing >= 0.0 && options.smoothing <= 1.0))
    throw usageError("smoothing factor " + std::to_string(options.smoothing) + " is outside 0..1");
  if (!(options.decimate >= 0.0 && options.decimate <= 0.95))
    throw usageError("decimation " + std::to_string(options.decimate) + " is outside 0..0.95");
  if (!(options.minComponentMm3 >= 0.0)) throw usageError("minimum component volume must not be negative");
  if (options.joint && options.decimate > 0.0)
    throw usageError("decimation cannot be combined with joint meshing: it would break the shared boundaries");

  progress.report(0.0, "Scanning labels");
  const LabelStats stats = scanLabels(mask, options.threads, options.maskName);
  progress.throwIfCancelled();

  std::vector<int> values = options.labels;
  if (values.empty()) {
    for (size_t v = 1; v < stats.size(); ++v)
      if (stats[v].count > 0) values.push_back(static_cast<int>(v));
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.empty()) throw inputError(options.maskName, "has no labelled voxel");

  std::vector<LabelMesh> meshes(values.size());
  for (size_t n = 0; n < values.size(); ++n) {
    const int v = values[n];
    LabelMesh& m = meshes[n];
    m.value = v;
    m.space = options.space;
    if (const LabelEntry* e = table.find(v)) {
      m.name = e->name;
      m.color = e->color;
    } else if (table.empty()) {
      const LabelEntry e = LabelTable::schemaEntry("label_" + std::to_string(v), v);
      m.name = e.name;
      m.color = e.color;
    } else {
      throw inputError(options.maskName, "label " + std::to_string(v) + " is not in the label table");
    }
    if (v <= 0 || static_cast<size_t>(v) >= stats.size() || stats[v].count == 0)
      throw inputError(options.maskName, "label " + std::to_string(v) + " (" + m.name + ") has no voxel");
  }

  const Geometry& g = mask.geometry();
  const int64_t minVoxels = options.minComponentMm3 > 0.0
                                ? static_cast<int64_t>(std::ceil(options.minComponentMm3 / g.voxelVolumeMm3() - 1e-9))
                                : 0;
  std::vector<WorkItem> items(values.size());
  for (size_t n = 0; n < values.size(); ++n) {
    const LabelStat& st = stats[values[n]];
    items[n].value = values[n];
    items[n].box = st.box();
    items[n].voxels = st.count;
    items[n].mesh = &meshes[n];
  }

  if (!options.joint) {
    runPool(
        items, options.threads, progress, [&](WorkItem& it) { meshOneLabel(mask, it, options, minVoxels, progress); },
        [&](WorkItem& it) {
          if (onMeshReady) onMeshReady(*it.mesh);
        },
        0.02, 1.0, "Meshing labels");
    return meshes;
  }

  // Joint: contour each label on its own crop, gather everything in whole-volume
  // indices, merge coincident points so neighbours share them, smooth once, split.
  std::vector<vtkSmartPointer<vtkPolyData>> pieces(values.size());
  std::vector<double> contouredVolume(values.size(), 0.0);  // index space, before smoothing
  runPool(
      items, options.threads, progress,
      [&](WorkItem& it) {
        vtkSmartPointer<vtkImageData> binary = binaryCrop(mask, it.value, it.box);
        int64_t voxels = it.voxels;
        if (minVoxels > 1) voxels = removeSmallComponents(binary, minVoxels);
        if (voxels == 0) return;
        vtkSmartPointer<vtkPolyData> surface = contour(binary);
        contouredVolume[static_cast<size_t>(std::find(values.begin(), values.end(), it.value) - values.begin())] =
            enclosedVolume(surface);
        vtkPoints* pts = surface->GetPoints();
        const double shift[3] = {double(it.box.begin[0] - 1), double(it.box.begin[1] - 1), double(it.box.begin[2] - 1)};
        double p[3];
        for (vtkIdType id = 0; id < pts->GetNumberOfPoints(); ++id) {
          pts->GetPoint(id, p);
          pts->SetPoint(id, p[0] + shift[0], p[1] + shift[1], p[2] + shift[2]);
        }
        vtkNew<vtkIntArray> label;
        label->SetName("Label");
        label->SetNumberOfTuples(surface->GetNumberOfCells());
        label->FillValue(it.value);
        surface->GetCellData()->AddArray(label);
        const size_t n = std::find(values.begin(), values.end(), it.value) - values.begin();
        pieces[n] = surface;
      },
      [](WorkItem&) {}, 0.02, 0.5, "Contouring labels");

  vtkNew<vtkAppendPolyData> append;
  bool any = false;
  for (auto& piece : pieces)
    if (piece && piece->GetNumberOfCells() > 0) {
      append->AddInputData(piece);
      any = true;
    }
  vtkSmartPointer<vtkPolyData> shared;
  if (any) {
    append->Update();
    progress.throwIfCancelled();
    progress.report(0.55, "Joining label surfaces");
    vtkNew<vtkStaticCleanPolyData> merge;
    merge->SetInputConnection(append->GetOutputPort());
    merge->ToleranceIsAbsoluteOn();
    merge->SetAbsoluteTolerance(0.0);
    merge->ConvertLinesToPointsOff();
    merge->ConvertPolysToLinesOff();
    merge->ConvertStripsToPolysOff();
    merge->Update();
    progress.throwIfCancelled();
    progress.report(0.6, "Smoothing labels together");
    shared = smooth(merge->GetOutput(), options.smoothing);
    progress.throwIfCancelled();
  }
  pieces.clear();

  const std::array<double, 16> m = indexToSpaceMatrix(g, options.space, Index3{0, 0, 0});
  std::mutex readyMutex;
  size_t split = 0;
  parallelFor(
      static_cast<int64_t>(meshes.size()),
      [&](int64_t b, int64_t e) {
        for (int64_t n = b; n < e; ++n) {
          progress.throwIfCancelled();
          LabelMesh& mesh = meshes[n];
          mesh.smoothing = options.smoothing;
          vtkSmartPointer<vtkPolyData> own = shared ? extractLabel(shared, mesh.value) : nullptr;
          if (own && own->GetNumberOfCells() > 0 && options.keepThinLabels && options.smoothing > 0 &&
              enclosedVolume(own) < kMinVolumeKept * contouredVolume[n]) {
            // Smoothing with its neighbours would all but erase this thin label:
            // mesh it on its own with the guard instead (its boundary is then no
            // longer shared exactly).
            WorkItem it;
            it.value = mesh.value;
            it.box = stats[mesh.value].box();
            it.voxels = stats[mesh.value].count;
            it.mesh = &mesh;
            meshOneLabel(mask, it, options, minVoxels, progress);
          } else {
            mesh.surface = own ? toPatient(own, m) : emptySurface();
            mesh.voxelVolumeMm3 = double(stats[mesh.value].count) * g.voxelVolumeMm3();
            mesh.meshVolumeMm3 = own ? enclosedVolume(own) * g.voxelVolumeMm3() : 0.0;
          }
          std::lock_guard<std::mutex> lock(readyMutex);
          if (onMeshReady) onMeshReady(mesh);
          progress.report(0.65 + 0.35 * double(++split) / double(meshes.size()), "Splitting labels");
        }
      },
      options.threads ? options.threads : workerCount());
  progress.report(1.0, "Meshing labels");
  return meshes;
}

namespace mesh_internal {

vtkSmartPointer<vtkPolyData> extractLabel(vtkPolyData* shared, int value) {
  auto* labels = vtkIntArray::SafeDownCast(shared->GetCellData()->GetArray("Label"));
  vtkCellArray* polys = shared->GetPolys();
  std::vector<vtkIdType> newId(static_cast<size_t>(shared->GetNumberOfPoints()), -1);
  vtkNew<vtkPoints> points;
  points->SetDataType(shared->GetPoints()->GetDataType());
  vtkNew<vtkCellArray> cells;
  vtkIdType npts;
  const vtkIdType* ids;
  std::vector<vtkIdType> tri;
  double p[3];
  // An iterator of its own: labels are extracted from the shared surface in parallel.
  auto cell = vtk::TakeSmartPointer(polys->NewIterator());
  for (cell->GoToFirstCell(); !cell->IsDoneWithTraversal(); cell->GoToNextCell()) {
    if (labels->GetValue(cell->GetCurrentCellId()) != value) continue;
    cell->GetCurrentCell(npts, ids);
    tri.resize(static_cast<size_t>(npts));
    for (vtkIdType q = 0; q < npts; ++q) {
      vtkIdType& mapped = newId[static_cast<size_t>(ids[q])];
      if (mapped < 0) {
        shared->GetPoint(ids[q], p);
        mapped = points->InsertNextPoint(p);
      }
      tri[q] = mapped;
    }
    cells->InsertNextCell(npts, tri.data());
  }
  auto out = vtkSmartPointer<vtkPolyData>::New();
  out->SetPoints(points);
  out->SetPolys(cells);
  return out;
}

}  // namespace mesh_internal

}  // namespace nephro
