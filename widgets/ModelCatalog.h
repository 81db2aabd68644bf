#pragma once
// What the model panel needs to know about segmentation models, independent
// of the inference engine: which models exist, which phases each one reads,
// whether its files are all there, and which compute devices exist. The
// engine's model registry feeds it; until then ManifestCatalog reads the
// manifests in models/*.json.
#include <QSet>
#include <QString>
#include <QStringList>
#include <memory>
#include <vector>

namespace nephro::widgets {

struct ModelDescription {
  QString id;
  QString title;        // shown next to the check box
  QString description;  // tooltip when available
  // Phases ("A", "P", "D") the model reads, all of them required; with
  // anyPhase, one loaded phase of any kind is enough.
  QStringList inputPhases;
  bool anyPhase = false;
  // Why the model cannot run whatever the study (missing weights, bad manifest); empty if fine.
  QString problem;
  QStringList anyPhaseOrder;  // empty: the engine's default (P, A, D)
  QString outputSpace;        // "A", "P", "D" or "input" (the grid of the phase read first)
};

struct ComputeDevice {
  QString id;     // "cpu", "cuda:0"
  QString label;  // "CPU", "cuda:0 — NVIDIA H100 (71.2 GiB free)"
};

struct ModelAvailability {
  bool available = false;
  QString reason;  // why not, for the tooltip
};

// A model can run when its files are complete and the study has every phase it reads.
ModelAvailability modelAvailability(const ModelDescription& model,
                                    const QSet<QString>& loadedPhases);

// The phase an "any phase" model reads with these phases loaded (the engine's
// rule, core/common/PhaseRules.h); empty when the model has fixed phases or none fits.
QString anyPhaseRead(const ModelDescription& model, const QSet<QString>& loadedPhases);
// The phase whose grid the model's mask lives on with these phases loaded.
QString modelOutputPhase(const ModelDescription& model, const QSet<QString>& loadedPhases);

class ModelCatalog {
 public:
  virtual ~ModelCatalog() = default;
  virtual std::vector<ModelDescription> models() const = 0;
  virtual std::vector<ComputeDevice> devices() const = 0;
};

// Reads models/*.json manifests: "id", "title" (or "name"), "description",
// "inputs" (a list of phase letters, of {"phase": ...} objects, or "any"), and
// the model folder ("folder"/"path"/"results", relative to the manifest) whose
// absence makes the model unavailable. Devices: the CPU only (the engine's
// registry knows the GPUs).
class ManifestCatalog : public ModelCatalog {
 public:
  explicit ManifestCatalog(QString modelsDir);
  std::vector<ModelDescription> models() const override { return models_; }
  std::vector<ComputeDevice> devices() const override;

 private:
  std::vector<ModelDescription> models_;
};

}  // namespace nephro::widgets
