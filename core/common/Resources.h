#pragma once
// Locates the read-only resources/ folder (label tables, presets, templates):
// $NEPHRO3D_RESOURCE_DIR, then <prefix>/share/nephro3d/resources next to the
// executable, then the source tree the binary was built from.
#include <string>

namespace nephro {

std::string resourceDir();
// Full path of a file under resources/; throws an input error if it is missing.
std::string resourceFile(const std::string& relativePath);
// The models/ folder found the same way ($NEPHRO3D_MODELS_DIR first).
std::string modelsDir();

}  // namespace nephro
