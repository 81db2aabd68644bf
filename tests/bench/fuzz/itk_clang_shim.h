// Force-included into the fuzz build only. Debian's ITK ships compiler
// detection generated for GCC alone and stops with "Unsupported compiler"
// under clang; clang is GCC-compatible for everything ITK's headers use, so
// the detection is run once as GCC, then clang's own macros come back.
#pragma once
// Guarded by __has_include: CMake's compiler checks and sources without ITK's
// include path see nothing.
#if defined(__clang__) && defined(__cplusplus) && __has_include(<itk_compiler_detection.h>)
#pragma push_macro("__GNUC__")
#pragma push_macro("__GNUC_MINOR__")
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Wbuiltin-macro-redefined"
#undef __clang__
#undef __GNUC__
#undef __GNUC_MINOR__
#define __GNUC__ 12
#define __GNUC_MINOR__ 2
#include <itk_compiler_detection.h>
#undef __GNUC__
#undef __GNUC_MINOR__
#pragma pop_macro("__GNUC_MINOR__")
#pragma pop_macro("__GNUC__")
#define __clang__ 1
#pragma clang diagnostic pop
#endif
