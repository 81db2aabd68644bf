// A DICOM series folder: slices sorted by position (not by file name or
// instance number), spacing from the positions, and an explicit choice when a
// folder holds two series.
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <itkGDCMImageIO.h>
#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkMetaDataObject.h>

#include "TestSupport.h"
#include "common/Error.h"
#include "image/VolumeIO.h"

using namespace nephro;

namespace {
constexpr int kSlices = 6, kCols = 16, kRows = 12;
const double kSliceGap = 2.5, kRowSpacing = 0.8, kColSpacing = 0.6;

// Writes one series; slice k lies at z = z0 + k*gap but is stored under a
// shuffled file name and instance number.
void writeSeries(const std::string& dir, const std::string& seriesUid, const std::string& prefix, int valueBase) {
  using Slice = itk::Image<short, 2>;
  const int order[kSlices] = {3, 0, 5, 1, 4, 2};
  for (int k = 0; k < kSlices; ++k) {
    auto img = Slice::New();
    Slice::RegionType region;
    region.SetSize(0, kCols);
    region.SetSize(1, kRows);
    img->SetRegions(region);
    img->Allocate();
    // GDCM takes pixel spacing from the image itself when writing.
    const double spacing[2] = {kColSpacing, kRowSpacing};
    img->SetSpacing(spacing);
    for (int y = 0; y < kRows; ++y)
      for (int x = 0; x < kCols; ++x) img->SetPixel({{x, y}}, static_cast<short>(valueBase + 100 * k + x + 16 * y));
    auto io = itk::GDCMImageIO::New();
    io->KeepOriginalUIDOn();
    // The writer hands the image's dictionary to the IO, so tags go on the image.
    auto& dict = img->GetMetaDataDictionary();
    auto set = [&](const char* tag, const std::string& v) { itk::EncapsulateMetaData<std::string>(dict, tag, v); };
    set("0008|0060", "CT");
    set("0028|0004", "MONOCHROME2");
    set("0008|0016", "1.2.840.10008.5.1.4.1.1.2");
    set("0020|000d", "1.2.826.0.1.3680043.2.1125.1.1");
    set("0020|000e", seriesUid);
    set("0008|0018", seriesUid + "." + std::to_string(k + 1));
    set("0020|0013", std::to_string(order[k] + 1));
    char ipp[128];
    std::snprintf(ipp, sizeof ipp, "-12.5\\30.25\\%.2f", -40.0 + kSliceGap * k);
    set("0020|0032", ipp);
    set("0020|0037", "1\\0\\0\\0\\1\\0");
    char ps[64];
    std::snprintf(ps, sizeof ps, "%.2f\\%.2f", kRowSpacing, kColSpacing);
    set("0028|0030", ps);
    set("0018|0050", "2.5");
    auto writer = itk::ImageFileWriter<Slice>::New();
    writer->SetInput(img);
    writer->SetImageIO(io);
    writer->SetFileName(dir + "/" + prefix + std::to_string(order[k]) + ".dcm");
    writer->Update();
  }
}
}  // namespace

class TestDicomSeries : public QObject {
  Q_OBJECT
 private slots:
  void readsSortedByPosition() {
    const std::string dir = test::scratchDir("dicom-one");
    writeSeries(dir, "1.2.826.0.1.3680043.2.1125.1.2", "ct", 0);
    Volume v = readVolume(dir);
    const Geometry& g = v.geometry();
    QCOMPARE(g.size, (Index3{kCols, kRows, kSlices}));
    QVERIFY(std::abs(g.spacing[0] - kColSpacing) < 1e-6);
    QVERIFY(std::abs(g.spacing[1] - kRowSpacing) < 1e-6);
    QVERIFY2(std::abs(g.spacing[2] - kSliceGap) < 1e-4, g.describe().c_str());
    QVERIFY(std::abs(g.origin[0] + 12.5) < 1e-4 && std::abs(g.origin[1] - 30.25) < 1e-4 &&
            std::abs(g.origin[2] + 40.0) < 1e-4);
    // Slice k carries 100*k: order follows position, not file names or instance numbers.
    for (int k = 0; k < kSlices; ++k) QCOMPARE(v.valueAt(3, 2, k), double(100 * k + 3 + 32));
    QCOMPARE(v.pixelType(), PixelType::Int16);
  }

  void twoSeriesNeedAChoice() {
    const std::string dir = test::scratchDir("dicom-two");
    writeSeries(dir, "1.2.826.0.1.3680043.2.1125.1.3", "a", 0);
    writeSeries(dir, "1.2.826.0.1.3680043.2.1125.1.4", "b", 5000);
    try {
      readVolume(dir);
      QFAIL("expected an error asking for a series");
    } catch (const Error& e) {
      QCOMPARE(e.kind(), ErrorKind::Input);
      const std::string msg = e.what();
      QVERIFY(msg.find("2 DICOM series") != std::string::npos);
      QVERIFY(msg.find("1.2.826.0.1.3680043.2.1125.1.4") != std::string::npos);
    }
    QCOMPARE(listDicomSeries(dir).size(), size_t(2));
    ReadOptions o;
    o.seriesUid = "1.2.826.0.1.3680043.2.1125.1.4";
    Volume v = readVolume(dir, o);
    QCOMPARE(v.valueAt(0, 0, 1), 5100.0);
    o.seriesUid = "9.9.9";
    QVERIFY_THROWS_EXCEPTION(Error, readVolume(dir, o));
  }
};

QTEST_APPLESS_MAIN(TestDicomSeries)
#include "test_dicom_series.moc"
