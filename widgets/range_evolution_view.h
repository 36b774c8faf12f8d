#pragma once

#include "core/store/run_types.h"

#include <QStringList>
#include <QWidget>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

class QCustomPlot;
class QCPGraph;

namespace mq {

// How the learned activation ranges of chosen sites move over the training steps: a QCustomPlot
// with, per selected site (one colour each, in selection order), fmax solid, fmin dashed and the
// first snapshot's fmin/fmax as thin dotted horizontal lines. The legend names each site once
// (on its fmax curve); a caption above the plot says which line style is which.
//
// Graphs: kGraphsPerSite per selected site, in this order: fmax, fmin, initial fmax, initial fmin.
// The initial lines carry one point per snapshot (at the first snapshot's value), so every graph
// of a site has exactly one point per snapshot and appendSnapshot() adds one point to each.
//
// The view keeps its own copy of the series. GUI thread only; the QCustomPlot is owned by the view.
class RangeEvolutionView : public QWidget
{
    Q_OBJECT

public:
    static constexpr int kGraphsPerSite = 4;

    explicit RangeEvolutionView(QWidget *parent = nullptr);
    ~RangeEvolutionView() override;

    // The run's ranges and their column names (RunHeader::sites). Keeps the current selection
    // (the names of it that are columns of the new series) and rebuilds the graphs.
    void setSeries(const RangeSeries &series, const std::vector<std::string> &siteNames);
    // Full site names ("layers.3.mlp.down.in"); names that are not columns are ignored.
    // Rebuilds the graphs.
    void setSelectedSites(const QStringList &sites);
    // The selected names that are columns of the series, in selection order.
    QStringList shownSites() const;

    // A live run's new snapshot, fmin/fmax indexed like siteNames: adds one point per graph and
    // queues a repaint, without rebuilding the graphs. Returns false (and changes nothing) when
    // the vectors do not have one value per site or the step does not follow the last one.
    bool appendSnapshot(std::int64_t step, const std::vector<float> &fmin, const std::vector<float> &fmax);

    // Axes follow the data (with a small margin) until the user drags or zooms; a double click
    // returns to following the data.
    void rescaleToData();

    QCustomPlot *plot() const { return m_plot; }

private:
    struct Trace
    {
        std::size_t column = 0;
        QCPGraph *fmax = nullptr;
        QCPGraph *fmin = nullptr;
        QCPGraph *initialFmax = nullptr;
        QCPGraph *initialFmin = nullptr;
    };

    void rebuild();
    std::size_t snapshotCount() const;

    QCustomPlot *m_plot = nullptr;
    RangeSeries m_series;
    std::vector<std::string> m_siteNames;
    QStringList m_selected;
    std::vector<Trace> m_traces;
    bool m_followData = true;
};

} // namespace mq
