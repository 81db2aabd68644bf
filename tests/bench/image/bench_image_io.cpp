// Reading and writing the full phantom: wall time and peak RSS of Nephro3D's
// reader next to a plain ITK reader, and the time to generate the phantom.
// Each measurement runs in a fresh child process so its peak RSS is its own.
//
//   bench_image_io [--size full|small] [--dir DIR]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <itkImageFileReader.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIOFactory.h>

#include "BenchSupport.h"
#include "image/VolumeIO.h"
#include "phantom/Phantom.h"

using namespace nephro;
using namespace nephro::bench;

namespace {

std::string self;

// Runs this program again with `args`; its stdout is passed through.
int child(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(self.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(self.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int childGenerate(const std::string& size, const std::string& dir) {
  PhantomOptions o;
  o.size = size == "full" ? PhantomSize::Full : PhantomSize::Small;
  const double base = rssMiB();
  Stopwatch gen;
  PhantomCase p = generatePhantom(o);
  const double genSeconds = gen.seconds();
  const double genPeak = peakRssMiB();
  std::printf("generate   %-10s %8.2f s   peak RSS %8.1f MiB (baseline %.1f)   %s\n", size.c_str(), genSeconds,
              genPeak, base, p.arterial.geometry().describe().c_str());
  for (const char* ext : {".nii.gz", ".nrrd", ".nii"}) {
    Stopwatch w;
    writeVolume(p.arterial, dir + "/A" + ext);
    std::printf("write      %-10s %8.2f s   %8.1f MiB on disk\n", ext, w.seconds(),
                std::filesystem::file_size(dir + "/A" + ext) / 1048576.0);
  }
  return 0;
}

int childRead(const std::string& who, const std::string& path) {
  const double base = rssMiB();
  resetPeakRss();
  Stopwatch sw;
  double voxelBytes = 0;
  if (who == "nephro3d") {
    Volume v = readVolume(path);
    voxelBytes = static_cast<double>(v.byteSize());
  } else {
    itk::NiftiImageIOFactory::RegisterOneFactory();
    itk::NrrdImageIOFactory::RegisterOneFactory();
    auto reader = itk::ImageFileReader<itk::Image<short, 3>>::New();
    reader->SetFileName(path);
    reader->Update();
    voxelBytes = reader->GetOutput()->GetLargestPossibleRegion().GetNumberOfPixels() * 2.0;
  }
  const double seconds = sw.seconds();
  const double peak = peakRssMiB();
  const double voxMiB = voxelBytes / 1048576.0;
  std::printf("read %-9s %-10s %8.2f s   peak RSS %8.1f MiB, above baseline %8.1f MiB = %.3f x voxel bytes (%.1f MiB)\n",
              who.c_str(), std::filesystem::path(path).extension().c_str(), seconds, peak, peak - base,
              (peak - base) / voxMiB, voxMiB);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  self = std::filesystem::canonical("/proc/self/exe").string();
  if (argc >= 2 && std::string(argv[1]) == "--child-generate") return childGenerate(argv[2], argv[3]);
  if (argc >= 2 && std::string(argv[1]) == "--child-read") return childRead(argv[2], argv[3]);
  std::string size = "full", dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--size") size = argv[i + 1];
    if (std::string(argv[i]) == "--dir") dir = argv[i + 1];
  }
  if (dir.empty()) dir = (std::filesystem::temp_directory_path() / ("nephro3d-bench-io-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  std::printf("Nephro3D image I/O benchmark (%u hardware threads)\n", std::thread::hardware_concurrency());
  if (child({"--child-generate", size, dir}) != 0) return 1;
  for (const char* ext : {".nii.gz", ".nrrd", ".nii"})
    for (const char* who : {"nephro3d", "itk"}) child({"--child-read", who, dir + "/A" + ext});
  std::filesystem::remove_all(dir);
  return 0;
}
