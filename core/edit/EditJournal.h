#pragma once
// The journal of an edit session: a JSON list of everything done to the layer
// with every parameter (labels by name and value, geometry in LPS mm), undo,
// redo, locks and added labels included, so that replaying it on the same
// layer gives bit-identical voxels. Format (see README "Editing"):
//   {"format": "nephro3d-edit-journal", "version": 1, "layer": "tumor.nii.gz",
//    "image": "case_P.nii.gz", "grid": {"size": [..], "spacing": [..], "origin": [..],
//    "direction": [..]}, "operations": [{"op": "brush", ...}, {"op": "undo", ...}, ...]}
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/Progress.h"
#include "edit/EditOperations.h"
#include "labels/LabelTable.h"

namespace nephro::edit {

class EditSession;

class EditJournal {
 public:
  void recordOperation(const EditOperation& op, const EditResult& result, const LabelTable& labels,
                       const Geometry& grid);
  void recordUndo(const std::string& stepName);
  void recordRedo(const std::string& stepName);
  void recordLock(int value, const LabelTable& labels, bool locked);
  void recordAddLabel(const LabelEntry& entry);

  const std::vector<nlohmann::json>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  // The whole journal document.
  std::string toJson(const Geometry& grid, const std::string& layerPath,
                     const std::string& imagePath) const;

 private:
  std::vector<nlohmann::json> entries_;
};

// An operation as a journal entry, and back (labels resolved by name through
// `labels`; a name the table lacks, or a value that disagrees, is an input error).
nlohmann::json operationToJson(const EditOperation& op, const LabelTable& labels,
                               const Geometry& grid);
EditOperation operationFromJson(const nlohmann::json& entry, const LabelTable& labels,
                                const Geometry& grid);

struct ReplayReport {
  size_t operations = 0, undos = 0, redos = 0, locks = 0, labelsAdded = 0;
  // Steps whose voxel count differs from the one recorded (the layer was not the journal's).
  std::vector<std::string> warnings;
};

// Replays a journal document on `session` (opened on the layer the journal was
// recorded on). Errors are one line naming `journalName`, the operation number
// and the problem: malformed JSON, another grid, a missing label, a polygon
// outside the volume; an HU range without the session's image is a usage error.
ReplayReport replayJournal(EditSession& session, const std::string& journalText,
                           const std::string& journalName, const Progress& progress = {});

}  // namespace nephro::edit
