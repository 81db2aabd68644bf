#pragma once

namespace nephro::cli {

// Parses and runs; returns the process exit code (see README "Exit codes").
int runCommandLine(int argc, char** argv);

}  // namespace nephro::cli
