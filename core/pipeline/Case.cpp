#include "pipeline/Case.h"

#include <algorithm>
#include <filesystem>

#include "common/Error.h"
#include "image/Resample.h"
#include "image/VolumeIO.h"

namespace fs = std::filesystem;

namespace nephro::pipeline {
namespace {

const char* kPhaseOrder[] = {"A", "P", "D"};

std::string stripImageExtension(const std::string& name) {
  for (const char* ext : {".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
    const std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return {};
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string phaseOfFileName(const std::string& fileName) { return phaseOfFolderName(stripImageExtension(fileName)); }

std::string phaseOfFolderName(const std::string& stem) {
  if (stem.empty()) return {};
  for (const char* p : kPhaseOrder) {
    const std::string phase(p);
    if (stem == phase || endsWith(stem, "_" + phase)) return phase;
  }
  static const std::pair<const char*, const char*> nnunet[] = {{"_0000", "A"}, {"_0001", "P"}, {"_0002", "D"}};
  for (const auto& [suffix, phase] : nnunet)
    if (endsWith(stem, suffix)) return phase;
  return {};
}

Case Case::fromFolder(const std::string& folder) {
  if (!fs::is_directory(folder)) throw inputError(folder, "is not a case folder");
  std::vector<fs::path> files;
  std::error_code ec;
  std::vector<fs::path> folders;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    if (entry.path().filename().string().rfind('.', 0) == 0) continue;
    if (entry.is_regular_file()) files.push_back(entry.path());
    else if (entry.is_directory()) folders.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::sort(folders.begin(), folders.end());
  std::map<std::string, std::string> phases;
  for (const auto& f : files) {
    const std::string phase = phaseOfFileName(f.filename().string());
    if (!phase.empty() && !phases.count(phase)) phases[phase] = f.string();
  }
  // DICOM series folders for the phases no image file gave.
  for (const auto& f : folders) {
    const std::string phase = phaseOfFolderName(f.filename().string());
    if (!phase.empty() && !phases.count(phase)) phases[phase] = f.string();
  }
  if (phases.empty())
    throw inputError(folder,
                     "holds no phase image (expected *_A/_P/_D or *_0000/_0001/_0002 with an image extension, or "
                     "DICOM folders named so)");
  return fromFiles(phases, fs::path(folder).filename().string());
}

Case Case::fromFiles(const std::map<std::string, std::string>& phaseFiles, const std::string& name) {
  Case c;
  c.name_ = name;
  for (const auto& [phase, path] : phaseFiles) {
    if (phase != "A" && phase != "P" && phase != "D") throw usageError("unknown phase '" + phase + "' (A, P or D)");
    if (!fs::is_regular_file(path) && !fs::is_directory(path)) throw inputError(path, "does not exist");
    c.files_[phase] = path;
  }
  if (c.name_.empty() && !phaseFiles.empty()) c.name_ = fs::path(phaseFiles.begin()->second).filename().string();
  return c;
}

std::vector<std::string> Case::phases() const {
  std::vector<std::string> out;
  for (const char* p : kPhaseOrder)
    if (files_.count(p)) out.push_back(p);
  return out;
}

const std::string& Case::file(const std::string& phase) const {
  auto it = files_.find(phase);
  if (it == files_.end()) throw inputError(name_, "has no phase " + phase);
  return it->second;
}

const Volume& Case::phase(const std::string& phase, const Progress& progress) {
  auto it = loaded_.find(phase);
  if (it != loaded_.end()) return it->second;
  const std::string& path = file(phase);
  ReadOptions options;
  options.allowGaps = allowGaps_;
  std::vector<std::string> notes;
  options.notes = &notes;
  Volume v = readVolume(path, options, progress);
  ++reads_[phase];
  if (!notes.empty()) notes_[phase] = std::move(notes);
  return loaded_.emplace(phase, std::move(v)).first->second;
}

const Volume& Case::phaseOnGridOf(const std::string& phaseName, const std::string& reference, const Progress& progress) {
  if (phaseName == reference) return phase(phaseName, progress);
  const std::string key = phaseName + "@" + reference;
  auto it = resampled_.find(key);
  if (it != resampled_.end()) return it->second;
  const Volume& ref = phase(reference, progress.sub(0.0, 0.4));
  const Volume& src = phase(phaseName, progress.sub(0.4, 0.8));
  if (!gridsOverlap(src.geometry(), ref.geometry()))
    throw inputError(file(phaseName), "phase " + phaseName + " does not overlap phase " + reference + " (" + file(reference) +
                                          ") in space");
  Volume out;
  if (src.geometry().size == ref.geometry().size && src.geometry().sameGrid(ref.geometry()))
    out = src;
  else
    out = resampleToGrid(src, ref.geometry(), Interpolation::Linear, src.range().first);
  progress.report(1.0, "resample " + phaseName + " into " + reference);
  return resampled_.emplace(key, std::move(out)).first->second;
}

std::vector<std::string> Case::phaseNotes(const std::string& phase) const {
  auto it = notes_.find(phase);
  return it == notes_.end() ? std::vector<std::string>{} : it->second;
}

int Case::readCount(const std::string& phase) const {
  auto it = reads_.find(phase);
  return it == reads_.end() ? 0 : it->second;
}

}  // namespace nephro::pipeline
