#include "pipeline/Batch.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>

#include "common/Error.h"
#include "common/OutputTransaction.h"

namespace fs = std::filesystem;

namespace nephro::pipeline {
namespace {

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
  return out + "\"";
}

void writeSummary(const BatchSummary& summary) {
  std::ostringstream csv;
  csv << "case,status,models,seconds,message\n";
  for (const auto& c : summary.cases)
    csv << csvField(c.name) << ',' << c.status << ',' << csvField(c.models) << ',' << c.seconds << ',' << csvField(c.message)
        << '\n';
  writeFileAtomically(summary.csvPath, csv.str());
}

// Removes ".partial-*" files (OutputTransaction's temporaries) left by a killed
// process in `dir` and its sub-folders; with `suffix`, only those for that file name.
void removeStaleTemporaries(const std::string& dir, const std::string& suffix) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return;
  std::vector<fs::path> stale;
  auto consider = [&](const fs::directory_entry& e) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".partial-", 0) != 0) return;
    if (!suffix.empty() && (name.size() < suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0))
      return;
    stale.push_back(e.path());
  };
  if (suffix.empty()) {
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      consider(*it);
  } else {
    for (const auto& e : fs::directory_iterator(dir, ec)) consider(e);
  }
  for (const auto& p : stale) fs::remove_all(p, ec);
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

}  // namespace

std::vector<std::string> findCaseFolders(const std::string& inputDir) {
  if (!fs::is_directory(inputDir)) throw inputError(inputDir, "is not a folder");
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(inputDir, ec)) {
    if (!entry.is_directory() || entry.path().filename().string().rfind('.', 0) == 0) continue;
    bool hasPhase = false;
    for (const auto& f : fs::directory_iterator(entry.path(), ec)) {
      const std::string name = f.path().filename().string();
      if (f.is_regular_file() && !phaseOfFileName(name).empty()) hasPhase = true;
      if (f.is_directory() && name.rfind('.', 0) != 0 && !phaseOfFolderName(name).empty()) hasPhase = true;
    }
    if (hasPhase) out.push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

BatchSummary runBatch(const std::string& inputDir, const std::string& outputDir, const BatchOptions& options,
                      const Progress& progress, const std::function<void(const std::string&)>& log) {
  const std::vector<std::string> allFolders = findCaseFolders(inputDir);
  if (allFolders.empty()) throw inputError(inputDir, "holds no case folder with phase images");
  std::error_code ec;
  fs::create_directories(outputDir, ec);
  if (!fs::is_directory(outputDir)) throw outputError(outputDir, "cannot create the output folder");
  // Every shard records the whole case list (the same bytes), so a merge knows which cases must be there.
  std::string caseList;
  for (const auto& f : allFolders) caseList += fs::path(f).filename().string() + "\n";
  writeFileAtomically((fs::path(outputDir) / kBatchCasesFile).string(), caseList);
  std::vector<std::string> folders;
  for (size_t k : shardCaseIndices(allFolders.size(), options.shard)) folders.push_back(allFolders[k]);
  BatchSummary summary;
  summary.csvPath = (fs::path(outputDir) / shardSummaryFileName(options.shard)).string();
  removeStaleTemporaries(outputDir, shardSummaryFileName(options.shard));
  ModelRunOptions run = options.run;
  if (!run.networks) run.networks = std::make_shared<LoadedNetworks>();  // each network loaded once per batch
  for (size_t i = 0; i < folders.size(); ++i) {
    progress.throwIfCancelled();
    const Progress caseProgress = progress.sub(double(i) / folders.size(), double(i + 1) / folders.size());
    BatchCaseResult result;
    result.name = fs::path(folders[i]).filename().string();
    const fs::path caseOut = fs::path(outputDir) / result.name;
    const auto t0 = std::chrono::steady_clock::now();
    if (fs::is_regular_file(caseOut / "provenance.json")) {
      result.status = "skipped";
      result.message = "finished earlier";
      ++summary.skipped;
    } else {
      try {
        Case c = Case::fromFolder(folders[i]);
        c.setAllowGaps(options.allowGaps);
        std::vector<std::string> models = options.models;
        if (models.empty()) models = modelsAvailableFor(c, run.modelsDirectory);
        if (models.empty()) throw inputError(folders[i], "no registered model can run on its phases (" + join(c.phases(), ",") + ")");
        result.models = join(models, " ");
        for (const auto& r : options.steps.post) result.models += " post_" + post::postStepId(r.step);
        const Progress named([&](double f, const std::string& s) { caseProgress.report(f, result.name + " " + s); },
                             progress.cancelFlag());
        // A case killed part-way (a requeued array task) may have left temporaries; this process owns the case now.
        removeStaleTemporaries(caseOut.string(), "");
        runModelsOnCase(c, models, caseOut.string(), run, named, options.steps);
        result.status = "done";
        ++summary.done;
      } catch (const Error& e) {
        if (e.kind() == ErrorKind::Cancelled) throw;
        result.status = "failed";
        result.message = e.what();
        ++summary.failed;
      } catch (const std::exception& e) {
        result.status = "failed";
        result.message = std::string("internal error: ") + e.what();
        ++summary.failed;
      }
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    summary.cases.push_back(result);
    writeSummary(summary);
    if (log)
      log(result.name + ": " + result.status + (result.message.empty() ? "" : " (" + result.message + ")"));
  }
  progress.report(1.0, "batch");
  return summary;
}

}  // namespace nephro::pipeline
