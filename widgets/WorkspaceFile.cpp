#include "widgets/WorkspaceFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "common/Error.h"
#include "common/OutputTransaction.h"

namespace nephro::widgets {
namespace {

std::string s(const QString& q) {
  return q.toStdString();
}

QJsonArray vec(const std::array<double, 3>& v) {
  return QJsonArray{v[0], v[1], v[2]};
}

std::array<double, 3> vec(const QJsonValue& v, std::array<double, 3> fallback) {
  const QJsonArray a = v.toArray();
  if (a.size() != 3) return fallback;
  return {a[0].toDouble(), a[1].toDouble(), a[2].toDouble()};
}

// A path of the file: relative ones are relative to the folder; a run's
// provenance may name its inputs relative to where `run` was started.
QString resolve(const QDir& folder, const QString& path) {
  if (path.isEmpty() || QFileInfo(path).isAbsolute()) return path;
  const QString inFolder = folder.absoluteFilePath(path);
  if (QFileInfo::exists(inFolder)) return QDir::cleanPath(inFolder);
  if (QFileInfo::exists(path)) return QFileInfo(path).absoluteFilePath();
  return QDir::cleanPath(inFolder);
}

QJsonObject readJson(const QString& path) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) throw inputError(s(path), "cannot be read");
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &error);
  if (!doc.isObject()) throw inputError(s(path), "is not a JSON object (" + s(error.errorString()) + ")");
  return doc.object();
}

void checkExists(const QString& json, const QString& file, const char* what) {
  if (!QFileInfo::exists(file)) throw inputError(s(json), std::string("names a missing ") + what + " file " + s(file));
}

WorkspaceState fromProvenance(const QDir& folder, const QString& path) {
  const QJsonObject o = readJson(path);
  if (o.value("format").toString() != "nephro3d-provenance")
    throw inputError(s(path), "is not a nephro3d run record (format)");
  WorkspaceState st;
  const QJsonObject phases = o.value("phases").toObject();
  for (auto it = phases.begin(); it != phases.end(); ++it) {
    const QString file = resolve(folder, it.value().toObject().value("file").toString());
    checkExists(path, file, "phase");
    st.phases[it.key()] = file;
  }
  auto addLayer = [&](const QString& name, const QString& output, const QString& phase) {
    WorkspaceLayerState l;
    l.name = name;
    // The run may have been moved: its masks are beside provenance.json.
    l.file = folder.absoluteFilePath(QFileInfo(output).fileName());
    if (!QFileInfo::exists(l.file)) l.file = resolve(folder, output);
    checkExists(path, l.file, "mask");
    l.phase = phase;
    st.layers.push_back(l);
  };
  for (const QJsonValue m : o.value("models").toArray()) {
    const QJsonObject r = m.toObject();
    addLayer(r.value("id").toString(), r.value("output").toString(), r.value("output_phase").toString());
  }
  for (const QJsonValue m : o.value("post").toArray()) {
    const QJsonObject r = m.toObject();
    addLayer("post: " + r.value("step").toString(), r.value("output").toString(), r.value("phase").toString());
  }
  if (st.phases.isEmpty()) throw inputError(s(path), "names no phase");
  st.currentPhase = st.phases.contains("A") ? "A" : st.phases.firstKey();
  return st;
}

}  // namespace

bool isWorkspaceFolder(const QString& folder) {
  const QDir dir(folder);
  return QFileInfo(folder).isDir() &&
         (QFileInfo::exists(dir.filePath(kWorkspaceFile)) || QFileInfo::exists(dir.filePath("provenance.json")));
}

WorkspaceState readWorkspace(const QString& folder) {
  const QDir dir(QFileInfo(folder).absoluteFilePath());
  const QString path = dir.filePath(kWorkspaceFile);
  if (!QFileInfo::exists(path)) {
    const QString provenance = dir.filePath("provenance.json");
    if (QFileInfo::exists(provenance)) return fromProvenance(dir, provenance);
    throw inputError(s(folder), "is not a workspace (no workspace.json or provenance.json)");
  }
  const QJsonObject o = readJson(path);
  if (o.value("format").toString() != "nephro3d-workspace")
    throw inputError(s(path), "is not a nephro3d workspace (format)");
  WorkspaceState st;
  const QJsonObject phases = o.value("phases").toObject();
  for (auto it = phases.begin(); it != phases.end(); ++it) {
    const QString file = resolve(dir, it.value().toString());
    checkExists(path, file, "phase");
    st.phases[it.key()] = file;
  }
  st.currentPhase = o.value("current_phase").toString();
  for (const QJsonValue v : o.value("layers").toArray()) {
    const QJsonObject lo = v.toObject();
    WorkspaceLayerState l;
    l.name = lo.value("name").toString();
    l.file = resolve(dir, lo.value("file").toString());
    checkExists(path, l.file, "mask");
    l.phase = lo.value("phase").toString();
    l.visible = lo.value("visible").toBool(true);
    for (const QJsonValue lv : lo.value("labels").toArray()) {
      const QJsonObject lab = lv.toObject();
      WorkspaceLabelState ls;
      ls.value = lab.value("value").toInt();
      ls.color = QColor(lab.value("color").toString());
      ls.opacity = lab.value("opacity").toDouble(1.0);
      ls.visible = lab.value("visible").toBool(true);
      l.labels.push_back(ls);
    }
    for (const QJsonValue name : lo.value("drawn_copies").toArray()) l.drawnCopies << name.toString();
    st.layers.push_back(l);
  }
  const QJsonObject wl = o.value("window_level").toObject();
  if (!wl.isEmpty()) {
    st.hasWindowLevel = true;
    st.window = wl.value("window").toDouble(350);
    st.level = wl.value("level").toDouble(40);
  }
  const QJsonObject cam = o.value("camera").toObject();
  if (!cam.isEmpty()) {
    st.camera.valid = true;
    st.camera.position = vec(cam.value("position"), {0, -1, 0});
    st.camera.focalPoint = vec(cam.value("focal_point"), {0, 0, 0});
    st.camera.viewUp = vec(cam.value("view_up"), {0, 0, 1});
    st.camera.viewAngle = cam.value("view_angle").toDouble(30);
    st.camera.parallelScale = cam.value("parallel_scale").toDouble(1);
    st.camera.parallel = cam.value("parallel").toBool(false);
  }
  const QJsonObject layout = o.value("layout").toObject();
  st.layout = layout.value("views").toString();
  st.largeView = layout.value("large_view").toInt(0);
  st.docks = QByteArray::fromBase64(layout.value("docks").toString().toLatin1());
  return st;
}

void writeWorkspace(const QString& folder, const WorkspaceState& st) {
  const QDir dir(QFileInfo(folder).absoluteFilePath());
  auto rel = [&](const QString& file) {
    const QString r = dir.relativeFilePath(file);
    return r.startsWith("..") ? QFileInfo(file).absoluteFilePath() : r;
  };
  QJsonObject o;
  o["format"] = "nephro3d-workspace";
  o["version"] = 1;
  QJsonObject phases;
  for (auto it = st.phases.begin(); it != st.phases.end(); ++it) phases[it.key()] = rel(it.value());
  o["phases"] = phases;
  o["current_phase"] = st.currentPhase;
  QJsonArray layers;
  for (const WorkspaceLayerState& l : st.layers) {
    QJsonObject lo;
    lo["name"] = l.name;
    lo["file"] = rel(l.file);
    lo["phase"] = l.phase;
    lo["visible"] = l.visible;
    QJsonArray labels;
    for (const WorkspaceLabelState& ls : l.labels)
      labels.append(QJsonObject{{"value", ls.value},
                                {"color", ls.color.name()},
                                {"opacity", ls.opacity},
                                {"visible", ls.visible}});
    lo["labels"] = labels;
    if (!l.drawnCopies.isEmpty()) lo["drawn_copies"] = QJsonArray::fromStringList(l.drawnCopies);
    layers.append(lo);
  }
  o["layers"] = layers;
  if (st.hasWindowLevel) o["window_level"] = QJsonObject{{"window", st.window}, {"level", st.level}};
  if (st.camera.valid)
    o["camera"] = QJsonObject{{"position", vec(st.camera.position)},
                              {"focal_point", vec(st.camera.focalPoint)},
                              {"view_up", vec(st.camera.viewUp)},
                              {"view_angle", st.camera.viewAngle},
                              {"parallel_scale", st.camera.parallelScale},
                              {"parallel", st.camera.parallel}};
  o["layout"] = QJsonObject{{"views", st.layout},
                            {"large_view", st.largeView},
                            {"docks", QString::fromLatin1(st.docks.toBase64())}};
  writeFileAtomically(s(dir.filePath(kWorkspaceFile)), QJsonDocument(o).toJson().toStdString());
}

int layoutFromText(const QString& text) {
  if (text == "1+3") return 0;
  if (text == "2x2") return 1;
  return -1;
}

QString layoutText(int layout) {
  return layout == 1 ? "2x2" : "1+3";
}

}  // namespace nephro::widgets
