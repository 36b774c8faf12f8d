#pragma once

#include "core/store/run_types.h"
#include "widgets/run_list_model.h"

#include <QString>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <string>
#include <vector>

class QCustomPlot;
class QCPGraph;
class QComboBox;

namespace mq {

// A short label of a run for legends: "<method> <bits>, <samples>×<epochs>", e.g.
// "mobilequant W8A8, 128×2"; unknown parts are left out ("blockwise W4A8").
QString runLabel(const RunSummary &run);

// Several runs overlaid, one colour per run (in the order added): their loss curves (log axis),
// or, selectable, the range evolution of one site (fmax solid, fmin dashed). The legend names
// each run by runLabel().
//
// Graphs: loss mode, one per run (in run order); range mode, two per run that records the site
// (fmax, fmin). Keys are steps. The view keeps copies of the series; GUI thread only.
class RunComparisonView : public QWidget
{
    Q_OBJECT

public:
    enum class Mode { Loss, Range };

    explicit RunComparisonView(QWidget *parent = nullptr);
    ~RunComparisonView() override;

    // Adds (or, for a path already shown, replaces) a run.
    void addRun(const RunSummary &summary, const TrainSeries &train, const RangeSeries &ranges,
        const std::vector<std::string> &sites);
    // Reads the run file; returns an empty string or the error message (naming the file).
    QString addRunFile(const QString &path);
    bool removeRun(const QString &path);
    void clear();
    QStringList runPaths() const; // in colour order

    // A live run's new step (run by path): one point on its loss curve without a rebuild.
    bool appendStep(const QString &path, std::int64_t step, double loss);

    void setMode(Mode mode);
    Mode mode() const { return m_mode; }
    // The site whose range evolution range mode shows; the union of the runs' sites is offered.
    void setRangeSite(const QString &site);
    QString rangeSite() const { return m_site; }
    QStringList sites() const;

    QCustomPlot *plot() const { return m_plot; }
    // The graphs of run `i` (runPaths order): loss mode one, range mode two (fmax, fmin), none
    // when the run lacks the site.
    std::vector<QCPGraph *> graphsOfRun(int i) const;

private:
    struct Run
    {
        RunSummary summary;
        TrainSeries train;
        RangeSeries ranges;
        std::vector<std::string> sites;
        std::vector<QCPGraph *> graphs;
    };

    void rebuild();
    void rescale(); // axes to the data, padded
    void refreshSiteBox();

    std::vector<Run> m_runs;
    Mode m_mode = Mode::Loss;
    QString m_site;
    QComboBox *m_modeBox = nullptr;
    QComboBox *m_siteBox = nullptr;
    QCustomPlot *m_plot = nullptr;
};

} // namespace mq
