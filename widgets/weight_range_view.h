#pragma once

#include "core/store/run_types.h"

#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

class QCustomPlot;
class QCPGraph;
class QComboBox;
class QLabel;
class QSlider;

namespace mq {

struct SnapshotEvent;

// Learnable weight clipping (LWC) of one weight site ("layers.0.attn.q.weight"), per output row:
// the LET-transformed weight's min/max before clipping as a light band, and the clipped bounds
// σ(f_low)·min and σ(f_up)·max as a darker band inside it, over the row index; the snapshot step
// is chosen with a slider (the latest by default, and following new snapshots while it is). Axes
// follow the data until the user drags or zooms; live snapshots and other steps then keep the view,
// a double click or another weight site returns to following.
//
// Data: the "weight_ranges" group (series "<site>.min", "<site>.max", [n, rows]) and the
// "clipping" group (series "<site>.upper", "<site>.lower" = σ(f_up), σ(f_low), [n, rows] or
// [n, 1] for a per-tensor factor). A site with ranges but no clipping factors shows the ranges
// only (a method without LWC).
//
// Graphs, in this order: max, min (band), clipped max, clipped min (band); keys are row indices.
// GUI thread only; keeps its own copy of the series.
class WeightRangeView : public QWidget
{
    Q_OBJECT

public:
    explicit WeightRangeView(QWidget *parent = nullptr);
    ~WeightRangeView() override;

    // RunReader::vectors("weight_ranges") and RunReader::vectors("clipping") (either may be empty).
    void setSeries(const VectorSeries &weightRanges, const VectorSeries &clipping);
    // Weight sites with ranges, by name.
    QStringList weightSites() const;
    bool setWeightSite(const QString &site); // false for a site without ranges
    QString weightSite() const;

    // Snapshot index into the weight ranges' steps; -1 = the latest (and follow live snapshots).
    bool setStepIndex(int index);
    int stepIndex() const; // the index shown (resolved, -1 when there is none)
    std::int64_t shownStep() const; // its step, -1 when none
    std::size_t snapshotCount() const { return m_ranges.step.size(); }

    // A live snapshot: appends one row per series (clipping optional) without a rebuild of the
    // selection. Returns false (changes nothing) when the step does not follow the last one or the
    // series/lengths differ from the current ones (an empty view takes the first snapshot's).
    bool appendSnapshot(std::int64_t step, const std::map<std::string, std::vector<float>> &weightMin,
        const std::map<std::string, std::vector<float>> &weightMax,
        const std::map<std::string, std::vector<float>> &clipUpper,
        const std::map<std::string, std::vector<float>> &clipLower);
    bool appendSnapshot(const SnapshotEvent &event);

    QCustomPlot *plot() const { return m_plot; }
    QCPGraph *maxGraph() const { return m_max; }
    QCPGraph *minGraph() const { return m_min; }
    QCPGraph *clippedMaxGraph() const { return m_clippedMax; }
    QCPGraph *clippedMinGraph() const { return m_clippedMin; }

Q_SIGNALS:
    void weightSiteChanged(const QString &site);

private:
    void refreshSites();
    // live: a snapshot was appended; the axes then keep what the user zoomed to.
    void redraw(bool live = false);

    VectorSeries m_ranges;
    VectorSeries m_clipping;
    QString m_site;
    int m_stepIndex = -1;
    QComboBox *m_siteBox = nullptr;
    QSlider *m_stepSlider = nullptr;
    QLabel *m_stepLabel = nullptr;
    QCustomPlot *m_plot = nullptr;
    QCPGraph *m_max = nullptr;
    QCPGraph *m_min = nullptr;
    QCPGraph *m_clippedMax = nullptr;
    QCPGraph *m_clippedMin = nullptr;
    bool m_followData = true; // false once the user drags or zooms; a double click restores it
};

} // namespace mq
