#include "widgets/StudyFiles.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

#include "image/VolumeIO.h"
#include "labels/LabelTable.h"

namespace nephro::widgets {

QString roleName(FileRole role) {
  switch (role) {
    case FileRole::Arterial:
      return QObject::tr("Phase A (arterial)");
    case FileRole::Portal:
      return QObject::tr("Phase P (portal)");
    case FileRole::Delayed:
      return QObject::tr("Phase D (delayed)");
    case FileRole::Mask:
      return QObject::tr("Mask layer");
    case FileRole::Ignore:
      return QObject::tr("Ignore");
  }
  return {};
}

std::optional<Phase> phaseOfRole(FileRole role) {
  switch (role) {
    case FileRole::Arterial:
      return Phase::Arterial;
    case FileRole::Portal:
      return Phase::Portal;
    case FileRole::Delayed:
      return Phase::Delayed;
    default:
      return std::nullopt;
  }
}

FileRole roleOfPhase(Phase phase) {
  switch (phase) {
    case Phase::Arterial:
      return FileRole::Arterial;
    case Phase::Portal:
      return FileRole::Portal;
    case Phase::Delayed:
      return FileRole::Delayed;
  }
  return FileRole::Ignore;
}

QString imageBaseName(const QString& path) {
  QString name = QFileInfo(path).fileName();
  static const char* extensions[] = {".seg.nrrd", ".nii.gz", ".nii", ".nrrd",
                                     ".nhdr",     ".mha",    ".mhd"};
  for (const char* ext : extensions)
    if (name.endsWith(ext, Qt::CaseInsensitive)) return name.left(name.size() - int(strlen(ext)));
  return name;
}

std::optional<Phase> phaseFromFileName(const QString& path) {
  const QString base = imageBaseName(path);
  static const QRegularExpression letter("(?:^|[_\\-. ])([APD])$");
  const auto m = letter.match(base);
  if (m.hasMatch()) return phaseFromLetter(m.captured(1));
  static const QRegularExpression channel("_(000[0-2])$");
  const auto c = channel.match(base);
  if (c.hasMatch()) return Phase(c.captured(1).right(1).toInt());
  const QString lower = base.toLower();
  if (lower.contains("arterial")) return Phase::Arterial;
  if (lower.contains("portal") || lower.contains("venous")) return Phase::Portal;
  if (lower.contains("delayed") || lower.contains("excretory")) return Phase::Delayed;
  return std::nullopt;
}

bool looksLikeMask(const QString& path) {
  if (path.endsWith(".seg.nrrd", Qt::CaseInsensitive)) return true;
  if (QFileInfo(path).isFile() && LabelTable::hasSidecar(path.toStdString())) return true;
  static const QRegularExpression words("(label|mask|seg|gt)",
                                        QRegularExpression::CaseInsensitiveOption);
  return words.match(imageBaseName(path)).hasMatch();
}

QStringList imageFilesIn(const QString& folder) {
  QStringList out;
  QDir dir(folder);
  bool dicom = false;
  for (const QFileInfo& f : dir.entryInfoList(QDir::Files, QDir::Name)) {
    if (f.suffix().compare("dcm", Qt::CaseInsensitive) == 0) dicom = true;
    if (isSupportedImagePath(f.absoluteFilePath().toStdString()) &&
        f.suffix().compare("dcm", Qt::CaseInsensitive) != 0)
      out << f.absoluteFilePath();
  }
  if (out.isEmpty() && dicom) out << dir.absolutePath();
  return out;
}

std::vector<StudyFile> classifyStudyFiles(const QStringList& paths) {
  QStringList files;
  for (const QString& p : paths) {
    if (QFileInfo(p).isDir())
      files << imageFilesIn(p);
    else
      files << p;
  }
  std::vector<StudyFile> out;
  bool taken[kPhaseCount] = {false, false, false};
  // Named phases first, so an unnamed file never takes a named file's phase.
  std::vector<int> unnamed;
  for (const QString& f : files) {
    StudyFile s{f, FileRole::Ignore};
    if (looksLikeMask(f)) {
      s.role = FileRole::Mask;
    } else if (auto phase = phaseFromFileName(f); phase && !taken[int(*phase)]) {
      s.role = roleOfPhase(*phase);
      taken[int(*phase)] = true;
    } else {
      unnamed.push_back(int(out.size()));
    }
    out.push_back(s);
  }
  for (int i : unnamed)
    for (int p = 0; p < kPhaseCount; ++p)
      if (!taken[p]) {
        taken[p] = true;
        out[size_t(i)].role = roleOfPhase(Phase(p));
        break;
      }
  return out;
}

}  // namespace nephro::widgets
