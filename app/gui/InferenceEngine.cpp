#include "gui/InferenceEngine.h"

#include <QProcess>
#include <QRegularExpression>
#include <filesystem>
#include <memory>
#include <set>

#include "common/Resources.h"
#include "gui/EngineProcess.h"
#include "gui/MainWindow.h"

namespace nephro::gui {

EngineCatalog::EngineCatalog(const QString& modelsDir) {
  models_ = widgets::ManifestCatalog(modelsDir).models();
  devices_.push_back({"auto", QObject::tr("Automatic (GPU when present)")});
  devices_.push_back({"cpu", QObject::tr("CPU")});
}

void EngineCatalog::applyEngineListing(const QString& listing) {
  // "device: <description>" then one row per model: id version phases output memory files...
  static const QRegularExpression spaces("\\s+");
  for (const QString& line : listing.split('\n')) {
    if (line.startsWith("device:")) {
      const QString description = line.mid(7).trimmed();
      if (description.contains("CUDA", Qt::CaseInsensitive))
        devices_.insert(devices_.begin() + 1, {"cuda", description});
      continue;
    }
    const QStringList cells = line.split(spaces, Qt::SkipEmptyParts);
    if (cells.size() < 6) continue;
    for (auto& m : models_) {
      if (m.id != cells[0]) continue;
      const QString files = cells.mid(5).join(' ');
      if (files.startsWith("missing:") || files.startsWith("invalid:"))
        m.problem = QObject::tr("Model files %1").arg(files);
      else if (files.startsWith("present"))
        m.problem.clear();
    }
  }
}

QStringList engineRunArguments(const std::vector<std::string>& modelIds,
                               const std::map<std::string, std::string>& phaseFiles,
                               const std::string& device, const std::string& outDir) {
  QStringList ids;
  for (const auto& id : modelIds) ids << QString::fromStdString(id);
  QStringList args{"run", "--models", ids.join(',')};
  for (const auto& [phase, file] : phaseFiles)
    args << "--image-" + QString::fromStdString(phase).toLower() << QString::fromStdString(file);
  args << "--out" << QString::fromStdString(outDir) << "--device" << QString::fromStdString(device);
  return args;
}

Progress watchWrittenModels(const Progress& progress, const std::vector<std::string>& modelIds,
                            const std::string& outDir,
                            std::function<void(const std::string&, const std::string&)> written) {
  auto seen = std::make_shared<std::set<std::string>>();
  const std::set<std::string> wanted(modelIds.begin(), modelIds.end());
  return Progress(
      [progress, wanted, outDir, written, seen](double f, const std::string& stage) {
        progress.report(f, stage);
        static const std::string suffix = ": written";
        if (stage.size() <= suffix.size() || stage.compare(stage.size() - suffix.size(), suffix.size(), suffix) != 0)
          return;
        const std::string id = stage.substr(0, stage.size() - suffix.size());
        if (wanted.count(id) && seen->insert(id).second)
          written(id, (std::filesystem::path(outDir) / (id + ".nii.gz")).string());
      },
      progress.cancelFlag());
}

void installInferenceEngine(MainWindow& window) {
  QString modelsFolder;
  try {
    modelsFolder = QString::fromStdString(modelsDir());
  } catch (const std::exception&) {
  }
  auto catalog = std::make_shared<EngineCatalog>(modelsFolder);
  auto run = [](const std::vector<std::string>& modelIds, const std::map<std::string, std::string>& phaseFiles,
                const std::string& device, const std::string& outDir, const MainWindow::ModelWrittenFunction& written,
                const Progress& progress) {
    runEngine(engineRunArguments(modelIds, phaseFiles, device, outDir), watchWrittenModels(progress, modelIds, outDir, written));
  };
  window.setModelEngine(catalog, run);

  // Asking the engine takes a second or two (it starts LibTorch): an asynchronous
  // child process owned by the window, never a wait on the GUI thread.
  auto* process = new QProcess(&window);
  QObject::connect(
      process, &QProcess::finished, &window,
      [&window, process, catalog, run](int exitCode, QProcess::ExitStatus status) {
        process->deleteLater();
        if (status != QProcess::NormalExit || exitCode != 0) return;
        auto refined = std::make_shared<EngineCatalog>(*catalog);
        refined->applyEngineListing(QString::fromUtf8(process->readAllStandardOutput()));
        window.setModelEngine(refined, run);
      });
  QObject::connect(process, &QProcess::errorOccurred, process, &QObject::deleteLater);
  process->start(engineExecutable(), {"models"});
}

}  // namespace nephro::gui
