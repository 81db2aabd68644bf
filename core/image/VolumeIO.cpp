#include "image/VolumeIO.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <cstring>
#include <fstream>
#include <sstream>

#include <zlib.h>

#include <itkGDCMImageIO.h>
#include <itkGDCMImageIOFactory.h>
#include <itkGDCMSeriesFileNames.h>
#include <itkImageFileReader.h>
#include <itkImageFileWriter.h>
#include <itkImageIOFactory.h>
#include <itkImageSeriesReader.h>
#include <itkMetaDataObject.h>
#include <itkMetaImageIOFactory.h>
#include <itkNiftiImageIOFactory.h>
#include <itkNrrdImageIOFactory.h>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "image/DicomSeriesCheck.h"
#include "image/InputValidation.h"
#include "image/ItkBridge.h"

namespace fs = std::filesystem;

namespace nephro {

namespace {

void registerImageIOs() {
  static std::once_flag once;
  std::call_once(once, [] {
    itk::NiftiImageIOFactory::RegisterOneFactory();
    itk::NrrdImageIOFactory::RegisterOneFactory();
    itk::MetaImageIOFactory::RegisterOneFactory();
    itk::GDCMImageIOFactory::RegisterOneFactory();
  });
}

// ITK messages span lines and carry source locations; keep the description only.
std::string oneLine(const itk::ExceptionObject& e) {
  std::string s = e.GetDescription();
  std::replace(s.begin(), s.end(), '\n', ' ');
  // Drop "ITK ERROR: NiftiImageIO(0x55d...): " and errno guesses that are often wrong.
  if (s.rfind("ITK ERROR: ", 0) == 0) {
    const auto close = s.find("): ");
    if (close != std::string::npos) s = s.substr(close + 3);
  }
  const auto reason = s.find(" Reason: ");
  if (reason != std::string::npos) s = s.substr(0, reason);
  while (!s.empty() && (s.back() == ' ' || s.back() == '.')) s.pop_back();
  if (s.size() > 240) s = s.substr(0, 240) + "...";
  return s;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string formatOf(const std::string& path) {
  std::string p = lower(path);
  if (endsWith(p, ".nii") || endsWith(p, ".nii.gz")) return "NIfTI";
  if (endsWith(p, ".nrrd") || endsWith(p, ".nhdr")) return "NRRD";
  if (endsWith(p, ".mha") || endsWith(p, ".mhd")) return "MetaImage";
  if (endsWith(p, ".dcm")) return "DICOM";
  return "";
}

PixelType pixelTypeForComponent(itk::IOComponentEnum c) {
  using C = itk::IOComponentEnum;
  switch (c) {
    case C::UCHAR: return PixelType::UInt8;
    case C::CHAR:
    case C::SHORT: return PixelType::Int16;
    case C::USHORT: return PixelType::UInt16;
    case C::INT:
    case C::UINT:
    case C::LONG:
    case C::ULONG:
    case C::LONGLONG:
    case C::ULONGLONG: return PixelType::Int32;
    default: return PixelType::Float32;
  }
}

// Checks what a header claims before any voxel memory exists.
void validateHeader(const std::string& path, itk::ImageIOBase* io, Geometry& g) {
  const unsigned dims = io->GetNumberOfDimensions();
  if (dims < 3) throw inputError(path, "is a " + std::to_string(dims) + "D image; a 3D volume is required");
  for (unsigned d = 3; d < dims; ++d)
    if (io->GetDimensions(d) > 1)
      throw inputError(path, "is a " + std::to_string(dims) + "D image with " +
                                 std::to_string(io->GetDimensions(d)) +
                                 " volumes; a single 3D volume is required");
  if (io->GetNumberOfComponents() != 1)
    throw inputError(path, "has " + std::to_string(io->GetNumberOfComponents()) +
                               " components per voxel (RGB or vector image); a scalar volume is required");
  int64_t voxels = 1;
  for (unsigned d = 0; d < 3; ++d) {
    const auto n = static_cast<int64_t>(io->GetDimensions(d));
    if (n < 1 || n > kMaxDimension) {
      std::ostringstream s;
      s << "header claims " << io->GetDimensions(0) << "x" << io->GetDimensions(1) << "x"
        << io->GetDimensions(2) << " voxels, beyond the " << kMaxDimension << " per axis accepted";
      throw inputError(path, s.str());
    }
    voxels *= n;
    g.size[d] = n;
    const double sp = io->GetSpacing(d);
    if (!std::isfinite(sp) || sp <= 0.0)
      throw inputError(path, "header has invalid spacing " + std::to_string(sp) + " on axis " +
                                 std::to_string(d));
    g.spacing[d] = sp;
    const double o = io->GetOrigin(d);
    if (!std::isfinite(o)) throw inputError(path, "header has a non-finite origin");
    g.origin[d] = o;
    auto axis = io->GetDirection(d);
    for (unsigned r = 0; r < 3; ++r) {
      const double v = r < axis.size() ? axis[r] : (r == d ? 1.0 : 0.0);
      if (!std::isfinite(v)) throw inputError(path, "header has a non-finite direction");
      g.direction[r * 3 + d] = v;
    }
  }
  if (voxels > kMaxVoxels)
    throw inputError(path, "header claims " + std::to_string(voxels) + " voxels, more than accepted");
  if (std::abs(g.determinant()) < 1e-6) throw inputError(path, "header has a singular direction matrix");
}

template <class T>
Volume readWith(const std::string& path, itk::ImageIOBase* io) {
  auto reader = itk::ImageFileReader<ItkImage<T>>::New();
  reader->SetFileName(path);
  reader->SetImageIO(io);
  reader->Update();
  typename ItkImage<T>::Pointer image = reader->GetOutput();
  image->DisconnectPipeline();
  return volumeFromItk<T>(image);
}

template <class T>
Volume readDicomWith(const std::vector<std::string>& files) {
  auto reader = itk::ImageSeriesReader<ItkImage<T>>::New();
  auto io = itk::GDCMImageIO::New();
  reader->SetImageIO(io);
  reader->SetFileNames(files);
  reader->Update();
  typename ItkImage<T>::Pointer image = reader->GetOutput();
  image->DisconnectPipeline();
  return volumeFromItk<T>(image);
}

void checkReadable(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw inputError(path, "does not exist");
  if (fs::is_regular_file(path, ec) && fs::file_size(path, ec) == 0) throw inputError(path, "is empty (0 bytes)");
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f && !fs::is_directory(path, ec)) throw inputError(path, "cannot be opened for reading");
  if (f) std::fclose(f);
}

// ---------------------------------------------------------------------------
// Checks ITK does not make: truncated NIfTI voxel data (ITK reads short files
// silently), non-finite pixdim/spacing that ITK replaces by 1, and NRRD
// geometry stored exactly.

constexpr const char* kExactGeometryKey = "NEPHRO3D_geometry";

uint32_t littleEndian32(const unsigned char* b) { return b[0] | (b[1] << 8) | (b[2] << 16) | (uint32_t(b[3]) << 24); }

void checkNiftiPayload(const std::string& path, itk::ImageIOBase* io) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw inputError(path, "cannot be opened for reading");
  unsigned char hdr[348];
  const int got = gzread(f, hdr, sizeof hdr);
  if (got != static_cast<int>(sizeof hdr)) {
    gzclose(f);
    throw inputError(path, "is truncated: the NIfTI header is incomplete");
  }
  int32_t sizeofHdr;
  std::memcpy(&sizeofHdr, hdr, 4);
  if (sizeofHdr != 348) {  // NIfTI-2 or byte-swapped: leave those to ITK
    gzclose(f);
    return;
  }
  for (int i = 1; i <= 3; ++i) {
    float pd;
    std::memcpy(&pd, hdr + 76 + 4 * i, 4);
    if (!std::isfinite(pd)) {
      gzclose(f);
      throw inputError(path, "header has invalid spacing (pixdim[" + std::to_string(i) + "] is not finite)");
    }
  }
  float voxOffset;
  std::memcpy(&voxOffset, hdr + 108, 4);
  uint64_t voxels = 1;
  for (unsigned d = 0; d < io->GetNumberOfDimensions(); ++d) voxels *= io->GetDimensions(d);
  const uint64_t expected = static_cast<uint64_t>(std::max(352.0f, voxOffset)) +
                            voxels * io->GetComponentSize() * io->GetNumberOfComponents();
  const bool compressed = !gzdirect(f);
  uint64_t available = 0;
  if (!compressed) {
    gzclose(f);
    std::error_code ec;
    available = fs::file_size(path, ec);
  } else {
    // The gzip trailer holds the uncompressed size mod 2^32; only when it
    // disagrees is the stream decompressed to count (multi-member files).
    std::ifstream raw(path, std::ios::binary | std::ios::ate);
    const auto size = static_cast<int64_t>(raw.tellg());
    unsigned char trailer[4] = {0, 0, 0, 0};
    if (size >= 4) {
      raw.seekg(size - 4);
      raw.read(reinterpret_cast<char*>(trailer), 4);
    }
    if (littleEndian32(trailer) == static_cast<uint32_t>(expected & 0xffffffffu)) {
      gzclose(f);
      return;
    }
    available = sizeof hdr;
    std::vector<char> buf(1 << 20);
    int n;
    while ((n = gzread(f, buf.data(), static_cast<unsigned>(buf.size()))) > 0) available += static_cast<uint64_t>(n);
    int err = Z_OK;
    const std::string zmsg = gzerror(f, &err);
    gzclose(f);
    if (n < 0 && err == Z_DATA_ERROR) throw inputError(path, gzipProblem(zmsg));
    if (n < 0 || (err != Z_OK && err != Z_STREAM_END && available < expected))
      throw inputError(path, "is truncated or corrupt: the compressed stream ends after " +
                                 std::to_string(available) + " of " + std::to_string(expected) + " bytes");
  }
  if (available < expected)
    throw inputError(path, "is truncated: " + std::to_string(available) + " of " + std::to_string(expected) +
                               " bytes present");
}

// Reads the text header of a NRRD (up to the blank line), lower-cased.
std::vector<std::string> nrrdHeaderLines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  size_t total = 0;
  while (std::getline(in, line) && total < (1u << 20)) {
    total += line.size();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;
    lines.push_back(line);
  }
  return lines;
}

void checkNrrdHeader(const std::string& path) {
  for (std::string line : nrrdHeaderLines(path)) {
    std::string l = lower(line);
    for (const char* field : {"spacings:", "space directions:", "space origin:", "spacing:"})
      if (l.rfind(field, 0) == 0 && (l.find("nan") != std::string::npos || l.find("inf") != std::string::npos))
        throw inputError(path, std::string("header has a non-finite value in \"") + field + "\"");
  }
}

// Spacing, origin and direction as hexadecimal floats: NRRD's "space
// directions" (direction x spacing) does not round-trip to the bit.
std::string exactGeometryField(const Geometry& g) {
  std::string s;
  char buf[40];
  auto put = [&](double v) {
    std::snprintf(buf, sizeof buf, "%a ", v);
    s += buf;
  };
  for (double v : g.spacing) put(v);
  for (double v : g.origin) put(v);
  for (double v : g.direction) put(v);
  s.pop_back();
  return s;
}

// Applies the exact geometry when it agrees with the standard header (so a
// file edited by another tool keeps what that tool wrote).
void applyExactGeometry(const std::string& path, Geometry& g) {
  for (const std::string& line : nrrdHeaderLines(path)) {
    const std::string prefix = std::string(kExactGeometryKey) + ":=";
    if (line.rfind(prefix, 0) != 0) continue;
    std::istringstream in(line.substr(prefix.size()));
    double v[15];
    std::string token;
    for (double& x : v) {
      if (!(in >> token)) return;
      x = std::strtod(token.c_str(), nullptr);
      if (!std::isfinite(x)) return;
    }
    Geometry exact = g;
    for (int i = 0; i < 3; ++i) exact.spacing[i] = v[i], exact.origin[i] = v[3 + i];
    for (int i = 0; i < 9; ++i) exact.direction[i] = v[6 + i];
    if (exact.sameGrid(g, 1e-5)) g = exact;
    return;
  }
}


// NIfTI-1 voxels streamed with zlib straight into the volume's buffer: ITK's
// NIfTI reader holds the file's voxels and the image at once (2x the memory).
// Geometry still comes from ITK's header parsing. Returns false (and the
// caller uses ITK) for anything but a plain native-endian, unscaled 3D file
// whose data type is the volume's.
bool readNiftiVoxelsDirect(const std::string& path, const ImageInfo& info, Volume& out, const Progress& progress) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return false;
  gzbuffer(f, 1u << 22);  // zlib's default 8 KiB input buffer makes large reads slow
  unsigned char hdr[348];
  if (gzread(f, hdr, sizeof hdr) != static_cast<int>(sizeof hdr)) {
    gzclose(f);
    return false;
  }
  auto i16 = [&](int off) { int16_t v; std::memcpy(&v, hdr + off, 2); return v; };
  auto f32 = [&](int off) { float v; std::memcpy(&v, hdr + off, 4); return v; };
  int32_t sizeofHdr;
  std::memcpy(&sizeofHdr, hdr, 4);
  const int16_t datatype = i16(70);
  PixelType stored;
  switch (datatype) {
    case 2: stored = PixelType::UInt8; break;
    case 4: stored = PixelType::Int16; break;
    case 512: stored = PixelType::UInt16; break;
    case 8: stored = PixelType::Int32; break;
    case 16: stored = PixelType::Float32; break;
    default: stored = PixelType::Float32; sizeofHdr = 0; break;
  }
  const float slope = f32(112), inter = f32(116), voxOffset = f32(108);
  bool plain = sizeofHdr == 348 && stored == info.pixelType && (slope == 0.0f || (slope == 1.0f && inter == 0.0f)) &&
               voxOffset >= 348.0f;
  for (int d = 1; d <= 3 && plain; ++d) plain = i16(40 + 2 * d) == info.geometry.size[d - 1];
  for (int d = 4; d <= 7 && plain; ++d) plain = i16(40 + 2 * d) <= 1 || d > i16(40);
  if (!plain) {
    gzclose(f);
    return false;
  }
  Volume v(info.geometry, stored);
  if (gzseek(f, static_cast<z_off_t>(voxOffset), SEEK_SET) < 0) {
    gzclose(f);
    throw inputError(path, "is truncated: voxel data offset beyond the end");
  }
  auto* dst = static_cast<unsigned char*>(v.raw());
  const size_t total = v.byteSize();
  size_t done = 0;
  const size_t chunk = size_t(64) << 20;
  while (done < total) {
    const unsigned want = static_cast<unsigned>(std::min(chunk, total - done));
    const int got = gzread(f, dst + done, want);
    if (got <= 0) break;
    done += static_cast<size_t>(got);
    progress.report(0.05 + 0.9 * double(done) / double(total), "reading " + path);
    if (progress.cancelled()) {
      gzclose(f);
      throw cancelledError();
    }
  }
  // Read on to the end: zlib checks the gzip CRC and size trailer only there.
  std::string problem;
  if (done == total) {
    unsigned char tail[4096];
    int n;
    size_t extra = 0;
    while ((n = gzread(f, tail, sizeof tail)) > 0 && extra < (size_t(64) << 20)) extra += static_cast<size_t>(n);
    // A missing trailer is a soft error for zlib (Z_BUF_ERROR): gzread returns 0.
    int err = Z_OK;
    const char* msg = gzerror(f, &err);
    if (n < 0 || err != Z_OK) problem = gzipProblem(msg ? msg : "read error");
  } else {
    int err = Z_OK;
    const char* msg = gzerror(f, &err);
    if (err != Z_OK && err != Z_BUF_ERROR) problem = gzipProblem(msg);
  }
  gzclose(f);
  if (!problem.empty()) throw inputError(path, problem);
  if (done < total)
    throw inputError(path, "is truncated: " + std::to_string(done) + " of " + std::to_string(total) +
                               " bytes of voxel data present");
  out = std::move(v);
  return true;
}

bool isGzipFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char m[2] = {0, 0};
  in.read(reinterpret_cast<char*>(m), 2);
  return in.gcount() == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

// Compresses `from` into `to` (gzip, zlib level `level`), streaming.
void gzipFile(const std::string& from, const std::string& to, int level) {
  std::ifstream in(from, std::ios::binary);
  if (!in) throw outputError(from, "cannot reopen the uncompressed file");
  const std::string mode = "wb" + std::to_string(std::clamp(level, 1, 9));
  gzFile out = gzopen(to.c_str(), mode.c_str());
  if (!out) throw outputError(to, "cannot open for writing");
  std::vector<char> buf(size_t(8) << 20);
  bool ok = true;
  while (in && ok) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = in.gcount();
    if (n > 0) ok = gzwrite(out, buf.data(), static_cast<unsigned>(n)) == static_cast<int>(n);
  }
  if (gzclose(out) != Z_OK || !ok) throw outputError(to, "write failed (disk full?)");
}

itk::ImageIOBase::Pointer openHeader(const std::string& path, ImageInfo& info) {
  registerImageIOs();
  // Our own checks first: some damaged headers abort the process inside ITK,
  // and detached data files must not be opened outside the header's folder.
  validateImageFileBeforeRead(path);
  itk::ImageIOBase::Pointer io =
      itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::IOFileModeEnum::ReadMode);
  if (!io) throw inputError(path, "is not a readable NIfTI, NRRD, MetaImage or DICOM file");
  io->SetFileName(path);
  try {
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw inputError(path, "unreadable header: " + oneLine(e));
  }
  if (formatOf(path) == "NRRD") checkNrrdHeader(path);
  validateHeader(path, io, info.geometry);
  if (formatOf(path) == "NIfTI") checkNiftiPayload(path, io);
  if (formatOf(path) == "NRRD") applyExactGeometry(path, info.geometry);
  info.path = path;
  info.format = formatOf(path);
  if (info.format.empty()) info.format = io->GetNameOfClass();
  info.storedComponentType = itk::ImageIOBase::GetComponentTypeAsString(io->GetComponentType());
  info.pixelType = pixelTypeForComponent(io->GetComponentType());
  return io;
}

}  // namespace

bool isSupportedImagePath(const std::string& path) { return !formatOf(path).empty(); }

std::vector<DicomSeries> listDicomSeries(const std::string& folder) {
  std::vector<DicomSeries> out;
  for (const DicomSeriesListing& l : scanDicomSeriesFolder(folder))
    out.push_back({l.uid, l.description, l.fileCount, l.rows, l.columns});
  return out;
}

ImageInfo readImageInfo(const std::string& path, const ReadOptions& options) {
  checkReadable(path);
  ImageInfo info;
  if (fs::is_directory(path)) {
    const DicomSeriesPlan sel = planDicomSeries(path, options.seriesUid, options.allowGaps);
    // The geometry of a series needs the slice positions: read it (cheap for headers
    // would need GDCM's scanner; series here are small relative to the volume).
    Volume v = readVolume(path, options);
    info.path = path;
    info.format = "DICOM";
    info.geometry = v.geometry();
    info.pixelType = v.pixelType();
    info.storedComponentType = toString(v.pixelType());
    info.seriesUid = sel.uid;
    info.sliceCount = v.geometry().size[2];
    return info;
  }
  openHeader(path, info);
  return info;
}

Volume readVolume(const std::string& path, const ReadOptions& options, const Progress& progress) {
  checkReadable(path);
  progress.report(0.0, "reading " + path);
  Volume volume;
  if (fs::is_directory(path)) {
    registerImageIOs();
    const DicomSeriesPlan sel = planDicomSeries(path, options.seriesUid, options.allowGaps);
    auto probe = itk::GDCMImageIO::New();
    probe->SetFileName(sel.files.front());
    try {
      probe->ReadImageInformation();
      PixelType t = pixelTypeForComponent(probe->GetComponentType());
      volume = dispatchPixelType(t, [&](auto v) { return readDicomWith<decltype(v)>(sel.files); });
    } catch (const itk::ExceptionObject& e) {
      throw inputError(path, "unreadable DICOM series: " + oneLine(e));
    }
    if (sel.missing > 0) {
      volume = fillDicomGaps(volume, sel);
      if (options.notes) options.notes->push_back(sel.note);
    }
    Geometry g = volume.geometry();
    for (int d = 0; d < 3; ++d)
      if (!std::isfinite(g.spacing[d]) || g.spacing[d] <= 0)
        throw inputError(path, "DICOM series has invalid slice spacing");
  } else {
    ImageInfo info;
    itk::ImageIOBase::Pointer io = openHeader(path, info);
    try {
      const bool direct = info.format == "NIfTI" && !options.forceItkReader &&
                          readNiftiVoxelsDirect(path, info, volume, progress);
      if (!direct && info.format == "NIfTI" && isGzipFile(path)) verifyGzipFile(path);
      if (!direct && info.format == "MetaImage") verifyMetaImageCompressedData(path, io->GetImageSizeInBytes());
      if (!direct && info.format == "NRRD") verifyNrrdCompressedData(path);
      if (!direct)
        volume = dispatchPixelType(info.pixelType, [&](auto v) { return readWith<decltype(v)>(path, io); });
    } catch (const itk::ExceptionObject& e) {
      throw inputError(path, "unreadable or truncated voxel data: " + oneLine(e));
    } catch (const std::bad_alloc&) {
      throw inputError(path, "not enough memory for " + info.geometry.describe());
    }
    if (info.format == "NRRD") volume.setGeometry(info.geometry);
  }
  progress.report(1.0, "reading " + path);
  return volume;
}

void writeVolumeTo(const Volume& volume, const std::string& stagedPath, const WriteOptions& options) {
  registerImageIOs();
  if (volume.empty()) throw outputError(stagedPath, "nothing to write (empty volume)");
  const std::string format = formatOf(stagedPath);
  const std::string p = lower(stagedPath);
  if (format.empty() || format == "DICOM" || endsWith(p, ".nhdr") || endsWith(p, ".mhd"))
    throw outputError(stagedPath, "unsupported output format (use .nii.gz, .nii, .nrrd or .mha)");
  const bool compress = options.compress && !endsWith(p, ".nii");
  if (compress && endsWith(p, ".nii.gz")) {
    // ITK's NIfTI writer compresses at a fixed, slow level: write plain NIfTI
    // next to the target and stream it through zlib at the requested level.
    const std::string plain = stagedPath.substr(0, stagedPath.size() - 3);
    WriteOptions uncompressed = options;
    uncompressed.compress = false;
    try {
      writeVolumeTo(volume, plain, uncompressed);
      gzipFile(plain, stagedPath, options.compressionLevel > 0 ? options.compressionLevel : 1);
    } catch (...) {
      std::error_code ec;
      fs::remove(plain, ec);
      fs::remove(stagedPath, ec);
      throw;
    }
    std::error_code ec;
    fs::remove(plain, ec);
    return;
  }
  try {
    dispatchPixelType(volume.pixelType(), [&](auto v) {
      using T = decltype(v);
      auto image = itkView<T>(volume);
      auto& dict = image->GetMetaDataDictionary();
      for (const auto& [key, value] : options.nrrdFields) itk::EncapsulateMetaData<std::string>(dict, key, value);
      if (format == "NRRD")
        itk::EncapsulateMetaData<std::string>(dict, kExactGeometryKey, exactGeometryField(volume.geometry()));
      auto writer = itk::ImageFileWriter<ItkImage<T>>::New();
      writer->SetFileName(stagedPath);
      writer->SetInput(image);
      writer->SetUseCompression(compress);
      if (options.compressionLevel > 0) writer->SetCompressionLevel(options.compressionLevel);
      writer->Update();
      return 0;
    });
  } catch (const itk::ExceptionObject& e) {
    std::error_code ec;
    fs::remove(stagedPath, ec);
    throw outputError(stagedPath, "write failed: " + oneLine(e));
  }
}

void writeVolume(const Volume& volume, const std::string& path, const WriteOptions& options) {
  OutputTransaction tx;
  const std::string temp = tx.stage(path);
  try {
    writeVolumeTo(volume, temp, options);
  } catch (const Error& e) {
    // Name the file the user asked for, not the temporary.
    std::string msg = e.what();
    const auto pos = msg.find(": ");
    throw outputError(path, pos == std::string::npos ? msg : msg.substr(pos + 2));
  }
  tx.commit();
}

}  // namespace nephro
