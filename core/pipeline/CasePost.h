#pragma once
// Post-processing steps on the model outputs of one case (`run --post`,
// `--batch ... --post`). Each step works in the space of one "primary" layer,
// the model output that carries the labels the step is about:
//   fat, sample: the layer with kidney and tumour (else kidney) labels
//   vessel:      the layer with an artery label
//   ureter:      the layer with a ureter label
// Labels of the other layers that the primary lacks (organs, aorta, bladder,
// veins...) are added as context where the primary has background (nearest
// neighbour into the primary's grid), so fat excludes them and reconnection
// finds the aorta and bladder. Kidney and tumour labels come from the primary
// only: two models' kidneys are never mixed. The CT, when the step uses one,
// is the primary's own phase, already in memory (no extra read).
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "pipeline/Case.h"
#include "post/PostSteps.h"

namespace nephro::pipeline {

// A mask of the case: a model output or a post-processing result.
struct CaseLayer {
  std::string id;     // "vessel", "post_fat"
  std::string phase;  // the phase whose grid the mask lives on
  Volume mask;
  LabelTable table;
};

// Index into `tables` of the layer a step works on, or -1 when none carries
// the labels it needs. `tables` are in run order; ties go to the first.
int primaryLayerFor(post::PostStep step, const std::vector<LabelTable>& tables);

// What a step needs, for an error message: "a kidney label (models: tumor, vessel, ureter)".
std::string postStepNeeds(post::PostStep step);

struct PostRunRecord {
  std::string step;
  std::map<std::string, std::string> parameters;
  std::string primary;               // layer id
  std::vector<std::string> context;  // layers that gave context labels
  std::string phase;                 // grid of the result
  std::string ctPhase;               // "" when no CT was used
  std::string output, report, summary;
  double seconds = 0;
};

// Composes the step's input from `layers`, runs it and writes
// outDir/post_<step>.nii.gz (+ label table) and post_<step>_report.json
// together. The result is appended to `layers` (id "post_<step>"), so a later
// step can build on it.
PostRunRecord runPostOnCase(Case& c, std::vector<CaseLayer>& layers, const post::PostStepRequest& request,
                            const std::string& outDir, const Progress& progress = {});

}  // namespace nephro::pipeline
