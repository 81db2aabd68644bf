#include "edit/EditJournal.h"

#include <cmath>

#include "common/Error.h"
#include "edit/EditSession.h"

namespace nephro::edit {

using json = nlohmann::json;

namespace {

json vec(const Vec3& v) {
  return json::array({v[0], v[1], v[2]});
}

Vec3 vecFrom(const json& j, const char* what) {
  if (!j.is_array() || j.size() != 3)
    throw Error(ErrorKind::Input, std::string(what) + " must be [x, y, z] in mm");
  Vec3 v{};
  for (size_t a = 0; a < 3; ++a) {
    if (!j[a].is_number())
      throw Error(ErrorKind::Input, std::string(what) + " must be [x, y, z] in mm");
    v[a] = j[a].get<double>();
  }
  return v;
}

std::vector<Vec3> pointsFrom(const json& entry, const char* key) {
  if (!entry.contains(key) || !entry[key].is_array())
    throw Error(ErrorKind::Input, std::string("lacks \"") + key + "\"");
  std::vector<Vec3> out;
  for (const json& p : entry[key]) out.push_back(vecFrom(p, key));
  return out;
}

json labelRef(int value, const LabelTable& labels) {
  if (value == 0) return {{"name", "background"}, {"value", 0}};
  const LabelEntry* e = labels.find(value);
  return {{"name", e ? e->name : "label_" + std::to_string(value)}, {"value", value}};
}

int labelFrom(const json& entry, const char* key, const LabelTable& labels) {
  if (!entry.contains(key)) throw Error(ErrorKind::Input, std::string("lacks \"") + key + "\"");
  const json& ref = entry[key];
  if (!ref.is_object() || !ref.contains("name") || !ref["name"].is_string())
    throw Error(ErrorKind::Input,
                std::string("\"") + key + "\" must be {\"name\": ..., \"value\": ...}");
  const std::string name = ref["name"].get<std::string>();
  const int recorded =
      ref.contains("value") && ref["value"].is_number_integer() ? ref["value"].get<int>() : -1;
  if (name == "background" && recorded <= 0) return 0;
  const LabelEntry* e = labels.findByName(name);
  if (!e)
    throw Error(ErrorKind::Input,
                "names label '" + name + "', which the layer's label table lacks");
  if (recorded >= 0 && recorded != e->value)
    throw Error(ErrorKind::Input, "label '" + name + "' is " + std::to_string(recorded) +
                                      " in the journal but " + std::to_string(e->value) +
                                      " in the layer's label table");
  return e->value;
}

const char* overName(PaintOver o) {
  return o == PaintOver::Background ? "background" : o == PaintOver::Label ? "label" : "everything";
}

void putRule(json& j, const PaintRule& r, const LabelTable& labels) {
  j["paint_over"] = overName(r.over);
  if (r.over == PaintOver::Label) j["over_label"] = labelRef(r.overLabel, labels);
  if (r.huRange) j["hu_range"] = json::array({(*r.huRange)[0], (*r.huRange)[1]});
}

PaintRule ruleFrom(const json& j, const LabelTable& labels) {
  PaintRule r;
  const std::string over = j.value("paint_over", std::string("background"));
  if (over == "background") {
    r.over = PaintOver::Background;
  } else if (over == "label") {
    r.over = PaintOver::Label;
    r.overLabel = labelFrom(j, "over_label", labels);
  } else if (over == "everything") {
    r.over = PaintOver::Everything;
  } else {
    throw Error(ErrorKind::Input,
                "paint_over must be background, label or everything, not '" + over + "'");
  }
  if (j.contains("hu_range")) {
    const json& h = j["hu_range"];
    if (!h.is_array() || h.size() != 2 || !h[0].is_number() || !h[1].is_number())
      throw Error(ErrorKind::Input, "hu_range must be [low, high]");
    r.huRange = std::array<double, 2>{h[0].get<double>(), h[1].get<double>()};
  }
  return r;
}

int axisFrom(const json& j) {
  const int a = j.value("axis", -1);
  if (a < 0 || a > 2) throw Error(ErrorKind::Input, "axis must be 0, 1 or 2");
  return a;
}

// A point on slice `s` along `axis` (the other index coordinates 0), in LPS.
json slicePoint(const Geometry& g, int axis, int64_t s) {
  Vec3 idx{0, 0, 0};
  idx[axis] = static_cast<double>(s);
  return vec(g.indexToPhysical(idx));
}

json labelDeltas(const std::map<int, int64_t>& deltas, const LabelTable& labels) {
  json out = json::object();
  for (const auto& [v, d] : deltas) out[labelRef(v, labels)["name"].get<std::string>()] = d;
  return out;
}

}  // namespace

json operationToJson(const EditOperation& op, const LabelTable& labels, const Geometry& grid) {
  json j;
  if (const auto* b = std::get_if<BrushStroke>(&op)) {
    j["op"] = b->label == 0 ? "erase" : "brush";
    if (b->label != 0) j["label"] = labelRef(b->label, labels);
    j["shape"] = b->shape == BrushShape::Disc ? "disc" : "sphere";
    j["axis"] = b->axis;
    j["radius_mm"] = b->radiusMm;
    putRule(j, b->rule, labels);
    json dabs = json::array();
    for (const Vec3& d : b->dabs) dabs.push_back(vec(d));
    j["dabs_lps"] = std::move(dabs);
  } else if (const auto* s = std::get_if<ScissorsCut>(&op)) {
    j["op"] = "scissors";
    j["action"] = s->action == ScissorsAction::Erase ? "erase" : "fill";
    if (s->action == ScissorsAction::Fill) j["label"] = labelRef(s->label, labels);
    j["axis"] = s->axis;
    json poly = json::array();
    for (const Vec3& p : s->polygon) poly.push_back(vec(p));
    j["polygon_lps"] = std::move(poly);
    j["slab_mm"] = s->slabMm;
    putRule(j, s->rule, labels);
  } else if (const auto* r = std::get_if<RemoveIsland>(&op)) {
    j["op"] = "remove_island";
    j["seed_lps"] = vec(r->seed);
    j["fully_connected"] = r->fullyConnected;
  } else if (const auto* k = std::get_if<KeepLargestIslands>(&op)) {
    j["op"] = "keep_largest";
    j["label"] = labelRef(k->label, labels);
    j["count"] = k->count;
    j["fully_connected"] = k->fullyConnected;
  } else if (const auto* f = std::get_if<FillBetweenSlices>(&op)) {
    j["op"] = "fill_between";
    j["label"] = labelRef(f->label, labels);
    j["axis"] = f->axis;
    json keys = json::array();
    for (int64_t s : f->keySlices) keys.push_back(slicePoint(grid, f->axis, s));
    j["key_slices_lps"] = std::move(keys);
    putRule(j, f->rule, labels);
  }
  return j;
}

EditOperation operationFromJson(const json& j, const LabelTable& labels, const Geometry& grid) {
  if (!j.is_object() || !j.contains("op") || !j["op"].is_string())
    throw Error(ErrorKind::Input, "lacks \"op\"");
  const std::string op = j["op"].get<std::string>();
  if (op == "brush" || op == "erase") {
    BrushStroke b;
    b.label = op == "erase" ? 0 : labelFrom(j, "label", labels);
    const std::string shape = j.value("shape", std::string("disc"));
    if (shape != "disc" && shape != "sphere")
      throw Error(ErrorKind::Input, "shape must be disc or sphere");
    b.shape = shape == "disc" ? BrushShape::Disc : BrushShape::Sphere;
    b.axis = axisFrom(j);
    if (!j.contains("radius_mm") || !j["radius_mm"].is_number())
      throw Error(ErrorKind::Input, "lacks \"radius_mm\"");
    b.radiusMm = j["radius_mm"].get<double>();
    b.rule = ruleFrom(j, labels);
    b.dabs = pointsFrom(j, "dabs_lps");
    if (b.dabs.empty()) throw Error(ErrorKind::Input, "a stroke needs at least one dab");
    return b;
  }
  if (op == "scissors") {
    ScissorsCut s;
    const std::string action = j.value("action", std::string());
    if (action != "erase" && action != "fill")
      throw Error(ErrorKind::Input, "action must be erase or fill");
    s.action = action == "erase" ? ScissorsAction::Erase : ScissorsAction::Fill;
    if (s.action == ScissorsAction::Fill) s.label = labelFrom(j, "label", labels);
    s.axis = axisFrom(j);
    s.polygon = pointsFrom(j, "polygon_lps");
    s.slabMm = j.value("slab_mm", 0.0);
    s.rule = ruleFrom(j, labels);
    return s;
  }
  if (op == "remove_island") {
    RemoveIsland r;
    if (!j.contains("seed_lps")) throw Error(ErrorKind::Input, "lacks \"seed_lps\"");
    r.seed = vecFrom(j["seed_lps"], "seed_lps");
    r.fullyConnected = j.value("fully_connected", false);
    return r;
  }
  if (op == "keep_largest") {
    KeepLargestIslands k;
    k.label = labelFrom(j, "label", labels);
    k.count = j.value("count", 1);
    k.fullyConnected = j.value("fully_connected", false);
    return k;
  }
  if (op == "fill_between") {
    FillBetweenSlices f;
    f.label = labelFrom(j, "label", labels);
    f.axis = axisFrom(j);
    for (const Vec3& p : pointsFrom(j, "key_slices_lps"))
      f.keySlices.push_back(
          static_cast<int64_t>(std::floor(grid.physicalToIndex(p)[f.axis] + 0.5)));
    if (f.keySlices.size() < 2)
      throw Error(ErrorKind::Input, "fill_between needs two or more key slices");
    f.rule = ruleFrom(j, labels);
    return f;
  }
  throw Error(ErrorKind::Input, "unknown operation '" + op + "'");
}

void EditJournal::recordOperation(const EditOperation& op, const EditResult& result,
                                  const LabelTable& labels, const Geometry& grid) {
  json j = operationToJson(op, labels, grid);
  j["step"] = result.name;
  j["voxels_changed"] = result.voxelsChanged;
  j["voxel_deltas"] = labelDeltas(result.voxelDeltas, labels);
  entries_.push_back(std::move(j));
}

void EditJournal::recordUndo(const std::string& stepName) {
  entries_.push_back({{"op", "undo"}, {"step", stepName}});
}
void EditJournal::recordRedo(const std::string& stepName) {
  entries_.push_back({{"op", "redo"}, {"step", stepName}});
}

void EditJournal::recordLock(int value, const LabelTable& labels, bool locked) {
  entries_.push_back({{"op", locked ? "lock" : "unlock"}, {"label", labelRef(value, labels)}});
}

void EditJournal::recordAddLabel(const LabelEntry& e) {
  entries_.push_back({{"op", "add_label"},
                      {"label",
                       {{"value", e.value},
                        {"name", e.name},
                        {"displayName", e.displayName},
                        {"color", {e.color.r, e.color.g, e.color.b}},
                        {"code", e.code},
                        {"region", e.region}}}});
}

std::string EditJournal::toJson(const Geometry& g, const std::string& layerPath,
                                const std::string& imagePath) const {
  json doc{{"format", "nephro3d-edit-journal"},
           {"version", 1},
           {"layer", layerPath},
           {"image", imagePath.empty() ? json(nullptr) : json(imagePath)},
           {"grid",
            {{"size", {g.size[0], g.size[1], g.size[2]}},
             {"spacing", vec(g.spacing)},
             {"origin", vec(g.origin)},
             {"direction", g.direction}}},
           {"operations", entries_}};
  return doc.dump(1) + "\n";
}

namespace {

void checkGrid(const json& doc, const Geometry& g, const std::string& journalName) {
  if (!doc.contains("grid")) return;
  try {
    const json& grid = doc["grid"];
    Geometry recorded;
    for (size_t a = 0; a < 3; ++a) {
      recorded.size[a] = grid.at("size").at(a).get<int64_t>();
      recorded.spacing[a] = grid.at("spacing").at(a).get<double>();
      recorded.origin[a] = grid.at("origin").at(a).get<double>();
    }
    for (size_t c = 0; c < 9; ++c) recorded.direction[c] = grid.at("direction").at(c).get<double>();
    if (recorded.size != g.size || !recorded.sameGrid(g))
      throw Error(ErrorKind::Input, journalName + ": was recorded on the grid " +
                                        recorded.describe() + "; the layer's grid is " +
                                        g.describe());
  } catch (const json::exception&) {
    throw Error(ErrorKind::Input, journalName + ": \"grid\" is malformed");
  }
}

}  // namespace

ReplayReport replayJournal(EditSession& session, const std::string& journalText,
                           const std::string& journalName, const Progress& progress) {
  json doc;
  try {
    doc = json::parse(journalText);
  } catch (const json::exception& e) {
    std::string msg = e.what();
    for (char& c : msg)
      if (c == '\n') c = ' ';
    throw Error(ErrorKind::Input, journalName + ": is not valid JSON (" + msg + ")");
  }
  if (!doc.is_object() || doc.value("format", std::string()) != "nephro3d-edit-journal")
    throw Error(
        ErrorKind::Input,
        journalName +
            ": is not a Nephro3D edit journal (\"format\" must be \"nephro3d-edit-journal\")");
  if (!doc.contains("version") || !doc["version"].is_number_integer() ||
      doc["version"].get<int>() > 1)
    throw Error(ErrorKind::Input, journalName + ": unsupported journal version");
  if (!doc.contains("operations") || !doc["operations"].is_array())
    throw Error(ErrorKind::Input, journalName + ": lacks the \"operations\" list");
  checkGrid(doc, session.layer().geometry(), journalName);
  const json& ops = doc["operations"];
  for (size_t n = 0; n < ops.size(); ++n)
    if (!session.hasImage() && ops[n].is_object() && ops[n].contains("hu_range"))
      throw usageError(journalName + ": operation " + std::to_string(n + 1) +
                       " paints within an HU range: give the CT it was drawn on (--image)");

  // Undo entries refer to steps the recording session still held: keep every step while replaying.
  struct BudgetGuard {
    EditSession& s;
    size_t budget;
    ~BudgetGuard() { s.setUndoBudget(budget); }
  } guard{session, session.undoStore().budget()};
  session.setUndoBudget(0);

  ReplayReport report;
  for (size_t n = 0; n < ops.size(); ++n) {
    progress.throwIfCancelled();
    progress.report(static_cast<double>(n) / static_cast<double>(ops.size()), "replaying");
    const json& entry = ops[n];
    const std::string where = journalName + ": operation " + std::to_string(n + 1);
    try {
      const std::string op = entry.is_object() ? entry.value("op", std::string()) : std::string();
      if (op == "undo" || op == "redo") {
        const bool undo = op == "undo";
        if (undo ? !session.canUndo() : !session.canRedo())
          throw Error(ErrorKind::Input, std::string("there is no step to ") + op);
        const std::string name = undo ? session.undoName() : session.redoName();
        if (entry.contains("step") && entry["step"].is_string() &&
            entry["step"].get<std::string>() != name)
          report.warnings.push_back(where + ": " + op + " of '" + name + "', recorded as '" +
                                    entry["step"].get<std::string>() + "'");
        undo ? session.undo() : session.redo();
        ++(undo ? report.undos : report.redos);
      } else if (op == "lock" || op == "unlock") {
        session.setLocked(labelFrom(entry, "label", session.labels()), op == "lock");
        ++report.locks;
      } else if (op == "add_label") {
        if (!entry.contains("label") || !entry["label"].is_object())
          throw Error(ErrorKind::Input, "lacks \"label\"");
        const LabelTable one =
            LabelTable::fromJson(json{{"labels", json::array({entry["label"]})}}.dump(), where);
        session.addLabel(one.entries().front());
        ++report.labelsAdded;
      } else {
        const EditOperation operation =
            operationFromJson(entry, session.labels(), session.layer().geometry());
        const EditResult r =
            session.apply(operation, progress.sub(static_cast<double>(n) / ops.size(),
                                                  static_cast<double>(n + 1) / ops.size()));
        ++report.operations;
        if (entry.contains("voxels_changed") && entry["voxels_changed"].is_number_integer() &&
            entry["voxels_changed"].get<int64_t>() != r.voxelsChanged)
          report.warnings.push_back(where + " changed " + std::to_string(r.voxelsChanged) +
                                    " voxels, recorded " +
                                    std::to_string(entry["voxels_changed"].get<int64_t>()));
      }
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Cancelled) throw;
      const std::string msg = e.what();
      throw Error(e.kind() == ErrorKind::Usage ? ErrorKind::Usage : ErrorKind::Input,
                  msg.rfind(where, 0) == 0 ? msg : where + ": " + msg);
    } catch (const json::exception& e) {
      throw Error(ErrorKind::Input, where + ": malformed entry (" + std::string(e.what()) + ")");
    }
  }
  progress.report(1.0, "replayed");
  return report;
}

}  // namespace nephro::edit
