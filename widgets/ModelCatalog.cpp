#include "widgets/ModelCatalog.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include "common/PhaseRules.h"

namespace nephro::widgets {

ModelAvailability modelAvailability(const ModelDescription& model,
                                    const QSet<QString>& loadedPhases) {
  if (!model.problem.isEmpty()) return {false, model.problem};
  if (model.anyPhase) {
    if (loadedPhases.isEmpty()) return {false, QObject::tr("Needs one CT phase; none is loaded")};
    return {true, {}};
  }
  if (model.inputPhases.isEmpty()) return {false, QObject::tr("The model lists no input phase")};
  QStringList missing;
  for (const QString& p : model.inputPhases)
    if (!loadedPhases.contains(p.toUpper())) missing << p.toUpper();
  if (!missing.isEmpty())
    return {false, QObject::tr("Needs phase %1; the study lacks %2")
                       .arg(model.inputPhases.join(" + "), missing.join(", "))};
  return {true, {}};
}

namespace {

std::vector<std::string> toStd(const QStringList& list) {
  std::vector<std::string> out;
  for (const QString& s : list) out.push_back(s.toStdString());
  return out;
}

}  // namespace

QString anyPhaseRead(const ModelDescription& model, const QSet<QString>& loadedPhases) {
  if (!model.anyPhase) return {};
  return QString::fromStdString(anyPhaseChoice(toStd(model.anyPhaseOrder), toStd(loadedPhases.values())));
}

QString modelOutputPhase(const ModelDescription& model, const QSet<QString>& loadedPhases) {
  const QString space = model.outputSpace.toUpper();
  if (space == "A" || space == "P" || space == "D") return space;
  if (model.anyPhase) return anyPhaseRead(model, loadedPhases);
  return model.inputPhases.isEmpty() ? QString() : model.inputPhases.front();
}

ManifestCatalog::ManifestCatalog(QString modelsDir) {
  QDir dir(modelsDir);
  const auto files = dir.entryInfoList({"*.json"}, QDir::Files, QDir::Name);
  for (const QFileInfo& file : files) {
    QFile f(file.absoluteFilePath());
    ModelDescription m;
    m.id = file.completeBaseName();
    m.title = m.id;
    if (!f.open(QIODevice::ReadOnly)) {
      m.problem = QObject::tr("%1: cannot be read").arg(file.fileName());
      models_.push_back(m);
      continue;
    }
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(f.readAll(), &error);
    if (!doc.isObject()) {
      m.problem =
          QObject::tr("%1: not a JSON object (%2)").arg(file.fileName(), error.errorString());
      models_.push_back(m);
      continue;
    }
    const QJsonObject o = doc.object();
    if (o.contains("id")) m.id = o.value("id").toString(m.id);
    m.title = o.value("title").toString(o.value("name").toString(m.id));
    m.description = o.value("description").toString();
    const QJsonValue inputs = o.value("inputs");
    if (inputs.isString() && inputs.toString().compare("any", Qt::CaseInsensitive) == 0) {
      m.anyPhase = true;
    } else {
      for (const QJsonValue v : inputs.toArray()) {
        const QString phase = v.isObject() ? v.toObject().value("phase").toString() : v.toString();
        if (phase.compare("any", Qt::CaseInsensitive) == 0)
          m.anyPhase = true;
        else if (!phase.isEmpty())
          m.inputPhases << phase.toUpper();
      }
    }
    for (const QJsonValue v : o.value("any_phase_order").toArray()) m.anyPhaseOrder << v.toString().toUpper();
    m.outputSpace = o.value("output_space").toString("input");
    for (const char* key : {"folder", "path", "results"}) {
      const QString rel = o.value(key).toString();
      if (rel.isEmpty()) continue;
      const QString full = QDir(file.absolutePath()).absoluteFilePath(rel);
      if (!QFileInfo::exists(full)) m.problem = QObject::tr("Model files missing: %1").arg(full);
      break;
    }
    models_.push_back(m);
  }
}

std::vector<ComputeDevice> ManifestCatalog::devices() const {
  return {ComputeDevice{"cpu", QObject::tr("CPU")}};
}

}  // namespace nephro::widgets
