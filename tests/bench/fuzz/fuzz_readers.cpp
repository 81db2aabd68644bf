// libFuzzer entry points for the readers. Each input is written to a private
// folder as a file of the reader's format and read through the same path the
// command line uses (readVolume: our own checks, then ITK); errors are the
// expected outcome, crashes, hangs and leaks are what the fuzzer reports.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "common/Error.h"
#include "image/DicomScan.h"
#include "image/InputValidation.h"
#include "image/VolumeIO.h"
#include "labels/LabelSources.h"
#include "labels/LabelTable.h"

namespace {

const std::string& scratch() {
  static const std::string dir = [] {
    std::string d = std::filesystem::temp_directory_path().string() + "/nephro3d-fuzz-" + std::to_string(::getpid());
    std::filesystem::create_directories(d);
    // A detached data file the NRRD and MetaImage headers may name.
    std::ofstream(d + "/data.raw", std::ios::binary) << std::string(4096, '\x01');
    return d;
  }();
  return dir;
}

std::string writeInput(const uint8_t* data, size_t size, const std::string& name) {
  const std::string path = scratch() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

void readQuietly(const std::string& path) {
  try {
    nephro::ReadOptions o;
    o.allowGaps = true;
    nephro::readVolume(path, o);
  } catch (const nephro::Error&) {
  } catch (const std::bad_alloc&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#if defined(FUZZ_READER_nifti)
  const bool gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
  readQuietly(writeInput(data, size, gz ? "in.nii.gz" : "in.nii"));
#elif defined(FUZZ_READER_nrrd)
  const bool detached = size > 0 && (data[0] & 1);
  readQuietly(writeInput(data, size, detached ? "in.nhdr" : "in.nrrd"));
#elif defined(FUZZ_READER_mha)
  const bool detached = size > 0 && (data[0] & 1);
  readQuietly(writeInput(data, size, detached ? "in.mhd" : "in.mha"));
#elif defined(FUZZ_READER_dicom)
  nephro::scanDicomBytes(data, size, "in.dcm");
  // A two-slice series: the input and a copy shifted by one slice would need
  // rewriting positions; the folder read exercises the series checks on one
  // file (refused as a single slice unless the scan finds a problem first).
  const std::string folder = scratch() + "/series";
  std::filesystem::create_directories(folder);
  const std::string path = folder + "/slice.dcm";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  readQuietly(folder);
  readQuietly(path);
#elif defined(FUZZ_READER_labels)
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    nephro::labelTableFromText(text, "fuzz");
  } catch (const nephro::Error&) {
  }
  try {
    nephro::labelTableFromPairs(text);
  } catch (const nephro::Error&) {
  }
  try {
    nephro::LabelTable::fromJson(text, "fuzz");
  } catch (const nephro::Error&) {
  }
#endif
  return 0;
}
