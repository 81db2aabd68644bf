#include "gui/InferenceEngine.h"

#include <QProcess>
#include <QRegularExpression>
#include <memory>

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

void installInferenceEngine(MainWindow& window) {
  QString modelsFolder;
  try {
    modelsFolder = QString::fromStdString(modelsDir());
  } catch (const std::exception&) {
  }
  auto catalog = std::make_shared<EngineCatalog>(modelsFolder);
  auto run = [](const std::string& modelId, const std::map<std::string, std::string>& phaseFiles,
                const std::string& device, const std::string& outPath, const Progress& progress) {
    QStringList args{"infer", QString::fromStdString(modelId)};
    for (const auto& [phase, file] : phaseFiles)
      args << "--image-" + QString::fromStdString(phase).toLower() << QString::fromStdString(file);
    args << "--out" << QString::fromStdString(outPath) << "--device"
         << QString::fromStdString(device);
    runEngine(args, progress);
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
