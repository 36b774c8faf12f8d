#include "widgets/transform_scale_view.h"

#include "core/calib/calibration_events.h"

#include "widgets/outlier_stats.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mq {

namespace {

// Viridis, sampled: perceptually uniform and readable in grey and for colour-vision deficiencies.
QCPColorGradient viridis()
{
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, QColor(68, 1, 84));
    g.setColorStopAt(0.25, QColor(59, 82, 139));
    g.setColorStopAt(0.5, QColor(33, 145, 140));
    g.setColorStopAt(0.75, QColor(94, 201, 98));
    g.setColorStopAt(1.0, QColor(253, 231, 37));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

} // namespace

TransformScaleView::TransformScaleView(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *controls = new QHBoxLayout;
    auto *pairLabel = new QLabel(tr("Pair:"), this);
    controls->addWidget(pairLabel);
    m_pairBox = new QComboBox(this);
    m_pairBox->setMinimumContentsLength(16);
    m_pairBox->setToolTip(tr("The scale s of a transform pair divides the producer's output channels and multiplies "
                             "the consumer's input columns: Y = (X ÷ s)(s · W)."));
    pairLabel->setBuddy(m_pairBox);
    controls->addWidget(m_pairBox);
    controls->addSpacing(16);
    m_logBox = new QCheckBox(tr("Log scale"), this);
    controls->addWidget(m_logBox);
    controls->addSpacing(16);
    m_message = new QLabel(this);
    m_message->setStyleSheet(QStringLiteral("color: #555;"));
    controls->addWidget(m_message, 1);
    layout->addLayout(controls);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    layout->addWidget(splitter, 1);
    m_scalePlot = new QCustomPlot(splitter);
    m_heatPlot = new QCustomPlot(splitter);
    splitter->addWidget(m_scalePlot);
    splitter->addWidget(m_heatPlot);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);

    m_scalePlot->setMinimumSize(280, 160);
    m_scalePlot->xAxis->setLabel(tr("channel"));
    m_scalePlot->yAxis->setLabel(tr("scale s (latest snapshot)"));
    m_scalePlot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_one = m_scalePlot->addGraph();
    m_one->setName(tr("s = 1 (no transform)"));
    m_one->setPen(QPen(QColor(90, 90, 90), 1.0, Qt::DashLine));
    m_line = m_scalePlot->addGraph();
    m_line->setName(tr("scale s")); // named with the pair and step once there is data
    m_line->setPen(QPen(QColor(31, 119, 180), 1.5));
    m_line->setLineStyle(QCPGraph::lsStepCenter);
    m_line->setBrush(QColor(31, 119, 180, 70));
    m_line->setChannelFillGraph(m_one);
    m_scalePlot->legend->setVisible(true);
    m_scalePlot->legend->setBrush(QBrush(QColor(255, 255, 255, 230)));
    m_scalePlot->legend->setMargins(QMargins(6, 4, 6, 4));
    m_scalePlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);

    m_heatPlot->setMinimumSize(280, 200);
    m_heatPlot->xAxis->setLabel(tr("step"));
    m_heatPlot->yAxis->setLabel(tr("channel"));
    m_heatPlot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_map = new QCPColorMap(m_heatPlot->xAxis, m_heatPlot->yAxis);
    m_map->setInterpolate(false);
    m_colorScale = new QCPColorScale(m_heatPlot);
    m_heatPlot->plotLayout()->addElement(0, 1, m_colorScale);
    m_colorScale->setType(QCPAxis::atRight);
    m_colorScale->setLabel(tr("scale s"));
    m_colorScale->setGradient(viridis());
    m_map->setColorScale(m_colorScale);
    // Keep the colour bar as tall as the heat map.
    auto *margins = new QCPMarginGroup(m_heatPlot);
    m_heatPlot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_colorScale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

    connect(m_pairBox, &QComboBox::currentTextChanged, this, [this](const QString &pair) {
        if (pair.isEmpty() || pair == m_pair)
            return;
        m_pair = pair;
        rebuild();
        Q_EMIT pairChanged(pair);
    });
    connect(m_logBox, &QCheckBox::toggled, this, [this] { rebuild(); });
    for (QCustomPlot *plot : { m_scalePlot, m_heatPlot }) {
        connect(plot, &QCustomPlot::mousePress, this, [this] { m_followData = false; });
        connect(plot, &QCustomPlot::mouseWheel, this, [this] { m_followData = false; });
        connect(plot, &QCustomPlot::mouseDoubleClick, this, [this] { rebuild(); });
    }
    setMinimumSize(360, 400);
    rebuild();
}

TransformScaleView::~TransformScaleView() = default;

void TransformScaleView::setSeries(const VectorSeries &scales)
{
    m_series = scales;
    QStringList names = pairs();
    if (!names.contains(m_pair))
        m_pair = names.isEmpty() ? QString() : names.front();
    {
        const QSignalBlocker block(m_pairBox);
        m_pairBox->clear();
        m_pairBox->addItems(names);
        m_pairBox->setCurrentText(m_pair);
    }
    rebuild();
}

QStringList TransformScaleView::pairs() const
{
    QStringList names;
    for (const auto &[name, matrix] : m_series.series)
        names << QString::fromStdString(name);
    return names;
}

bool TransformScaleView::setPair(const QString &pair)
{
    if (m_series.series.find(pair.toStdString()) == m_series.series.end())
        return false;
    m_pairBox->setCurrentText(pair);
    return true;
}

QString TransformScaleView::pair() const { return m_pair; }

bool TransformScaleView::appendSnapshot(std::int64_t step, const std::map<std::string, std::vector<float>> &scales)
{
    if (scales.empty() || (!m_series.step.empty() && step <= m_series.step.back()))
        return false;
    if (m_series.series.empty()) {
        VectorSeries fresh;
        for (const auto &[name, values] : scales)
            fresh.series[name] = FloatMatrix { 0, values.size(), {} };
        fresh.step.clear();
        m_series = fresh;
        const QSignalBlocker block(m_pairBox);
        m_pairBox->clear();
        m_pairBox->addItems(pairs());
        if (m_pair.isEmpty() || !pairs().contains(m_pair))
            m_pair = pairs().front();
        m_pairBox->setCurrentText(m_pair);
    }
    if (scales.size() != m_series.series.size())
        return false;
    for (const auto &[name, matrix] : m_series.series) {
        const auto it = scales.find(name);
        if (it == scales.end() || it->second.size() != matrix.cols)
            return false;
    }
    m_series.step.push_back(step);
    for (auto &[name, matrix] : m_series.series) {
        const auto &values = scales.at(name);
        matrix.values.insert(matrix.values.end(), values.begin(), values.end());
        ++matrix.rows;
    }
    rebuild(true);
    return true;
}

bool TransformScaleView::appendSnapshot(const SnapshotEvent &event)
{
    return appendSnapshot(event.step, event.letScales);
}

void TransformScaleView::setLogScale(bool on) { m_logBox->setChecked(on); }
bool TransformScaleView::logScale() const { return m_logBox->isChecked(); }

void TransformScaleView::rebuild(bool live)
{
    if (!live)
        m_followData = true;
    const auto it = m_series.series.find(m_pair.toStdString());
    const bool log = m_logBox->isChecked();
    setLogAxis(m_scalePlot->yAxis, log, "gb", 6); // scales near 1: plain numbers
    m_colorScale->setDataScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log)
        m_colorScale->axis()->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else
        m_colorScale->axis()->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));

    if (it == m_series.series.end() || it->second.rows == 0 || it->second.cols == 0) {
        m_line->data()->clear();
        m_line->setName(tr("scale s"));
        m_one->data()->clear();
        m_map->data()->clear();
        m_map->setVisible(false);
        m_message->setText(m_series.series.empty()
                ? tr("No transform scales in this run (RTN and methods without LET learn none).")
                : tr("No snapshot of %1 yet.").arg(m_pair));
        m_scalePlot->xAxis->setRange(0.0, 1.0);
        m_scalePlot->yAxis->setRange(log ? QCPRange(0.1, 10.0) : QCPRange(0.0, 2.0));
        m_heatPlot->xAxis->setRange(0.0, 1.0);
        m_heatPlot->yAxis->setRange(0.0, 1.0);
        m_scalePlot->replot(QCustomPlot::rpQueuedRefresh);
        m_heatPlot->replot(QCustomPlot::rpQueuedRefresh);
        return;
    }
    const FloatMatrix &m = it->second;
    const std::size_t n = std::min(m.rows, m_series.step.size());
    const std::size_t channels = m.cols;
    const std::string site = siteOfLetPair(m_pair.toStdString());
    m_message->setText(tr("%1 channels, %2 snapshots%3")
                           .arg(channels)
                           .arg(n)
                           .arg(site.empty() ? QString() : tr("; divides %1").arg(QString::fromStdString(site))));
    m_line->setName(tr("%1, step %2").arg(m_pair).arg(m_series.step[n - 1]));

    // The latest snapshot. A log axis cannot show s ≤ 0 (LET keeps |s| ≥ 0.01 but may flip signs):
    // such channels are left out there.
    QVector<double> keys, values;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo, positiveLo = lo;
    const float *latest = m.values.data() + (n - 1) * channels;
    for (std::size_t c = 0; c < channels; ++c) {
        const double v = double(latest[c]);
        if (!std::isfinite(v) || (log && v <= 0.0))
            continue;
        keys.push_back(double(c));
        values.push_back(v);
    }
    m_line->setData(keys, values, true);
    m_one->setData({ -0.5, double(channels) - 0.5 }, { 1.0, 1.0 }, true);

    // Heat map: column k = snapshot k, row c = channel c.
    for (std::size_t k = 0; k < n; ++k)
        for (std::size_t c = 0; c < channels; ++c) {
            const double v = double(m.values[k * channels + c]);
            if (!std::isfinite(v))
                continue;
            lo = std::min(lo, v);
            hi = std::max(hi, v);
            if (v > 0.0)
                positiveLo = std::min(positiveLo, v);
        }
    const double first = double(m_series.step.front());
    const double last = double(m_series.step[n - 1]);
    QCPColorMapData *data = m_map->data();
    data->setSize(int(n), int(channels));
    data->setRange(QCPRange(first, n > 1 ? last : first + 1.0), QCPRange(0.0, double(channels - 1)));
    for (std::size_t k = 0; k < n; ++k)
        for (std::size_t c = 0; c < channels; ++c) {
            double v = double(m.values[k * channels + c]);
            if (log && !(v > 0.0))
                v = std::isfinite(positiveLo) ? positiveLo : std::numeric_limits<double>::quiet_NaN();
            data->setCell(int(k), int(c), v);
        }
    m_map->setVisible(true);
    QCPRange colours = log ? QCPRange(positiveLo, hi) : QCPRange(lo, hi);
    if (!std::isfinite(colours.lower) || !std::isfinite(colours.upper))
        colours = log ? QCPRange(0.1, 10.0) : QCPRange(0.0, 2.0);
    if (!(colours.upper > colours.lower))
        colours = log ? QCPRange(colours.lower / 1.5, colours.upper * 1.5) : QCPRange(colours.lower - 0.5, colours.upper + 0.5);
    m_colorScale->setDataRange(colours);

    if (!m_followData) {
        m_scalePlot->replot(QCustomPlot::rpQueuedRefresh);
        m_heatPlot->replot(QCustomPlot::rpQueuedRefresh);
        return;
    }
    // Default ranges: every channel, every step; the value axis spans the latest scales and s = 1.
    m_scalePlot->xAxis->setRange(-0.5, double(channels) - 0.5);
    double latestLo = 1.0, latestHi = 1.0;
    for (double v : values) {
        latestHi = std::max(latestHi, v);
        latestLo = std::min(latestLo, v);
    }
    if (log) {
        const double decades = std::log10(latestHi / latestLo);
        const double factor = decades > 0.0 ? std::pow(10.0, 0.08 * decades) : 1.1;
        m_scalePlot->yAxis->setRange(latestLo / factor, latestHi * factor);
    } else {
        const double pad = std::max(0.08 * (latestHi - latestLo), 0.01);
        m_scalePlot->yAxis->setRange(latestLo - pad, latestHi + 2.5 * pad); // room for the legend
    }
    const double halfColumn = n > 1 ? 0.5 * (last - first) / double(n - 1) : 0.5;
    m_heatPlot->xAxis->setRange(first - halfColumn, (n > 1 ? last : first + 1.0) + halfColumn);
    m_heatPlot->yAxis->setRange(-0.5, double(channels) - 0.5);
    m_scalePlot->replot(QCustomPlot::rpQueuedRefresh);
    m_heatPlot->replot(QCustomPlot::rpQueuedRefresh);
}


} // namespace mq
