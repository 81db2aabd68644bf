#pragma once
// Subcommands register themselves here (one .cpp per command in app/cli/), so
// the entry point needs no list of them.
#include <functional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace nephro::cli {

struct CommandRegistration {
  int order;  // position in --help
  std::function<void(CLI::App& root)> attach;
};

std::vector<CommandRegistration>& commandRegistry();

struct RegisterCommand {
  RegisterCommand(int order, std::function<void(CLI::App& root)> attach) {
    commandRegistry().push_back({order, std::move(attach)});
  }
};

}  // namespace nephro::cli
