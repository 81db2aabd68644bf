#include "widgets/Preferences.h"

#include <algorithm>

namespace nephro::widgets {

Preferences::Preferences() : settings_(std::make_unique<QSettings>()) {}
Preferences::Preferences(const QString& iniPath)
    : settings_(std::make_unique<QSettings>(iniPath, QSettings::IniFormat)) {}

ViewLayout Preferences::defaultLayout() const {
  const int v = settings_->value("view/layout", int(ViewLayout::OneLargeThreeSmall)).toInt();
  return v == int(ViewLayout::Grid2x2) ? ViewLayout::Grid2x2 : ViewLayout::OneLargeThreeSmall;
}
void Preferences::setDefaultLayout(ViewLayout layout) {
  settings_->setValue("view/layout", int(layout));
}

double Preferences::overlayOpacity() const {
  return std::clamp(settings_->value("view/overlayOpacity", 0.5).toDouble(), 0.0, 1.0);
}
void Preferences::setOverlayOpacity(double opacity) {
  settings_->setValue("view/overlayOpacity", std::clamp(opacity, 0.0, 1.0));
}

bool Preferences::overlayOutline() const {
  return settings_->value("view/overlayOutline", true).toBool();
}
void Preferences::setOverlayOutline(bool on) {
  settings_->setValue("view/overlayOutline", on);
}

double Preferences::smoothingFactor() const {
  return std::clamp(settings_->value("mesh/smoothing", 0.5).toDouble(), 0.0, 1.0);
}
void Preferences::setSmoothingFactor(double factor) {
  settings_->setValue("mesh/smoothing", std::clamp(factor, 0.0, 1.0));
}

QString Preferences::device() const {
  return settings_->value("models/device", "cpu").toString();
}
void Preferences::setDevice(const QString& device) {
  settings_->setValue("models/device", device);
}

QString Preferences::reviewerName() const {
  return settings_->value("review/reviewer").toString();
}
void Preferences::setReviewerName(const QString& name) {
  settings_->setValue("review/reviewer", name.trimmed());
}
int Preferences::undoBudgetMiB() const {
  return std::clamp(settings_->value("edit/undoBudgetMiB", 256).toInt(), 1, 65536);
}
void Preferences::setUndoBudgetMiB(int mib) {
  settings_->setValue("edit/undoBudgetMiB", std::clamp(mib, 1, 65536));
}

QStringList Preferences::recentStudies() const {
  return settings_->value("recent/studies").toStringList();
}

void Preferences::addRecentStudy(const QString& path) {
  QStringList list = recentStudies();
  list.removeAll(path);
  list.prepend(path);
  while (list.size() > kMaxRecent) list.removeLast();
  settings_->setValue("recent/studies", list);
}

void Preferences::clearRecentStudies() {
  settings_->remove("recent/studies");
}

QByteArray Preferences::windowGeometry() const {
  return settings_->value("window/geometry").toByteArray();
}
void Preferences::setWindowGeometry(const QByteArray& g) {
  settings_->setValue("window/geometry", g);
}
QByteArray Preferences::windowState() const {
  return settings_->value("window/state").toByteArray();
}
void Preferences::setWindowState(const QByteArray& s) {
  settings_->setValue("window/state", s);
}

void Preferences::sync() {
  settings_->sync();
}

QStringList Preferences::recentWorkspaces() const {
  return settings_->value("recent/workspaces").toStringList();
}

void Preferences::addRecentWorkspace(const QString& folder) {
  QStringList list = recentWorkspaces();
  list.removeAll(folder);
  list.prepend(folder);
  while (list.size() > kMaxRecent) list.removeLast();
  settings_->setValue("recent/workspaces", list);
}

}  // namespace nephro::widgets
