#pragma once
// Label value -> name, colour and terminology code. A table travels with every
// mask as a JSON sidecar (mask.nii.gz -> mask.json), so label numbers are never
// a private convention.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "image/Volume.h"

namespace nephro {

struct Rgb {
  uint8_t r = 128, g = 128, b = 128;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

struct LabelEntry {
  int value = 0;
  std::string name;         // machine name: "kidney_left" (TotalSegmentator style)
  std::string displayName;  // "Left kidney"
  Rgb color;
  std::string code;         // terminology, e.g. "SCT^64033007^Kidney"
  std::string region;       // modifier, e.g. "SCT^7771000^Left"
};

class LabelTable {
 public:
  LabelTable() = default;
  explicit LabelTable(std::vector<LabelEntry> entries);

  const std::vector<LabelEntry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  const LabelEntry* find(int value) const;
  const LabelEntry* findByName(const std::string& name) const;
  // Value of a label by name, or nullopt.
  std::optional<int> valueOf(const std::string& name) const;
  // Labels whose name equals `base` or starts with `base_` (kidney -> kidney_left, kidney_right).
  std::vector<int> valuesMatching(const std::string& base) const;
  // "1,5,kidney_left" -> label values (numbers as given, names through this
  // table); an unknown name is a usage error that starts with `what`.
  std::vector<int> valuesFromList(const std::string& commaList, const std::string& what) const;
  // Adds or replaces the entry with the same value.
  void set(const LabelEntry& entry);
  void remove(int value);
  int maxValue() const;

  std::string toJson() const;
  static LabelTable fromJson(const std::string& json, const std::string& sourceName);
  // mask.nii.gz -> mask.json, mask.seg.nrrd -> mask.json
  static std::string sidecarPath(const std::string& maskPath);
  static LabelTable readSidecar(const std::string& maskPath);
  static bool hasSidecar(const std::string& maskPath);
  void writeSidecar(const std::string& maskPath) const;

  // Throws an input error naming `maskPath` if the mask holds a nonzero value
  // the table lacks, or is not an integer image.
  void checkCovers(const Volume& mask, const std::string& maskPath) const;

  // The case label schema shipped in resources/labels/case_schema.json.
  static const LabelTable& caseSchema();
  // Display colour and code for a name from the schema (or a stable colour).
  static LabelEntry schemaEntry(const std::string& name, int value);

 private:
  std::vector<LabelEntry> entries_;  // sorted by value
};

// Distinct nonzero values present in an integer mask.
std::vector<int> labelValuesPresent(const Volume& mask);
// Voxel count per value (index = value) of an integer mask.
std::vector<int64_t> labelVoxelCounts(const Volume& mask);

}  // namespace nephro
