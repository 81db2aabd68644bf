#include "cli/CaseStepOptions.h"

#include <CLI/CLI.hpp>

#include "common/Error.h"

namespace nephro::cli {

void CaseStepOptions::addTo(CLI::App* app, CLI::Option* needs) {
  std::vector<CLI::Option*> added{
      app->add_option("--post", post, "Post-processing steps after the models, comma-separated: fat, sample, vessel, ureter"),
      app->add_option("--post-param", postParams,
                      "A post-processing parameter as STEP.KEY=VALUE (e.g. fat.distance-mm=25); repeatable")
          ->type_name("STEP.KEY=VALUE"),
      app->add_flag("--mesh", mesh, "Also write meshes of every mask in OUT/meshes/<layer>/"),
      app->add_option("--mesh-formats", meshFormats, "Mesh formats with --mesh: obj, stl, ply, vtp, glb (default obj)"),
      app->add_option("--space", space, "Mesh coordinates with --mesh: LPS (default) or RAS")};
  if (needs)
    for (CLI::Option* o : added) o->needs(needs);
}

pipeline::CaseSteps CaseStepOptions::steps() const {
  pipeline::CaseSteps s;
  if (!postParams.empty() && post.empty()) throw usageError("--post-param needs --post");
  s.post = post::parsePostSteps(post, postParams);
  s.mesh = mesh;
  s.meshFormats = parseMeshFormats(meshFormats);
  s.meshSpace = parseCoordinateSpace(space);
  return s;
}

}  // namespace nephro::cli
