#include "post/TemplateSample.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <sstream>

#include <itkAffineTransform.h>
#include <itkImageRegistrationMethodv4.h>
#include <itkMeanSquaresImageToImageMetricv4.h>
#include <itkRegistrationParameterScalesFromPhysicalShift.h>
#include <itkRegularStepGradientDescentOptimizerv4.h>
#include <itkSimilarity3DTransform.h>
#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/Parallel.h"
#include "common/Resources.h"
#include "image/Crop.h"
#include "image/ItkBridge.h"
#include "image/Resample.h"
#include "image/VolumeIO.h"
#include "post/PostSupport.h"

namespace nephro::post {

using namespace detail;

const std::vector<ParameterInfo>& SampleParameters::describe() {
  static const std::vector<ParameterInfo> list = {
      {"working-spacing-mm", "Working spacing", "Grid of the distance maps the registration compares",
       ParameterKind::Number, 1.0, 6.0, 4.0, 0.5, "mm"},
      {"affine", "Affine refinement", "Refine the similarity registration with an affine stage",
       ParameterKind::Flag, 0.0, 1.0, 1.0, 1.0, ""},
      {"iterations", "Iterations", "Optimiser iterations per resolution level and stage",
       ParameterKind::Integer, 5.0, 300.0, 60.0, 5.0, ""},
      {"distance-clamp-mm", "Distance clamp", "Distance maps are clamped to plus or minus this",
       ParameterKind::Number, 3.0, 50.0, 15.0, 1.0, "mm"},
  };
  return list;
}

bool SampleParameters::set(const std::string& key, double value) {
  if (key == "working-spacing-mm") workingSpacingMm = value;
  else if (key == "affine") affine = value != 0.0;
  else if (key == "iterations") iterations = static_cast<int>(std::lround(value));
  else if (key == "distance-clamp-mm") distanceClampMm = value;
  else return false;
  return true;
}

double SampleParameters::get(const std::string& key) const {
  if (key == "working-spacing-mm") return workingSpacingMm;
  if (key == "affine") return affine ? 1.0 : 0.0;
  if (key == "iterations") return iterations;
  if (key == "distance-clamp-mm") return distanceClampMm;
  throw usageError("unknown sample parameter '" + key + "'");
}

std::string defaultTemplatePath() { return resourceFile("templates/kidney_template.nii.gz"); }

TemplateCase loadTemplate(const std::string& path) {
  TemplateCase t;
  t.source = path.empty() ? defaultTemplatePath() : path;
  t.labels = readVolume(t.source);
  if (!LabelTable::hasSidecar(t.source)) throw inputError(t.source, "template has no label table sidecar (.json)");
  t.table = LabelTable::readSidecar(t.source);
  t.table.checkCovers(t.labels, t.source);
  t.labels = castVolume(t.labels, PixelType::UInt8);
  for (const char* name : {"kidney_left", "kidney_right"})
    if (!t.table.valueOf(name)) throw inputError(t.source, std::string("template lacks the label ") + name);
  t.distanceToLeftKidney = distanceToMm(binaryOf(t.labels, {*t.table.valueOf("kidney_left")}));
  t.distanceToRightKidney = distanceToMm(binaryOf(t.labels, {*t.table.valueOf("kidney_right")}));
  return t;
}

std::string SampleResult::toJson() const {
  nlohmann::json j;
  auto& list = j["sides"] = nlohmann::json::array();
  for (const SideRegistration& s : sides)
    list.push_back({{"kidney", s.kidney},
                    {"diceAfterMoments", s.diceBefore},
                    {"dice", s.dice},
                    {"scale", s.scale},
                    {"patientToTemplate", s.transform},
                    {"voxelsCarried", s.voxelsCarried}});
  return j.dump(2);
}

namespace {

using FloatImage = ItkImage<float>;

struct Affine {
  double m[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
  double t[3] = {0, 0, 0};
  Vec3 apply(const Vec3& p) const {
    return {m[0] * p[0] + m[1] * p[1] + m[2] * p[2] + t[0], m[3] * p[0] + m[4] * p[1] + m[5] * p[2] + t[1],
            m[6] * p[0] + m[7] * p[1] + m[8] * p[2] + t[2]};
  }
  Affine inverse() const {
    Affine r;
    const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                       m[2] * (m[3] * m[7] - m[4] * m[6]);
    const double id = 1.0 / det;
    r.m[0] = (m[4] * m[8] - m[5] * m[7]) * id;
    r.m[1] = (m[2] * m[7] - m[1] * m[8]) * id;
    r.m[2] = (m[1] * m[5] - m[2] * m[4]) * id;
    r.m[3] = (m[5] * m[6] - m[3] * m[8]) * id;
    r.m[4] = (m[0] * m[8] - m[2] * m[6]) * id;
    r.m[5] = (m[2] * m[3] - m[0] * m[5]) * id;
    r.m[6] = (m[3] * m[7] - m[4] * m[6]) * id;
    r.m[7] = (m[1] * m[6] - m[0] * m[7]) * id;
    r.m[8] = (m[0] * m[4] - m[1] * m[3]) * id;
    for (int i = 0; i < 3; ++i) r.t[i] = -(r.m[i * 3] * t[0] + r.m[i * 3 + 1] * t[1] + r.m[i * 3 + 2] * t[2]);
    return r;
  }
};

template <class TTransform>
Affine affineOf(const TTransform* tr) {
  Affine a;
  const auto m = tr->GetMatrix();
  const auto o = tr->GetOffset();
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) a.m[i * 3 + j] = m(i, j);
    a.t[i] = o[i];
  }
  return a;
}

// Index on one grid -> continuous index on another through an affine map of
// physical points: itself affine, so kept as its origin and one step per axis.
struct IndexMap {
  Vec3 origin{};
  Vec3 step[3]{};
  IndexMap(const Geometry& from, const Geometry& to, const Affine& a) {
    auto map = [&](double i, double j, double k) { return to.physicalToIndex(a.apply(from.indexToPhysical({i, j, k}))); };
    origin = map(0, 0, 0);
    for (int d = 0; d < 3; ++d) {
      const Vec3 e = map(d == 0, d == 1, d == 2);
      for (int c = 0; c < 3; ++c) step[d][c] = e[c] - origin[c];
    }
  }
  Vec3 at(int64_t i, int64_t j, int64_t k) const {
    Vec3 q;
    for (int c = 0; c < 3; ++c) q[c] = origin[c] + double(i) * step[0][c] + double(j) * step[1][c] + double(k) * step[2][c];
    return q;
  }
};

// Centroid (LPS) and voxel count of a binary.
std::pair<Vec3, int64_t> centroidOf(const Volume& binary) {
  const Geometry& g = binary.geometry();
  const uint8_t* p = binary.data<uint8_t>();
  double s[3] = {0, 0, 0};
  int64_t n = 0;
  for (int64_t k = 0; k < g.size[2]; ++k)
    for (int64_t j = 0; j < g.size[1]; ++j)
      for (int64_t i = 0; i < g.size[0]; ++i)
        if (p[g.offset(i, j, k)]) {
          s[0] += i;
          s[1] += j;
          s[2] += k;
          ++n;
        }
  if (!n) return {{0, 0, 0}, 0};
  return {g.indexToPhysical({s[0] / n, s[1] / n, s[2] / n}), n};
}

// Distance map of a binary on a working grid, clamped: what the registration compares.
Volume clampedDistance(const Volume& binaryFine, const Geometry& work, double clampMm) {
  // Distances on a grid twice as fine as the working one, then interpolated: a
  // binary taken straight to the coarse grid would shift the surface.
  Vec3 half = work.spacing;
  for (double& s : half) s *= 0.5;
  const Geometry between = workingGrid(binaryFine.geometry(), std::min({half[0], half[1], half[2]}));
  const Volume binary = resampleToGrid(binaryFine, between, Interpolation::Nearest);
  Volume d = resampleToGrid(signedDistanceMm(binary), work, Interpolation::Linear, clampMm);
  float* p = d.data<float>();
  const float c = static_cast<float>(clampMm);
  for (int64_t i = 0; i < d.voxelCount(); ++i) p[i] = std::clamp(p[i], -c, c);
  return d;
}

template <class TTransform>
void runRegistration(const Volume& fixed, const Volume& moving, TTransform* transform, int iterations) {
  using Metric = itk::MeanSquaresImageToImageMetricv4<FloatImage, FloatImage>;
  using Optimizer = itk::RegularStepGradientDescentOptimizerv4<double>;
  using Method = itk::ImageRegistrationMethodv4<FloatImage, FloatImage, TTransform>;
  auto metric = Metric::New();
  auto optimizer = Optimizer::New();
  auto scales = itk::RegistrationParameterScalesFromPhysicalShift<Metric>::New();
  scales->SetMetric(metric);
  optimizer->SetScalesEstimator(scales);
  optimizer->SetLearningRate(2.0);
  optimizer->SetMinimumStepLength(0.01);
  optimizer->SetRelaxationFactor(0.6);
  optimizer->SetNumberOfIterations(static_cast<itk::SizeValueType>(iterations));
  optimizer->SetReturnBestParametersAndValue(true);
  optimizer->SetDoEstimateLearningRateOnce(true);
  auto method = Method::New();
  FloatImage::Pointer f = itkView<float>(fixed);
  FloatImage::Pointer m = itkView<float>(moving);
  method->SetFixedImage(f);
  method->SetMovingImage(m);
  method->SetMetric(metric);
  method->SetOptimizer(optimizer);
  method->SetInitialTransform(transform);
  method->InPlaceOn();
  typename Method::ShrinkFactorsArrayType shrink(2);
  shrink[0] = 2;
  shrink[1] = 1;
  typename Method::SmoothingSigmasArrayType sigmas(2);
  sigmas[0] = 1.0;
  sigmas[1] = 0.0;
  method->SetNumberOfLevels(2);
  method->SetShrinkFactorsPerLevel(shrink);
  method->SetSmoothingSigmasPerLevel(sigmas);
  method->SetSmoothingSigmasAreSpecifiedInPhysicalUnits(false);
  method->Update();
}

// Dice of the patient binary and the template binary pulled through `toTemplate`,
// over the patient's grid around its object.
double diceThrough(const Volume& patientBinary, const Volume& templateBinary, const Affine& toTemplate) {
  const Geometry& g = patientBinary.geometry();
  const Geometry& tg = templateBinary.geometry();
  const uint8_t* p = patientBinary.data<uint8_t>();
  const uint8_t* t = templateBinary.data<uint8_t>();
  std::atomic<int64_t> np{0}, nt{0}, both{0};
  const IndexMap toTemplateIndex(g, tg, toTemplate);
  // Slices in parallel; the counts are integers, so the split does not matter.
  parallelFor(g.size[2], [&](int64_t kb, int64_t ke) {
    int64_t a0 = 0, b0 = 0, ab = 0;
    for (int64_t k = kb; k < ke; ++k)
      for (int64_t j = 0; j < g.size[1]; ++j)
        for (int64_t i = 0; i < g.size[0]; ++i) {
          const Vec3 q = toTemplateIndex.at(i, j, k);
          const int64_t ti = std::llround(q[0]), tj = std::llround(q[1]), tk = std::llround(q[2]);
          const bool a = p[g.offset(i, j, k)] != 0;
          const bool b = tg.contains(ti, tj, tk) && t[tg.offset(ti, tj, tk)] != 0;
          a0 += a;
          b0 += b;
          ab += a && b;
        }
    np += a0;
    nt += b0;
    both += ab;
  });
  return np + nt ? 2.0 * both / double(np + nt) : 0.0;
}

// The widest pad any clamp and working spacing ask for (their slider maxima):
// the kidneys are cut out once with it, and each preparation crops its own pad
// from that.
double widestPadMm() {
  double clamp = 0, spacing = 0;
  for (const ParameterInfo& info : SampleParameters::describe()) {
    if (info.key == "distance-clamp-mm") clamp = info.maximum;
    if (info.key == "working-spacing-mm") spacing = info.maximum;
  }
  return clamp + 2.0 * spacing;
}

double padMmFor(const SampleParameters& p) { return p.distanceClampMm + 2.0 * p.workingSpacingMm; }

}  // namespace

// What a preparation needs that no parameter changes: each patient kidney cut
// out with the widest pad, its template kidney, the moment initialisation, the
// template's structures per side and the result's table. Shared by every
// preparation made from the same inputs.
struct PreparedSample::Kidneys {
  Volume mask;         // the input, copied
  SampleResult empty;  // the result's table, before any side is carried
  Geometry templateGeometry;
  Volume templateLabels;                               // uint8
  Volume templateDistanceLeft, templateDistanceRight;  // mm to each template kidney
  struct Side {
    std::string kidneyName;
    bool left = true;
    Box objectBox;          // mask-grid box the pad grows from
    Box wideBox;            // where `wideBinary` lies in the mask
    Volume wideBinary;      // the patient's kidney, cut out with the widest pad
    int templateKidney = 0;
    Box templateObjectBox;  // template-grid box of the template kidney
    Vec3 patientCentre{}, templateCentre{};
    double scale = 1.0;
    std::vector<int> sideValues;  // template value -> patient value carried on this side (0: none)
    Box carried;                  // template-grid box of those structures
  };
  std::vector<Side> sides;
};

struct PreparedSample::State {
  std::shared_ptr<const Kidneys> kidneys;
  double workingSpacingMm = 0;
  double distanceClampMm = 0;
  struct Side {
    Volume patientBinary;   // the patient's kidney, cut out with this preparation's pad
    Volume templateBinary;  // the template's kidney, likewise
    Volume fixed, moving;   // clamped distance maps on the working grids
    double diceBefore = 0;
  };
  std::vector<Side> sides;  // in the order of kidneys->sides
};

namespace {

// The moment initialisation: centres of mass matched, scaled by the volume ratio.
itk::Similarity3DTransform<double>::Pointer initialSimilarity(const PreparedSample::Kidneys::Side& side) {
  auto similarity = itk::Similarity3DTransform<double>::New();
  itk::Point<double, 3> centre;
  itk::Vector<double, 3> shift;
  for (int d = 0; d < 3; ++d) {
    centre[d] = side.patientCentre[d];
    shift[d] = side.templateCentre[d] - side.patientCentre[d];
  }
  similarity->SetCenter(centre);
  similarity->SetTranslation(shift);
  similarity->SetScale(side.scale);
  return similarity;
}

// The part of `wide` (lying at `wideBox` in some grid) inside `box` of that grid.
Volume subCrop(const Volume& wide, const Box& wideBox, const Box& box) {
  Box local;
  for (int d = 0; d < 3; ++d) {
    local.begin[d] = box.begin[d] - wideBox.begin[d];
    local.end[d] = box.end[d] - wideBox.begin[d];
  }
  return crop(wide, local);
}

}  // namespace

PreparedSample prepareSample(const Volume& mask, const LabelTable& table, const TemplateCase& tpl,
                             const SampleParameters& p, const Progress& progress, const std::string& maskName) {
  requireLabelImage(mask, maskName);
  if (tpl.labels.empty()) throw inputError(tpl.source, "template is empty");
  const std::vector<int> present = labelValuesPresent(mask);
  const Geometry& mg = mask.geometry();
  const double widePadMm = widestPadMm();
  progress.report(0.0, "template sample: preparing");

  // The patient's kidneys, each with the template kidney it is matched to.
  auto kid = std::make_shared<PreparedSample::Kidneys>();
  for (const char* name : {"kidney_left", "kidney_right"}) {
    auto v = table.valueOf(name);
    if (!v || std::find(present.begin(), present.end(), *v) == present.end()) continue;
    PreparedSample::Kidneys::Side s;
    s.kidneyName = name;
    s.objectBox = boundingBox(mask, {*v});
    s.wideBox = padBoxMm(s.objectBox, widePadMm, mg);
    s.wideBinary = binaryOf(crop(mask, s.wideBox), {*v});
    kid->sides.push_back(std::move(s));
  }
  if (kid->sides.empty()) {
    // A kidney label without sides: its two largest parts, the one further to
    // the patient's left (larger L coordinate) is the left kidney.
    auto v = table.valueOf("kidney");
    if (v && std::find(present.begin(), present.end(), *v) != present.end()) {
      const Box object = boundingBox(mask, {*v});
      const Box whole = padBoxMm(object, widePadMm, mg);
      const Volume b = binaryOf(crop(mask, whole), {*v});
      int count = 0;
      const Volume cc = connectedComponents(b, &count);
      std::vector<std::pair<double, int>> parts;
      auto partOf = [&](int c) {
        Volume part = b.like(PixelType::UInt8);
        const int32_t* pc = cc.data<int32_t>();
        uint8_t* pp = part.data<uint8_t>();
        for (int64_t i = 0; i < part.voxelCount(); ++i) pp[i] = pc[i] == c;
        return part;
      };
      for (int c = 1; c <= std::min(count, 2); ++c) parts.push_back({centroidOf(partOf(c)).first[0], c});
      std::sort(parts.begin(), parts.end());
      for (size_t q = 0; q < parts.size(); ++q) {
        PreparedSample::Kidneys::Side s;
        s.kidneyName = (parts.size() == 1 || q == parts.size() - 1) ? "kidney_left" : "kidney_right";
        if (parts.size() == 1) s.kidneyName = centroidOf(b).first[0] > 0 ? "kidney_left" : "kidney_right";
        s.objectBox = object;
        s.wideBox = whole;
        s.wideBinary = partOf(parts[q].second);
        kid->sides.push_back(std::move(s));
      }
    }
  }
  if (kid->sides.empty())
    throw inputError(maskName, "has no kidney label (kidney_left, kidney_right or kidney): the template sample needs one");

  // Template structures per side: each vessel voxel belongs to its nearer template kidney.
  const Volume& tl = tpl.labels;
  const int tKL = *tpl.table.valueOf("kidney_left"), tKR = *tpl.table.valueOf("kidney_right");
  const bool haveDistances = tpl.distanceToLeftKidney.geometry() == tl.geometry() &&
                             tpl.distanceToRightKidney.geometry() == tl.geometry();
  kid->templateDistanceLeft = haveDistances ? tpl.distanceToLeftKidney : distanceToMm(binaryOf(tl, {tKL}));
  kid->templateDistanceRight = haveDistances ? tpl.distanceToRightKidney : distanceToMm(binaryOf(tl, {tKR}));
  kid->mask = mask.clone();
  SampleResult& result = kid->empty;
  result.table = table;
  std::map<int, int> patientValueOf;  // template value -> patient value
  for (const LabelEntry& e : tpl.table.entries()) {
    if (e.name.rfind("kidney", 0) == 0) continue;
    int value;
    if (auto existing = result.table.valueOf(e.name)) {
      value = *existing;
    } else {
      LabelEntry ne = LabelTable::schemaEntry(e.name, 0);
      auto schemaValue = LabelTable::caseSchema().valueOf(e.name);
      value = (schemaValue && !result.table.find(*schemaValue)) ? *schemaValue : result.table.maxValue() + 1;
      ne.value = value;
      result.table.set(ne);
    }
    patientValueOf[e.value] = value;
  }
  kid->templateGeometry = tl.geometry();
  kid->templateLabels = tl.clone();

  // The sides are independent: each in its own thread.
  parallelFor(static_cast<int64_t>(kid->sides.size()), [&](int64_t sb, int64_t se) {
    for (int64_t si = sb; si < se; ++si) {
      PreparedSample::Kidneys::Side& ks = kid->sides[si];
      ks.left = ks.kidneyName == "kidney_left";
      ks.templateKidney = ks.left ? tKL : tKR;
      ks.templateObjectBox = boundingBox(tl, {ks.templateKidney});

      // Moment initialisation: centres of mass and the volume ratio.
      const Volume templateBinary = binaryOf(crop(tl, ks.templateObjectBox), {ks.templateKidney});
      const auto [pc, pn] = centroidOf(ks.wideBinary);
      const auto [tc, tn] = centroidOf(templateBinary);
      ks.patientCentre = pc;
      ks.templateCentre = tc;
      const double pVol = pn * ks.wideBinary.geometry().voxelVolumeMm3();
      const double tVol = tn * templateBinary.geometry().voxelVolumeMm3();
      ks.scale = std::cbrt(tVol / std::max(pVol, 1e-9));
      progress.throwIfCancelled();

      // This side's template structures and the box they lie in.
      const Geometry& tg = tl.geometry();
      const uint8_t* tp = tl.data<uint8_t>();
      const float* dl = kid->templateDistanceLeft.data<float>();
      const float* dr = kid->templateDistanceRight.data<float>();
      ks.sideValues.assign(256, 0);
      for (const auto& [tv, pv] : patientValueOf) {
        const LabelEntry* e = tpl.table.find(tv);
        const bool otherSide = e && e->name.size() > 5 &&
                               (ks.left ? e->name.find("_right") != std::string::npos : e->name.find("_left") != std::string::npos);
        if (!otherSide && tv >= 0 && tv < 256) ks.sideValues[tv] = pv;
      }
      Box carried{{tg.size[0], tg.size[1], tg.size[2]}, {0, 0, 0}};
      for (int64_t k = 0; k < tg.size[2]; ++k)
        for (int64_t j = 0; j < tg.size[1]; ++j)
          for (int64_t i = 0; i < tg.size[0]; ++i) {
            const int64_t o = tg.offset(i, j, k);
            if (!ks.sideValues[tp[o]] || (ks.left ? dl[o] > dr[o] : dr[o] > dl[o])) continue;
            const int64_t idx[3] = {i, j, k};
            for (int d = 0; d < 3; ++d) {
              carried.begin[d] = std::min(carried.begin[d], idx[d]);
              carried.end[d] = std::max(carried.end[d], idx[d] + 1);
            }
          }
      ks.carried = carried;
    }
  }, static_cast<unsigned>(kid->sides.size()));

  PreparedSample kidneysOnly;
  kidneysOnly.kidneys_ = std::move(kid);
  return prepareSample(kidneysOnly, p, progress.sub(0.4, 1.0));
}

PreparedSample prepareSample(const PreparedSample& previous, const SampleParameters& p, const Progress& progress) {
  if (!previous.kidneys_) throw Error(ErrorKind::Internal, "template sample: no preparation to start from");
  if (!(p.workingSpacingMm > 0) || !(p.distanceClampMm > 0) || padMmFor(p) > widestPadMm()) {
    std::ostringstream msg;
    msg << "template sample: working spacing " << p.workingSpacingMm << " mm and distance clamp " << p.distanceClampMm
        << " mm must be positive, with clamp + 2 spacings at most " << widestPadMm() << " mm";
    throw usageError(msg.str());
  }
  const PreparedSample::Kidneys& kid = *previous.kidneys_;
  auto st = std::make_shared<PreparedSample::State>();
  st->kidneys = previous.kidneys_;
  st->workingSpacingMm = p.workingSpacingMm;
  st->distanceClampMm = p.distanceClampMm;
  st->sides.resize(kid.sides.size());
  const double padMm = padMmFor(p);
  progress.report(0.0, "template sample: distance maps");
  // Each side's kidneys with this pad, and the clamped distance maps the registration compares.
  parallelFor(static_cast<int64_t>(kid.sides.size()), [&](int64_t sb, int64_t se) {
    for (int64_t si = sb; si < se; ++si) {
      const PreparedSample::Kidneys::Side& ks = kid.sides[si];
      PreparedSample::State::Side& ps = st->sides[si];
      ps.patientBinary = subCrop(ks.wideBinary, ks.wideBox, padBoxMm(ks.objectBox, padMm, kid.mask.geometry()));
      ps.templateBinary = binaryOf(crop(kid.templateLabels, padBoxMm(ks.templateObjectBox, padMm, kid.templateGeometry)),
                                   {ks.templateKidney});
      const Geometry fixedGrid = workingGrid(ps.patientBinary.geometry(), p.workingSpacingMm);
      const Geometry movingGrid = workingGrid(ps.templateBinary.geometry(), p.workingSpacingMm);
      ps.fixed = clampedDistance(ps.patientBinary, fixedGrid, p.distanceClampMm);
      progress.throwIfCancelled();
      ps.moving = clampedDistance(ps.templateBinary, movingGrid, p.distanceClampMm);
      ps.diceBefore = diceThrough(ps.patientBinary, ps.templateBinary, affineOf(initialSimilarity(ks).GetPointer()));
      progress.throwIfCancelled();
    }
  }, static_cast<unsigned>(kid.sides.size()));
  progress.report(1.0, "template sample: prepared");
  PreparedSample prepared;
  prepared.kidneys_ = previous.kidneys_;
  prepared.state_ = std::move(st);
  return prepared;
}

bool PreparedSample::validFor(const SampleParameters& p) const {
  return state_ && state_->workingSpacingMm == p.workingSpacingMm && state_->distanceClampMm == p.distanceClampMm;
}

SampleResult sampleTemplate(const PreparedSample& prepared, const SampleParameters& p, const Progress& progress) {
  if (!prepared.validFor(p))
    throw Error(ErrorKind::Internal, "template sample prepared for other parameters (spacing or clamp)");
  const PreparedSample::State& st = *prepared.state_;
  const PreparedSample::Kidneys& kid = *st.kidneys;
  SampleResult result = kid.empty;
  result.mask = kid.mask.clone();
  const Geometry& mg = kid.mask.geometry();
  const Geometry& tg = kid.templateGeometry;
  const uint8_t* tp = kid.templateLabels.data<uint8_t>();
  const float* dl = kid.templateDistanceLeft.data<float>();
  const float* dr = kid.templateDistanceRight.data<float>();
  // The sides register independently, each in its own thread; they are
  // carried afterwards in order, since a voxel already carried is kept.
  std::vector<SideRegistration> regs(st.sides.size());
  std::vector<Affine> toTemplates(st.sides.size());
  progress.report(0.0, "template sample: registering");
  parallelFor(static_cast<int64_t>(st.sides.size()), [&](int64_t sb, int64_t se) {
    for (int64_t si = sb; si < se; ++si) {
      const PreparedSample::State::Side& side = st.sides[si];
      auto similarity = initialSimilarity(kid.sides[si]);
      SideRegistration& reg = regs[si];
      reg.kidney = kid.sides[si].kidneyName;
      reg.diceBefore = side.diceBefore;
      progress.throwIfCancelled();
      runRegistration(side.fixed, side.moving, similarity.GetPointer(), p.iterations);
      Affine toTemplate = affineOf(similarity.GetPointer());
      reg.scale = similarity->GetScale();
      progress.throwIfCancelled();
      if (p.affine) {
        auto affine = itk::AffineTransform<double, 3>::New();
        affine->SetCenter(similarity->GetCenter());
        affine->SetMatrix(similarity->GetMatrix());
        affine->SetTranslation(similarity->GetTranslation());
        runRegistration(side.fixed, side.moving, affine.GetPointer(), p.iterations);
        toTemplate = affineOf(affine.GetPointer());
      }
      reg.dice = diceThrough(side.patientBinary, side.templateBinary, toTemplate);
      for (int i = 0; i < 9; ++i) reg.transform[i] = toTemplate.m[i];
      for (int i = 0; i < 3; ++i) reg.transform[9 + i] = toTemplate.t[i];
      toTemplates[si] = toTemplate;
    }
  }, static_cast<unsigned>(st.sides.size()));
  progress.report(0.7, "template sample: carrying");
  progress.throwIfCancelled();

  for (size_t si = 0; si < st.sides.size(); ++si) {
    const PreparedSample::Kidneys::Side& side = kid.sides[si];
    const bool left = side.left;
    SideRegistration reg = regs[si];
    const Affine& toTemplate = toTemplates[si];
    // Carry this side's structures: pull every patient voxel of their box from the template.
    const std::vector<int>& sideValues = side.sideValues;
    const Box& carried = side.carried;
    if (carried.empty()) {
      result.sides.push_back(reg);
      continue;
    }
    const Affine toPatient = toTemplate.inverse();
    Vec3 lo{1e300, 1e300, 1e300}, hi{-1e300, -1e300, -1e300};
    for (int corner = 0; corner < 8; ++corner) {
      const Vec3 ijk{(corner & 1) ? carried.end[0] - 0.5 : carried.begin[0] - 0.5,
                     (corner & 2) ? carried.end[1] - 0.5 : carried.begin[1] - 0.5,
                     (corner & 4) ? carried.end[2] - 0.5 : carried.begin[2] - 0.5};
      const Vec3 q = mg.physicalToIndex(toPatient.apply(tg.indexToPhysical(ijk)));
      for (int d = 0; d < 3; ++d) {
        lo[d] = std::min(lo[d], q[d]);
        hi[d] = std::max(hi[d], q[d]);
      }
    }
    Box pb;
    for (int d = 0; d < 3; ++d) {
      pb.begin[d] = std::clamp<int64_t>(static_cast<int64_t>(std::floor(lo[d])), 0, mg.size[d]);
      pb.end[d] = std::clamp<int64_t>(static_cast<int64_t>(std::ceil(hi[d])) + 1, 0, mg.size[d]);
    }
    if (pb.empty()) {
      result.sides.push_back(reg);
      continue;
    }
    const IndexMap toTemplateIndex(mg, tg, toTemplate);
    // Slices in parallel: each voxel is pulled on its own.
    std::atomic<int64_t> carriedVoxels{0};
    dispatchPixelType(result.mask.pixelType(), [&](auto tag) {
      using T = decltype(tag);
      T* out = static_cast<T*>(result.mask.raw());
      parallelFor(pb.end[2] - pb.begin[2], [&](int64_t kb, int64_t ke) {
        int64_t n = 0;
        for (int64_t k = pb.begin[2] + kb; k < pb.begin[2] + ke; ++k)
          for (int64_t j = pb.begin[1]; j < pb.end[1]; ++j)
            for (int64_t i = pb.begin[0]; i < pb.end[0]; ++i) {
              const int64_t o = mg.offset(i, j, k);
              if (out[o] != T(0)) continue;
              const Vec3 q = toTemplateIndex.at(i, j, k);
              const int64_t ti = std::llround(q[0]), tj = std::llround(q[1]), tk = std::llround(q[2]);
              if (!tg.contains(ti, tj, tk)) continue;
              const int64_t to = tg.offset(ti, tj, tk);
              const int pv = sideValues[tp[to]];
              if (!pv || (left ? dl[to] > dr[to] : dr[to] > dl[to])) continue;
              out[o] = static_cast<T>(pv);
              ++n;
            }
        carriedVoxels += n;
      });
      return 0;
    });
    reg.voxelsCarried = carriedVoxels.load();
    result.sides.push_back(reg);
  }
  progress.report(1.0, "template sample: done");
  return result;
}

SampleResult sampleTemplate(const Volume& mask, const LabelTable& table, const TemplateCase& tpl,
                            const SampleParameters& p, const Progress& progress, const std::string& maskName) {
  const PreparedSample prepared = prepareSample(mask, table, tpl, p, progress.sub(0.0, 0.3), maskName);
  return sampleTemplate(prepared, p, progress.sub(0.3, 1.0));
}

}  // namespace nephro::post
