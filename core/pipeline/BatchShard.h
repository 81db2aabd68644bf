#pragma once
// Splitting a batch over several processes (SLURM array tasks) and merging
// their summaries. The split is round-robin over IN's sorted case list: case k
// (0-based, in name order) belongs to shard k mod N. Every case is in exactly
// one shard for any N, and neighbouring (often similar-sized) cases are spread
// over the shards.
//
// A sharded batch writes OUT/summary.shard-I-of-N.csv (its cases only) and
// every batch writes OUT/batch-cases.txt (all of IN's case names, one a line),
// so `nephro3d batch-summary OUT` knows which cases must be present.
#include <string>
#include <vector>

namespace nephro::pipeline {

struct ShardSpec {
  int index = 0;  // I, 0-based
  int count = 1;  // N
  bool sharded() const { return count > 1 || index != 0; }
};

// "I/N" with 0 <= I < N and 1 <= N <= 100000; anything else is a usage error (exit 2).
ShardSpec parseShard(const std::string& text);

// Positions (into a sorted list of `caseCount` cases) that shard `spec` runs.
std::vector<size_t> shardCaseIndices(size_t caseCount, const ShardSpec& spec);

// "summary.shard-I-of-N.csv", or "summary.csv" when not sharded.
std::string shardSummaryFileName(const ShardSpec& spec);

// OUT/batch-cases.txt
constexpr const char* kBatchCasesFile = "batch-cases.txt";

struct MergedCase {
  std::string name;
  std::string status;  // done, skipped, failed or missing
  std::string models;
  double seconds = 0;
  std::string message;
  std::string source;  // summary file that gave the row ("" when missing)
};

struct MergedSummary {
  std::vector<MergedCase> cases;  // in batch-cases.txt order
  int complete = 0, failed = 0, missing = 0;
  std::vector<std::string> sources;  // summary files read
  std::string csvPath;               // OUT/summary.csv
};

// Reads OUT/batch-cases.txt and every OUT/summary.shard-*-of-*.csv (or, when
// there is none, OUT/summary.csv), and writes OUT/summary.csv atomically: one row
// per case. A case is complete when a row says done or skipped and its
// provenance.json exists; failed when its rows say failed; missing otherwise.
// Throws an input error when OUT holds no batch record.
MergedSummary mergeBatchSummaries(const std::string& outputDir);

// CSV rows with quoted fields (the summary files' own format); the header is row 0.
std::vector<std::vector<std::string>> parseCsv(const std::string& text);

}  // namespace nephro::pipeline
