#include "pipeline/NnunetDataset.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "edit/CorrectedVersion.h"
#include "edit/ReviewState.h"
#include "image/VolumeIO.h"
#include "labels/LabelTable.h"
#include "pipeline/Case.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace nephro::pipeline {

namespace {

json readJson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path.string(), "cannot be read");
  std::stringstream s;
  s << in.rdbuf();
  try {
    return json::parse(s.str());
  } catch (const json::exception&) {
    throw inputError(path.string(), "is not valid JSON");
  }
}

std::string caseIdentifier(const std::string& name) {
  std::string id = name;
  for (char& c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.') c = '_';
  return id;
}

// A phase file as the run recorded it: as given, else beside the run output.
std::string phaseFile(const json& prov, const std::string& phase, const std::string& caseFolder) {
  const std::string provPath = (fs::path(caseFolder) / "provenance.json").string();
  if (!prov.contains("phases") || !prov["phases"].contains(phase) ||
      !prov["phases"][phase].contains("file"))
    throw inputError(provPath, "does not record the file of phase " + phase);
  const std::string file = prov["phases"][phase]["file"].get<std::string>();
  if (fs::exists(file)) return file;
  const fs::path beside = fs::path(caseFolder) / fs::path(file).filename();
  if (fs::exists(beside)) return beside.string();
  throw inputError(file, "phase " + phase + " of " + provPath + " no longer exists");
}

// What the dataset takes from the model's own dataset.json.
struct ModelDataset {
  json channelNames, labels, regionsClassOrder;
  std::set<int> values;  // label values a mask may hold
  bool fromModel = false;
};

ModelDataset modelDataset(const json& record, const LabelTable& table, size_t channels,
                          const std::string& modelId) {
  ModelDataset m;
  const fs::path file = fs::path(record.value("folder", std::string())) / "dataset.json";
  if (record.contains("folder") && fs::exists(file)) {
    const json ds = readJson(file);
    m.channelNames = ds.value("channel_names", json::object());
    m.labels = ds.value("labels", json::object());
    m.fromModel = true;
    if (ds.contains("regions_class_order")) {
      m.regionsClassOrder = ds["regions_class_order"];
      m.values.insert(0);
      for (const json& v : m.regionsClassOrder) m.values.insert(v.get<int>());
    } else {
      for (const auto& [name, v] : m.labels.items())
        if (v.is_number_integer()) m.values.insert(v.get<int>());
    }
    if (m.channelNames.size() != channels)
      throw modelError(modelId, file.string() + " has " + std::to_string(m.channelNames.size()) +
                                    " channels but the run fed " + std::to_string(channels));
    return m;
  }
  // The model folder is gone: CT channels and the labels of the mask's table.
  for (size_t c = 0; c < channels; ++c) m.channelNames[std::to_string(c)] = "CT";
  m.labels["background"] = 0;
  m.values.insert(0);
  for (const LabelEntry& e : table.entries()) {
    m.labels[e.name] = e.value;
    m.values.insert(e.value);
  }
  return m;
}

struct StagingFolder {
  fs::path path;
  bool keep = false;
  ~StagingFolder() {
    std::error_code ec;
    if (!keep) fs::remove_all(path, ec);
  }
};

}  // namespace

DatasetReport writeNnunetDataset(const DatasetOptions& o, const Progress& progress) {
  const fs::path out = fs::path(o.out).lexically_normal();
  static const std::regex datasetName(R"(Dataset[0-9]{3}_[A-Za-z0-9_\-]+)");
  if (!std::regex_match(out.filename().string(), datasetName))
    throw usageError(
        o.out +
        ": an nnU-Net dataset folder is named DatasetNNN_Name, e.g. Dataset501_KidneyTumor");
  if (fs::exists(out)) throw outputError(o.out, "exists already; choose a new DatasetNNN_Name");
  if (o.runs.empty())
    throw usageError("--runs: give at least one run output or --batch output folder");

  struct Candidate {
    edit::ReviewCase review;
    json provenance;
  };
  std::vector<Candidate> candidates;
  std::set<std::string> seen;
  for (const std::string& run : o.runs)
    for (edit::ReviewCase& rc : edit::listReviewCases(run)) {
      if (!seen.insert(caseIdentifier(rc.name)).second)
        throw inputError(rc.folder, "a second case named " + rc.name +
                                        " (case names must be unique in a dataset)");
      json prov = readJson(fs::path(rc.folder) / "provenance.json");
      candidates.push_back({std::move(rc), std::move(prov)});
    }

  std::string model = o.model;
  if (model.empty()) {
    std::map<std::string, size_t> runsOf;
    for (const Candidate& c : candidates)
      for (const json& m : c.provenance.value("models", json::array()))
        if (m.is_object()) ++runsOf[m.value("id", std::string())];
    std::string all;
    std::vector<std::string> everywhere;
    for (const auto& [id, n] : runsOf) {
      all += (all.empty() ? "" : ", ") + id;
      if (n == candidates.size()) everywhere.push_back(id);
    }
    if (everywhere.size() == 1) model = everywhere.front();
    if (model.empty())
      throw usageError("the cases ran the models " + (all.empty() ? std::string("(none)") : all) +
                       ": choose the one whose labels the dataset holds with --model");
  }

  DatasetReport report;
  report.model = model;
  report.folder = out.string();
  StagingFolder staging{out.parent_path() /
                        ("." + out.filename().string() + ".partial-" + std::to_string(::getpid()))};
  fs::remove_all(staging.path);
  try {
    fs::create_directories(staging.path / "imagesTr");
    fs::create_directories(staging.path / "labelsTr");
  } catch (const fs::filesystem_error&) {
    throw outputError(o.out, "its folder cannot be created");
  }

  ModelDataset md;
  bool haveDataset = false;
  size_t channels = 0;
  json sources = json::array();
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& cand = candidates[i];
    const Progress cp = progress.sub(static_cast<double>(i) / candidates.size(),
                                     static_cast<double>(i + 1) / candidates.size());
    cp.throwIfCancelled();
    const std::string id = caseIdentifier(cand.review.name);
    const json* record = nullptr;
    if (cand.provenance.contains("models") && cand.provenance["models"].is_array())
      for (const json& m : cand.provenance["models"])
        if (m.is_object() && m.value("id", std::string()) == model) record = &m;
    if (!record) {
      report.skipped.push_back(cand.review.name + ": did not run " + model);
      continue;
    }
    const edit::ReviewStatus status = cand.review.review.status;
    if (o.approvedOnly && status != edit::ReviewStatus::Approved) {
      report.skipped.push_back(cand.review.name + ": " + edit::toString(status));
      continue;
    }
    if (status == edit::ReviewStatus::NeedsFix) {
      report.skipped.push_back(cand.review.name + ": marked needs_fix");
      continue;
    }
    const std::vector<std::string> inputs =
        record->value("input_phases", std::vector<std::string>{});
    const std::string outputPhase = record->value("output_phase", std::string());
    if (inputs.empty() || outputPhase.empty())
      throw inputError((fs::path(cand.review.folder) / "provenance.json").string(),
                       "does not record the input phases of " + model);
    const fs::path output =
        fs::path(cand.review.folder) / fs::path(record->value("output", std::string())).filename();
    const std::string labelsPath = edit::latestVersion(output.string());
    if (!fs::exists(labelsPath))
      throw inputError(labelsPath, "the output of " + model + " is missing");
    const LabelTable table =
        LabelTable::hasSidecar(labelsPath) ? LabelTable::readSidecar(labelsPath) : LabelTable();
    if (!haveDataset) {
      channels = inputs.size();
      md = modelDataset(*record, table, channels, model);
      haveDataset = true;
    } else if (inputs.size() != channels) {
      throw inputError(cand.review.folder,
                       "ran " + model + " with " + std::to_string(inputs.size()) +
                           " channels, other cases with " + std::to_string(channels));
    }

    std::map<std::string, std::string> files;
    for (const std::string& ph : inputs)
      files[ph] = phaseFile(cand.provenance, ph, cand.review.folder);
    files[outputPhase] = phaseFile(cand.provenance, outputPhase, cand.review.folder);
    Case c = Case::fromFiles(files, cand.review.name);
    const Volume mask = readVolume(labelsPath, {}, cp.sub(0.0, 0.2));
    const Volume& grid = c.phase(outputPhase, cp.sub(0.2, 0.4));
    if (mask.geometry().size != grid.geometry().size || !mask.geometry().sameGrid(grid.geometry()))
      throw inputError(labelsPath, "is not on the grid of phase " + outputPhase + " (" +
                                       c.file(outputPhase) + ")");
    for (int v : labelValuesPresent(mask))
      if (!md.values.count(v)) {
        const LabelEntry* e = table.find(v);
        throw inputError(labelsPath, "holds label " + std::to_string(v) +
                                         (e ? " (" + e->name + ")" : std::string()) +
                                         ", which model " + model + " does not have");
      }
    DatasetCase dc{id, cand.review.folder, labelsPath, edit::toString(status), inputs};
    for (size_t ch = 0; ch < inputs.size(); ++ch) {
      cp.throwIfCancelled();
      Volume image = c.phaseOnGridOf(
          inputs[ch], outputPhase,
          cp.sub(0.4 + 0.5 * ch / inputs.size(), 0.4 + 0.5 * (ch + 1) / inputs.size()));
      image.setGeometry(mask.geometry());  // the same grid, to the last digit
      char suffix[32];
      std::snprintf(suffix, sizeof suffix, "_%04zu.nii.gz", ch);
      writeVolume(image, (staging.path / "imagesTr" / (id + suffix)).string());
    }
    writeVolume(mask, (staging.path / "labelsTr" / (id + ".nii.gz")).string());
    sources.push_back({{"case", id},
                       {"run", fs::absolute(cand.review.folder).lexically_normal().string()},
                       {"labels", fs::path(labelsPath).filename().string()},
                       {"corrected", edit::parseMaskFileName(labelsPath).version > 0},
                       {"review", dc.review},
                       {"reviewer", cand.review.review.reviewer},
                       {"phases", inputs}});
    report.cases.push_back(std::move(dc));
  }
  if (report.cases.empty()) {
    std::string why;
    for (const auto& s : report.skipped) why += (why.empty() ? "" : "; ") + s;
    throw inputError(o.out,
                     "no case to write (" + (why.empty() ? std::string("no cases") : why) + ")");
  }

  json dataset{{"channel_names", md.channelNames},
               {"labels", md.labels},
               {"numTraining", report.cases.size()},
               {"file_ending", ".nii.gz"},
               {"name", out.filename().string()},
               {"description", "Nephro3D: " + std::to_string(report.cases.size()) +
                                   " reviewed cases for model " + model +
                                   (o.approvedOnly ? " (approved only)" : "")}};
  if (!md.regionsClassOrder.is_null()) dataset["regions_class_order"] = md.regionsClassOrder;
  writeFileAtomically((staging.path / "dataset.json").string(), dataset.dump(2) + "\n");
  writeFileAtomically(
      (staging.path / "nephro3d_sources.json").string(),
      json{{"model", model}, {"model_dataset_json", md.fromModel}, {"cases", sources}}.dump(2) +
          "\n");
  progress.throwIfCancelled();
  std::error_code ec;
  fs::rename(staging.path, out, ec);
  if (ec) throw outputError(o.out, "cannot be created (" + ec.message() + ")");
  staging.keep = true;
  progress.report(1.0, "dataset written");
  return report;
}

}  // namespace nephro::pipeline
