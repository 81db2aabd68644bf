#include "cli/CommandLine.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/Command.h"
#include "cli/TerminalProgress.h"
#include "common/Error.h"

namespace nephro::cli {

std::vector<CommandRegistration>& commandRegistry() {
  static std::vector<CommandRegistration> registry;
  return registry;
}

int runCommandLine(int argc, char** argv) {
  installCancelHandler();
  CLI::App app{"Nephro3D: kidney CT segmentation, meshing and post-processing.\n"
               "Run without arguments to start the workstation."};
  app.name("nephro3d");
  app.set_version_flag("--version", "nephro3d 0.1.0");
  app.require_subcommand(0, 1);
  auto& registry = commandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const CommandRegistration& a, const CommandRegistration& b) { return a.order < b.order; });
  for (const auto& reg : registry) reg.attach(app);
  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty() && app.count("--batch") == 0) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    }
    finishProgressLine();
    return 0;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::fprintf(stderr, "nephro3d: usage error: %s (see nephro3d --help)\n", msg.c_str());
    return static_cast<int>(ErrorKind::Usage);
  } catch (const Error& e) {
    finishProgressLine();
    std::fprintf(stderr, "nephro3d: %s%s\n", e.kind() == ErrorKind::Cancelled ? "" : "error: ", e.what());
    return e.exitCode();
  } catch (const std::bad_alloc&) {
    finishProgressLine();
    std::fprintf(stderr, "nephro3d: error: out of memory\n");
    return static_cast<int>(ErrorKind::Internal);
  } catch (const std::exception& e) {
    finishProgressLine();
    std::string msg = e.what();
    std::replace(msg.begin(), msg.end(), '\n', ' ');
    std::fprintf(stderr, "nephro3d: internal error: %s\n", msg.c_str());
    return static_cast<int>(ErrorKind::Internal);
  }
}

}  // namespace nephro::cli
