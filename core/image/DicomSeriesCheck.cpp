#include "image/DicomSeriesCheck.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "common/Error.h"
#include "image/DicomScan.h"

namespace fs = std::filesystem;

namespace nephro {

namespace {

// -120.0, 0.625, 3.25: one decimal at least, three at most.
std::string mm(double v) {
  char b[48];
  std::snprintf(b, sizeof b, "%.3f", v);
  std::string s = b;
  while (s.size() > 2 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

std::string fileName(const std::string& path) { return fs::path(path).filename().string(); }

std::map<std::string, std::vector<DicomFileScan>> scanFolder(const std::string& folder) {
  std::vector<std::string> paths;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    if (!it->is_regular_file(ec)) continue;
    paths.push_back(it->path().string());
  }
  if (ec) throw inputError(folder, "cannot be listed: " + ec.message());
  std::sort(paths.begin(), paths.end());
  std::map<std::string, std::vector<DicomFileScan>> bySeries;
  for (const std::string& p : paths) {
    DicomFileScan s = scanDicomFile(p);
    if (!s.isDicom) continue;
    if (s.seriesUid.empty()) {
      if (!s.problem.empty()) throw inputError(p, s.problem);
      continue;  // a DICOM file that belongs to no series (DICOMDIR, ...)
    }
    if (!s.isImage && s.problem.empty()) continue;  // reports, presentation states
    bySeries[s.seriesUid].push_back(std::move(s));
  }
  return bySeries;
}

bool sameOrientation(const std::array<double, 6>& a, const std::array<double, 6>& b) {
  for (int i = 0; i < 6; ++i)
    if (std::abs(a[i] - b[i]) > 1e-4) return false;
  return true;
}

std::string orientationText(const std::array<double, 6>& o) {
  std::string s;
  for (int i = 0; i < 6; ++i) s += (i ? "\\" : "") + mm(o[i]);
  return s;
}

}  // namespace

std::vector<DicomSeriesListing> scanDicomSeriesFolder(const std::string& folder) {
  std::vector<DicomSeriesListing> out;
  for (const auto& [uid, files] : scanFolder(folder)) {
    DicomSeriesListing l;
    l.uid = uid;
    l.fileCount = static_cast<int64_t>(files.size());
    for (const DicomFileScan& f : files) {
      if (l.description.empty()) l.description = f.seriesDescription;
      if (!l.rows) l.rows = f.rows, l.columns = f.columns;
    }
    out.push_back(l);
  }
  return out;
}

DicomSeriesPlan planDicomSeries(const std::string& folder, const std::string& wantedUid, bool allowGaps) {
  auto bySeries = scanFolder(folder);
  if (bySeries.empty()) throw inputError(folder, "holds no DICOM series");
  std::string uid = wantedUid;
  if (uid.empty()) {
    if (bySeries.size() > 1) {
      std::string list;
      for (const auto& [u, files] : bySeries) list += (list.empty() ? "" : ", ") + u;
      throw inputError(folder, "holds " + std::to_string(bySeries.size()) +
                                   " DICOM series; choose one with --series (" + list + ")");
    }
    uid = bySeries.begin()->first;
  } else if (!bySeries.count(uid)) {
    throw inputError(folder, "holds no DICOM series with UID " + uid);
  }
  std::vector<DicomFileScan>& files = bySeries[uid];
  if (files.size() < 2) throw inputError(folder, "DICOM series " + uid + " has a single slice; a 3D volume is required");

  // Every file whole, with a position and the series' orientation and size.
  const DicomFileScan& first = files.front();
  for (const DicomFileScan& f : files) {
    if (!f.problem.empty()) throw inputError(f.path, f.problem);
    if (!f.hasPosition || !f.hasOrientation)
      throw inputError(f.path, "slice has no Image Position/Orientation (Patient); its place in the series is unknown");
    for (double v : f.position)
      if (!std::isfinite(v)) throw inputError(f.path, "slice has a non-finite Image Position (Patient)");
    for (double v : f.orientation)
      if (!std::isfinite(v)) throw inputError(f.path, "slice has a non-finite Image Orientation (Patient)");
    if (f.frames > 1) throw inputError(f.path, "is a multi-frame image inside a series of slices; read the file alone");
    if (!sameOrientation(f.orientation, first.orientation))
      throw inputError(folder, "DICOM series " + uid + " mixes orientations: " + fileName(f.path) + " has " +
                                   orientationText(f.orientation) + ", " + fileName(first.path) + " has " +
                                   orientationText(first.orientation));
    if (f.rows != first.rows || f.columns != first.columns)
      throw inputError(folder, "DICOM series " + uid + " mixes slice sizes: " + fileName(f.path) + " is " +
                                   std::to_string(f.columns) + "x" + std::to_string(f.rows) + ", " +
                                   fileName(first.path) + " is " + std::to_string(first.columns) + "x" +
                                   std::to_string(first.rows));
  }
  const auto& o = first.orientation;
  std::array<double, 3> n{o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]};
  const double norm = std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
  if (!(norm > 1e-3)) throw inputError(first.path, "slice orientation is degenerate (row and column directions are parallel)");
  for (double& v : n) v /= norm;

  std::vector<std::pair<double, size_t>> order;
  for (size_t i = 0; i < files.size(); ++i) {
    const auto& p = files[i].position;
    order.push_back({p[0] * n[0] + p[1] * n[1] + p[2] * n[2], i});
  }
  std::sort(order.begin(), order.end());

  DicomSeriesPlan plan;
  plan.uid = uid;
  plan.rows = first.rows;
  plan.columns = first.columns;
  plan.bitsAllocated = first.bitsAllocated;
  plan.samplesPerPixel = first.samplesPerPixel;
  plan.pixelSpacing = first.pixelSpacing;
  for (const auto& [z, i] : order) {
    plan.positions.push_back(z);
    plan.files.push_back(files[i].path);
  }
  std::vector<double> gaps;
  for (size_t i = 1; i < order.size(); ++i) {
    const double d = order[i].first - order[i - 1].first;
    if (d < kSliceSpacingFloorMm)
      throw inputError(folder, "DICOM series " + uid + " has two slices at the same position z=" + mm(order[i].first) +
                                   " mm (" + fileName(files[order[i - 1].second].path) + " and " +
                                   fileName(files[order[i].second].path) + ")");
    gaps.push_back(d);
  }
  std::vector<double> sorted = gaps;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double s = sorted[sorted.size() / 2];
  const double tol = std::max(kSliceSpacingFloorMm, kSliceSpacingTolerance * s);
  plan.spacing = s;

  int64_t intervals = 0;
  std::string firstGap;
  int64_t gapCount = 0;
  for (size_t i = 0; i < gaps.size(); ++i) {
    const double d = gaps[i];
    const auto k = static_cast<int64_t>(std::llround(d / s));
    if (k < 1 || std::abs(d - double(k) * s) > tol * double(k))
      throw inputError(folder, "DICOM series " + uid + " has non-uniform slice spacing: " + mm(d) + " mm between z=" +
                                   mm(plan.positions[i]) + " and z=" + mm(plan.positions[i + 1]) +
                                   " mm where the series has " + mm(s) + " mm (tolerance 1 %)");
    if (k > 1) {
      ++gapCount;
      plan.missing += k - 1;
      if (firstGap.empty()) {
        const int64_t index = intervals + 2;  // 1-based, in the uniform grid
        firstGap = (k == 2 ? "slice " + std::to_string(index) : "slices " + std::to_string(index) + "-" + std::to_string(index + k - 2)) +
                   " of %TOTAL% missing between z=" + mm(plan.positions[i]) + " and z=" + mm(plan.positions[i + 1]) + " mm";
      }
    }
    intervals += k;
  }
  plan.gridSlices = intervals + 1;
  if (plan.missing > 0) {
    const auto at = firstGap.find("%TOTAL%");
    firstGap.replace(at, 7, std::to_string(plan.gridSlices));
    if (!allowGaps) {
      std::string msg = "DICOM series " + uid + ": " + firstGap;
      if (gapCount > 1) msg += " (" + std::to_string(plan.missing) + " slices missing in " + std::to_string(gapCount) + " gaps)";
      msg += "; --allow-gaps interpolates missing slices onto a uniform grid";
      throw inputError(folder, msg);
    }
    plan.note = "DICOM series " + uid + ": " + std::to_string(plan.missing) + " missing slice(s) (" + firstGap +
                ") interpolated linearly between neighbours onto a uniform grid of " + std::to_string(plan.gridSlices) +
                " slices at " + mm(s) + " mm";
  }
  return plan;
}

Volume fillDicomGaps(const Volume& present, const DicomSeriesPlan& plan) {
  if (plan.missing == 0) return present;
  Geometry g = present.geometry();
  const int64_t m = g.size[2];
  if (m != static_cast<int64_t>(plan.positions.size())) return present;
  g.size[2] = plan.gridSlices;
  g.spacing[2] = plan.spacing;
  Volume out(g, present.pixelType());
  const int64_t sliceVoxels = g.size[0] * g.size[1];
  const double tol = std::max(kSliceSpacingFloorMm, kSliceSpacingTolerance * plan.spacing);
  dispatchPixelType(present.pixelType(), [&](auto t) {
    using T = decltype(t);
    const T* src = present.data<T>();
    T* dst = out.data<T>();
    int64_t a = 0;
    for (int64_t j = 0; j < plan.gridSlices; ++j) {
      const double z = plan.positions[0] + double(j) * plan.spacing;
      while (a + 1 < m && plan.positions[a + 1] <= z + tol) ++a;
      T* to = dst + j * sliceVoxels;
      const T* lo = src + a * sliceVoxels;
      if (std::abs(plan.positions[a] - z) <= tol || a + 1 >= m) {
        std::copy(lo, lo + sliceVoxels, to);
        continue;
      }
      const T* hi = src + (a + 1) * sliceVoxels;
      const double w = (z - plan.positions[a]) / (plan.positions[a + 1] - plan.positions[a]);
      for (int64_t v = 0; v < sliceVoxels; ++v) {
        const double x = (1.0 - w) * double(lo[v]) + w * double(hi[v]);
        if constexpr (std::is_integral_v<T>) to[v] = static_cast<T>(std::lround(x));
        else to[v] = static_cast<T>(x);
      }
    }
    return 0;
  });
  return out;
}

}  // namespace nephro
