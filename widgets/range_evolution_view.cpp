#include "widgets/range_evolution_view.h"

#include "widgets/plot_legend.h"

#include "widgets/qcustomplot_include.h"

#include <QVBoxLayout>

#include <algorithm>
#include <array>

namespace mq {
namespace {

QCPGraph *addGraph(QCustomPlot *plot, const QString &name, const QPen &pen, bool inLegend)
{
    QCPGraph *graph = plot->addGraph();
    graph->setName(name);
    graph->setPen(pen);
    graph->setLineStyle(QCPGraph::lsLine);
    if (!inLegend)
        graph->removeFromLegend();
    return graph;
}

} // namespace

RangeEvolutionView::RangeEvolutionView(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    setMinimumSize(320, 200);

    m_plot->xAxis->setLabel(QStringLiteral("step"));
    m_plot->yAxis->setLabel(QStringLiteral("activation value"));
    m_plot->xAxis->setRange(0.0, 1.0);
    m_plot->yAxis->setRange(-1.0, 1.0);

    // A caption row above the axes, and the legend in a column of its own at the right so that it
    // never hides the curves (site names are long).
    m_plot->plotLayout()->insertRow(0);
    auto *caption = new QCPTextElement(m_plot,
        QStringLiteral("solid: fmax   dashed: fmin   dotted: first snapshot"), QFont(font().family(), 9));
    caption->setTextColor(QColor(90, 90, 90));
    m_plot->plotLayout()->addElement(0, 0, caption);

    m_plot->legend->setVisible(false); // shown once there are traces (setSeries)
    m_plot->legend->setBrush(QBrush(QColor(255, 255, 255, 230)));
    placeLegendBeside(m_plot, 1);

    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    connect(m_plot, &QCustomPlot::mousePress, this, [this] { m_followData = false; });
    connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { m_followData = false; });
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] {
        m_followData = true;
        rescaleToData();
        m_plot->replot(QCustomPlot::rpQueuedRefresh);
    });
}

RangeEvolutionView::~RangeEvolutionView() = default;

void RangeEvolutionView::setSeries(const RangeSeries &series, const std::vector<std::string> &siteNames)
{
    m_series = series;
    m_siteNames = siteNames;
    rebuild();
}

void RangeEvolutionView::setSelectedSites(const QStringList &sites)
{
    m_selected = sites;
    rebuild();
}

QStringList RangeEvolutionView::shownSites() const
{
    QStringList names;
    for (const Trace &trace : m_traces)
        names << QString::fromStdString(m_siteNames[trace.column]);
    return names;
}

std::size_t RangeEvolutionView::snapshotCount() const
{
    // Tolerate a series whose matrices are shorter than its steps (never the case for RunReader's).
    if (m_series.sites == 0)
        return 0;
    return std::min({ m_series.step.size(), m_series.fmin.size() / m_series.sites,
        m_series.fmax.size() / m_series.sites });
}

void RangeEvolutionView::rebuild()
{
    m_plot->clearGraphs();
    m_traces.clear();

    const std::size_t columns = std::min(m_series.sites, m_siteNames.size());
    const std::size_t n = snapshotCount();
    for (const QString &name : m_selected) {
        const auto found = std::find(m_siteNames.begin(), m_siteNames.begin() + std::ptrdiff_t(columns),
            name.toStdString());
        if (found == m_siteNames.begin() + std::ptrdiff_t(columns))
            continue;
        const auto column = std::size_t(found - m_siteNames.begin());
        if (std::any_of(m_traces.begin(), m_traces.end(), [&](const Trace &t) { return t.column == column; }))
            continue;

        const QColor colour = plotColour(m_traces.size());
        QPen solid(colour, 2.0);
        QPen dashed(colour, 2.0, Qt::DashLine);
        QPen dotted(colour, 1.0, Qt::DotLine);
        Trace trace;
        trace.column = column;
        trace.fmax = addGraph(m_plot, name, solid, true);
        trace.fmin = addGraph(m_plot, name + QStringLiteral(" fmin"), dashed, false);
        trace.initialFmax = addGraph(m_plot, name + QStringLiteral(" initial fmax"), dotted, false);
        trace.initialFmin = addGraph(m_plot, name + QStringLiteral(" initial fmin"), dotted, false);

        const auto size = qsizetype(n);
        QVector<double> keys(size), fmax(size), fmin(size);
        for (std::size_t k = 0; k < n; ++k) {
            keys[qsizetype(k)] = double(m_series.step[k]);
            fmax[qsizetype(k)] = double(m_series.fmax[k * m_series.sites + column]);
            fmin[qsizetype(k)] = double(m_series.fmin[k * m_series.sites + column]);
        }
        trace.fmax->setData(keys, fmax, true);
        trace.fmin->setData(keys, fmin, true);
        if (n > 0) {
            trace.initialFmax->setData(keys, QVector<double>(size, fmax[0]), true);
            trace.initialFmin->setData(keys, QVector<double>(size, fmin[0]), true);
        }
        m_traces.push_back(trace);
    }
    m_plot->legend->setVisible(!m_traces.empty());
    m_followData = true;
    rescaleToData();
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

bool RangeEvolutionView::appendSnapshot(std::int64_t step, const std::vector<float> &fmin,
    const std::vector<float> &fmax)
{
    const std::size_t n = snapshotCount();
    if (m_series.sites == 0 || fmin.size() != m_series.sites || fmax.size() != m_series.sites)
        return false;
    if (n > 0 && step <= m_series.step[n - 1])
        return false;
    m_series.step.resize(n);
    m_series.fmin.resize(n * m_series.sites);
    m_series.fmax.resize(n * m_series.sites);
    m_series.step.push_back(step);
    m_series.fmin.insert(m_series.fmin.end(), fmin.begin(), fmin.end());
    m_series.fmax.insert(m_series.fmax.end(), fmax.begin(), fmax.end());

    const double key = double(step);
    for (const Trace &trace : m_traces) {
        const double hi = double(fmax[trace.column]);
        const double lo = double(fmin[trace.column]);
        trace.fmax->addData(key, hi);
        trace.fmin->addData(key, lo);
        // The first snapshot's values: this one's when it is the first.
        trace.initialFmax->addData(key, n > 0 ? double(m_series.fmax[trace.column]) : hi);
        trace.initialFmin->addData(key, n > 0 ? double(m_series.fmin[trace.column]) : lo);
    }
    if (m_followData)
        rescaleToData();
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
    return true;
}

void RangeEvolutionView::rescaleToData()
{
    bool any = false;
    QCPRange keys, values;
    for (int g = 0; g < m_plot->graphCount(); ++g) {
        bool found = false;
        const QCPRange k = m_plot->graph(g)->getKeyRange(found);
        if (!found)
            continue;
        const QCPRange v = m_plot->graph(g)->getValueRange(found);
        if (!found)
            continue;
        keys = any ? QCPRange(std::min(keys.lower, k.lower), std::max(keys.upper, k.upper)) : k;
        values = any ? QCPRange(std::min(values.lower, v.lower), std::max(values.upper, v.upper)) : v;
        any = true;
    }
    if (!any) {
        m_plot->xAxis->setRange(0.0, 1.0);
        m_plot->yAxis->setRange(-1.0, 1.0);
        return;
    }
    m_plot->xAxis->setRange(paddedRange(keys, 1.0));
    m_plot->yAxis->setRange(paddedRange(values, std::max(1.0, std::abs(values.lower)) * 0.1));
}

} // namespace mq
