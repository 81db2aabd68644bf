#pragma once
// Reviewed cases as an nnU-Net v2 raw dataset, so corrections can train the
// next version of a model. A dataset is made for one model's labels: per case,
// labelsTr/<case>.nii.gz is the newest corrected version of that model's
// output (the output itself when it was never corrected) and
// imagesTr/<case>_<CCCC>.nii.gz are the phases the run fed to the model, in
// its channel order, on the grid of its output (read from the paths the run
// recorded in provenance.json). dataset.json takes channel_names and labels
// from the model's own dataset.json, so the next version trains on the same
// inputs and label values.
#include <string>
#include <vector>

#include "common/Progress.h"

namespace nephro::pipeline {

struct DatasetOptions {
  std::vector<std::string> runs;  // run output folders and/or --batch output folders
  std::string out;                // .../DatasetNNN_Name (must not exist yet)
  std::string model;  // the model whose labels the dataset holds; empty: the one every case ran
  bool approvedOnly = false;  // only approved cases (otherwise all but those marked needs_fix)
};

struct DatasetCase {
  std::string name;                 // case identifier in the dataset
  std::string folder;               // the run output folder it came from
  std::string labels;               // the mask used (model output or a corrected version)
  std::string review;               // "approved", "unreviewed"
  std::vector<std::string> phases;  // per channel
};

struct DatasetReport {
  std::string model;
  std::vector<DatasetCase> cases;
  std::vector<std::string> skipped;  // "case03: marked needs_fix"
  std::string folder;
};

// Writes the dataset into a temporary folder beside `out` and renames it when
// complete. Errors (one line, naming the case or file): a name that is not
// DatasetNNN_Name (usage), an existing output, runs without the model or with
// several models and no --model, a phase file that no longer exists, a mask
// holding a label the model does not have, no case left to write.
DatasetReport writeNnunetDataset(const DatasetOptions& options, const Progress& progress = {});

}  // namespace nephro::pipeline
