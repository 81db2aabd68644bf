#include "labels/LabelTable.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "common/OutputTransaction.h"
#include "common/Resources.h"

namespace nephro {

using nlohmann::json;

LabelTable::LabelTable(std::vector<LabelEntry> entries) {
  for (const auto& e : entries) set(e);
}

const LabelEntry* LabelTable::find(int value) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), value,
                             [](const LabelEntry& e, int v) { return e.value < v; });
  return (it != entries_.end() && it->value == value) ? &*it : nullptr;
}

const LabelEntry* LabelTable::findByName(const std::string& name) const {
  for (const auto& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

std::optional<int> LabelTable::valueOf(const std::string& name) const {
  const LabelEntry* e = findByName(name);
  return e ? std::optional<int>(e->value) : std::nullopt;
}

std::vector<int> LabelTable::valuesMatching(const std::string& base) const {
  std::vector<int> out;
  for (const auto& e : entries_)
    if (e.name == base || e.name.rfind(base + "_", 0) == 0) out.push_back(e.value);
  return out;
}

std::vector<int> LabelTable::valuesFromList(const std::string& commaList, const std::string& what) const {
  std::vector<int> out;
  std::stringstream ss(commaList);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (item.empty()) continue;
    if (std::all_of(item.begin(), item.end(), [](unsigned char c) { return std::isdigit(c); })) {
      out.push_back(std::stoi(item));
    } else if (auto v = valueOf(item)) {
      out.push_back(*v);
    } else {
      throw usageError(what + ": no label named '" + item + "' in the label table");
    }
  }
  return out;
}

void LabelTable::set(const LabelEntry& entry) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), entry.value,
                             [](const LabelEntry& e, int v) { return e.value < v; });
  if (it != entries_.end() && it->value == entry.value)
    *it = entry;
  else
    entries_.insert(it, entry);
}

void LabelTable::remove(int value) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(),
                                [&](const LabelEntry& e) { return e.value == value; }),
                 entries_.end());
}

int LabelTable::maxValue() const { return entries_.empty() ? 0 : entries_.back().value; }

std::string LabelTable::toJson() const {
  json labels = json::array();
  for (const auto& e : entries_) {
    json j{{"value", e.value},
           {"name", e.name},
           {"displayName", e.displayName.empty() ? e.name : e.displayName},
           {"color", {e.color.r, e.color.g, e.color.b}}};
    if (!e.code.empty()) j["code"] = e.code;
    if (!e.region.empty()) j["region"] = e.region;
    labels.push_back(j);
  }
  json root{{"format", "nephro3d-labels"}, {"version", 1}, {"labels", labels}};
  return root.dump(2) + "\n";
}

LabelTable LabelTable::fromJson(const std::string& text, const std::string& sourceName) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw inputError(sourceName, std::string("is not valid JSON: ") + e.what());
  }
  if (!root.is_object() || !root.contains("labels") || !root["labels"].is_array())
    throw inputError(sourceName, "is not a label table (no \"labels\" array)");
  LabelTable table;
  for (const auto& j : root["labels"]) {
    try {
      LabelEntry e;
      e.value = j.at("value").get<int>();
      e.name = j.at("name").get<std::string>();
      e.displayName = j.value("displayName", e.name);
      if (j.contains("color")) {
        const auto& c = j["color"];
        if (!c.is_array() || c.size() != 3) throw inputError(sourceName, "label " + e.name + " has a malformed colour");
        e.color = Rgb{static_cast<uint8_t>(c[0].get<int>()), static_cast<uint8_t>(c[1].get<int>()),
                      static_cast<uint8_t>(c[2].get<int>())};
      } else {
        e.color = schemaEntry(e.name, e.value).color;
      }
      e.code = j.value("code", "");
      e.region = j.value("region", "");
      if (e.value <= 0 || e.value > 65535)
        throw inputError(sourceName, "label " + e.name + " has value " + std::to_string(e.value) + " outside 1..65535");
      if (table.find(e.value)) throw inputError(sourceName, "label value " + std::to_string(e.value) + " appears twice");
      table.set(e);
    } catch (const json::exception& ex) {
      throw inputError(sourceName, std::string("malformed label entry: ") + ex.what());
    }
  }
  return table;
}

std::string LabelTable::sidecarPath(const std::string& maskPath) {
  std::string p = maskPath;
  for (const char* ext : {".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd"}) {
    const std::string e(ext);
    if (p.size() > e.size() && p.compare(p.size() - e.size(), e.size(), e) == 0)
      return p.substr(0, p.size() - e.size()) + ".json";
  }
  return p + ".json";
}

bool LabelTable::hasSidecar(const std::string& maskPath) {
  return std::filesystem::is_regular_file(sidecarPath(maskPath));
}

LabelTable LabelTable::readSidecar(const std::string& maskPath) {
  const std::string path = sidecarPath(maskPath);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "label table is missing (expected next to " + maskPath + ")");
  std::stringstream s;
  s << in.rdbuf();
  return fromJson(s.str(), path);
}

void LabelTable::writeSidecar(const std::string& maskPath) const {
  writeFileAtomically(sidecarPath(maskPath), toJson());
}

void LabelTable::checkCovers(const Volume& mask, const std::string& maskPath) const {
  if (!isIntegerType(mask.pixelType()))
    throw inputError(maskPath, std::string("is a ") + toString(mask.pixelType()) +
                                   " image; a label map must hold integers");
  for (int v : labelValuesPresent(mask))
    if (!find(v))
      throw inputError(maskPath, "holds label value " + std::to_string(v) + " that its label table lacks");
}

const LabelTable& LabelTable::caseSchema() {
  static LabelTable schema;
  static std::once_flag once;
  std::call_once(once, [] {
    const std::string path = resourceFile("labels/case_schema.json");
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    schema = fromJson(s.str(), path);
  });
  return schema;
}

LabelEntry LabelTable::schemaEntry(const std::string& name, int value) {
  LabelEntry e;
  e.value = value;
  e.name = name;
  e.displayName = name;
  const LabelEntry* known = nullptr;
  try {
    known = caseSchema().findByName(name);
  } catch (const Error&) {
    known = nullptr;
  }
  if (known) {
    e.displayName = known->displayName;
    e.color = known->color;
    e.code = known->code;
    e.region = known->region;
    return e;
  }
  // A stable colour from the name, away from black and white.
  uint32_t h = 2166136261u;
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  e.color = Rgb{static_cast<uint8_t>(60 + (h & 0x7f)), static_cast<uint8_t>(60 + ((h >> 8) & 0x7f)),
                static_cast<uint8_t>(60 + ((h >> 16) & 0x7f))};
  return e;
}

std::vector<int64_t> labelVoxelCounts(const Volume& mask) {
  std::vector<int64_t> counts;
  if (mask.empty() || !isIntegerType(mask.pixelType())) return counts;
  dispatchPixelType(mask.pixelType(), [&](auto v) {
    using T = decltype(v);
    const T* p = static_cast<const T*>(mask.raw());
    const int64_t n = mask.voxelCount();
    if (std::is_same<T, uint8_t>::value) {
      counts.assign(256, 0);
      for (int64_t i = 0; i < n; ++i) ++counts[static_cast<size_t>(p[i])];
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const auto x = static_cast<int64_t>(p[i]);
        if (x < 0) continue;
        if (static_cast<size_t>(x) >= counts.size()) counts.resize(static_cast<size_t>(x) + 1, 0);
        ++counts[static_cast<size_t>(x)];
      }
    }
    return 0;
  });
  while (!counts.empty() && counts.back() == 0) counts.pop_back();
  return counts;
}

std::vector<int> labelValuesPresent(const Volume& mask) {
  std::vector<int> values;
  if (!isIntegerType(mask.pixelType())) return values;
  bool negative = false;
  dispatchPixelType(mask.pixelType(), [&](auto v) {
    using T = decltype(v);
    const T* p = static_cast<const T*>(mask.raw());
    for (int64_t i = 0, n = mask.voxelCount(); i < n; ++i)
      if (p[i] < T(0)) {
        negative = true;
        break;
      }
    return 0;
  });
  auto counts = labelVoxelCounts(mask);
  for (size_t v = 1; v < counts.size(); ++v)
    if (counts[v] > 0) values.push_back(static_cast<int>(v));
  if (negative) values.insert(values.begin(), -1);
  return values;
}

}  // namespace nephro
