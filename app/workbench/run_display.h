#pragma once

#include "app/workbench/session_bridge.h"
#include "core/quant/precision_map.h"
#include "core/store/run_reader.h"
#include "widgets/site_tree_model.h"

#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mq {

class OutlierInspector;
class RangeEvolutionView;
class SiteTreeModel;
class TrainingView;
class TransformScaleView;
class WeightRangeView;

// Feeds the analysis views from one source: a calibration running in this process (its event
// batches) or a run file (read once, then followed while another process appends to it). The
// window owns the views; this object only calls their setters. GUI thread only.
class RunDisplay : public QObject
{
    Q_OBJECT

public:
    struct Views
    {
        SiteTreeModel *sites = nullptr;
        RangeEvolutionView *ranges = nullptr;
        TrainingView *training = nullptr;
        OutlierInspector *inspector = nullptr;
        TransformScaleView *scales = nullptr;
        WeightRangeView *weights = nullptr;
    };

    // Run files are re-read at this rate while shown (a writer in another process may append).
    static constexpr int kFollowIntervalMs = 500;

    RunDisplay(Views views, QObject *parent = nullptr);
    ~RunDisplay() override;

    // The model's sites before the first snapshot, so the tree is not empty while the model loads.
    void showModelSites(const std::vector<std::string> &sites, const PrecisionMap &map);
    // A calibration in this process: clears the views; applyBatch() fills them.
    void beginLive(const QString &runPath, const PrecisionMap &map);
    void applyBatch(const EventBatch &events);
    void endLive();

    // Reads a run file into every view and follows it. Returns an empty string or the reason it
    // cannot be shown (naming the file); the views are unchanged then.
    QString showRunFile(const QString &path);
    // Re-reads the file shown now (the follow timer calls this); returns true when it had grown.
    bool refreshFromFile();
    // Lets go of the shown file while something in this process writes it (a device benchmark
    // storing its results: HDF5 refuses a write to a file this process holds open read-only).
    // The views keep what they show; reacquireFile() opens it again and catches up. Only acts
    // when `path` is the file shown (not a live run).
    void releaseFile(const QString &path);
    // Returns an empty string or why the file could not be reopened (the views keep the old data).
    QString reacquireFile();

    // The site the inspector shows (and the transform view's pair, when a pair scales it).
    void setCurrentSite(const QString &site);
    QString currentSite() const { return m_site; }
    void setOutlierThreshold(double threshold);

    bool live() const { return m_live; }
    QString runPath() const { return m_path; } // live or file; empty when nothing is shown
    std::int64_t lastStep() const { return m_lastStep; }
    std::int64_t snapshotsShown() const { return m_snapshots; }
    // GUI-thread time spent handing live batches to the views (the benchmark reports it; the
    // replots the views queue run later and are not included).
    double applyMsTotal() const { return m_applyMsTotal; }
    double applyMsMax() const { return m_applyMsMax; }
    std::int64_t batchesApplied() const { return m_batchesApplied; }

Q_SIGNALS:
    void updated(); // after every batch or file refresh that changed something

private:
    void resetLiveState();
    void updateInspector();
    int bitsOf(const std::string &site) const;

    Views m_v;
    bool m_live = false;
    QString m_path;
    QString m_site;
    double m_threshold;
    PrecisionMap m_map;

    // Live state: what the views were given, for rebuilding when an append is refused.
    SiteRangeSnapshot m_snap;
    RangeSeries m_rangeSeries;
    std::vector<std::string> m_rangeSites;
    bool m_trainStarted = false;
    std::optional<SnapshotEvent> m_lastWithHistograms;
    std::int64_t m_lastStep = 0;
    std::int64_t m_snapshots = 0;
    double m_applyMsTotal = 0;
    double m_applyMsMax = 0;
    std::int64_t m_batchesApplied = 0;

    // File state.
    std::unique_ptr<RunReader> m_reader;
    bool m_released = false; // releaseFile() closed m_reader; m_path is still the file shown
    std::size_t m_fileTrainRows = 0;
    std::size_t m_fileRangeRows = 0;
    QTimer m_follow;
};

} // namespace mq
