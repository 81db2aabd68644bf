#include "widgets/PlotsPanel.h"

#include <QScrollArea>
#include <QTabWidget>

#include <qcustomplot.h>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <map>

namespace nephro::widgets {

std::vector<std::vector<int64_t>> labelHistograms(const Volume& image, const Volume& mask,
                                                  const std::vector<int>& values, double low,
                                                  double binWidth, int bins) {
  std::vector<std::vector<int64_t>> out(values.size(), std::vector<int64_t>(size_t(bins), 0));
  if (image.empty() || mask.empty() || values.empty() || bins <= 0) return out;
  std::map<int, size_t> slot;
  for (size_t i = 0; i < values.size(); ++i) slot[values[i]] = i;
  const int maxValue = slot.rbegin()->first;
  std::vector<int> lookup(size_t(std::max(maxValue, 0) + 1), -1);
  for (auto& [v, s] : slot)
    if (v >= 0) lookup[size_t(v)] = int(s);

  const Geometry& mg = mask.geometry();
  const Geometry& ig = image.geometry();
  const bool same = mg.sameGrid(ig);
  // Image index as an affine function of the mask index.
  const Vec3 o = ig.physicalToIndex(mg.indexToPhysical({0, 0, 0}));
  Vec3 axis[3];
  for (int a = 0; a < 3; ++a) {
    Vec3 e{0, 0, 0};
    e[size_t(a)] = 1;
    const Vec3 p = ig.physicalToIndex(mg.indexToPhysical(e));
    axis[a] = {p[0] - o[0], p[1] - o[1], p[2] - o[2]};
  }
  dispatchPixelType(mask.pixelType(), [&](auto mtag) {
    using M = decltype(mtag);
    const M* m = mask.data<M>();
    dispatchPixelType(image.pixelType(), [&](auto itag) {
      using I = decltype(itag);
      const I* img = image.data<I>();
      for (int64_t k = 0; k < mg.size[2]; ++k)
        for (int64_t j = 0; j < mg.size[1]; ++j) {
          const M* row = m + mg.offset(0, j, k);
          for (int64_t i = 0; i < mg.size[0]; ++i) {
            const int64_t v = int64_t(row[i]);
            if (v <= 0 || v > maxValue) continue;
            const int s = lookup[size_t(v)];
            if (s < 0) continue;
            int64_t off;
            if (same) {
              off = mg.offset(i, j, k);
            } else {
              const int64_t ii =
                  std::llround(o[0] + i * axis[0][0] + j * axis[1][0] + k * axis[2][0]);
              const int64_t jj =
                  std::llround(o[1] + i * axis[0][1] + j * axis[1][1] + k * axis[2][1]);
              const int64_t kk =
                  std::llround(o[2] + i * axis[0][2] + j * axis[1][2] + k * axis[2][2]);
              if (!ig.contains(ii, jj, kk)) continue;
              off = ig.offset(ii, jj, kk);
            }
            const int bin =
                std::clamp(int(std::floor((double(img[off]) - low) / binWidth)), 0, bins - 1);
            ++out[size_t(s)][size_t(bin)];
          }
        }
      return 0;
    });
    return 0;
  });
  return out;
}

PlotsPanel::PlotsPanel(WorkspaceModel* workspace, QWidget* parent)
    : QWidget(parent), workspace_(workspace) {
  histogram_ = new QCustomPlot(this);
  histogram_->setObjectName("huHistogram");
  volumes_ = new QCustomPlot(this);
  volumes_->setObjectName("volumeChart");
  stylePlot(histogram_);
  stylePlot(volumes_);
  histogramTitle_ = addTitle(histogram_, tr("HU histogram"));
  volumesTitle_ = addTitle(volumes_, tr("Label volumes (mL)"));
  // Two tabs, so neither squeezes the label table; the volume chart scrolls past a few bars.
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* tabs = new QTabWidget(this);
  tabs->setObjectName("plotTabs");
  auto* scroll = new QScrollArea(tabs);
  scroll->setObjectName("volumeScroll");
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  scroll->setWidget(volumes_);
  tabs->addTab(scroll, tr("Volumes"));
  tabs->addTab(histogram_, tr("HU histogram"));
  tabs->setMinimumHeight(170);
  layout->addWidget(tabs);
  // Selecting labels is asking for their histogram.
  connect(this, &PlotsPanel::histogramWanted, tabs, [tabs, this] { tabs->setCurrentWidget(histogram_); });
  connect(workspace_, &WorkspaceModel::layersChanged, this, [this] {
    refreshVolumes();
    refreshHistogram();
  });
  connect(workspace_, &WorkspaceModel::labelDisplayChanged, this, [this] {
    refreshVolumes();
    refreshHistogram();
  });
  connect(workspace_, &WorkspaceModel::currentPhaseChanged, this, &PlotsPanel::refreshHistogram);
  connect(workspace_, &WorkspaceModel::phasesChanged, this, &PlotsPanel::refreshHistogram);
  refreshVolumes();
  refreshHistogram();
}

void PlotsPanel::stylePlot(QCustomPlot* plot) {
  const QColor bg = palette().color(QPalette::Base);
  const QColor fg = palette().color(QPalette::Text);
  const QColor grid = palette().color(QPalette::Mid);
  plot->setBackground(bg);
  plot->setMinimumHeight(120);
  for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
    axis->setBasePen(QPen(fg, 1));
    axis->setTickPen(QPen(fg, 1));
    axis->setSubTickPen(QPen(fg, 1));
    axis->setTickLabelColor(fg);
    axis->setLabelColor(fg);
    axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    QFont f = axis->tickLabelFont();
    f.setPointSizeF(8);
    axis->setTickLabelFont(f);
    axis->setLabelFont(f);
  }
  plot->legend->setBrush(QColor(bg.red(), bg.green(), bg.blue(), 200));
  plot->legend->setTextColor(fg);
  plot->legend->setBorderPen(QPen(grid));
  QFont lf = plot->legend->font();
  lf.setPointSizeF(8);
  plot->legend->setFont(lf);
}

QCPTextElement* PlotsPanel::addTitle(QCustomPlot* plot, const QString& text) {
  QFont f = font();
  f.setPointSizeF(9);
  f.setBold(true);
  auto* title = new QCPTextElement(plot, text, f);
  title->setTextColor(palette().color(QPalette::Text));
  plot->plotLayout()->insertRow(0);
  plot->plotLayout()->addElement(0, 0, title);
  return title;
}

void PlotsPanel::setSelectedLabels(std::vector<std::pair<int, int>> labels) {
  selected_ = std::move(labels);
  refreshHistogram();
  refreshVolumes();
  if (!selected_.empty()) emit histogramWanted();
}

int PlotsPanel::volumeLayer() const {
  // Few labels: every layer's. Many: the selected label's layer, else the newest layer.
  int total = 0;
  for (const Layer& layer : workspace_->layers())
    for (const LabelEntry& e : layer.table.entries()) total += layer.volumeMl(e.value) > 0 ? 1 : 0;
  if (total <= kMaxVolumeBars || workspace_->layers().size() < 2) return 0;
  if (!selected_.empty() && workspace_->layer(selected_.front().first)) return selected_.front().first;
  return workspace_->layers().back().id;
}

void PlotsPanel::refreshHistogram() {
  QCustomPlot* plot = histogram_;
  plot->clearGraphs();
  QCPTextElement* title = histogramTitle_;
  const Volume& image = workspace_->currentVolume();
  const QString phase = phaseName(workspace_->currentPhase());
  plot->xAxis->setLabel(tr("HU"));
  plot->yAxis->setLabel(tr("% of label voxels"));
  if (image.empty() || selected_.empty()) {
    title->setText(image.empty() ? tr("HU histogram — no image")
                                 : tr("HU histogram — select labels in the table"));
    plot->legend->setVisible(false);
    plot->replot();
    return;
  }
  title->setText(tr("HU histogram on the %1 phase").arg(phase.toLower()));
  constexpr double low = -1024, binWidth = 5;
  constexpr int bins = 820;  // -1024 .. 3076 HU
  // One pass over each layer for all of its selected labels.
  std::map<int, std::vector<int>> byLayer;
  for (auto& [layerId, value] : selected_) byLayer[layerId].push_back(value);
  double xMin = 1e9, xMax = -1e9, yMax = 0;
  plot->legend->setVisible(true);
  for (auto& [layerId, values] : byLayer) {
    const Layer* layer = workspace_->layer(layerId);
    if (!layer) continue;
    const auto hists = labelHistograms(image, layer->mask, values, low, binWidth, bins);
    for (size_t s = 0; s < values.size(); ++s) {
      int64_t total = 0;
      for (int64_t c : hists[s]) total += c;
      if (total == 0) continue;
      QVector<double> x, y;
      int64_t cumulative = 0;
      for (int b = 0; b < bins; ++b) {
        const double pct = 100.0 * double(hists[s][size_t(b)]) / double(total);
        cumulative += hists[s][size_t(b)];
        x.push_back(low + (b + 0.5) * binWidth);
        y.push_back(pct);
        // The shown range covers 0.5 % .. 99.5 % of every label's voxels.
        const double fraction = double(cumulative) / double(total);
        const double before = double(cumulative - hists[s][size_t(b)]) / double(total);
        if (fraction >= 0.005 && before < 0.005) xMin = std::min(xMin, x.back() - binWidth);
        if (fraction >= 0.995 && before < 0.995) xMax = std::max(xMax, x.back() + binWidth);
        yMax = std::max(yMax, pct);
      }
      const LabelDisplay* d = workspace_->labelDisplay(layerId, values[s]);
      const LabelEntry* e = layer->table.find(values[s]);
      QCPGraph* g = plot->addGraph();
      g->setData(x, y, true);
      g->setLineStyle(QCPGraph::lsStepCenter);
      const QColor c = d ? d->color : QColor(Qt::gray);
      g->setPen(QPen(c.lighter(115), 1.5));
      QColor fill = c;
      fill.setAlpha(70);
      g->setBrush(fill);
      g->setName(e ? QString::fromStdString(e->displayName.empty() ? e->name : e->displayName)
                   : QString::number(values[s]));
    }
  }
  if (xMin > xMax) xMin = -200, xMax = 400;
  plot->xAxis->setRange(xMin - 20, xMax + 20);
  plot->yAxis->setRange(0, yMax * 1.1 + 1e-9);
  plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
  plot->replot();
}

void PlotsPanel::refreshVolumes() {
  QCustomPlot* plot = volumes_;
  plot->clearPlottables();
  // Horizontal bars, one per label with voxels, each in its label colour.
  QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
  double key = 0, maxVolume = 0;
  const int only = volumeLayer();
  const bool severalLayers = workspace_->layers().size() > 1 && only == 0;
  for (const Layer& layer : workspace_->layers()) {
    if (only != 0 && layer.id != only) continue;
    for (const LabelEntry& e : layer.table.entries()) {
      const double ml = layer.volumeMl(e.value);
      if (ml <= 0) continue;
      const LabelDisplay* d = workspace_->labelDisplay(layer.id, e.value);
      auto* bars = new QCPBars(plot->yAxis, plot->xAxis);
      bars->setWidth(0.75);
      const QColor c = d ? d->color : QColor(Qt::gray);
      bars->setPen(QPen(c.darker(130)));
      bars->setBrush(c);
      bars->addData(key, ml);
      QString name = QString::fromStdString(e.displayName.empty() ? e.name : e.displayName);
      if (severalLayers) name = layer.name + ": " + name;
      ticker->addTick(key, name);
      maxVolume = std::max(maxVolume, ml);
      key += 1;
    }
  }
  plot->yAxis->setTicker(ticker);
  plot->yAxis->setRangeReversed(true);
  plot->yAxis->setRange(-0.6, std::max(key, 1.0) - 0.4);
  plot->yAxis->grid()->setVisible(false);
  plot->yAxis->setSubTicks(false);
  plot->yAxis->setTickLength(0, 2);
  // Volumes span from a few mL (vessels) to litres (fat): a logarithmic axis shows them all.
  plot->xAxis->setScaleType(QCPAxis::stLogarithmic);
  plot->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  plot->xAxis->setNumberFormat("gb");
  plot->xAxis->setRange(0.1, maxVolume > 0.1 ? maxVolume * 1.5 : 1);
  for (int i = 0; i < plot->plottableCount(); ++i)
    if (auto* bars = qobject_cast<QCPBars*>(plot->plottable(i))) bars->setBaseValue(0.1);
  plot->xAxis->setLabel(tr("mL (log scale)"));
  // Each bar keeps its height; the chart scrolls in its tab.
  plot->setMinimumHeight(std::max(120, int(key) * 14 + 60));
  volumesTitle_->setText(only == 0 ? tr("Label volumes (mL)")
                                   : tr("Label volumes (mL): %1").arg(workspace_->layer(only)->name));
  plot->replot();
}

}  // namespace nephro::widgets
