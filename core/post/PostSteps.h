#pragma once
// The four post-processing steps behind one call, for the command line, the
// case pipeline (`run --post`, `--batch`) and anything else that names a step
// and its parameters as text: "fat" with {"distance-mm": "25"}.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/Progress.h"
#include "image/Volume.h"
#include "labels/LabelTable.h"
#include "post/Parameters.h"

namespace nephro::post {

enum class PostStep { Fat, Sample, Vessel, Ureter };

std::string postStepId(PostStep step);  // "fat", "sample", "vessel", "ureter"
std::optional<PostStep> postStepFromId(const std::string& id);
const std::vector<ParameterInfo>& postStepParameters(PostStep step);
// The phase whose CT refines the step ("A" vessel, "D" ureter, "" any); sample uses none.
bool postStepUsesCt(PostStep step);
std::string postStepPreferredPhase(PostStep step);

struct PostStepRequest {
  PostStep step = PostStep::Fat;
  std::map<std::string, std::string> values;  // parameter key -> text as given
  std::string templatePath;                   // sample only; empty: the shipped template
};

// Checks every value against the step's description (known key, a number, in
// range, whole where it must be); throws a usage error naming `optionPrefix` + key.
void checkPostValues(const PostStepRequest& request, const std::string& optionPrefix = "--");

// Step lists ("fat,vessel") and settings ("fat.distance-mm=25") -> requests in
// the order first named; throws a usage error for an unknown step or key, a
// setting for a step not listed, or a value out of range.
std::vector<PostStepRequest> parsePostSteps(const std::vector<std::string>& stepLists,
                                            const std::vector<std::string>& settings);

struct PostStepOutcome {
  Volume mask;             // on the input mask's grid
  LabelTable table;
  std::string reportJson;  // what the step reports (limits, registrations, bridges)
  std::string summary;     // one line
};

// Runs one step on `mask` (with `ct`, optional, on the same grid; ignored by sample).
PostStepOutcome runPostStep(const PostStepRequest& request, const Volume& mask, const LabelTable& table,
                            const Volume* ct, const Progress& progress = {}, const std::string& maskName = "mask",
                            const std::string& ctName = "image");

}  // namespace nephro::post
