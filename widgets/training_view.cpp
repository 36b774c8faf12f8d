#include "widgets/training_view.h"

#include "widgets/qcustomplot_include.h"

#include <QVBoxLayout>

#include <algorithm>
#include <array>
#include <cmath>

namespace mq {
namespace {


// A logarithmic axis shows only positive, finite values.
bool showable(double value) { return std::isfinite(value) && value > 0.0; }

QCPGraph *addGraph(QCustomPlot *plot, QCPAxis *valueAxis, const QString &name, const QPen &pen)
{
    QCPGraph *graph = plot->addGraph(plot->xAxis, valueAxis);
    graph->setName(name);
    graph->setPen(pen);
    graph->setLineStyle(QCPGraph::lsLine);
    return graph;
}

// range: positive. Padded by kPlotMargin of its extent in decades; a single value gets half a
// decade on each side.
QCPRange paddedLog(QCPRange range)
{
    const double decades = std::log10(range.upper / range.lower);
    const double factor = decades > 0.0 ? std::pow(10.0, kPlotMargin * decades) : std::sqrt(10.0);
    return QCPRange(range.lower / factor, range.upper * factor);
}

// The key and value range of the given graphs; false when none has data.
bool dataRange(const std::vector<QCPGraph *> &graphs, QCPRange &keys, QCPRange &values)
{
    bool any = false;
    for (QCPGraph *graph : graphs) {
        bool found = false;
        const QCPRange k = graph->getKeyRange(found);
        if (!found)
            continue;
        const QCPRange v = graph->getValueRange(found);
        if (!found)
            continue;
        keys = any ? QCPRange(std::min(keys.lower, k.lower), std::max(keys.upper, k.upper)) : k;
        values = any ? QCPRange(std::min(values.lower, v.lower), std::max(values.upper, v.upper)) : v;
        any = true;
    }
    return any;
}

} // namespace

TrainingView::TrainingView(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    setMinimumSize(320, 200);

    m_plot->xAxis->setLabel(QStringLiteral("step"));
    m_plot->yAxis->setLabel(QStringLiteral("loss (MSE)"));
    m_plot->yAxis2->setLabel(QStringLiteral("learning rate"));
    m_plot->yAxis2->setVisible(true);
    setLogAxis(m_plot->yAxis, true);
    setLogAxis(m_plot->yAxis2, true);
    m_plot->xAxis->setRange(0.0, 1.0);
    m_plot->yAxis->setRange(1e-3, 1.0);
    m_plot->yAxis2->setRange(1e-5, 1e-2);

    m_plot->legend->setVisible(false);
    m_plot->legend->setBrush(QBrush(QColor(255, 255, 255, 230)));
    m_plot->legend->setMargins(QMargins(6, 4, 6, 4));
    m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);

    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->axisRect()->setRangeDragAxes({ m_plot->xAxis }, { m_plot->yAxis, m_plot->yAxis2 });
    m_plot->axisRect()->setRangeZoomAxes({ m_plot->xAxis }, { m_plot->yAxis, m_plot->yAxis2 });
    connect(m_plot, &QCustomPlot::mousePress, this, [this] { m_followData = false; });
    connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { m_followData = false; });
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] {
        m_followData = true;
        rescaleToData();
        m_plot->replot(QCustomPlot::rpQueuedRefresh);
    });
}

TrainingView::~TrainingView() = default;

void TrainingView::setSeries(const TrainSeries &series)
{
    rebuild(series);
}

void TrainingView::rebuild(const TrainSeries &series)
{
    m_plot->clearGraphs();
    m_lrs.clear();
    m_groups.clear();

    // Tolerate vectors shorter than the steps (never the case for RunReader's).
    const std::size_t n = series.step.size();
    m_hasStep = n > 0;
    m_lastStep = m_hasStep ? series.step[n - 1] : 0;

    auto fill = [&](QCPGraph *graph, const std::vector<double> &values) {
        const std::size_t count = std::min(n, values.size());
        QVector<double> keys, shown;
        keys.reserve(qsizetype(count));
        shown.reserve(qsizetype(count));
        for (std::size_t k = 0; k < count; ++k) {
            if (!showable(values[k]))
                continue;
            keys.push_back(double(series.step[k]));
            shown.push_back(values[k]);
        }
        graph->setData(keys, shown, true);
    };

    m_loss = addGraph(m_plot, m_plot->yAxis, QStringLiteral("loss"), QPen(QColor(30, 30, 30), 2.0));
    fill(m_loss, series.loss);
    std::size_t colour = 0;
    for (const auto &[group, values] : series.lr) {
        QCPGraph *graph = addGraph(m_plot, m_plot->yAxis2, QStringLiteral("lr ") + QString::fromStdString(group),
            QPen(plotColour(colour++), 1.5));
        fill(graph, values);
        m_groups.push_back(group);
        m_lrs.push_back(graph);
    }

    m_plot->legend->setVisible(true);
    m_followData = true;
    rescaleToData();
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

bool TrainingView::appendStep(std::int64_t step, double loss, const std::map<std::string, double> &lrs)
{
    if (m_loss == nullptr || (m_hasStep && step <= m_lastStep))
        return false;
    if (lrs.size() != m_groups.size())
        return false;
    for (const std::string &group : m_groups)
        if (lrs.find(group) == lrs.end())
            return false;

    m_hasStep = true;
    m_lastStep = step;
    const double key = double(step);
    if (showable(loss))
        m_loss->addData(key, loss);
    for (std::size_t i = 0; i < m_groups.size(); ++i) {
        const double lr = lrs.at(m_groups[i]);
        if (showable(lr))
            m_lrs[i]->addData(key, lr);
    }
    if (m_followData)
        rescaleToData();
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
    return true;
}

void TrainingView::rescaleToData()
{
    QCPRange lossKeys, lossValues, lrKeys, lrValues;
    const bool anyLoss = m_loss != nullptr && dataRange({ m_loss }, lossKeys, lossValues);
    const bool anyLr = dataRange(m_lrs, lrKeys, lrValues);

    if (anyLoss || anyLr) {
        QCPRange keys = anyLoss ? lossKeys : lrKeys;
        if (anyLoss && anyLr)
            keys = QCPRange(std::min(lossKeys.lower, lrKeys.lower), std::max(lossKeys.upper, lrKeys.upper));
        m_plot->xAxis->setRange(paddedRange(keys, 1.0));
    } else {
        m_plot->xAxis->setRange(0.0, 1.0);
    }
    // Only positive values are ever added, so the value ranges are valid on a log axis.
    m_plot->yAxis->setRange(anyLoss ? paddedLog(lossValues) : QCPRange(1e-3, 1.0));
    m_plot->yAxis2->setRange(anyLr ? paddedLog(lrValues) : QCPRange(1e-5, 1e-2));
}

} // namespace mq
