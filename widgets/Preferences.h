#pragma once
// User preferences kept between sessions (QSettings): default view layout,
// overlay fill opacity and outline, mesh smoothing factor, compute device,
// recent studies and window state.
#include <QByteArray>
#include <QSettings>
#include <QString>
#include <QStringList>
#include <memory>

namespace nephro::widgets {

enum class ViewLayout { OneLargeThreeSmall = 0, Grid2x2 = 1 };

class Preferences {
 public:
  // The application's settings (organisation and application names of QCoreApplication).
  Preferences();
  // Settings in an INI file (tests, portable installs).
  explicit Preferences(const QString& iniPath);

  ViewLayout defaultLayout() const;
  void setDefaultLayout(ViewLayout layout);
  double overlayOpacity() const;  // 0..1, default 0.5
  void setOverlayOpacity(double opacity);
  bool overlayOutline() const;  // default on
  void setOverlayOutline(bool on);
  double smoothingFactor() const;  // 0..1, default 0.5 (Slicer's)
  void setSmoothingFactor(double factor);
  QString device() const;  // "cpu" by default
  void setDevice(const QString& device);
  // The name written into review states, corrected versions and DICOM SEG.
  QString reviewerName() const;
  void setReviewerName(const QString& name);
  // Memory the undo steps of an edit session may hold, MiB (default 256).
  int undoBudgetMiB() const;
  void setUndoBudgetMiB(int mib);

  QStringList recentStudies() const;
  // Puts a study (a folder or the first file) first in the recent list (ten at most).
  void addRecentStudy(const QString& path);
  void clearRecentStudies();
  QStringList recentWorkspaces() const;
  void addRecentWorkspace(const QString& folder);

  QByteArray windowGeometry() const;
  void setWindowGeometry(const QByteArray& state);
  QByteArray windowState() const;
  void setWindowState(const QByteArray& state);

  void sync();
  static constexpr int kMaxRecent = 10;

 private:
  std::unique_ptr<QSettings> settings_;
};

}  // namespace nephro::widgets
