#include "cli/TerminalProgress.h"

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <mutex>
#include <string>

#include <unistd.h>

namespace nephro::cli {

namespace {
std::mutex drawMutex;
bool lineOpen = false;
std::atomic<bool>* rawFlag = nullptr;

void onSignal(int) {
  if (rawFlag) rawFlag->store(true);
}
}  // namespace

std::shared_ptr<std::atomic<bool>> cancelFlag() {
  static auto flag = std::make_shared<std::atomic<bool>>(false);
  return flag;
}

void installCancelHandler() {
  rawFlag = cancelFlag().get();
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
}

void finishProgressLine() {
  std::lock_guard<std::mutex> lock(drawMutex);
  if (lineOpen) std::fputc('\n', stderr);
  lineOpen = false;
}

Progress terminalProgress(bool quiet) {
  // NEPHRO3D_PROGRESS=machine: "@progress <fraction> <stage>" lines on stderr,
  // for a parent process (the workstation) to follow; not silenced by --quiet.
  if (const char* mode = std::getenv("NEPHRO3D_PROGRESS"); mode && std::string(mode) == "machine") {
    auto last = std::make_shared<int>(-1);
    auto lastStage = std::make_shared<std::string>();
    return Progress(
        [last, lastStage](double f, const std::string& stage) {
          std::lock_guard<std::mutex> lock(drawMutex);
          const int step = static_cast<int>(f * 1000);
          if (step == *last && stage == *lastStage) return;
          *last = step;
          *lastStage = stage;
          std::fprintf(stderr, "@progress %.4f %s\n", f, stage.c_str());
          std::fflush(stderr);
        },
        cancelFlag());
  }
  if (quiet) return Progress({}, cancelFlag());
  const bool tty = ::isatty(STDERR_FILENO);
  auto lastStep = std::make_shared<int>(-1);
  auto lastStage = std::make_shared<std::string>();
  return Progress(
      [tty, lastStep, lastStage](double f, const std::string& stage) {
        std::lock_guard<std::mutex> lock(drawMutex);
        f = f < 0 ? 0 : (f > 1 ? 1 : f);
        if (tty) {
          const int width = 30, filled = static_cast<int>(f * width + 0.5);
          const int step = static_cast<int>(f * 1000);
          if (step == *lastStep && stage == *lastStage) return;
          *lastStep = step;
          *lastStage = stage;
          std::string bar(filled, '#');
          bar.resize(width, ' ');
          std::fprintf(stderr, "\r[%s] %5.1f%% %-50.50s", bar.c_str(), f * 100.0, stage.c_str());
          lineOpen = true;
        } else {
          const int step = static_cast<int>(f * 10);
          if (step == *lastStep && stage == *lastStage) return;
          *lastStep = step;
          *lastStage = stage;
          std::fprintf(stderr, "%3d%% %s\n", step * 10, stage.c_str());
        }
        std::fflush(stderr);
      },
      cancelFlag());
}

}  // namespace nephro::cli
