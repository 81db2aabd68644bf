#pragma once
// SHA-256 of bytes and files (lower-case hex), and a constant-time comparison.
#include <string>

namespace nephro::jobs {

std::string sha256Hex(const std::string& bytes);
// Throws an input error naming the file when it cannot be read.
std::string sha256File(const std::string& path);
// True when a and b are equal; the time taken does not depend on where they differ.
bool constantTimeEqual(const std::string& a, const std::string& b);

}  // namespace nephro::jobs
