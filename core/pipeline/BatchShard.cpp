#include "pipeline/BatchShard.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "common/Error.h"
#include "common/OutputTransaction.h"

namespace fs = std::filesystem;

namespace nephro::pipeline {
namespace {

bool parseNonNegative(const std::string& s, long long* out) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  *out = std::stoll(s);
  return true;
}

std::string readText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw inputError(p.string(), "cannot be read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c == '\n' ? ' ' : c);
  return out + "\"";
}

int statusRank(const std::string& s) {
  if (s == "done" || s == "skipped") return 2;
  if (s == "failed") return 1;
  return 0;
}

}  // namespace

ShardSpec parseShard(const std::string& text) {
  const size_t slash = text.find('/');
  long long i = -1, n = -1;
  if (slash == std::string::npos || !parseNonNegative(text.substr(0, slash), &i) ||
      !parseNonNegative(text.substr(slash + 1), &n))
    throw usageError("--shard " + text + ": expected I/N with whole numbers, e.g. 0/4");
  if (n < 1 || n > 100000) throw usageError("--shard " + text + ": N must be between 1 and 100000");
  if (i >= n) throw usageError("--shard " + text + ": I must be between 0 and N-1");
  return ShardSpec{static_cast<int>(i), static_cast<int>(n)};
}

std::vector<size_t> shardCaseIndices(size_t caseCount, const ShardSpec& spec) {
  std::vector<size_t> out;
  for (size_t k = static_cast<size_t>(spec.index); k < caseCount; k += static_cast<size_t>(spec.count)) out.push_back(k);
  return out;
}

std::string shardSummaryFileName(const ShardSpec& spec) {
  if (!spec.sharded()) return "summary.csv";
  return "summary.shard-" + std::to_string(spec.index) + "-of-" + std::to_string(spec.count) + ".csv";
}

std::vector<std::vector<std::string>> parseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        row.push_back(field);
        rows.push_back(row);
      }
      row.clear();
      field.clear();
      any = false;
    } else {
      field += c;
      any = true;
    }
  }
  if (any || !field.empty()) {
    row.push_back(field);
    rows.push_back(row);
  }
  return rows;
}

MergedSummary mergeBatchSummaries(const std::string& outputDir) {
  const fs::path out(outputDir);
  if (!fs::is_directory(out)) throw inputError(outputDir, "is not a folder");
  const fs::path listPath = out / kBatchCasesFile;
  if (!fs::is_regular_file(listPath))
    throw inputError(outputDir, std::string("holds no ") + kBatchCasesFile + " (not the output folder of nephro3d --batch)");
  MergedSummary merged;
  {
    std::istringstream lines(readText(listPath));
    std::string line;
    while (std::getline(lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      MergedCase c;
      c.name = line;
      c.status = "missing";
      merged.cases.push_back(c);
    }
  }
  std::map<std::string, size_t> byName;
  for (size_t i = 0; i < merged.cases.size(); ++i) byName[merged.cases[i].name] = i;

  static const std::regex shardName(R"(summary\.shard-[0-9]+-of-[0-9]+\.csv)");
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out, ec)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && std::regex_match(name, shardName)) merged.sources.push_back(name);
  }
  std::sort(merged.sources.begin(), merged.sources.end());
  if (merged.sources.empty() && fs::is_regular_file(out / "summary.csv")) merged.sources.push_back("summary.csv");

  for (const auto& source : merged.sources) {
    const auto rows = parseCsv(readText(out / source));
    for (size_t r = 1; r < rows.size(); ++r) {
      const auto& row = rows[r];
      if (row.size() < 5) throw inputError((out / source).string(), "row " + std::to_string(r + 1) + " has fewer than 5 fields");
      auto it = byName.find(row[0]);
      if (it == byName.end()) continue;  // a case no longer in the list
      MergedCase& c = merged.cases[it->second];
      if (statusRank(row[1]) < statusRank(c.status)) continue;
      c.status = row[1];
      c.models = row[2];
      try {
        c.seconds = std::stod(row[3]);
      } catch (const std::exception&) {
        c.seconds = 0;
      }
      c.message = row[4];
      c.source = source;
    }
  }
  for (auto& c : merged.cases) {
    if (statusRank(c.status) == 2 && !fs::is_regular_file(out / c.name / "provenance.json")) {
      c.status = "missing";
      c.message = "summary says finished but " + c.name + "/provenance.json is absent";
    }
    if (c.status == "missing" && c.message.empty()) c.message = "no shard has reported this case";
    if (statusRank(c.status) == 2) ++merged.complete;
    else if (c.status == "failed") ++merged.failed;
    else ++merged.missing;
  }

  std::ostringstream csv;
  csv << "case,status,models,seconds,message\n";
  for (const auto& c : merged.cases)
    csv << csvField(c.name) << ',' << c.status << ',' << csvField(c.models) << ',' << c.seconds << ',' << csvField(c.message)
        << '\n';
  merged.csvPath = (out / "summary.csv").string();
  writeFileAtomically(merged.csvPath, csv.str());
  return merged;
}

}  // namespace nephro::pipeline
