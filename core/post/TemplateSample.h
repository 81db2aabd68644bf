#pragma once
// Template quick-sample: a template case (kidneys, tumour-free parenchyma,
// renal arteries and veins, ureters) is registered to each patient kidney
// (moment initialisation, then similarity and affine on distance maps) and its
// arteries, veins and ureters are carried into the patient's space. A quick
// approximate mask to show while the slow models run.
#include <array>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "post/Parameters.h"

namespace nephro::post {

struct SampleParameters {
  double workingSpacingMm = 3.0;  // grid of the distance maps the registration sees
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
};

// The template shipped in resources/templates/ (or the file at `path`).
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

// Throws an input error naming `maskName` when the mask has no kidney label.
SampleResult sampleTemplate(const Volume& mask, const LabelTable& table, const TemplateCase& tpl,
                            const SampleParameters& parameters, const Progress& progress = {},
                            const std::string& maskName = "mask");

}  // namespace nephro::post
