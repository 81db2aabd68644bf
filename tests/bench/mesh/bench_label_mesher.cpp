// Label meshing: this pipeline (per-label crops, labels in parallel) against the
// straightforward path of the old smoothing service (each label contoured over
// the whole volume, then smoothed, one label after another), on the full
// phantom's labels and on a 512x512x300 map with more than 100 organ-sized
// labels. Prints wall time, peak resident memory, their ratios and the mean
// distance between the two paths' surfaces.
//
//   bench_label_mesher [--phantom-mask FILE (read, or written there when absent)] [--labels N] [--threads N] [--skip-phantom] [--skip-synthetic]
//
// Each path runs in its own forked child so their memory peaks are measured
// separately (VmHWM, reset through /proc/self/clear_refs after the fork).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkStaticPointLocator.h>
#include <vtkUnsignedCharArray.h>

#include "common/Error.h"
#include "common/Parallel.h"
#include "image/VolumeIO.h"
#include "mesh/LabelMesher.h"
#include "mesh/MeshInternal.h"
#include "phantom/Phantom.h"

using namespace nephro;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

long procStatusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(in, line))
    if (line.compare(0, n, key) == 0) return std::atol(line.c_str() + n + 1);
  return -1;
}

// The old service's path: for every label, one after another, discrete flying
// edges over the whole volume, then the same smoothing, transform and normals.
std::vector<LabelMesh> oldServicePath(const Volume& mask, const LabelTable& table, const MeshOptions& options) {
  const Geometry& g = mask.geometry();
  vtkNew<vtkImageData> image;
  image->SetDimensions(int(g.size[0]), int(g.size[1]), int(g.size[2]));
  vtkNew<vtkUnsignedCharArray> scalars;
  // Zero-copy view of the uint8 mask.
  scalars->SetArray(static_cast<unsigned char*>(const_cast<void*>(mask.raw())), mask.voxelCount(), 1);
  image->GetPointData()->SetScalars(scalars);
  const auto values = labelValuesPresent(mask);
  const auto matrix = mesh_internal::indexToSpaceMatrix(g, options.space, {0, 0, 0});
  std::vector<LabelMesh> meshes;
  for (int v : values) {
    vtkNew<vtkDiscreteFlyingEdges3D> fe;
    fe->SetInputData(image);
    fe->SetValue(0, v);
    fe->ComputeGradientsOff();
    fe->ComputeNormalsOff();
    fe->ComputeScalarsOff();
    fe->Update();
    LabelMesh m;
    m.value = v;
    if (const LabelEntry* e = table.find(v)) m.name = e->name;
    m.smoothing = options.smoothing;
    m.surface = mesh_internal::toPatient(mesh_internal::smooth(fe->GetOutput(), options.smoothing), matrix);
    meshes.push_back(std::move(m));
  }
  return meshes;
}

struct RunResult {
  double seconds = 0;
  double peakMb = 0;       // VmHWM of the child
  double extraPeakMb = 0;  // above what the child held when it started (the mask)
  std::vector<std::vector<float>> points;  // per label, xyz
  std::vector<double> smoothing;           // per label, the factor used
};

// Runs `body` in a forked child; returns its time, memory peak and points.
template <class F>
RunResult runForked(F body) {
  int fd[2];
  if (pipe(fd) != 0) throw Error(ErrorKind::Internal, "pipe failed");
  const pid_t pid = fork();
  if (pid == 0) {
    close(fd[0]);
    { std::ofstream("/proc/self/clear_refs") << "5"; }  // reset VmHWM to the current RSS
    const double baseMb = procStatusKb("VmRSS:") / 1024.0;
    const double t0 = now();
    std::vector<LabelMesh> meshes = body();
    const double seconds = now() - t0;
    const double peakMb = procStatusKb("VmHWM:") / 1024.0;
    auto put = [&](const void* p, size_t n) {
      const char* c = static_cast<const char*>(p);
      while (n) {
        const ssize_t w = write(fd[1], c, n);
        if (w <= 0) _exit(2);
        c += w;
        n -= size_t(w);
      }
    };
    const double header[3] = {seconds, peakMb, peakMb - baseMb};
    put(header, sizeof header);
    uint64_t count = meshes.size();
    put(&count, 8);
    for (const LabelMesh& m : meshes) {
      const uint64_t np = m.surface ? m.surface->GetNumberOfPoints() : 0;
      put(&np, 8);
      put(&m.smoothing, sizeof(double));
      std::vector<float> xyz(np * 3);
      double p[3];
      for (uint64_t i = 0; i < np; ++i) {
        m.surface->GetPoint(vtkIdType(i), p);
        xyz[3 * i] = float(p[0]);
        xyz[3 * i + 1] = float(p[1]);
        xyz[3 * i + 2] = float(p[2]);
      }
      put(xyz.data(), xyz.size() * sizeof(float));
    }
    close(fd[1]);
    _exit(0);
  }
  close(fd[1]);
  RunResult r;
  auto get = [&](void* p, size_t n) {
    char* c = static_cast<char*>(p);
    while (n) {
      const ssize_t got = read(fd[0], c, n);
      if (got <= 0) throw Error(ErrorKind::Internal, "benchmark child failed");
      c += got;
      n -= size_t(got);
    }
  };
  double header[3];
  get(header, sizeof header);
  r.seconds = header[0];
  r.peakMb = header[1];
  r.extraPeakMb = header[2];
  uint64_t count;
  get(&count, 8);
  r.points.resize(count);
  r.smoothing.resize(count);
  for (size_t n = 0; n < count; ++n) {
    auto& pts = r.points[n];
    uint64_t np;
    get(&np, 8);
    get(&r.smoothing[n], sizeof(double));
    pts.resize(np * 3);
    get(pts.data(), pts.size() * sizeof(float));
  }
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw Error(ErrorKind::Internal, "benchmark child failed");
  return r;
}

vtkSmartPointer<vtkPolyData> cloud(const std::vector<float>& xyz) {
  vtkNew<vtkPoints> pts;
  pts->SetDataTypeToFloat();
  pts->SetNumberOfPoints(vtkIdType(xyz.size() / 3));
  for (size_t i = 0; i < xyz.size() / 3; ++i) pts->SetPoint(vtkIdType(i), xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
  auto pd = vtkSmartPointer<vtkPolyData>::New();
  pd->SetPoints(pts);
  return pd;
}

// Mean and largest distance from every point of `a` to the nearest point of `b`
// (mm). With `grid`, points of `a` within 1.5 voxels of the grid's faces are
// left out: there this pipeline closes a label cut by the field of view with a
// cap the old path does not have.
struct Nearest {
  double mean = 0, largest = 0;
  size_t points = 0;
};
Nearest meanNearest(const std::vector<float>& a, const std::vector<float>& b, const Geometry* grid = nullptr) {
  Nearest r;
  if (a.empty() || b.empty()) return r;
  auto target = cloud(b);
  vtkNew<vtkStaticPointLocator> locator;
  locator->SetDataSet(target);
  locator->BuildLocator();
  double sum = 0;
  double x[3], y[3];
  for (size_t i = 0; i < a.size() / 3; ++i) {
    x[0] = a[3 * i];
    x[1] = a[3 * i + 1];
    x[2] = a[3 * i + 2];
    if (grid) {
      const Vec3 ijk = grid->physicalToIndex({x[0], x[1], x[2]});
      bool nearFace = false;
      for (int d = 0; d < 3; ++d) nearFace = nearFace || ijk[d] < 1.0 || ijk[d] > double(grid->size[d]) - 2.0;
      if (nearFace) continue;
    }
    target->GetPoint(locator->FindClosestPoint(x), y);
    const double d = std::sqrt((x[0] - y[0]) * (x[0] - y[0]) + (x[1] - y[1]) * (x[1] - y[1]) + (x[2] - y[2]) * (x[2] - y[2]));
    sum += d;
    r.largest = std::max(r.largest, d);
    ++r.points;
  }
  r.mean = r.points ? sum / double(r.points) : 0;
  return r;
}

// Like a whole-body segmentation: many organ-sized, irregular blobs of random
// size and orientation, some elongated like muscles and vessels, packed into a
// 512x512x300 grid at 0.78x0.78x1.5 mm.
Volume syntheticOrganMap(int labels, uint64_t seed) {
  Geometry g;
  g.size = {512, 512, 300};
  g.spacing = {0.78125, 0.78125, 1.5};
  g.origin = {-200, -200, -225};
  Volume mask(g, PixelType::UInt8);
  auto* p = mask.data<uint8_t>();
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int v = 1; v <= labels; ++v) {
    // Semi-axes 6..45 mm; one in five is elongated (muscle / vessel like).
    double a = 6 + 30 * std::pow(u(rng), 1.5), b = a * (0.5 + 0.5 * u(rng)), c = a * (0.4 + 0.6 * u(rng));
    if (u(rng) < 0.2) {
      a = 40 + 60 * u(rng);
      b = 4 + 6 * u(rng);
      c = b * (0.7 + 0.3 * u(rng));
    }
    const double cx = -170 + 340 * u(rng), cy = -170 + 340 * u(rng), cz = -200 + 400 * u(rng);
    // A random rotation from a random axis and angle.
    const double ax = u(rng) - 0.5, ay = u(rng) - 0.5, az = u(rng) - 0.5, an = std::sqrt(ax * ax + ay * ay + az * az) + 1e-9;
    const double ang = M_PI * u(rng), co = std::cos(ang), si = std::sin(ang), t = 1 - co;
    const double x = ax / an, y = ay / an, z = az / an;
    const double R[9] = {t * x * x + co,     t * x * y - si * z, t * x * z + si * y, t * x * y + si * z, t * y * y + co,
                         t * y * z - si * x, t * x * z - si * y, t * y * z + si * x, t * z * z + co};
    const double bump1 = 0.15 * u(rng), bump2 = 0.1 * u(rng), f1 = 2 + 3 * u(rng), f2 = 3 + 4 * u(rng);
    const double reach = std::max({a, b, c}) * 1.3;
    int64_t lo[3], hi[3];
    const double ctr[3] = {cx, cy, cz};
    for (int d = 0; d < 3; ++d) {
      lo[d] = std::max<int64_t>(0, int64_t(std::floor((ctr[d] - reach - g.origin[d]) / g.spacing[d])));
      hi[d] = std::min<int64_t>(g.size[d] - 1, int64_t(std::ceil((ctr[d] + reach - g.origin[d]) / g.spacing[d])));
    }
    parallelFor(hi[2] - lo[2] + 1, [&](int64_t kb, int64_t ke) {
      for (int64_t k = lo[2] + kb; k < lo[2] + ke; ++k)
        for (int64_t j = lo[1]; j <= hi[1]; ++j)
          for (int64_t i = lo[0]; i <= hi[0]; ++i) {
            const double dx = g.origin[0] + i * g.spacing[0] - cx, dy = g.origin[1] + j * g.spacing[1] - cy,
                         dz = g.origin[2] + k * g.spacing[2] - cz;
            const double ux = (R[0] * dx + R[3] * dy + R[6] * dz) / a, uy = (R[1] * dx + R[4] * dy + R[7] * dz) / b,
                         uz = (R[2] * dx + R[5] * dy + R[8] * dz) / c;
            const double r2 = ux * ux + uy * uy + uz * uz;
            if (r2 > 1.7) continue;
            // Low-frequency bumps make the outline organ-like rather than a perfect ellipsoid.
            const double rr = std::sqrt(r2) + 1e-12;
            const double wobble = 1 + bump1 * std::sin(f1 * ux / rr + 1.3 * v) * std::cos(f1 * uy / rr) +
                                  bump2 * std::sin(f2 * uz / rr + 0.7 * v);
            if (rr <= wobble) p[g.offset(i, j, k)] = uint8_t(v);
          }
    });
  }
  return mask;
}

void compare(const char* title, const Volume& mask, const LabelTable& table, unsigned threads) {
  MeshOptions options;
  options.threads = threads;
  const auto counts = labelVoxelCounts(mask);
  int present = 0;
  for (size_t v = 1; v < counts.size(); ++v) present += counts[v] > 0;
  const Geometry& g = mask.geometry();
  const double voxelMm = std::min({g.spacing[0], g.spacing[1], g.spacing[2]});
  std::printf("\n== %s: %s, %d labels, %u threads (of %u hardware) ==\n", title, g.describe().c_str(), present,
              threads ? threads : workerCount(), workerCount());
  std::fflush(stdout);

  const RunResult fresh = runForked([&] { return buildLabelMeshes(mask, table, options); });
  std::printf("this pipeline    : %8.2f s   peak RSS %7.0f MB (+%6.0f MB above the mask)\n", fresh.seconds,
              fresh.peakMb, fresh.extraPeakMb);
  std::fflush(stdout);
  const RunResult old = runForked([&] { return oldServicePath(mask, table, options); });
  std::printf("old service path : %8.2f s   peak RSS %7.0f MB (+%6.0f MB above the mask)\n", old.seconds, old.peakMb,
              old.extraPeakMb);
  std::printf("speed-up         : %8.2f x   peak RSS ratio (old/new) %.2f\n", old.seconds / fresh.seconds,
              old.peakMb / fresh.peakMb);

  // Both directions; this->old once more without the caps at the field of
  // view's faces. Labels whose smoothing the thin-label guard lowered differ
  // on purpose (the old path all but erases them) and are counted apart.
  struct Sums {
    double newToOld = 0, oldToNew = 0, interior = 0, worstOldToNew = 0, worstInterior = 0;
    size_t nNew = 0, nOld = 0, nInterior = 0, labels = 0;
  } same, guarded;
  for (size_t n = 0; n < std::min(fresh.points.size(), old.points.size()); ++n) {
    Sums& sums = fresh.smoothing[n] < options.smoothing ? guarded : same;
    const Nearest a = meanNearest(fresh.points[n], old.points[n]);
    const Nearest b = meanNearest(old.points[n], fresh.points[n]);
    const Nearest c = meanNearest(fresh.points[n], old.points[n], &g);
    sums.newToOld += a.mean * double(a.points);
    sums.oldToNew += b.mean * double(b.points);
    sums.interior += c.mean * double(c.points);
    sums.nNew += a.points;
    sums.nOld += b.points;
    sums.nInterior += c.points;
    sums.worstOldToNew = std::max(sums.worstOldToNew, b.largest);
    sums.worstInterior = std::max(sums.worstInterior, c.largest);
    ++sums.labels;
  }
  auto mean = [](double sum, size_t n) { return sum / double(std::max<size_t>(n, 1)); };
  for (const Sums* sums : {&same, &guarded}) {
    if (sums->labels == 0) continue;
    std::printf("%s: %zu labels, %zu surface points (this) vs %zu (old)\n",
                sums == &same ? "same smoothing   " : "thin, lowered    ", sums->labels, sums->nNew, sums->nOld);
    std::printf("  mean distance  : old->this %.5f mm = %.5f voxel (largest %.3f mm)\n", mean(sums->oldToNew, sums->nOld),
                mean(sums->oldToNew, sums->nOld) / voxelMm, sums->worstOldToNew);
    std::printf("                   this->old %.5f mm = %.5f voxel, all points\n", mean(sums->newToOld, sums->nNew),
                mean(sums->newToOld, sums->nNew) / voxelMm);
    std::printf("                   this->old %.5f mm = %.5f voxel (largest %.3f mm), %zu points away from the grid faces\n",
                mean(sums->interior, sums->nInterior), mean(sums->interior, sums->nInterior) / voxelMm,
                sums->worstInterior, sums->nInterior);
  }
  std::printf("                   (voxel = smallest spacing, %.4f mm)\n", voxelMm);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string phantomMask;
  int labels = 120;
  unsigned threads = 0;
  bool skipPhantom = false, skipSynthetic = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--phantom-mask" && i + 1 < argc) phantomMask = argv[++i];
    else if (a == "--labels" && i + 1 < argc) labels = std::atoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = unsigned(std::atoi(argv[++i]));
    else if (a == "--skip-phantom") skipPhantom = true;
    else if (a == "--skip-synthetic") skipSynthetic = true;
    else {
      std::fprintf(stderr, "usage: %s [--phantom-mask FILE] [--labels N] [--threads N] [--skip-phantom] [--skip-synthetic]\n", argv[0]);
      return 2;
    }
  }
  try {
    if (!skipPhantom) {
      Volume mask;
      LabelTable table;
      double t0 = now();
      if (!phantomMask.empty() && std::ifstream(phantomMask).good()) {
        mask = readVolume(phantomMask);
        if (LabelTable::hasSidecar(phantomMask)) table = LabelTable::readSidecar(phantomMask);
      } else {
        PhantomOptions po;
        po.size = PhantomSize::Full;
        PhantomCase c = generatePhantom(po);
        mask = c.labels;
        table = c.table;
        if (!phantomMask.empty()) {  // kept for the next run
          writeVolume(mask, phantomMask);
          table.writeSidecar(phantomMask);
        }
      }
      std::printf("full phantom labels ready in %.1f s\n", now() - t0);
      if (!mask.is<uint8_t>()) mask = castVolume(mask, PixelType::UInt8);
      compare("full phantom", mask, table, threads);
    }
    if (!skipSynthetic) {
      const double t0 = now();
      const Volume mask = syntheticOrganMap(labels, 7);
      std::printf("\nsynthetic organ map ready in %.1f s\n", now() - t0);
      compare("synthetic organ map", mask, LabelTable{}, threads);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_label_mesher: %s\n", e.what());
    return 1;
  }
  return 0;
}
