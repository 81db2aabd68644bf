#include "gui/EngineProcess.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>

#include <cstring>

#include "common/Error.h"

namespace nephro::gui {

namespace {
ErrorKind kindForExitCode(int code) {
  switch (code) {
    case 2: return ErrorKind::Usage;
    case 3: return ErrorKind::Input;
    case 4: return ErrorKind::Model;
    case 5: return ErrorKind::Output;
    case 130: return ErrorKind::Cancelled;
    default: return ErrorKind::Internal;
  }
}

QString stripPrefix(QString line) {
  for (const char* prefix : {"nephro3d: error: ", "nephro3d: internal error: ", "nephro3d: "})
    if (line.startsWith(prefix)) return line.mid(int(strlen(prefix)));
  return line;
}
}  // namespace

QString engineExecutable() {
  // NEPHRO3D_ENGINE names another engine (an installation elsewhere, or a test's build tree).
  if (const QByteArray custom = qgetenv("NEPHRO3D_ENGINE"); !custom.isEmpty()) return QString::fromLocal8Bit(custom);
  const QString dir = QCoreApplication::instance() ? QCoreApplication::applicationDirPath()
                                                   : QFileInfo("/proc/self/exe").symLinkTarget().section('/', 0, -2);
  return QDir(dir).filePath("nephro3d-engine");
}

void runEngine(const QStringList& args, const Progress& progress) {
  QProcess process;
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  env.insert("NEPHRO3D_PROGRESS", "machine");
  process.setProcessEnvironment(env);
  process.start(engineExecutable(), args);
  if (!process.waitForStarted(10000))
    throw Error(ErrorKind::Internal, engineExecutable().toStdString() + ": cannot start: " +
                                         process.errorString().toStdString());
  QByteArray pending;
  QString lastMessage;
  auto drain = [&] {
    pending += process.readAllStandardError();
    int nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const QString line = QString::fromUtf8(pending.left(nl)).trimmed();
      pending.remove(0, nl + 1);
      if (line.startsWith("@progress ")) {
        const QString rest = line.mid(10);
        const int space = rest.indexOf(' ');
        progress.report(rest.left(space).toDouble(), rest.mid(space + 1).toStdString());
      } else if (!line.isEmpty()) {
        lastMessage = line;
      }
    }
  };
  bool cancelled = false;
  while (!process.waitForFinished(100)) {
    drain();
    if (!cancelled && progress.cancelled()) {
      cancelled = true;
      process.terminate();  // SIGTERM: the engine stops between units of work and cleans up
      if (!process.waitForFinished(10000)) process.kill();
      break;
    }
  }
  drain();
  if (cancelled) throw cancelledError();
  if (process.exitStatus() != QProcess::NormalExit)
    throw Error(ErrorKind::Internal, "the engine crashed: " + lastMessage.toStdString());
  if (process.exitCode() != 0)
    throw Error(kindForExitCode(process.exitCode()), stripPrefix(lastMessage).toStdString());
  progress.report(1.0, "done");
}

QByteArray engineOutput(const QStringList& args, int timeoutMs) {
  QProcess process;
  process.start(engineExecutable(), args);
  if (!process.waitForStarted(5000) || !process.waitForFinished(timeoutMs)) {
    process.kill();
    process.waitForFinished(1000);
    return {};
  }
  return process.exitCode() == 0 ? process.readAllStandardOutput() : QByteArray();
}

}  // namespace nephro::gui
