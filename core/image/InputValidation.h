#pragma once
// Checks made on an image file before any library parses it: the NIfTI header
// (size, dimensions, spacing, qform/sform), data files named by NRRD and
// MetaImage headers (they must lie inside the header's folder), and the
// integrity of compressed voxel data (gzip CRC and trailer, zlib streams of
// compressed MetaImage). Every failure is an input error naming the file.
#include <cstdint>
#include <string>
#include <vector>

namespace nephro {

// Header checks by format (from the extension); call before ITK opens the file.
void validateImageFileBeforeRead(const std::string& path);

// NIfTI-1/-2 header from its bytes (348 or 540 of them, possibly fewer when the
// file is short). Throws an input error naming `path`.
void validateNiftiHeader(const std::string& path, const unsigned char* bytes, size_t count);

// Detached data files named by a NRRD/NHDR or MetaImage header. Each must
// resolve (after symlinks) inside the header's folder.
std::vector<std::string> nrrdDataFiles(const std::string& headerPath);
std::vector<std::string> metaImageDataFiles(const std::string& headerPath);
// `name` as written in the header at `headerPath`, resolved; throws when it
// leaves the header's folder.
std::string resolveDataFileInside(const std::string& headerPath, const std::string& name);

// Decompresses a whole gzip file (all members) without keeping it, checking
// every member's CRC and size trailer. Throws on a mismatch or a missing trailer.
void verifyGzipFile(const std::string& path);
// The same for a gzip stream starting at `offset` in `source` (errors name `path`).
void verifyGzipStream(const std::string& path, const std::string& source, uint64_t offset);
// A NRRD with gzip encoding: its stream (attached, or one data file) must be whole.
void verifyNrrdCompressedData(const std::string& path);
// Maps zlib's message for a failed gzip read to the problem reported to users.
std::string gzipProblem(const std::string& zlibMessage);

// For a MetaImage with CompressedData = True and its data in one stream
// (LOCAL or one data file): the stream must inflate to exactly
// `expectedBytes`. No-op for uncompressed files.
void verifyMetaImageCompressedData(const std::string& path, uint64_t expectedBytes);

}  // namespace nephro
