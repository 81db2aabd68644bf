#pragma once
// A workspace on disk: a folder holding a study's results (model outputs,
// post-processing results, corrections, review state) and workspace.json,
// which names the phases and the layers with their display state, the window
// and level, the 3D camera and the layout. A folder written by `run` or
// `--batch` (provenance.json, no workspace.json) opens as a workspace too:
// its phases and masks, each layer in the phase its mask lives in.
#include <QByteArray>
#include <QColor>
#include <QMap>
#include <QString>
#include <QStringList>
#include <array>
#include <vector>

namespace nephro::widgets {

struct WorkspaceLabelState {
  int value = 0;
  QColor color;
  double opacity = 1.0;
  bool visible = true;
};

struct WorkspaceLayerState {
  QString name;
  QString file;   // absolute once read
  QString phase;  // "A", "P", "D" or empty
  bool visible = true;
  std::vector<WorkspaceLabelState> labels;  // empty: the label table's colours
  // Structures (label names) whose copy in this layer the views draw although
  // other layers carry them too.
  QStringList drawnCopies;
};

struct WorkspaceCamera {
  bool valid = false;
  std::array<double, 3> position{}, focalPoint{}, viewUp{0, 0, 1};
  double viewAngle = 30, parallelScale = 1;
  bool parallel = false;
};

struct WorkspaceState {
  QMap<QString, QString> phases;  // "A" -> absolute image file
  QString currentPhase;
  std::vector<WorkspaceLayerState> layers;
  bool hasWindowLevel = false;
  double window = 350, level = 40;
  WorkspaceCamera camera;
  QString layout;  // "1+3" or "2x2"; empty: unchanged
  int largeView = 0;
  QByteArray docks;  // the window's dock arrangement
};

inline constexpr const char* kWorkspaceFile = "workspace.json";

// A folder with workspace.json, or a `run` output (provenance.json).
bool isWorkspaceFolder(const QString& folder);
// Reads FOLDER/workspace.json, else FOLDER/provenance.json; paths relative to
// the folder are made absolute. Throws nephro::Error (input) naming the file
// and the problem: not JSON, a missing phase or mask file.
WorkspaceState readWorkspace(const QString& folder);
// Writes FOLDER/workspace.json atomically; files inside the folder are stored relative to it.
void writeWorkspace(const QString& folder, const WorkspaceState& state);

// "1+3" / "2x2" <-> the layout index of the window (0, 1); -1 for anything else.
int layoutFromText(const QString& text);
QString layoutText(int layout);

}  // namespace nephro::widgets
