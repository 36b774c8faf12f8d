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
class QCPColorMap;
class QCPColorScale;
class QCheckBox;
class QComboBox;
class QLabel;

namespace mq {

struct SnapshotEvent;

// The learned equivalent-transformation scales (LET, or SmoothQuant's fixed ones) of one pair
// ("layers.0.qkv", core/quant/let.h): on top the latest scale per channel as a step line filled
// against s = 1 (no transform; LET scales stay near it, so bars from zero would hide them), below its
// evolution as a heat map (x = step, y = channel, colour = scale, with a labelled colour scale).
// "Log scale" makes both the scale axis and the colour axis logarithmic (a scale ≤ 0 is left out
// of the line there and drawn at the bottom of the colour range).
//
// The heat map has one column per snapshot, each drawn at its step (the snapshots of a run are
// evenly spaced, so the columns cover [first step, last step] evenly).
// Axes follow the data until the user drags or zooms (then live snapshots keep the view); a double
// click, or choosing another pair or series, returns to following. The view keeps its own copy of
// the series; GUI thread only.
class TransformScaleView : public QWidget
{
    Q_OBJECT

public:
    explicit TransformScaleView(QWidget *parent = nullptr);
    ~TransformScaleView() override;

    // The run's "scales" vector group (RunReader::vectors("scales")). Keeps the selected pair when
    // the series has it, else selects the first pair.
    void setSeries(const VectorSeries &scales);
    // Pair names of the series, in the series' order (std::map: by name).
    QStringList pairs() const;
    // Returns false (and changes nothing) for a name the series lacks.
    bool setPair(const QString &pair);
    QString pair() const;

    // A live snapshot's scales (SnapshotEvent::letScales): appends one column to every pair's
    // history and one to the heat map without resetting the view (selection, log option, zoom).
    // Returns false (changes nothing) when the step does not follow the last one, or the pairs or
    // their lengths differ from the series' (an empty series takes the first snapshot's pairs).
    bool appendSnapshot(std::int64_t step, const std::map<std::string, std::vector<float>> &scales);
    bool appendSnapshot(const SnapshotEvent &event);

    void setLogScale(bool on);
    bool logScale() const;

    std::size_t snapshotCount() const { return m_series.step.size(); }
    QCustomPlot *scalePlot() const { return m_scalePlot; }
    QCustomPlot *heatMapPlot() const { return m_heatPlot; }
    QCPGraph *scaleGraph() const { return m_line; } // key = channel, value = latest scale
    QCPColorMap *colorMap() const { return m_map; }
    QCPColorScale *colorScale() const { return m_colorScale; }

Q_SIGNALS:
    void pairChanged(const QString &pair);

private:
    // live: a snapshot was appended; the axes then keep what the user zoomed to.
    void rebuild(bool live = false);

    VectorSeries m_series;
    QString m_pair;
    QComboBox *m_pairBox = nullptr;
    QCheckBox *m_logBox = nullptr;
    QLabel *m_message = nullptr;
    QCustomPlot *m_scalePlot = nullptr;
    QCustomPlot *m_heatPlot = nullptr;
    QCPGraph *m_line = nullptr;
    QCPGraph *m_one = nullptr; // s = 1 across the channels, the fill's baseline
    QCPColorMap *m_map = nullptr;
    QCPColorScale *m_colorScale = nullptr;
    bool m_followData = true; // false once the user drags or zooms; a double click restores it
};

} // namespace mq
