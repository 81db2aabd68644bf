#include "image/DicomScan.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nephro {

namespace {

constexpr uint32_t kUndefined = 0xFFFFFFFFu;

std::string hexTag(uint16_t g, uint16_t e) {
  char b[16];
  std::snprintf(b, sizeof b, "(%04X,%04X)", g, e);
  return b;
}

bool longLengthVr(const char* vr) {
  static const char* longs[] = {"OB", "OW", "OF", "SQ", "UT", "UN", "OD", "OL", "OV", "UC", "UR", "SV", "UV"};
  for (const char* l : longs)
    if (vr[0] == l[0] && vr[1] == l[1]) return true;
  return false;
}

bool isVrChars(const unsigned char* p) {
  return p[0] >= 'A' && p[0] <= 'Z' && p[1] >= 'A' && p[1] <= 'Z';
}

// The value representations of PS3.5 6.2; GDCM asserts on any other.
bool isKnownVr(const char* vr) {
  static const char* known[] = {"AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
                                "OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST",
                                "SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV"};
  for (const char* k : known)
    if (vr[0] == k[0] && vr[1] == k[1]) return true;
  return false;
}

// The value representation GDCM's image reading expects of the attributes it
// reads by type (it asserts on any other), for top-level elements.
const char* expectedVr(uint32_t tag) {
  switch (tag) {
    case 0x00020002: case 0x00020003: case 0x00020010: case 0x00080016: case 0x00080018:
    case 0x0020000D: case 0x0020000E: case 0x00200052: return "UI";
    case 0x00180050: case 0x00180088: case 0x00200032: case 0x00200037: case 0x00280030:
    case 0x00281050: case 0x00281051: case 0x00281052: case 0x00281053: return "DS";
    case 0x00200013: case 0x00280008: return "IS";
    case 0x00280004: return "CS";
    case 0x00280002: case 0x00280006: case 0x00280010: case 0x00280011: case 0x00280100:
    case 0x00280101: case 0x00280102: case 0x00280103: return "US";
    default: return nullptr;
  }
}

std::string trimValue(const unsigned char* p, size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  size_t a = 0;
  while (a < s.size() && s[a] == ' ') ++a;
  return s.substr(a);
}

// "a\b\c" decimal strings; returns how many were parsed (at most `max`).
int parseDecimals(const std::string& s, double* out, int max) {
  int n = 0;
  size_t pos = 0;
  while (n < max && pos <= s.size()) {
    size_t next = s.find('\\', pos);
    if (next == std::string::npos) next = s.size();
    const std::string part = s.substr(pos, next - pos);
    char* end = nullptr;
    const double v = std::strtod(part.c_str(), &end);
    if (end == part.c_str()) return n;
    out[n++] = v;
    pos = next + 1;
  }
  return n;
}

struct Container {
  enum Kind { Sequence, Item, Encapsulated } kind;
  uint64_t end;  // kUndefinedEnd when closed by a delimiter
};
constexpr uint64_t kUndefinedEnd = ~uint64_t(0);

class Walker {
 public:
  Walker(const unsigned char* d, size_t n, DicomFileScan& out) : d_(d), n_(n), out_(out) {}

  void run() {
    size_t pos = 0;
    bool explicitVr = true;
    bool bigEndian = false;
    if (n_ >= 132 && std::memcmp(d_ + 128, "DICM", 4) == 0) {
      out_.isDicom = true;
      pos = 132;
      // File meta information: explicit VR little endian, group 0002.
      while (pos + 8 <= n_ && u16(pos, false) == 0x0002) {
        if (!element(pos, true, false, true)) return;
      }
      const std::string& ts = out_.transferSyntax;
      if (ts == "1.2.840.10008.1.2") explicitVr = false;
      if (ts == "1.2.840.10008.1.2.2") bigEndian = true;
      if (ts == "1.2.840.10008.1.2.1.99") return;  // deflated: the structure cannot be walked here
    } else {
      // A raw data set: plausible when it starts with a low group number.
      if (n_ < 8) return;
      const uint16_t g = u16(0, false);
      if (g != 0x0008 && g != 0x0002) return;
      out_.isDicom = true;
      explicitVr = isVrChars(d_ + 4);
    }
    while (pos < n_) {
      while (!stack_.empty() && stack_.back().end != kUndefinedEnd && pos >= stack_.back().end) stack_.pop_back();
      if (!element(pos, explicitVr, bigEndian, false)) return;
    }
    if (!stack_.empty()) fail("is truncated: the file ends inside a sequence or the pixel data");
  }

 private:
  uint16_t u16(size_t p, bool be) const {
    return be ? uint16_t(d_[p] << 8 | d_[p + 1]) : uint16_t(d_[p] | d_[p + 1] << 8);
  }
  uint32_t u32(size_t p, bool be) const {
    return be ? (uint32_t(d_[p]) << 24 | uint32_t(d_[p + 1]) << 16 | uint32_t(d_[p + 2]) << 8 | d_[p + 3])
              : (uint32_t(d_[p]) | uint32_t(d_[p + 1]) << 8 | uint32_t(d_[p + 2]) << 16 | uint32_t(d_[p + 3]) << 24);
  }
  void fail(const std::string& problem) {
    if (out_.problem.empty()) out_.problem = problem;
  }

  // Reads one element (or item/delimiter) at `pos`; false ends the walk.
  bool element(size_t& pos, bool explicitVr, bool be, bool meta) {
    if (pos + 8 > n_) {
      fail("is truncated: " + std::to_string(n_ - pos) + " stray bytes where an element should start");
      return false;
    }
    const uint16_t g = u16(pos, be), e = u16(pos + 2, be);
    if (g == 0xFFFE) {
      const uint32_t len = u32(pos + 4, be);
      pos += 8;
      const bool inEncapsulated = !stack_.empty() && stack_.back().kind == Container::Encapsulated;
      if (e == 0xE000) {
        if (inEncapsulated) {
          if (len == kUndefined || len > n_ - pos) {
            fail("is truncated: a pixel data fragment claims " + std::to_string(len) + " bytes, " +
                 std::to_string(n_ - pos) + " remain");
            return false;
          }
          out_.pixelDataBytes += len;
          pos += len;
          return true;
        }
        if (len != kUndefined && len > n_ - pos) {
          fail("is truncated: an item claims " + std::to_string(len) + " bytes, " + std::to_string(n_ - pos) + " remain");
          return false;
        }
        push({Container::Item, len == kUndefined ? kUndefinedEnd : pos + len});
        return true;
      }
      if (e == 0xE00D) {
        if (!stack_.empty() && stack_.back().kind == Container::Item) stack_.pop_back();
        return true;
      }
      if (e == 0xE0DD) {
        if (!stack_.empty() && stack_.back().kind == Container::Item) stack_.pop_back();
        if (!stack_.empty() && stack_.back().kind != Container::Item) stack_.pop_back();
        return true;
      }
      fail("has a damaged item tag " + hexTag(g, e));
      return false;
    }
    // Elements of a data set come in ascending tag order; a file that breaks
    // the order is damaged (and sends other parsers astray).
    if (stack_.empty()) {
      const uint32_t tag = uint32_t(g) << 16 | e;
      if (haveLast_ && tag <= lastTag_) {
        fail("is damaged: element " + hexTag(g, e) + " follows " + hexTag(uint16_t(lastTag_ >> 16), uint16_t(lastTag_)) +
             " out of order");
        return false;
      }
      haveLast_ = true;
      lastTag_ = tag;
    }
    char vr[3] = {0, 0, 0};
    uint32_t len;
    size_t header;
    if (explicitVr) {
      if (!isVrChars(d_ + pos + 4)) {
        fail("has a damaged element " + hexTag(g, e) + " (no value representation)");
        return false;
      }
      vr[0] = static_cast<char>(d_[pos + 4]);
      vr[1] = static_cast<char>(d_[pos + 5]);
      if (!isKnownVr(vr)) {
        fail("has a damaged element " + hexTag(g, e) + " (unknown value representation \"" + vr + "\")");
        return false;
      }
      if (longLengthVr(vr)) {
        if (pos + 12 > n_) {
          fail("is truncated inside the element " + hexTag(g, e));
          return false;
        }
        len = u32(pos + 8, be);
        header = 12;
      } else {
        len = u16(pos + 6, be);
        header = 8;
      }
    } else {
      len = u32(pos + 4, be);
      header = 8;
    }
    if (stack_.empty()) {
      const char* want = expectedVr(uint32_t(g) << 16 | e);
      if (want && explicitVr && !(vr[0] == want[0] && vr[1] == want[1])) {
        fail("has a damaged element " + hexTag(g, e) + " (value representation " + vr + ", " + want + " expected)");
        return false;
      }
      if (want && want[0] == 'U' && want[1] == 'S' && len != 2) {
        fail("has a damaged element " + hexTag(g, e) + " (" + std::to_string(len) + " bytes, 2 expected)");
        return false;
      }
      if (g == 0x7FE0 && e == 0x0010 && explicitVr && !(vr[0] == 'O' && (vr[1] == 'B' || vr[1] == 'W'))) {
        fail(std::string("has damaged pixel data (value representation ") + vr + ", OB or OW expected)");
        return false;
      }
    }
    pos += header;
    const bool pixelData = g == 0x7FE0 && e == 0x0010 && stack_.empty();
    if (len == kUndefined) {
      if (pixelData) {
        out_.isImage = out_.encapsulated = true;
        out_.pixelDataBytes = 0;
        push({Container::Encapsulated, kUndefinedEnd});
        return true;
      }
      // UN of undefined length holds implicit-VR data: stop walking (no verdict) rather than misread it.
      if (explicitVr && vr[0] == 'U' && vr[1] == 'N') return false;
      if (explicitVr && !(vr[0] == 'S' && vr[1] == 'Q')) {
        fail("has an undefined length on the element " + hexTag(g, e));
        return false;
      }
      push({Container::Sequence, kUndefinedEnd});
      return true;
    }
    if (len > n_ - pos) {
      if (pixelData)
        fail("is truncated: the pixel data holds " + std::to_string(n_ - pos) + " of " + std::to_string(len) + " bytes");
      else
        fail("is truncated or damaged: the element " + hexTag(g, e) + " claims " + std::to_string(len) +
             " bytes, " + std::to_string(n_ - pos) + " remain");
      return false;
    }
    if (explicitVr && vr[0] == 'S' && vr[1] == 'Q') {
      push({Container::Sequence, pos + len});
      return true;
    }
    if (stack_.empty() || meta) value(g, e, pos, len, be);
    pos += len;
    return true;
  }

  void push(const Container& c) {
    if (stack_.size() > 64) {
      fail("nests sequences more than 64 deep");
      return;
    }
    stack_.push_back(c);
  }

  void value(uint16_t g, uint16_t e, size_t pos, uint32_t len, bool be) {
    const uint32_t t = uint32_t(g) << 16 | e;
    auto text = [&] { return trimValue(d_ + pos, std::min<uint32_t>(len, 1024)); };
    auto us = [&] { return len >= 2 ? int(u16(pos, be)) : 0; };
    switch (t) {
      case 0x00020010: out_.transferSyntax = text(); break;
      case 0x00080016: out_.sopClassUid = text(); break;
      case 0x0020000E: out_.seriesUid = text(); break;
      case 0x0008103E: out_.seriesDescription = text(); break;
      case 0x00200032:
        out_.hasPosition = parseDecimals(text(), out_.position.data(), 3) == 3;
        break;
      case 0x00200037:
        out_.hasOrientation = parseDecimals(text(), out_.orientation.data(), 6) == 6;
        break;
      case 0x00280030: parseDecimals(text(), out_.pixelSpacing.data(), 2); break;
      case 0x00280010: out_.rows = us(); break;
      case 0x00280011: out_.columns = us(); break;
      case 0x00280100:
        out_.bitsAllocated = us();
        if (!oneOf(out_.bitsAllocated, {1, 8, 16, 32, 64})) badPixelModule("Bits Allocated", out_.bitsAllocated);
        break;
      case 0x00280101: bitsStored_ = us(); break;
      case 0x00280102: highBit_ = us(); break;
      case 0x00280002:
        out_.samplesPerPixel = us();
        if (!oneOf(out_.samplesPerPixel, {1, 3, 4})) badPixelModule("Samples per Pixel", out_.samplesPerPixel);
        break;
      case 0x00280006:
        if (!oneOf(us(), {0, 1})) badPixelModule("Planar Configuration", us());
        break;
      case 0x00280103:
        if (!oneOf(us(), {0, 1})) badPixelModule("Pixel Representation", us());
        break;
      case 0x00280008: out_.frames = std::max(1, std::atoi(text().c_str())); break;
      case 0x7FE00010:
        out_.isImage = true;
        out_.pixelDataBytes = len;
        break;
      default: break;
    }
  }

  static bool oneOf(int v, std::initializer_list<int> allowed) {
    for (int a : allowed)
      if (v == a) return true;
    return false;
  }
  // PS3.3 C.7.6.3 values; GDCM asserts on others.
  void badPixelModule(const char* name, int v) {
    fail(std::string("has an invalid ") + name + " (" + std::to_string(v) + ")");
  }

 public:
  // After the walk: Bits Stored and High Bit must fit in Bits Allocated.
  void checkBits() {
    if (bitsStored_ < 0 || out_.bitsAllocated <= 0) return;
    if (bitsStored_ == 0 || bitsStored_ > out_.bitsAllocated) badPixelModule("Bits Stored", bitsStored_);
    else if (highBit_ >= 0 && highBit_ >= out_.bitsAllocated) badPixelModule("High Bit", highBit_);
  }

 private:
  int bitsStored_ = -1, highBit_ = -1;
  const unsigned char* d_;
  size_t n_;
  DicomFileScan& out_;
  std::vector<Container> stack_;
  uint32_t lastTag_ = 0;
  bool haveLast_ = false;
};

}  // namespace

DicomFileScan scanDicomBytes(const unsigned char* data, size_t size, const std::string& name) {
  DicomFileScan out;
  out.path = name;
  Walker walker(data, size, out);
  walker.run();
  walker.checkBits();
  if (out.isDicom && out.isImage && out.problem.empty() && (out.rows <= 0 || out.columns <= 0))
    out.problem = "has pixel data but no Rows or Columns";
  if (out.isDicom && out.isImage && out.problem.empty() && !out.encapsulated && out.rows > 0 && out.columns > 0) {
    const int64_t need = int64_t(out.rows) * out.columns * std::max(1, out.bitsAllocated / 8) *
                         std::max(1, out.samplesPerPixel) * std::max(1, out.frames);
    if (out.pixelDataBytes < need)
      out.problem = "is truncated: the pixel data holds " + std::to_string(out.pixelDataBytes) + " of " +
                    std::to_string(need) + " bytes (" + std::to_string(out.rows) + "x" +
                    std::to_string(out.columns) + ")";
  }
  return out;
}

DicomFileScan scanDicomFile(const std::string& path) {
  DicomFileScan out;
  out.path = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    out.problem = "cannot be opened for reading";
    return out;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return out;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return out;
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) {
    out.problem = "cannot be read (mmap failed)";
    return out;
  }
  out = scanDicomBytes(static_cast<const unsigned char*>(map), size, path);
  ::munmap(map, size);
  return out;
}

}  // namespace nephro
