#pragma once

#include "core/quant/precision_map.h"
#include "core/store/run_types.h"
#include "widgets/outlier_stats.h"

#include <QString>
#include <QWidget>

#include <cstdint>
#include <string>
#include <vector>

class QCustomPlot;
class QCPBars;
class QCPGraph;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QStackedWidget;
class QTableWidget;

namespace mq {

class RunReader;
struct SnapshotEvent;

// Everything the inspector shows of one site at one snapshot; plain data a poller or a test can
// build. Empty vectors mean "not recorded" (the site was not watched, or no pair scales it).
struct OutlierSiteData
{
    std::string site;         // "layers.0.attn_norm.out"
    std::int64_t step = -1;   // snapshot step; -1: none
    int bits = 8;             // activation bit width (> 16: not quantized, no grid drawn)
    float fmin = 0.0f, fmax = 0.0f; // the current quantization range
    bool hasRange = false;
    std::vector<float> edges;            // histogram, bins + 1, activation units
    std::vector<std::uint64_t> counts;   // bins
    std::vector<float> channelMaxAbs;    // per channel, before quantization
    std::string pair;                    // the LET pair scaling this site ("layers.0.qkv"), if any
    std::vector<float> pairScale;        // that pair's per-channel scale at the same step

    bool hasHistogram() const { return !counts.empty() && edges.size() == counts.size() + 1; }
    bool hasChannels() const { return !channelMaxAbs.empty(); }

    // The site at snapshot `stepIndex` (-1: the latest) of a run file: range from /ranges, histogram
    // from /histograms/<site>, max|x| from /outliers/<site>, scale from /scales/<pair>, bits from
    // the precision map. Groups the file lacks leave their fields empty; throws mq::Error only
    // for an unreadable file.
    static OutlierSiteData fromRun(const RunReader &reader, const std::string &site, int stepIndex = -1);
    // The site in a live snapshot (bits are the caller's: the event carries no precision map).
    static OutlierSiteData fromSnapshot(const SnapshotEvent &event, const std::string &site, int bits = 8);
};

// The outlier inspector of one activation site (issue 4):
//  (a) the histogram of the float activations (bars, optionally log count axis) with the
//      quantization range [fmin, fmax] as two solid lines, the 2^bits grid levels as thin lines
//      (every level when at most kMaxGridLines fit, else every k-th level and a note saying so),
//      and the mass outside the range shaded red, its percentage in the legend;
//  (b) per-channel max|x| as bars, outlier channels (outlier_stats.h: > threshold × median) in
//      a second colour and listed in a table (channel, max|x|, ratio to the median); the
//      threshold is a spin box;
//  (c) the same bars after the learned transform (÷ the pair's per-channel scale), shown
//      instead of or overlaid on the raw ones.
// A site without histogram or channel data shows a "not watched" message in that plot's place.
// GUI thread only; owns its plots.
class OutlierInspector : public QWidget
{
    Q_OBJECT

public:
    static constexpr int kMaxGridLines = 256; // an 8-bit grid is drawn level by level
    enum class TransformMode { Before, After, Overlay };

    explicit OutlierInspector(QWidget *parent = nullptr);
    ~OutlierInspector() override;

    // Replaces what is shown (the site may change).
    void setData(const OutlierSiteData &data);
    const OutlierSiteData &data() const { return m_data; }
    // From a run file (OutlierSiteData::fromRun); returns an empty string or the error message,
    // which is also shown in the view.
    QString loadFromRun(const RunReader &reader, const std::string &site, int stepIndex = -1);
    // A live snapshot: when it covers the current site, updates the plots in place (same graphs,
    // new data) and returns true. Bits stay those of the current data.
    bool appendSnapshot(const SnapshotEvent &event);

    void setThreshold(double threshold); // ≥ 1
    double threshold() const;
    void setLogCounts(bool on);
    bool logCounts() const;
    void setTransformMode(TransformMode mode);
    TransformMode transformMode() const { return m_mode; }

    // What the plots hold, for tests and for the window's status line.
    double clippedPercent() const { return m_clippedPercent; } // NaN without histogram or range
    const std::vector<OutlierChannel> &outliers() const { return m_outliers; }
    int gridLinesDrawn() const { return m_gridLines; }
    int gridLevelStride() const { return m_gridStride; } // 1 = every level drawn
    bool histogramShown() const;  // false: the "not watched" message is shown instead
    bool channelsShown() const;

    QCustomPlot *histogramPlot() const { return m_histPlot; }
    QCustomPlot *channelPlot() const { return m_channelPlot; }
    QCPBars *histogramBars() const { return m_histBars; }
    QCPBars *channelBars() const { return m_channelBars; }         // non-outlier channels (raw)
    QCPBars *outlierBars() const { return m_outlierBars; }         // outlier channels (raw)
    QCPBars *transformedBars() const { return m_transformedBars; } // ÷ scale; empty without scale
    QTableWidget *outlierTable() const { return m_table; }

Q_SIGNALS:
    void thresholdChanged(double threshold);

private:
    void rebuildHistogram();
    void rebuildChannels();
    void updateTitle();

    OutlierSiteData m_data;
    TransformMode m_mode = TransformMode::Overlay;
    double m_clippedPercent = 0.0;
    std::vector<OutlierChannel> m_outliers;
    int m_gridLines = 0;
    int m_gridStride = 1;

    QLabel *m_title = nullptr;
    QCheckBox *m_logCounts = nullptr;
    QDoubleSpinBox *m_threshold = nullptr;
    QComboBox *m_modeBox = nullptr;
    QStackedWidget *m_histStack = nullptr;
    QStackedWidget *m_channelStack = nullptr;
    QLabel *m_histMessage = nullptr;
    QLabel *m_channelMessage = nullptr;
    QCustomPlot *m_histPlot = nullptr;
    QCustomPlot *m_channelPlot = nullptr;
    QCPBars *m_histBars = nullptr;
    QCPBars *m_channelBars = nullptr;
    QCPBars *m_outlierBars = nullptr;
    QCPBars *m_transformedBars = nullptr;
    QTableWidget *m_table = nullptr;
};

} // namespace mq
