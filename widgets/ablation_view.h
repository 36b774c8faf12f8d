#pragma once

#include "widgets/run_list_model.h"

#include <QString>
#include <QStringList>
#include <QWidget>

#include <vector>

class QCustomPlot;
class QCPGraph;
class QComboBox;
class QLabel;

namespace mq {

// The paper's Table 2 drawn from run files: the quantized perplexity (eval "perplexity",
// quant_perplexity) against the number of calibration samples (left plot, log₂ axis; one series
// per method and epoch count) and against the training length (right plot: the configured epochs,
// the default, or the training steps recorded; one series per method and sample count). Colour
// says the method (block-wise "blockwise", end-to-end "mobilequant", any other), marker and dash
// the series within it; each point is labelled samples×epochs (and the bits when the runs differ
// in them); the float perplexity is a dashed reference line (the median over the runs that report
// one: they all evaluate the same float model). Epochs are the default x because block-wise
// records steps per layer, which makes its step counts incomparable with end-to-end's.
//
// A run without a quantized perplexity, or without the x value of a plot (no "samples" in its
// config, or no iteration count), is listed below the plots as skipped, with the reason, instead
// of being dropped silently. A run without the grouping value (e.g. no "epochs" for the samples
// plot) joins a series of its method whose group is NaN ("epochs ?").
//
// Graphs of each plot: one per series (methods in order of first appearance, within a method by
// group value), points sorted by x (equal x by perplexity), then the float reference (named
// "float (…)") when any run has one. GUI thread only.
class AblationView : public QWidget
{
    Q_OBJECT

public:
    enum class Iterations { Steps, Epochs };

    struct Skipped
    {
        QString path;
        QString reason; // "no perplexity evaluation", "no \"samples\" in the run config", …
    };

    explicit AblationView(QWidget *parent = nullptr);
    ~AblationView() override;

    void setRuns(const std::vector<RunSummary> &runs);
    const std::vector<RunSummary> &runs() const { return m_runs; }
    void setIterations(Iterations measure);
    Iterations iterations() const { return m_iterations; }

    QStringList methods() const; // series order
    // Runs left out of the samples plot or the iterations plot (one entry per run and plot,
    // reasons say which plot).
    const std::vector<Skipped> &skipped() const { return m_skipped; }

    QCustomPlot *samplesPlot() const { return m_samplesPlot; }
    QCustomPlot *iterationsPlot() const { return m_iterPlot; }
    // A series' graph; nullptr when there is none. samplesGraph: the method's runs with `epochs`
    // epochs; iterationsGraph: the method's runs with `samples` samples (NaN: the value unknown).
    QCPGraph *samplesGraph(const QString &method, double epochs) const;
    QCPGraph *iterationsGraph(const QString &method, double samples) const;

private:
    struct Series
    {
        QString method;
        double group = 0.0; // epochs (samples plot) or samples (iterations plot); NaN = unknown
        QCPGraph *graph = nullptr;
    };

    void rebuild();
    static QCPGraph *find(const std::vector<Series> &series, const QString &method, double group);

    std::vector<RunSummary> m_runs;
    Iterations m_iterations = Iterations::Epochs;
    std::vector<Skipped> m_skipped;
    QStringList m_methods;
    QComboBox *m_iterBox = nullptr;
    QLabel *m_skippedLabel = nullptr;
    QCustomPlot *m_samplesPlot = nullptr;
    QCustomPlot *m_iterPlot = nullptr;
    std::vector<Series> m_samplesSeries;
    std::vector<Series> m_iterSeries;
};

} // namespace mq
