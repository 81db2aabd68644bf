#pragma once
// Template quick-sample: a template case (kidneys, tumour-free parenchyma,
// renal arteries and veins, ureters) is registered to each patient kidney
// (moment initialisation, then similarity and affine on distance maps) and its
// arteries, veins and ureters are carried into the patient's space. A quick
// approximate mask to show while the slow models run.
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "post/Parameters.h"

namespace nephro::post {

struct SampleParameters {
  // Grid of the distance maps the registration sees. 4 mm is the coarsest that
  // keeps the kidney overlap and the carried structures of the 3 mm grid
  // (bench_post_quality) at half the registration time.
  double workingSpacingMm = 4.0;
  bool affine = true;             // refine the similarity with an affine stage
  int iterations = 60;            // optimiser iterations per level and stage
  double distanceClampMm = 15.0;  // distance maps are clamped to +-this

  static const std::vector<ParameterInfo>& describe();
  bool set(const std::string& key, double value);
  double get(const std::string& key) const;
};

struct TemplateCase {
  Volume labels;     // uint8: kidney_left/right, artery, vein, ureter_left/right
  LabelTable table;
  std::string source;
  // Millimetres to each template kidney over the template grid: a carried voxel
  // belongs to the side of its nearer kidney. loadTemplate fills them once; a
  // sample computes them itself when they are empty.
  Volume distanceToLeftKidney, distanceToRightKidney;
};

// The template shipped in resources/templates/ (or the file at `path`), with its kidney distances.
TemplateCase loadTemplate(const std::string& path = "");
// Path of the shipped template.
std::string defaultTemplatePath();

struct SideRegistration {
  std::string kidney;                  // "kidney_left", "kidney_right" or "kidney"
  double diceBefore = 0.0;             // template kidney vs patient kidney after moment initialisation
  double dice = 0.0;                   // after registration
  std::array<double, 12> transform{};  // patient LPS -> template LPS: 3x3 matrix (row-major), then offset
  double scale = 1.0;                  // similarity scale (template size / patient size)
  int64_t voxelsCarried = 0;
};

struct SampleResult {
  Volume mask;       // the patient mask plus carried arteries, veins, ureters (existing labels kept)
  LabelTable table;  // the patient table plus any carried label it lacked
  std::vector<SideRegistration> sides;
  std::string toJson() const;
};

// The part of a template sample that neither the iterations nor the affine
// stage change: each patient kidney and its template kidney, their moment
// initialisation and the clamped distance maps the registration compares, the
// template's per-side structures and the carried labels' table. Made once per
// input, it makes a change of those two parameters cost only the registration
// and the carrying; a change of the working spacing or the clamp remakes only
// the distance maps (prepareSample from a previous preparation). It holds no
// reference to the mask it was made from (it shares the template's kidney
// distances, which nothing writes).
class PreparedSample {
 public:
  PreparedSample() = default;
  bool empty() const { return !state_; }
  // Whether this preparation serves `parameters`: the same working spacing and distance clamp.
  bool validFor(const SampleParameters& parameters) const;
  struct Kidneys;
  struct State;

 private:
  std::shared_ptr<const Kidneys> kidneys_;
  std::shared_ptr<const State> state_;
  friend PreparedSample prepareSample(const Volume&, const LabelTable&, const TemplateCase&,
                                      const SampleParameters&, const Progress&, const std::string&);
  friend PreparedSample prepareSample(const PreparedSample&, const SampleParameters&, const Progress&);
  friend SampleResult sampleTemplate(const PreparedSample&, const SampleParameters&, const Progress&);
};

// Prepares for `parameters` (and any parameters it is validFor). Same checks
// and errors as sampleTemplate.
PreparedSample prepareSample(const Volume& mask, const LabelTable& table, const TemplateCase& tpl,
                             const SampleParameters& parameters, const Progress& progress = {},
                             const std::string& maskName = "mask");
// The preparation for other working spacing or clamp from the same inputs as
// `previous`, remaking only the distance maps: the same as prepareSample on
// those inputs. Throws a usage error for a spacing or clamp that is not
// positive or whose pad (clamp + 2 spacings) is wider than their ranges allow.
PreparedSample prepareSample(const PreparedSample& previous, const SampleParameters& parameters,
                             const Progress& progress = {});
// The sample from a preparation; the same result as the one-shot call with the
// preparation's inputs. Throws an internal error when !prepared.validFor(parameters).
SampleResult sampleTemplate(const PreparedSample& prepared, const SampleParameters& parameters,
                            const Progress& progress = {});

// Throws an input error naming `maskName` when the mask has no kidney label.
SampleResult sampleTemplate(const Volume& mask, const LabelTable& table, const TemplateCase& tpl,
                            const SampleParameters& parameters, const Progress& progress = {},
                            const std::string& maskName = "mask");

}  // namespace nephro::post
