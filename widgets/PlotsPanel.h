#pragma once
// Two QCustomPlot charts: the HU histogram of the selected labels on the
// current phase, and the volume (mL) of every label of every layer. Both are
// redrawn when layers, colours, the phase or the selection change.
#include <QWidget>
#include <utility>
#include <vector>

#include "image/Volume.h"
#include "widgets/WorkspaceModel.h"

class QCustomPlot;
class QCPTextElement;

namespace nephro::widgets {

// Histogram of `image` values inside `mask == value` for each value, in bins of
// `binWidth` HU starting at `low` (values outside [low, low + bins*binWidth) are
// counted in the end bins). The mask may lie on another grid: each mask voxel
// takes the nearest image voxel at the same LPS position.
std::vector<std::vector<int64_t>> labelHistograms(const Volume& image, const Volume& mask,
                                                  const std::vector<int>& values, double low,
                                                  double binWidth, int bins);

class PlotsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit PlotsPanel(WorkspaceModel* workspace, QWidget* parent = nullptr);
  void setSelectedLabels(std::vector<std::pair<int, int>> labels);
  QCustomPlot* histogramPlot() const { return histogram_; }
  QCustomPlot* volumePlot() const { return volumes_; }

 signals:
  void histogramWanted();

 public slots:
  void refreshHistogram();
  void refreshVolumes();
  // The layer whose labels the volume chart shows (0: every layer).
  int volumeLayer() const;

 private:
  void stylePlot(QCustomPlot* plot);
  QCPTextElement* addTitle(QCustomPlot* plot, const QString& text);
  WorkspaceModel* workspace_;
  QCustomPlot* histogram_;
  QCustomPlot* volumes_;
  QCPTextElement* histogramTitle_ = nullptr;
  std::vector<std::pair<int, int>> selected_;
  QCPTextElement* volumesTitle_ = nullptr;
  static constexpr int kMaxVolumeBars = 12;
};

}  // namespace nephro::widgets
