#pragma once
// Which file of a study is which: phases from file names (case_A.nii.gz,
// case_0000.nii.gz = A, _0001 = P, _0002 = D, or the words arterial / portal /
// venous / delayed), masks from their .seg.nrrd extension, a .json label
// sidecar or a "label"/"mask"/"seg" name. The user can change every guess.
#include <QString>
#include <QStringList>
#include <optional>
#include <vector>

#include "widgets/WorkspaceModel.h"

namespace nephro::widgets {

enum class FileRole { Arterial, Portal, Delayed, Mask, Ignore };
QString roleName(FileRole role);
std::optional<Phase> phaseOfRole(FileRole role);
FileRole roleOfPhase(Phase phase);

struct StudyFile {
  QString path;
  FileRole role = FileRole::Ignore;
};

// File name without folder and image extension: "/x/case_A.nii.gz" -> "case_A".
QString imageBaseName(const QString& path);
std::optional<Phase> phaseFromFileName(const QString& path);
bool looksLikeMask(const QString& path);
// Image files (and DICOM series folders) directly inside a folder, sorted.
QStringList imageFilesIn(const QString& folder);
// Roles for a set of files (folders are expanded). Phases are never assigned
// twice: a later file that names a taken phase, or names none, gets the first
// free phase, or Ignore when all three are taken.
std::vector<StudyFile> classifyStudyFiles(const QStringList& paths);

}  // namespace nephro::widgets
