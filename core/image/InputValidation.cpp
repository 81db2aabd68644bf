#include "image/InputValidation.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <zlib.h>

#include "common/Error.h"
#include "image/DicomScan.h"

namespace fs = std::filesystem;

namespace nephro {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Bytes of a NIfTI header, little- or big-endian.
struct HeaderBytes {
  const unsigned char* p;
  size_t n;
  bool swap;
  template <class T>
  T get(size_t off) const {
    T v{};
    if (off + sizeof(T) > n) return v;
    unsigned char b[sizeof(T)];
    std::memcpy(b, p + off, sizeof(T));
    if (swap) std::reverse(b, b + sizeof(T));
    std::memcpy(&v, b, sizeof(T));
    return v;
  }
};

int32_t swap32(int32_t v) {
  uint32_t u = static_cast<uint32_t>(v);
  u = (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
  return static_cast<int32_t>(u);
}

bool knownNiftiType(int code) {
  for (int t : {2, 4, 8, 16, 32, 64, 128, 256, 512, 768, 1024, 1280, 1536, 1792, 2048, 2304})
    if (code == t) return true;
  return false;
}

std::vector<std::string> headerLines(const std::string& path, bool metaImage) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  size_t total = 0;
  while (total < (1u << 20) && std::getline(in, line)) {
    total += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!metaImage && line.empty()) break;
    lines.push_back(line);
    if (metaImage && lower(trim(line)).rfind("elementdatafile", 0) == 0) {
      // A LIST is followed by one file name per line; LOCAL data follows at once.
      if (lower(line).find("list") == std::string::npos) break;
    }
  }
  return lines;
}

// printf-style file name patterns may only hold one integer conversion.
void checkPattern(const std::string& headerPath, const std::string& pattern) {
  int conversions = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%') continue;
    if (i + 1 < pattern.size() && pattern[i + 1] == '%') {
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < pattern.size() && (std::isdigit(static_cast<unsigned char>(pattern[j])) || pattern[j] == '0')) ++j;
    if (j >= pattern.size() || (pattern[j] != 'd' && pattern[j] != 'i' && pattern[j] != 'u'))
      throw inputError(headerPath, "names data files with an unsupported pattern \"" + pattern + "\"");
    ++conversions;
    i = j;
  }
  if (conversions > 1) throw inputError(headerPath, "names data files with an unsupported pattern \"" + pattern + "\"");
}

// The directory part of a pattern (numbers cannot add a separator) must stay inside.
void checkPatternInside(const std::string& headerPath, const std::string& pattern) {
  checkPattern(headerPath, pattern);
  std::string probe = pattern;
  for (char& c : probe)
    if (c == '%') c = '_';
  resolveDataFileInside(headerPath, probe);
}

}  // namespace

// ---------------------------------------------------------------------------
// NIfTI

void validateNiftiHeader(const std::string& path, const unsigned char* bytes, size_t count) {
  if (count < 4) throw inputError(path, "is truncated: the NIfTI header is incomplete");
  int32_t size;
  std::memcpy(&size, bytes, 4);
  bool swap = false;
  if (size != 348 && size != 540) {
    if (swap32(size) == 348 || swap32(size) == 540) {
      swap = true;
      size = swap32(size);
    } else {
      throw inputError(path, "is not a NIfTI file: header size (sizeof_hdr) is " + std::to_string(size) +
                                 ", 348 or 540 expected");
    }
  }
  if (count < static_cast<size_t>(size)) throw inputError(path, "is truncated: the NIfTI header is incomplete");
  const HeaderBytes h{bytes, count, swap};
  const bool v2 = size == 540;
  const std::string magic(reinterpret_cast<const char*>(bytes) + (v2 ? 4 : 344), 3);
  if (magic != (v2 ? "n+2" : "n+1") && magic != (v2 ? "ni2" : "ni1"))
    throw inputError(path, "has no NIfTI magic string (\"n+1\"); the header is damaged or not NIfTI");

  int64_t dim[8];
  double pixdim[8];
  for (int i = 0; i < 8; ++i) {
    dim[i] = v2 ? h.get<int64_t>(16 + 8 * i) : h.get<int16_t>(40 + 2 * i);
    pixdim[i] = v2 ? h.get<double>(104 + 8 * i) : h.get<float>(76 + 4 * i);
  }
  const int datatype = v2 ? h.get<int16_t>(12) : h.get<int16_t>(70);
  if (dim[0] < 1 || dim[0] > 7)
    throw inputError(path, "header has an invalid number of dimensions (dim[0] = " + std::to_string(dim[0]) + ")");
  for (int i = 1; i <= dim[0]; ++i)
    if (dim[i] < 1)
      throw inputError(path, "header has an invalid size " + std::to_string(dim[i]) + " on axis " + std::to_string(i - 1));
  if (!knownNiftiType(datatype))
    throw inputError(path, "header has an unknown data type code " + std::to_string(datatype));
  for (int i = 1; i <= std::min<int64_t>(3, dim[0]); ++i) {
    const double sp = pixdim[i];
    if (!std::isfinite(sp))
      throw inputError(path, "header has invalid spacing (pixdim[" + std::to_string(i) + "] is not finite)");
    if (sp == 0.0) throw inputError(path, "header has zero voxel spacing (pixdim[" + std::to_string(i) + "] = 0)");
    if (sp < 0.0)
      throw inputError(path, "header has negative voxel spacing (pixdim[" + std::to_string(i) + "] = " + num(sp) + ")");
  }
  const double voxOffset = v2 ? double(h.get<int64_t>(168)) : h.get<float>(108);
  if (!std::isfinite(voxOffset) || voxOffset < 0 || (magic[1] == '+' && voxOffset < size))
    throw inputError(path, "header has an invalid voxel data offset (vox_offset = " + num(voxOffset) + ")");

  const int qformCode = v2 ? h.get<int32_t>(344) : h.get<int16_t>(252);
  const int sformCode = v2 ? h.get<int32_t>(348) : h.get<int16_t>(254);
  double q[6], s[12];
  for (int i = 0; i < 6; ++i) q[i] = v2 ? h.get<double>(352 + 8 * i) : h.get<float>(256 + 4 * i);
  for (int i = 0; i < 12; ++i) s[i] = v2 ? h.get<double>(400 + 8 * i) : h.get<float>(280 + 4 * i);
  for (double v : q)
    if (!std::isfinite(v)) throw inputError(path, "header has a non-finite value (NaN or Inf) in its qform");
  for (double v : s)
    if (!std::isfinite(v)) throw inputError(path, "header has a non-finite value (NaN or Inf) in its sform");
  if (qformCode < 0 || sformCode < 0)
    throw inputError(path, "header has a negative qform_code or sform_code");
  // ITK derives the orientation with a single-precision SVD that never ends on
  // subnormal entries, and no scanner places a voxel 1e38 mm away: refuse
  // magnitudes outside 1e-20..1e7 mm in the transform that will be used.
  const auto implausible = [](double v) { return v != 0.0 && (std::abs(v) < 1e-20 || std::abs(v) > 1e7); };
  for (int i = 1; i <= std::min<int64_t>(3, dim[0]); ++i)
    if (implausible(pixdim[i]))
      throw inputError(path, "header has an implausible voxel spacing (pixdim[" + std::to_string(i) + "] = " +
                                 num(pixdim[i]) + ")");
  if (qformCode > 0)
    for (double v : q)
      if (implausible(v)) throw inputError(path, "header's qform has an implausible value (" + num(v) + ")");
  if (sformCode > 0)
    for (double v : s)
      if (implausible(v)) throw inputError(path, "header's sform has an implausible value (" + num(v) + ")");
  if (qformCode > 0 && q[0] * q[0] + q[1] * q[1] + q[2] * q[2] > 1.0 + 1e-4)
    throw inputError(path, "header's qform quaternion is not a rotation (b^2+c^2+d^2 > 1)");
  if (sformCode > 0) {
    const double det = s[0] * (s[5] * s[10] - s[6] * s[9]) - s[1] * (s[4] * s[10] - s[6] * s[8]) +
                       s[2] * (s[4] * s[9] - s[5] * s[8]);
    if (!std::isfinite(det) || std::abs(det) < 1e-12)
      throw inputError(path, "header's sform matrix is singular (zero spacing or a degenerate axis)");
  }
}

namespace {

void validateNiftiFile(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw inputError(path, "cannot be opened for reading");
  unsigned char hdr[540];
  const int got = gzread(f, hdr, sizeof hdr);
  int err = Z_OK;
  const std::string msg = got < 348 ? gzerror(f, &err) : "";
  gzclose(f);
  // A small file decompresses whole on the first read: its CRC is checked here.
  if (got < 348 && err != Z_OK && err != Z_BUF_ERROR) throw inputError(path, gzipProblem(msg));
  validateNiftiHeader(path, hdr, got > 0 ? static_cast<size_t>(got) : 0);
  // An uncompressed single file must hold the offset it names.
  if (got >= 348 && !endsWith(lower(path), ".gz")) {
    int32_t size;
    std::memcpy(&size, hdr, 4);
    const bool v2 = size == 540 || swap32(size) == 540;
    const bool swap = size != 348 && size != 540;
    const HeaderBytes h{hdr, static_cast<size_t>(got), swap};
    const double voxOffset = v2 ? double(h.get<int64_t>(168)) : h.get<float>(108);
    std::error_code ec;
    const auto fileSize = fs::file_size(path, ec);
    if (!ec && hdr[v2 ? 5 : 345] == '+' && voxOffset > double(fileSize))
      throw inputError(path, "is truncated: its voxel data would start at byte " + num(voxOffset) + " of a " +
                                 std::to_string(fileSize) + "-byte file");
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Detached data files

std::string resolveDataFileInside(const std::string& headerPath, const std::string& name) {
  std::error_code ec;
  fs::path folder = fs::path(headerPath).parent_path();
  if (folder.empty()) folder = ".";
  const fs::path base = fs::weakly_canonical(fs::absolute(folder, ec), ec);
  const fs::path named(name);
  const fs::path target = fs::weakly_canonical(named.is_absolute() ? named : base / named, ec);
  if (ec) throw inputError(headerPath, "names a data file \"" + name + "\" that cannot be resolved");
  const std::string b = base.string(), t = target.string();
  const bool inside = t.size() > b.size() + 1 && t.compare(0, b.size(), b) == 0 && (b.back() == '/' || t[b.size()] == '/');
  if (!inside)
    throw inputError(headerPath, "names a data file outside its folder (\"" + name +
                                     "\"); data files must lie beside the header");
  return t;
}

namespace {
void checkDataFileExists(const std::string& headerPath, const std::string& name, const std::string& resolved) {
  std::error_code ec;
  if (!fs::is_regular_file(resolved, ec))
    throw inputError(headerPath, "names a data file \"" + name + "\" that does not exist beside it");
}
}  // namespace

std::vector<std::string> nrrdDataFiles(const std::string& headerPath) {
  const std::vector<std::string> lines = headerLines(headerPath, false);
  std::vector<std::string> names;
  for (const std::string& line : lines) {
    const std::string l = lower(line);
    std::string value;
    if (l.rfind("data file:", 0) == 0) value = trim(line.substr(10));
    else if (l.rfind("datafile:", 0) == 0) value = trim(line.substr(9));
    else continue;
    if (value.empty()) throw inputError(headerPath, "has an empty \"data file\" field");
    if (lower(value).rfind("list", 0) == 0 && (value.size() == 4 || std::isspace(static_cast<unsigned char>(value[4])))) {
      // One file per line after the header's blank line.
      std::ifstream in(headerPath, std::ios::binary);
      std::string x;
      while (std::getline(in, x)) {
        if (!x.empty() && x.back() == '\r') x.pop_back();
        if (x.empty()) break;
      }
      size_t count = 0;
      while (std::getline(in, x) && count++ < 100000) {
        x = trim(x);
        if (!x.empty()) names.push_back(x);
      }
      continue;
    }
    std::istringstream tokens(value);
    std::vector<std::string> parts;
    for (std::string t; tokens >> t;) parts.push_back(t);
    if (parts.size() >= 4 && parts[0].find('%') != std::string::npos) {
      checkPatternInside(headerPath, parts[0]);
      continue;
    }
    names.push_back(value);
  }
  for (const std::string& n : names) checkDataFileExists(headerPath, n, resolveDataFileInside(headerPath, n));
  return names;
}

std::vector<std::string> metaImageDataFiles(const std::string& headerPath) {
  const std::vector<std::string> lines = headerLines(headerPath, true);
  std::vector<std::string> names;
  bool list = false;
  for (const std::string& raw : lines) {
    const std::string line = trim(raw);
    if (list) {
      if (!line.empty()) names.push_back(line);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    if (lower(trim(line.substr(0, eq))) != "elementdatafile") continue;
    const std::string value = trim(line.substr(eq + 1));
    if (value.empty()) throw inputError(headerPath, "has an empty ElementDataFile field");
    if (lower(value) == "local") break;
    if (lower(value).rfind("list", 0) == 0) {
      list = true;
      continue;
    }
    std::istringstream tokens(value);
    std::vector<std::string> parts;
    for (std::string t; tokens >> t;) parts.push_back(t);
    if (parts.size() >= 4 && parts[0].find('%') != std::string::npos) {
      checkPatternInside(headerPath, parts[0]);
      break;
    }
    names.push_back(value);
    break;
  }
  for (const std::string& n : names) checkDataFileExists(headerPath, n, resolveDataFileInside(headerPath, n));
  return names;
}

// ---------------------------------------------------------------------------
// Compressed data

std::string gzipProblem(const std::string& m) {
  if (m.find("incorrect data check") != std::string::npos)
    return "gzip CRC does not match: the compressed data is corrupt";
  if (m.find("incorrect length check") != std::string::npos)
    return "gzip trailer's size does not match the data: the file is corrupt";
  if (m.find("unexpected end of file") != std::string::npos)
    return "is truncated: the gzip stream ends before its trailer";
  return "compressed data is corrupt (zlib: " + m + ")";
}

void verifyGzipFile(const std::string& path) { verifyGzipStream(path, path, 0); }

void verifyGzipStream(const std::string& path, const std::string& source, uint64_t offset) {
  std::ifstream in(source, std::ios::binary);
  if (!in) throw inputError(path, "cannot be opened for reading");
  in.seekg(static_cast<std::streamoff>(offset));
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw inputError(path, "zlib could not be initialised");
  std::vector<unsigned char> input(1 << 20), output(1 << 20);
  // Keeps at least `want` unread bytes in the buffer when the file has them.
  auto refill = [&](size_t want) {
    if (zs.avail_in >= want) return;
    std::memmove(input.data(), zs.next_in ? zs.next_in : input.data(), zs.avail_in);
    in.read(reinterpret_cast<char*>(input.data() + zs.avail_in),
            static_cast<std::streamsize>(input.size() - zs.avail_in));
    zs.next_in = input.data();
    zs.avail_in += static_cast<uInt>(std::max<std::streamsize>(0, in.gcount()));
  };
  bool ended = false, anyMember = false;
  std::string problem;
  while (problem.empty()) {
    refill(ended ? 2 : 1);
    if (zs.avail_in == 0) break;
    if (ended) {
      // Another member follows only when it starts with the gzip magic; else trailing bytes.
      if (zs.avail_in < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b) break;
      inflateReset(&zs);
      ended = false;
    }
    zs.next_out = output.data();
    zs.avail_out = static_cast<uInt>(output.size());
    const int r = inflate(&zs, Z_NO_FLUSH);
    if (r == Z_STREAM_END) {
      ended = anyMember = true;
    } else if (r != Z_OK && r != Z_BUF_ERROR) {
      problem = gzipProblem(zs.msg ? zs.msg : "inflate failed");
    }
  }
  inflateEnd(&zs);
  if (!problem.empty()) throw inputError(path, problem);
  if (!ended) {
    if (!anyMember && zs.total_out == 0) throw inputError(path, "is not a gzip file or its stream is damaged");
    throw inputError(path, "is truncated: the gzip stream ends before its trailer (CRC and size)");
  }
}

void verifyMetaImageCompressedData(const std::string& path, uint64_t expectedBytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "cannot be opened for reading");
  bool compressed = false;
  std::string dataFile;
  std::streamoff offset = 0;
  std::string raw;
  size_t total = 0;
  while (total < (1u << 20) && std::getline(in, raw)) {
    total += raw.size() + 1;
    const std::string line = trim(raw);
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = lower(trim(line.substr(0, eq)));
    const std::string value = trim(line.substr(eq + 1));
    if (key == "compresseddata") compressed = lower(value) == "true";
    if (key == "elementdatafile") {
      dataFile = value;
      offset = in.tellg();
      break;
    }
  }
  if (!compressed || dataFile.empty()) return;
  std::string source = path;
  if (lower(dataFile) != "local") {
    std::istringstream tokens(dataFile);
    std::vector<std::string> parts;
    for (std::string t; tokens >> t;) parts.push_back(t);
    if (lower(dataFile).rfind("list", 0) == 0 || (parts.size() >= 4 && parts[0].find('%') != std::string::npos))
      return;  // several files: each is checked by ITK's reader
    source = resolveDataFileInside(path, dataFile);
    offset = 0;
  }
  std::ifstream data(source, std::ios::binary);
  if (!data) throw inputError(path, "data file \"" + dataFile + "\" cannot be opened");
  data.seekg(offset);
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 32) != Z_OK) throw inputError(path, "zlib could not be initialised");
  std::vector<unsigned char> input(1 << 20), output(1 << 20);
  int r = Z_OK;
  while (r == Z_OK || r == Z_BUF_ERROR) {
    if (zs.avail_in == 0) {
      data.read(reinterpret_cast<char*>(input.data()), static_cast<std::streamsize>(input.size()));
      const auto n = data.gcount();
      if (n <= 0) break;
      zs.next_in = input.data();
      zs.avail_in = static_cast<uInt>(n);
    }
    zs.next_out = output.data();
    zs.avail_out = static_cast<uInt>(output.size());
    r = inflate(&zs, Z_NO_FLUSH);
    if (zs.total_out > expectedBytes) break;
  }
  const std::string msg = zs.msg ? zs.msg : "";
  const uint64_t produced = zs.total_out;
  inflateEnd(&zs);
  if (r == Z_DATA_ERROR || r == Z_STREAM_ERROR || r == Z_NEED_DICT || r == Z_MEM_ERROR)
    throw inputError(path, "compressed voxel data does not decompress (zlib: " + (msg.empty() ? "error" : msg) + ")");
  if (r != Z_STREAM_END || produced != expectedBytes)
    throw inputError(path, "compressed voxel data decompresses to " + std::to_string(produced) + " of " +
                               std::to_string(expectedBytes) + " bytes: the file is truncated or corrupt");
}

void verifyNrrdCompressedData(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "cannot be opened for reading");
  std::string line, encoding, dataFile;
  size_t total = 0;
  bool blank = false;
  while (total < (1u << 20) && std::getline(in, line)) {
    total += line.size() + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      blank = true;
      break;
    }
    const std::string l = lower(line);
    if (l.rfind("encoding:", 0) == 0) encoding = trim(l.substr(9));
    if (l.rfind("data file:", 0) == 0) dataFile = trim(line.substr(10));
    if (l.rfind("datafile:", 0) == 0) dataFile = trim(line.substr(9));
  }
  if (encoding != "gzip" && encoding != "gz") return;
  if (dataFile.empty()) {
    if (!blank) throw inputError(path, "has no voxel data after its header");
    verifyGzipStream(path, path, static_cast<uint64_t>(in.tellg()));
    return;
  }
  std::istringstream tokens(dataFile);
  std::vector<std::string> parts;
  for (std::string t; tokens >> t;) parts.push_back(t);
  if (lower(dataFile).rfind("list", 0) == 0 || (parts.size() >= 4 && parts[0].find('%') != std::string::npos)) return;
  verifyGzipStream(path, resolveDataFileInside(path, dataFile), 0);
}

// ---------------------------------------------------------------------------

void validateImageFileBeforeRead(const std::string& path) {
  const std::string p = lower(path);
  if (endsWith(p, ".nii") || endsWith(p, ".nii.gz")) validateNiftiFile(path);
  else if (endsWith(p, ".nrrd") || endsWith(p, ".nhdr")) nrrdDataFiles(path);
  else if (endsWith(p, ".mha") || endsWith(p, ".mhd")) metaImageDataFiles(path);
  else {
    // Any other name goes through ITK's reader probe, GDCM's among them, which
    // asserts on some damaged DICOM: a file that looks like DICOM is walked first.
    const DicomFileScan scan = scanDicomFile(path);
    if (!scan.isDicom) return;
    if (!scan.problem.empty()) throw inputError(path, scan.problem);
    if (!scan.isImage) throw inputError(path, "is a DICOM file without pixel data (not an image slice)");
  }
}

}  // namespace nephro
