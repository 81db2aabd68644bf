#include "labels/LabelSources.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "labels/SegNrrd.h"

namespace nephro {

namespace {

const char* const kTotalSegmentatorV2[] = {
    "spleen", "kidney_right", "kidney_left", "gallbladder", "liver", "stomach", "pancreas",
    "adrenal_gland_right", "adrenal_gland_left", "lung_upper_lobe_left", "lung_lower_lobe_left",
    "lung_upper_lobe_right", "lung_middle_lobe_right", "lung_lower_lobe_right", "esophagus", "trachea",
    "thyroid_gland", "small_bowel", "duodenum", "colon", "urinary_bladder", "prostate", "kidney_cyst_left",
    "kidney_cyst_right", "sacrum", "vertebrae_S1", "vertebrae_L5", "vertebrae_L4", "vertebrae_L3",
    "vertebrae_L2", "vertebrae_L1", "vertebrae_T12", "vertebrae_T11", "vertebrae_T10", "vertebrae_T9",
    "vertebrae_T8", "vertebrae_T7", "vertebrae_T6", "vertebrae_T5", "vertebrae_T4", "vertebrae_T3",
    "vertebrae_T2", "vertebrae_T1", "vertebrae_C7", "vertebrae_C6", "vertebrae_C5", "vertebrae_C4",
    "vertebrae_C3", "vertebrae_C2", "vertebrae_C1", "heart", "aorta", "pulmonary_vein",
    "brachiocephalic_trunk", "subclavian_artery_right", "subclavian_artery_left",
    "common_carotid_artery_right", "common_carotid_artery_left", "brachiocephalic_vein_left",
    "brachiocephalic_vein_right", "atrial_appendage_left", "superior_vena_cava", "inferior_vena_cava",
    "portal_vein_and_splenic_vein", "iliac_artery_left", "iliac_artery_right", "iliac_vena_left",
    "iliac_vena_right", "humerus_left", "humerus_right", "scapula_left", "scapula_right", "clavicula_left",
    "clavicula_right", "femur_left", "femur_right", "hip_left", "hip_right", "spinal_cord",
    "gluteus_maximus_left", "gluteus_maximus_right", "gluteus_medius_left", "gluteus_medius_right",
    "gluteus_minimus_left", "gluteus_minimus_right", "autochthon_left", "autochthon_right", "iliopsoas_left",
    "iliopsoas_right", "brain", "skull", "rib_left_1", "rib_left_2", "rib_left_3", "rib_left_4", "rib_left_5",
    "rib_left_6", "rib_left_7", "rib_left_8", "rib_left_9", "rib_left_10", "rib_left_11", "rib_left_12",
    "rib_right_1", "rib_right_2", "rib_right_3", "rib_right_4", "rib_right_5", "rib_right_6", "rib_right_7",
    "rib_right_8", "rib_right_9", "rib_right_10", "rib_right_11", "rib_right_12", "sternum",
    "costal_cartilages"};

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool endsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw inputError(path, "cannot be opened for reading");
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > (size_t(16) << 20)) throw inputError(path, "is too large for a label table (over 16 MiB)");
  }
  return text;
}

// Parses a whole decimal integer in 1..65535; nullopt otherwise.
std::optional<int> labelValue(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty() || t.size() > 6) return std::nullopt;
  for (char c : t)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  const int v = std::stoi(t);
  if (v < 1 || v > 65535) return std::nullopt;
  return v;
}

void addEntry(LabelTable& table, const LabelEntry& e, const std::string& source) {
  if (table.find(e.value)) throw inputError(source, "label value " + std::to_string(e.value) + " appears twice");
  table.set(e);
}

// Slicer colour table: "value name r g b a"; ITK-SNAP: "IDX R G B A VIS MSH \"LABEL\"".
LabelTable colourTableFromText(const std::string& text, const std::string& source) {
  LabelTable table;
  std::istringstream lines(text);
  std::string line;
  int lineNo = 0;
  while (std::getline(lines, line)) {
    ++lineNo;
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    std::string valueText;
    in >> valueText;
    const auto value = labelValue(valueText);
    if (valueText == "0") continue;  // background / "Clear Label"
    if (!value) throw inputError(source, "line " + std::to_string(lineNo) + ": \"" + valueText + "\" is not a label value 1..65535");
    LabelEntry e;
    const auto quote = line.find('"');
    int r = 128, g = 128, b = 128;
    if (quote != std::string::npos) {  // ITK-SNAP
      const auto close = line.find('"', quote + 1);
      if (close == std::string::npos) throw inputError(source, "line " + std::to_string(lineNo) + ": unclosed label name");
      const std::string name = line.substr(quote + 1, close - quote - 1);
      in >> r >> g >> b;
      e = LabelTable::schemaEntry(labelNameFromText(name), *value);
      e.displayName = name.empty() ? e.name : name;
    } else {  // Slicer
      std::string name;
      in >> name >> r >> g >> b;
      if (name.empty()) throw inputError(source, "line " + std::to_string(lineNo) + ": label " + valueText + " has no name");
      e = LabelTable::schemaEntry(labelNameFromText(name), *value);
    }
    if (in) e.color = Rgb{static_cast<uint8_t>(std::clamp(r, 0, 255)), static_cast<uint8_t>(std::clamp(g, 0, 255)),
                          static_cast<uint8_t>(std::clamp(b, 0, 255))};
    if (e.name.empty()) throw inputError(source, "line " + std::to_string(lineNo) + ": label " + valueText + " has no usable name");
    addEntry(table, e, source);
  }
  if (table.empty()) throw inputError(source, "holds no labels");
  return table;
}

}  // namespace

std::string labelNameFromText(const std::string& text) {
  const std::string t = trim(text);
  try {
    for (const LabelEntry& e : LabelTable::caseSchema().entries())
      if (lower(e.displayName) == lower(t) || e.name == lower(t)) return e.name;
  } catch (const Error&) {
  }
  std::string out;
  for (unsigned char c : t) {
    if (std::isalnum(c)) out.push_back(static_cast<char>(std::tolower(c)));
    else if (!out.empty() && out.back() != '_') out.push_back('_');
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

const LabelTable& totalSegmentatorTable() {
  static const LabelTable table = [] {
    LabelTable t;
    int value = 1;
    for (const char* name : kTotalSegmentatorV2) t.set(LabelTable::schemaEntry(name, value++));
    return t;
  }();
  return table;
}

LabelTable labelTableFromPairs(const std::string& pairs) {
  LabelTable table;
  std::istringstream in(pairs);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string::npos) throw usageError("--labels: \"" + item + "\" is not value=name (e.g. 1=artery,2=vein)");
    const auto value = labelValue(item.substr(0, eq));
    if (!value) throw usageError("--labels: \"" + item.substr(0, eq) + "\" is not a label value 1..65535");
    const std::string name = labelNameFromText(item.substr(eq + 1));
    if (name.empty()) throw usageError("--labels: label " + std::to_string(*value) + " has no name");
    if (table.find(*value)) throw usageError("--labels: value " + std::to_string(*value) + " is named twice");
    table.set(LabelTable::schemaEntry(name, *value));
  }
  if (table.empty()) throw usageError("--labels: no value=name pairs in \"" + pairs + "\"");
  return table;
}

LabelTable labelTableFromNnunetJson(const std::string& text, const std::string& source) {
  using json = nlohmann::ordered_json;
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw inputError(source, std::string("is not valid JSON: ") + e.what());
  }
  if (!j.is_object() || !j.contains("labels") || !j["labels"].is_object())
    throw inputError(source, "has no \"labels\" object (not an nnU-Net dataset.json)");
  LabelTable table;
  const json& labels = j["labels"];
  bool regions = false;
  for (const auto& [name, v] : labels.items())
    if (v.is_array()) regions = true;
  if (!regions) {
    for (const auto& [name, v] : labels.items()) {
      if (!v.is_number_integer()) throw inputError(source, "label \"" + name + "\" has no integer value");
      const int64_t value = v.get<int64_t>();
      if (value == 0) continue;
      if (value < 0 || value > 65535) throw inputError(source, "label \"" + name + "\" has value " + std::to_string(value) + " outside 1..65535");
      const std::string n = labelNameFromText(name);
      if (n.empty()) throw inputError(source, "label " + std::to_string(value) + " has no usable name");
      addEntry(table, LabelTable::schemaEntry(n, static_cast<int>(value)), source);
    }
  } else {
    // Regions: the k-th region (in `labels` order, background skipped) is written as regions_class_order[k].
    if (!j.contains("regions_class_order") || !j["regions_class_order"].is_array())
      throw inputError(source, "has region labels but no \"regions_class_order\"");
    const json& order = j["regions_class_order"];
    size_t k = 0;
    for (const auto& [name, v] : labels.items()) {
      if (v.is_number_integer() && v.get<int64_t>() == 0) continue;
      if (k >= order.size() || !order[k].is_number_integer())
        throw inputError(source, "\"regions_class_order\" is shorter than the regions in \"labels\"");
      const int64_t value = order[k++].get<int64_t>();
      if (value < 1 || value > 65535) throw inputError(source, "region \"" + name + "\" has value " + std::to_string(value) + " outside 1..65535");
      const std::string n = labelNameFromText(name);
      if (n.empty()) throw inputError(source, "region " + std::to_string(value) + " has no usable name");
      addEntry(table, LabelTable::schemaEntry(n, static_cast<int>(value)), source);
    }
  }
  if (table.empty()) throw inputError(source, "names no label besides background");
  return table;
}

LabelTable labelTableFromNnunetDataset(const std::string& path) { return labelTableFromNnunetJson(readText(path), path); }

LabelTable labelTableFromText(const std::string& text, const std::string& source) {
  const std::string t = trim(text);
  if (!t.empty() && t[0] == '{') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(t);
    } catch (const nlohmann::json::exception& e) {
      throw inputError(source, std::string("is not valid JSON: ") + e.what());
    }
    if (j.is_object() && j.contains("labels") && j["labels"].is_object()) return labelTableFromNnunetJson(t, source);
    return LabelTable::fromJson(t, source);
  }
  return colourTableFromText(text, source);
}

LabelTable labelTableFromFile(const std::string& path) { return labelTableFromText(readText(path), path); }

bool isLabelMappingSpec(const std::string& spec) {
  return spec.find('=') != std::string::npos || lower(trim(spec)) == "totalseg" || endsWith(lower(trim(spec)), ".json");
}

LabelTable labelTableFromSpec(const std::string& spec) {
  const std::string s = trim(spec);
  if (lower(s) == "totalseg" || lower(s) == "totalsegmentator") return totalSegmentatorTable();
  if (endsWith(lower(s), ".json")) return labelTableFromFile(s);
  return labelTableFromPairs(s);
}

std::optional<LabelTable> labelTableForMask(const std::string& maskPath, const std::string& labelsSpec,
                                            const std::string& labelTableFile) {
  if (!labelsSpec.empty() && !labelTableFile.empty()) throw usageError("give either --labels or --label-table, not both");
  if (!labelsSpec.empty()) return labelTableFromSpec(labelsSpec);
  if (!labelTableFile.empty()) return labelTableFromFile(labelTableFile);
  if (LabelTable::hasSidecar(maskPath)) return LabelTable::readSidecar(maskPath);
  if (endsWith(lower(maskPath), ".seg.nrrd")) return readSegNrrdTable(maskPath);
  return std::nullopt;
}

}  // namespace nephro
