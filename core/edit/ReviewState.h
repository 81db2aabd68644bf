#pragma once
// Review state of a case: Unreviewed, Needs fix or Approved, with a comment,
// the reviewer's name and the time, kept in `review.json` beside the case's
// outputs (a `run` output folder, or each case folder of a `--batch` output).
// Every change keeps the previous state in the file's history. Format:
//   {"format": "nephro3d-review", "version": 1, "case": "case01",
//    "status": "approved", "comment": "...", "reviewer": "Dr A", "time": "2025-01-31T09:12:00Z",
//    "history": [{"status": "needs_fix", "comment": ..., "reviewer": ..., "time": ...}, ...]}
#include <optional>
#include <string>
#include <vector>

namespace nephro::edit {

enum class ReviewStatus { Unreviewed, NeedsFix, Approved };

// "unreviewed", "needs_fix", "approved"
const char* toString(ReviewStatus status);
// Also accepts "needs-fix" and "needsfix"; nullopt for anything else.
std::optional<ReviewStatus> parseReviewStatus(const std::string& text);

struct ReviewEntry {
  ReviewStatus status = ReviewStatus::Unreviewed;
  std::string comment;
  std::string reviewer;
  std::string time;  // ISO 8601 UTC, e.g. "2025-01-31T09:12:00Z"; empty when never reviewed
};

struct ReviewState {
  ReviewEntry current;
  std::vector<ReviewEntry> history;  // earlier states, oldest first
};

constexpr const char* kReviewFileName = "review.json";

// The state stored in caseFolder/review.json; Unreviewed when there is none.
// A malformed file is an input error naming it.
ReviewState readReview(const std::string& caseFolder);
// Sets the case's state (time: now, UTC) and writes review.json atomically;
// returns the new state.
ReviewState setReview(const std::string& caseFolder, ReviewStatus status,
                      const std::string& reviewer, const std::string& comment);

// The current time as ISO 8601 UTC.
std::string utcNow();

// One case of a run or batch output folder.
struct ReviewCase {
  std::string name;    // the case folder's name
  std::string folder;  // its path
  ReviewEntry review;
  // Mask files the run wrote (model outputs, then post-processing outputs),
  // each replaced by its newest corrected version when there is one.
  std::vector<std::string> masks;
};

// A `run` output folder (it holds provenance.json) is one case; a `--batch`
// output folder gives its case folders (sub-folders with provenance.json),
// sorted by name. An input error when the folder holds neither.
std::vector<ReviewCase> listReviewCases(const std::string& folder);
// The case after `from` (before it with forward = false) that is not approved,
// wrapping around; the first such case when `from` is empty; nullopt when no
// other case needs review.
std::optional<size_t> nextCaseToReview(const std::vector<ReviewCase>& cases,
                                       std::optional<size_t> from, bool forward = true);

}  // namespace nephro::edit
