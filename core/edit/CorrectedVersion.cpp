#include "edit/CorrectedVersion.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "edit/ReviewState.h"
#include "image/VolumeIO.h"
#include "labels/SegNrrd.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace nephro::edit {

namespace {

const char* const kExtensions[] = {".seg.nrrd", ".nii.gz", ".nii", ".nrrd",
                                   ".nhdr",     ".mha",    ".mhd"};

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "tumor.corrected-3.nii.gz" -> "tumor.corrected-3"
std::string withoutExtension(const std::string& path) {
  for (const char* e : kExtensions)
    if (endsWith(path, e)) return path.substr(0, path.size() - std::string(e).size());
  return path;
}

}  // namespace

MaskFileName parseMaskFileName(const std::string& path) {
  MaskFileName n;
  const fs::path p(path);
  n.folder = p.parent_path().string();
  std::string file = p.filename().string();
  for (const char* e : kExtensions)
    if (endsWith(file, e)) {
      n.extension = e;
      file = file.substr(0, file.size() - n.extension.size());
      break;
    }
  static const std::regex version(R"((.+)\.corrected-([0-9]{1,6}))");
  std::smatch m;
  if (std::regex_match(file, m, version)) {
    n.stem = m[1];
    n.version = std::stoi(m[2]);
  } else {
    n.stem = file;
  }
  return n;
}

std::string correctedVersionPath(const MaskFileName& name, int version) {
  const std::string file =
      name.stem + (version > 0 ? ".corrected-" + std::to_string(version) : "") + name.extension;
  return (fs::path(name.folder) / file).string();
}

std::vector<std::string> correctedVersions(const std::string& maskPath) {
  const MaskFileName n = parseMaskFileName(maskPath);
  const fs::path folder = n.folder.empty() ? fs::path(".") : fs::path(n.folder);
  std::vector<std::pair<int, std::string>> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    const MaskFileName other = parseMaskFileName(entry.path().string());
    if (other.version > 0 && other.stem == n.stem && other.extension == n.extension)
      found.emplace_back(other.version, correctedVersionPath(n, other.version));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::string latestVersion(const std::string& maskPath) {
  const auto versions = correctedVersions(maskPath);
  return versions.empty() ? correctedVersionPath(parseMaskFileName(maskPath), 0) : versions.back();
}

std::string provenancePathOf(const std::string& maskPath) {
  return withoutExtension(maskPath) + ".provenance.json";
}

SavedCorrection saveCorrection(const EditSession& session, const std::string& basePath,
                               const CorrectionInfo& info, const Volume* base) {
  const MaskFileName name = parseMaskFileName(basePath);
  if (name.extension.empty())
    throw usageError(basePath + ": not a mask file name (.nii.gz, .nii, .nrrd, .mha, .seg.nrrd)");
  Volume original;
  if (base) {
    original = *base;
  } else {
    original = toLabelLayer(readVolume(basePath), basePath);
  }
  const Volume& layer = session.layer();
  if (original.geometry() != layer.geometry())
    throw inputError(basePath, "is on the grid " + original.geometry().describe() +
                                   ", not the edited layer's " + layer.geometry().describe());

  // Voxels added and removed per label: one pass over both layers.
  std::map<int, LabelChange> byValue;
  SavedCorrection saved;
  auto countDiff = [&](auto a, auto b) {
    using A = decltype(a);
    using B = decltype(b);
    const A* pa = static_cast<const A*>(original.raw());
    const B* pb = static_cast<const B*>(layer.raw());
    for (int64_t o = 0, n = layer.voxelCount(); o < n; ++o)
      if (static_cast<int>(pa[o]) != static_cast<int>(pb[o])) {
        ++byValue[pa[o]].removed;
        ++byValue[pb[o]].added;
        ++saved.voxelsChanged;
      }
  };
  const bool a8 = original.pixelType() == PixelType::UInt8,
             b8 = layer.pixelType() == PixelType::UInt8;
  if (a8 && b8)
    countDiff(uint8_t{}, uint8_t{});
  else if (a8)
    countDiff(uint8_t{}, uint16_t{});
  else if (b8)
    countDiff(uint16_t{}, uint8_t{});
  else
    countDiff(uint16_t{}, uint16_t{});

  const double mlPerVoxel = layer.geometry().voxelVolumeMm3() / 1000.0;
  json labels = json::object();
  for (auto& [value, c] : byValue) {
    if (value == 0) continue;
    c.value = value;
    c.after = session.voxelCount(value);
    c.before = c.after - c.added + c.removed;
    c.changeMl = static_cast<double>(c.after - c.before) * mlPerVoxel;
    const std::string labelName = session.labelName(value);
    saved.changes[labelName] = c;
    labels[labelName] = {{"value", value},          {"voxels_before", c.before},
                         {"voxels_after", c.after}, {"added", c.added},
                         {"removed", c.removed},    {"change_ml", c.changeMl}};
  }

  // The next free version number beside the model output.
  const auto existing = correctedVersions(basePath);
  saved.version = existing.empty() ? 1 : parseMaskFileName(existing.back()).version + 1;
  saved.maskPath = correctedVersionPath(name, saved.version);
  saved.tablePath = LabelTable::sidecarPath(saved.maskPath);
  saved.journalPath = withoutExtension(saved.maskPath) + ".journal.json";
  saved.provenancePath = provenancePathOf(saved.maskPath);

  size_t steps = 0;
  for (const json& e : session.journal().entries()) {
    const std::string op = e.value("op", std::string());
    if (op != "undo" && op != "redo" && op != "lock" && op != "unlock" && op != "add_label")
      ++steps;
  }
  const json prov{{"format", "nephro3d-correction"},
                  {"version", 1},
                  {"corrects", fs::path(correctedVersionPath(name, 0)).filename().string()},
                  {"base", fs::path(basePath).filename().string()},
                  {"correction", saved.version},
                  {"reviewer", info.reviewer},
                  {"time", info.time.empty() ? utcNow() : info.time},
                  {"journal", fs::path(saved.journalPath).filename().string()},
                  {"journal_entries", session.journal().size()},
                  {"edit_steps", steps},
                  {"voxels_changed", saved.voxelsChanged},
                  {"labels", labels}};

  OutputTransaction tx;
  const std::string maskTemp = tx.stage(saved.maskPath);
  if (name.extension == ".seg.nrrd") {
    writeSegNrrd(layer, session.labels(), maskTemp);
  } else {
    writeVolumeTo(layer, maskTemp);
  }
  const auto writeText = [&](const std::string& finalPath, const std::string& text) {
    const std::string temp = tx.stage(finalPath);
    std::ofstream out(temp, std::ios::binary);
    out << text;
    out.close();
    if (!out) throw outputError(finalPath, "cannot be written");
  };
  if (name.extension != ".seg.nrrd") writeText(saved.tablePath, session.labels().toJson());
  writeText(saved.journalPath, session.journalJson());
  writeText(saved.provenancePath, prov.dump(2) + "\n");
  tx.commit();
  if (name.extension == ".seg.nrrd") saved.tablePath.clear();
  return saved;
}

CorrectionProvenance readCorrectionProvenance(const std::string& maskPath) {
  CorrectionProvenance p;
  const std::string path = provenancePathOf(maskPath);
  if (!fs::exists(path)) return p;
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  json j;
  try {
    j = json::parse(text.str());
  } catch (const json::exception&) {
    throw inputError(path, "is not valid JSON");
  }
  if (!j.is_object() || j.value("format", std::string()) != "nephro3d-correction") return p;
  p.corrected = true;
  p.reviewer = j.value("reviewer", std::string());
  p.time = j.value("time", std::string());
  p.corrects = j.value("corrects", std::string());
  return p;
}

}  // namespace nephro::edit
