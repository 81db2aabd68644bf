// Inputs the fuzz harness (tests/bench/fuzz/run_fuzz.sh) found, and hostile
// headers that once crashed a reader: each is read through the same entry
// point as its fuzz target and must end in an input error or a volume, never
// a crash. Files live in fuzz_regressions/<reader>/.
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "TestSupport.h"
#include "common/Error.h"
#include "image/DicomScan.h"
#include "image/VolumeIO.h"
#include "labels/LabelSources.h"

using namespace nephro;
namespace fs = std::filesystem;

class TestFuzzRegressions : public QObject {
  Q_OBJECT

  static std::string bytesOf(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private slots:
  void eachInputEndsInAnErrorOrAVolume() {
    const fs::path root = fs::path(NEPHRO3D_SOURCE_DIR) / "tests/unit/image/fuzz_regressions";
    const std::string scratch = test::scratchDir("fuzz-regressions");
    int count = 0;
    for (const auto& readerDir : fs::directory_iterator(root)) {
      if (!readerDir.is_directory()) continue;
      const std::string reader = readerDir.path().filename().string();
      for (const auto& f : fs::directory_iterator(readerDir.path())) {
        const std::string bytes = bytesOf(f.path());
        ++count;
        if (reader == "labels") {
          try {
            labelTableFromText(bytes, f.path().string());
          } catch (const Error&) {
          }
          continue;
        }
        if (reader == "dicom")
          scanDicomBytes(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), f.path().string());
        // As the fuzz target does: the bytes under the reader's extension, beside a data file.
        const std::string folder = scratch + "/" + reader + "_" + std::to_string(count);
        fs::create_directories(folder);
        std::ofstream(folder + "/data.raw", std::ios::binary) << std::string(4096, '\x01');
        std::string ext = reader == "nifti" ? ".nii" : reader == "nrrd" ? ".nrrd" : reader == "mha" ? ".mha" : ".dcm";
        if (reader == "nifti" && bytes.size() > 2 && bytes[0] == '\x1f' && bytes[1] == '\x8b') ext = ".nii.gz";
        const std::string path = folder + "/in" + ext;
        std::ofstream(path, std::ios::binary) << bytes;
        try {
          readVolume(path);
        } catch (const Error& e) {
          QVERIFY2(e.kind() == ErrorKind::Input, (f.path().string() + ": " + e.what()).c_str());
        }
      }
    }
    QVERIFY2(count > 0, "no regression inputs found");
  }
};

QTEST_APPLESS_MAIN(TestFuzzRegressions)
#include "test_fuzz_regressions.moc"
