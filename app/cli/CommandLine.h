#pragma once

namespace nephro::cli {

// True when the arguments name a subcommand, --batch, --help or --version.
bool wantsCommandLine(int argc, char** argv);
// Parses and runs; returns the process exit code (see README "Exit codes").
int runCommandLine(int argc, char** argv);

}  // namespace nephro::cli
