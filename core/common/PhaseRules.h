#pragma once
// The phase rules every front end shares (`run`, `--batch`, the workstation),
// so that a step gives the same result wherever it is started:
//  - a model whose input is "any phase" reads the first phase of its order
//    (P, A, D unless its manifest says otherwise) that the study has;
//  - a post-processing step that uses a CT reads the CT of the phase its input
//    layer lives in (the phase whose grid the mask has), never the phase on
//    screen; a layer of unknown phase (a mask opened from a file) takes the
//    phase whose grid it shares, the step's preferred phase first among ties.
#include <string>
#include <vector>

namespace nephro {

// The default order of "any phase" models.
const std::vector<std::string>& defaultAnyPhaseOrder();

// The first phase of `order` in `available`; "" when none is.
std::string anyPhaseChoice(const std::vector<std::string>& order, const std::vector<std::string>& available);

// The phase whose CT a step reads.
//   usesCt:        whether the step uses a CT at all ("" when not)
//   layerPhase:    the phase the input layer lives in; "" when unknown
//   sameGrid:      loaded phases whose grid is the layer's grid (for an unknown phase)
//   preferred:     the step's preferred phase ("A" vessel, "D" ureter, "" any)
//   available:     loaded phases
// Returns "" for no CT: the step does not use one, the layer's phase is not
// loaded, or no loaded phase shares the layer's grid.
std::string stepCtPhase(bool usesCt, const std::string& layerPhase, const std::vector<std::string>& sameGrid,
                        const std::string& preferred, const std::vector<std::string>& available);

}  // namespace nephro
