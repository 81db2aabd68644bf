// nephro3d review DIR: the review state of a run output folder or of every case
// of a --batch output folder; --set records a new state in the case's review.json.
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "common/Error.h"
#include "edit/ReviewState.h"

namespace nephro::cli {
namespace {

struct ReviewOptions {
  std::string folder, caseName, status, reviewer, comment;
  bool next = false;
};

void runReview(const ReviewOptions& o) {
  std::vector<edit::ReviewCase> cases = edit::listReviewCases(o.folder);
  if (!o.status.empty()) {
    const auto status = edit::parseReviewStatus(o.status);
    if (!status)
      throw usageError("--set must be unreviewed, needs_fix or approved, not '" + o.status + "'");
    if (o.reviewer.empty()) throw usageError("--set needs --reviewer NAME");
    const edit::ReviewCase* target = nullptr;
    for (const auto& c : cases)
      if (c.name == o.caseName || (o.caseName.empty() && cases.size() == 1)) target = &c;
    if (!target)
      throw usageError(o.caseName.empty() ? o.folder + " holds " + std::to_string(cases.size()) +
                                                " cases: name one with --case"
                                          : o.folder + ": no case " + o.caseName);
    const edit::ReviewState s = edit::setReview(target->folder, *status, o.reviewer, o.comment);
    std::printf("%s: %s by %s at %s\n", target->name.c_str(), edit::toString(s.current.status),
                s.current.reviewer.c_str(), s.current.time.c_str());
    return;
  }
  if (o.next) {
    const auto i = edit::nextCaseToReview(cases, std::nullopt);
    if (i) std::printf("%s\n", cases[*i].folder.c_str());
    return;
  }
  for (const auto& c : cases) {
    std::printf("%-24s %-10s %-20s %-20s %s\n", c.name.c_str(), edit::toString(c.review.status),
                c.review.reviewer.c_str(), c.review.time.c_str(), c.review.comment.c_str());
    for (const auto& m : c.masks)
      std::printf("    %s\n", std::filesystem::path(m).filename().string().c_str());
  }
}

RegisterCommand reg(92, [](CLI::App& root) {
  auto o = std::make_shared<ReviewOptions>();
  CLI::App* sub =
      root.add_subcommand("review", "List or set the review state of run outputs (review.json)");
  sub->add_option("folder", o->folder, "A run output folder, or a --batch output folder")
      ->required();
  sub->add_option("--case", o->caseName, "Case folder name inside a --batch output");
  sub->add_option("--set", o->status, "New state: unreviewed, needs_fix or approved");
  sub->add_option("--reviewer", o->reviewer, "Who reviewed (with --set)");
  sub->add_option("--comment", o->comment, "Comment (with --set)");
  sub->add_flag("--next", o->next, "Print the first case not yet approved");
  sub->callback([o] { runReview(*o); });
});

}  // namespace
}  // namespace nephro::cli
