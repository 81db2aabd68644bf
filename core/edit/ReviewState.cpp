#include "edit/ReviewState.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "edit/CorrectedVersion.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace nephro::edit {

namespace {

json entryJson(const ReviewEntry& e) {
  return {{"status", toString(e.status)},
          {"comment", e.comment},
          {"reviewer", e.reviewer},
          {"time", e.time}};
}

ReviewEntry entryFrom(const json& j, const std::string& path) {
  ReviewEntry e;
  const std::string status = j.value("status", std::string("unreviewed"));
  const auto parsed = parseReviewStatus(status);
  if (!parsed) throw inputError(path, "unknown review status '" + status + "'");
  e.status = *parsed;
  e.comment = j.value("comment", std::string());
  e.reviewer = j.value("reviewer", std::string());
  e.time = j.value("time", std::string());
  return e;
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "cannot be read");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Mask files a run recorded in its provenance, as paths inside `folder`.
std::vector<std::string> runMasks(const std::string& folder) {
  const std::string path = (fs::path(folder) / "provenance.json").string();
  json prov;
  try {
    prov = json::parse(readText(path));
  } catch (const json::exception&) {
    throw inputError(path, "is not valid JSON");
  }
  std::vector<std::string> masks;
  auto add = [&](const json& list) {
    if (!list.is_array()) return;
    for (const json& item : list) {
      if (!item.is_object() || !item.contains("output") || !item["output"].is_string()) continue;
      // Outputs are found beside provenance.json even if the folder was moved.
      const fs::path file =
          fs::path(folder) / fs::path(item["output"].get<std::string>()).filename();
      masks.push_back(latestVersion(file.string()));
    }
  };
  if (prov.contains("models")) add(prov["models"]);
  if (prov.contains("post")) add(prov["post"]);
  return masks;
}

}  // namespace

const char* toString(ReviewStatus status) {
  switch (status) {
    case ReviewStatus::Unreviewed:
      return "unreviewed";
    case ReviewStatus::NeedsFix:
      return "needs_fix";
    case ReviewStatus::Approved:
      return "approved";
  }
  return "unreviewed";
}

std::optional<ReviewStatus> parseReviewStatus(const std::string& text) {
  if (text == "unreviewed") return ReviewStatus::Unreviewed;
  if (text == "needs_fix" || text == "needs-fix" || text == "needsfix")
    return ReviewStatus::NeedsFix;
  if (text == "approved") return ReviewStatus::Approved;
  return std::nullopt;
}

std::string utcNow() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

ReviewState readReview(const std::string& caseFolder) {
  const std::string path = (fs::path(caseFolder) / kReviewFileName).string();
  ReviewState state;
  if (!fs::exists(path)) return state;
  json j;
  try {
    j = json::parse(readText(path));
  } catch (const json::exception&) {
    throw inputError(path, "is not valid JSON");
  }
  if (!j.is_object() || j.value("format", std::string()) != "nephro3d-review")
    throw inputError(path,
                     "is not a Nephro3D review file (\"format\" must be \"nephro3d-review\")");
  try {
    state.current = entryFrom(j, path);
    if (j.contains("history") && j["history"].is_array())
      for (const json& h : j["history"]) state.history.push_back(entryFrom(h, path));
  } catch (const json::exception&) {
    throw inputError(path, "has a malformed entry");
  }
  return state;
}

ReviewState setReview(const std::string& caseFolder, ReviewStatus status,
                      const std::string& reviewer, const std::string& comment) {
  if (!fs::is_directory(caseFolder)) throw inputError(caseFolder, "is not a case folder");
  ReviewState state = readReview(caseFolder);
  if (!state.current.time.empty()) state.history.push_back(state.current);
  state.current = {status, comment, reviewer, utcNow()};
  json history = json::array();
  for (const ReviewEntry& e : state.history) history.push_back(entryJson(e));
  json doc = entryJson(state.current);
  doc["format"] = "nephro3d-review";
  doc["version"] = 1;
  doc["case"] = fs::path(caseFolder).lexically_normal().filename().string();
  doc["history"] = std::move(history);
  writeFileAtomically((fs::path(caseFolder) / kReviewFileName).string(), doc.dump(2) + "\n");
  return state;
}

std::vector<ReviewCase> listReviewCases(const std::string& folder) {
  if (!fs::is_directory(folder)) throw inputError(folder, "is not a folder");
  std::vector<std::string> caseFolders;
  if (fs::exists(fs::path(folder) / "provenance.json")) {
    caseFolders.push_back(folder);
  } else {
    for (const auto& entry : fs::directory_iterator(folder))
      if (entry.is_directory() && fs::exists(entry.path() / "provenance.json"))
        caseFolders.push_back(entry.path().string());
    std::sort(caseFolders.begin(), caseFolders.end());
  }
  if (caseFolders.empty())
    throw inputError(folder,
                     "holds no run output (no provenance.json in it or in its sub-folders)");
  std::vector<ReviewCase> cases;
  for (const std::string& f : caseFolders) {
    ReviewCase c;
    c.folder = f;
    c.name = fs::path(f).lexically_normal().filename().string();
    if (c.name.empty() || c.name == ".")
      c.name = fs::path(f).lexically_normal().parent_path().filename().string();
    c.review = readReview(f).current;
    c.masks = runMasks(f);
    cases.push_back(std::move(c));
  }
  return cases;
}

std::optional<size_t> nextCaseToReview(const std::vector<ReviewCase>& cases,
                                       std::optional<size_t> from, bool forward) {
  const size_t n = cases.size();
  if (n == 0 || (from && *from >= n)) from.reset();
  if (n == 0) return std::nullopt;
  const size_t count = from ? n - 1 : n;
  for (size_t s = 0; s < count; ++s) {
    size_t i;
    if (from)
      i = forward ? (*from + s + 1) % n : (*from + n - s - 1) % n;
    else
      i = forward ? s : n - 1 - s;
    if (cases[i].review.status != ReviewStatus::Approved) return i;
  }
  return std::nullopt;
}

}  // namespace nephro::edit
