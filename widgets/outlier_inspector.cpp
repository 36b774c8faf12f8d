#include "widgets/outlier_inspector.h"

#include "core/calib/calibration_events.h"
#include "core/store/run_reader.h"
#include "core/util/error.h"

#include "widgets/plot_legend.h"
#include "widgets/qcustomplot_include.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace mq {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// A 16-bit grid has 65536 levels, hundreds per pixel: draw at most this many lines of it.
constexpr int kMaxDenseGridLines = 64;
const char *kLevelsLayer = "levels";

bool hasGroup(const RunHeader &header, const std::string &group)
{
    return std::any_of(header.vectorGroups.begin(), header.vectorGroups.end(),
        [&](const VectorGroupSpec &g) { return g.name == group; });
}

// The row of `steps` to show for a snapshot at `step`: that step, else the last one before it.
int rowAtStep(const std::vector<std::int64_t> &steps, std::int64_t step)
{
    int found = -1;
    for (std::size_t i = 0; i < steps.size(); ++i)
        if (steps[i] <= step)
            found = int(i);
    return found;
}

std::vector<float> matrixRow(const FloatMatrix &m, std::size_t r)
{
    if (r >= m.rows)
        return {};
    return { m.values.begin() + std::ptrdiff_t(r * m.cols), m.values.begin() + std::ptrdiff_t((r + 1) * m.cols) };
}

QString fmt(double v) { return QString::number(v, 'g', 4); }

QLabel *messageLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    label->setMargin(24);
    label->setStyleSheet(QStringLiteral("color: #555; font-size: 11pt;"));
    return label;
}

// A legend entry for what items draw (items have none): a graph without data.
QCPGraph *legendOnly(QCustomPlot *plot, const QString &name, const QPen &pen)
{
    QCPGraph *g = plot->addGraph();
    g->setName(name);
    g->setPen(pen);
    return g;
}

QCPItemStraightLine *verticalLine(QCustomPlot *plot, double x, const QPen &pen)
{
    auto *line = new QCPItemStraightLine(plot);
    line->point1->setType(QCPItemPosition::ptPlotCoords);
    line->point2->setType(QCPItemPosition::ptPlotCoords);
    line->point1->setCoords(x, 0.0);
    line->point2->setCoords(x, 1.0);
    line->setPen(pen);
    return line;
}

void setupPlot(QCustomPlot *plot)
{
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->axisRect()->setRangeDrag(Qt::Horizontal);
    plot->axisRect()->setRangeZoom(Qt::Horizontal);
    plot->legend->setVisible(true);
    plot->legend->setBrush(QBrush(QColor(255, 255, 255, 230)));
    plot->legend->setMargins(QMargins(6, 4, 6, 4));
    placeLegendAbove(plot, 2);
    plot->setMinimumSize(280, 180);
}

} // namespace

OutlierSiteData OutlierSiteData::fromRun(const RunReader &reader, const std::string &site, int stepIndex)
{
    const RunHeader &header = reader.header();
    OutlierSiteData d;
    d.site = site;
    try {
        d.bits = PrecisionMap::fromJson(header.precisionMapJson, "the run's precision map").site(site).bits;
    } catch (const Error &) {
        d.bits = 8; // not a site name or no map: the default activation width
    }
    std::int64_t step = std::numeric_limits<std::int64_t>::max();
    const auto column = std::find(header.sites.begin(), header.sites.end(), site);
    const RangeSeries ranges = reader.ranges();
    if (!ranges.step.empty()) {
        const int row = stepIndex < 0 || stepIndex >= int(ranges.step.size()) ? int(ranges.step.size()) - 1 : stepIndex;
        step = ranges.step[std::size_t(row)];
        d.step = step;
        if (column != header.sites.end() && ranges.sites == header.sites.size()) {
            const auto c = std::size_t(column - header.sites.begin());
            d.fmin = ranges.fmin[std::size_t(row) * ranges.sites + c];
            d.fmax = ranges.fmax[std::size_t(row) * ranges.sites + c];
            d.hasRange = true;
        }
    }
    const bool watched = std::any_of(header.histograms.begin(), header.histograms.end(),
        [&](const HistogramSpec &h) { return h.site == site; });
    if (watched) {
        const HistogramSeries h = reader.histogram(site);
        const int row = rowAtStep(h.step, step);
        if (row >= 0) {
            const auto r = std::size_t(row);
            d.edges.assign(h.edges.begin() + std::ptrdiff_t(r * (h.bins + 1)),
                h.edges.begin() + std::ptrdiff_t((r + 1) * (h.bins + 1)));
            d.counts.assign(h.counts.begin() + std::ptrdiff_t(r * h.bins), h.counts.begin() + std::ptrdiff_t((r + 1) * h.bins));
            if (d.step < 0)
                d.step = h.step[r];
        }
    }
    if (hasGroup(header, "outliers")) {
        const VectorSeries v = reader.vectors("outliers");
        const auto it = v.series.find(site);
        const int row = rowAtStep(v.step, step);
        if (it != v.series.end() && row >= 0)
            d.channelMaxAbs = matrixRow(it->second, std::size_t(row));
    }
    d.pair = letPairOfSite(site);
    if (!d.pair.empty() && hasGroup(header, "scales")) {
        const VectorSeries v = reader.vectors("scales");
        const auto it = v.series.find(d.pair);
        const int row = rowAtStep(v.step, step);
        if (it != v.series.end() && row >= 0)
            d.pairScale = matrixRow(it->second, std::size_t(row));
    }
    return d;
}

OutlierSiteData OutlierSiteData::fromSnapshot(const SnapshotEvent &event, const std::string &site, int bits)
{
    OutlierSiteData d;
    d.site = site;
    d.bits = bits;
    d.step = event.step;
    const auto column = std::find(event.sites.begin(), event.sites.end(), site);
    if (column != event.sites.end()) {
        const auto c = std::size_t(column - event.sites.begin());
        if (c < event.fmin.size() && c < event.fmax.size()) {
            d.fmin = event.fmin[c];
            d.fmax = event.fmax[c];
            d.hasRange = true;
        }
    }
    const auto h = event.histograms.find(site);
    if (h != event.histograms.end()) {
        d.edges = h->second.edges;
        d.counts = h->second.counts;
    }
    const auto m = event.channelMaxAbs.find(site);
    if (m != event.channelMaxAbs.end())
        d.channelMaxAbs = m->second;
    d.pair = letPairOfSite(site);
    const auto s = event.letScales.find(d.pair);
    if (s != event.letScales.end())
        d.pairScale = s->second;
    return d;
}

OutlierInspector::OutlierInspector(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    m_title = new QLabel(this);
    m_title->setTextFormat(Qt::PlainText);
    m_title->setWordWrap(true);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    layout->addWidget(m_title);

    auto *controls = new QHBoxLayout;
    m_logCounts = new QCheckBox(tr("Log count axis"), this);
    controls->addWidget(m_logCounts);
    controls->addSpacing(16);
    auto *thresholdLabel = new QLabel(tr("Outlier: max|x| >"), this);
    controls->addWidget(thresholdLabel);
    m_threshold = new QDoubleSpinBox(this);
    m_threshold->setRange(1.0, 1000.0);
    m_threshold->setDecimals(1);
    m_threshold->setSingleStep(0.5);
    m_threshold->setValue(kDefaultOutlierThreshold);
    m_threshold->setSuffix(tr(" × median"));
    m_threshold->setToolTip(tr("A channel is an outlier when its max|x| over the snapshot batch exceeds this multiple "
                               "of the median max|x| over the site's channels."));
    thresholdLabel->setBuddy(m_threshold);
    controls->addWidget(m_threshold);
    controls->addSpacing(16);
    controls->addWidget(new QLabel(tr("Transform:"), this));
    m_modeBox = new QComboBox(this);
    m_modeBox->addItem(tr("before (raw max|x|)"));
    m_modeBox->addItem(tr("after (÷ pair scale)"));
    m_modeBox->addItem(tr("before and after"));
    m_modeBox->setCurrentIndex(int(m_mode));
    controls->addWidget(m_modeBox);
    controls->addStretch(1);
    layout->addLayout(controls);

    auto *splitter = new QSplitter(Qt::Vertical, this);
    layout->addWidget(splitter, 1);

    m_histStack = new QStackedWidget(splitter);
    m_histPlot = new QCustomPlot(m_histStack);
    m_histMessage = messageLabel(m_histStack);
    m_histStack->addWidget(m_histPlot);
    m_histStack->addWidget(m_histMessage);
    splitter->addWidget(m_histStack);

    auto *lower = new QSplitter(Qt::Horizontal, splitter);
    m_channelStack = new QStackedWidget(lower);
    m_channelPlot = new QCustomPlot(m_channelStack);
    m_channelMessage = messageLabel(m_channelStack);
    m_channelStack->addWidget(m_channelPlot);
    m_channelStack->addWidget(m_channelMessage);
    lower->addWidget(m_channelStack);
    m_table = new QTableWidget(0, 4, lower);
    m_table->setHorizontalHeaderLabels({ tr("Channel"), tr("max|x|"), tr("× median"), tr("after ÷ s") });
    m_table->verticalHeader()->setVisible(false);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setMinimumWidth(260);
    lower->addWidget(m_table);
    lower->setStretchFactor(0, 4);
    lower->setStretchFactor(1, 1);
    lower->setSizes({ 800, 260 });
    splitter->addWidget(lower);
    splitter->setSizes({ 500, 500 });

    setupPlot(m_histPlot);
    m_histPlot->addLayer(QLatin1String(kLevelsLayer), m_histPlot->layer(QStringLiteral("grid")), QCustomPlot::limAbove);
    m_histPlot->xAxis->setLabel(tr("activation value"));
    m_histPlot->yAxis->setLabel(tr("count"));
    m_histBars = new QCPBars(m_histPlot->xAxis, m_histPlot->yAxis);
    m_histBars->setName(tr("histogram (float)"));
    m_histBars->setPen(Qt::NoPen);
    m_histBars->setBrush(QColor(31, 119, 180, 200));
    m_histBars->setWidthType(QCPBars::wtPlotCoords);

    setupPlot(m_channelPlot);
    m_channelPlot->xAxis->setLabel(tr("channel"));
    m_channelPlot->yAxis->setLabel(tr("max |activation value|"));
    m_channelBars = new QCPBars(m_channelPlot->xAxis, m_channelPlot->yAxis);
    m_channelBars->setName(tr("max|x| per channel"));
    m_channelBars->setPen(Qt::NoPen);
    m_channelBars->setBrush(QColor(31, 119, 180));
    m_outlierBars = new QCPBars(m_channelPlot->xAxis, m_channelPlot->yAxis);
    m_outlierBars->setName(tr("outlier channels"));
    m_outlierBars->setPen(Qt::NoPen);
    m_outlierBars->setBrush(QColor(214, 39, 40));
    m_transformedBars = new QCPBars(m_channelPlot->xAxis, m_channelPlot->yAxis);
    m_transformedBars->setName(tr("after ÷ scale"));
    m_transformedBars->setPen(Qt::NoPen);
    m_transformedBars->setBrush(QColor(44, 160, 44, 220));
    for (QCPBars *bars : { m_channelBars, m_outlierBars, m_transformedBars }) {
        bars->setWidthType(QCPBars::wtPlotCoords);
        bars->setWidth(0.9);
    }

    connect(m_logCounts, &QCheckBox::toggled, this, [this] { rebuildHistogram(); });
    connect(m_threshold, &QDoubleSpinBox::valueChanged, this, [this](double v) {
        rebuildChannels();
        updateTitle();
        Q_EMIT thresholdChanged(v);
    });
    connect(m_modeBox, &QComboBox::currentIndexChanged, this, [this](int i) {
        m_mode = TransformMode(i);
        rebuildChannels();
    });
    setMinimumSize(420, 360);
    setData(OutlierSiteData{});
}

OutlierInspector::~OutlierInspector() = default;

void OutlierInspector::setData(const OutlierSiteData &data)
{
    m_data = data;
    rebuildHistogram();
    rebuildChannels();
    updateTitle();
}

QString OutlierInspector::loadFromRun(const RunReader &reader, const std::string &site, int stepIndex)
{
    try {
        setData(OutlierSiteData::fromRun(reader, site, stepIndex));
        return {};
    } catch (const Error &e) {
        OutlierSiteData empty;
        empty.site = site;
        setData(empty);
        const QString message = QString::fromUtf8(e.what());
        m_histMessage->setText(message);
        m_channelMessage->setText(message);
        return message;
    }
}

bool OutlierInspector::appendSnapshot(const SnapshotEvent &event)
{
    if (m_data.site.empty() || std::find(event.sites.begin(), event.sites.end(), m_data.site) == event.sites.end())
        return false;
    setData(OutlierSiteData::fromSnapshot(event, m_data.site, m_data.bits));
    return true;
}

void OutlierInspector::setThreshold(double threshold) { m_threshold->setValue(threshold); }
double OutlierInspector::threshold() const { return m_threshold->value(); }
void OutlierInspector::setLogCounts(bool on) { m_logCounts->setChecked(on); }
bool OutlierInspector::logCounts() const { return m_logCounts->isChecked(); }
void OutlierInspector::setTransformMode(TransformMode mode) { m_modeBox->setCurrentIndex(int(mode)); }
bool OutlierInspector::histogramShown() const { return m_histStack->currentWidget() == m_histPlot; }
bool OutlierInspector::channelsShown() const { return m_channelStack->currentWidget() == m_channelPlot; }

void OutlierInspector::rebuildHistogram()
{
    QCustomPlot *plot = m_histPlot;
    plot->clearItems();
    plot->clearGraphs();
    for (int i = plot->plottableCount() - 1; i >= 0; --i)
        if (plot->plottable(i) != m_histBars)
            plot->removePlottable(i);
    m_histBars->data()->clear();
    m_gridLines = 0;
    m_gridStride = 1;
    m_clippedPercent = kNaN;

    const QString site = QString::fromStdString(m_data.site);
    if (!m_data.hasHistogram()) {
        m_histMessage->setText(m_data.site.empty()
                ? tr("Select an activation site to inspect its histogram and outlier channels.")
                : tr("%1 is not watched, so no histogram was recorded for it.\nAdd it to the watched sites "
                     "(calibration settings, \"watch\") to see its values, range and clipped mass here.")
                      .arg(site));
        m_histStack->setCurrentWidget(m_histMessage);
        plot->replot(QCustomPlot::rpQueuedRefresh);
        return;
    }
    m_histStack->setCurrentWidget(m_histPlot);

    const bool log = m_logCounts->isChecked();
    setLogAxis(plot->yAxis, log, "eb", 0);

    const std::size_t bins = m_data.counts.size();
    const double lo = m_data.edges.front(), hi = m_data.edges.back();
    const double width = (hi - lo) / double(bins);
    m_histBars->setWidth(width);
    const bool range = m_data.hasRange && m_data.fmax >= m_data.fmin;
    QVector<double> keys, counts, clippedKeys, clippedCounts;
    double maxCount = 0.0;
    for (std::size_t b = 0; b < bins; ++b) {
        const double centre = 0.5 * (double(m_data.edges[b]) + double(m_data.edges[b + 1]));
        const double c = double(m_data.counts[b]);
        maxCount = std::max(maxCount, c);
        const bool outside = range && (centre < m_data.fmin || centre > m_data.fmax);
        (outside ? clippedKeys : keys).push_back(centre);
        (outside ? clippedCounts : counts).push_back(c);
    }
    m_histBars->setData(keys, counts, true);

    if (range) {
        m_clippedPercent = 100.0 * clippedFraction(m_data.edges, m_data.counts, m_data.fmin, m_data.fmax);
        auto *clipped = new QCPBars(plot->xAxis, plot->yAxis);
        clipped->setName(tr("clipped mass: %1 %").arg(QString::number(m_clippedPercent, 'f', m_clippedPercent < 0.1 ? 3 : 2)));
        clipped->setPen(Qt::NoPen);
        clipped->setBrush(QColor(214, 39, 40, 220));
        clipped->setWidthType(QCPBars::wtPlotCoords);
        clipped->setWidth(width);
        clipped->setData(clippedKeys, clippedCounts, true);

        // The clipped region itself, shaded beyond the range up to the histogram's ends.
        for (const auto &[from, to] : { std::pair<double, double>(std::min(lo, double(m_data.fmin)), m_data.fmin),
                 std::pair<double, double>(m_data.fmax, std::max(hi, double(m_data.fmax))) }) {
            if (!(to > from))
                continue;
            auto *rect = new QCPItemRect(plot);
            rect->setLayer(QLatin1String(kLevelsLayer));
            rect->topLeft->setTypeX(QCPItemPosition::ptPlotCoords);
            rect->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
            rect->bottomRight->setTypeX(QCPItemPosition::ptPlotCoords);
            rect->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
            rect->topLeft->setCoords(from, 0.0);
            rect->bottomRight->setCoords(to, 1.0);
            rect->setPen(Qt::NoPen);
            rect->setBrush(QColor(214, 39, 40, 28));
        }

        if (m_data.bits >= 1 && m_data.bits <= kMaxQuantBits && m_data.fmax > m_data.fmin) {
            const std::int64_t levels = std::int64_t(1) << m_data.bits;
            std::int64_t stride = 1;
            if (levels > kMaxGridLines)
                while (levels / stride > kMaxDenseGridLines)
                    stride *= 2;
            m_gridStride = int(stride);
            const double delta = (double(m_data.fmax) - double(m_data.fmin)) / double(levels - 1);
            QPen levelPen(QColor(120, 120, 120, stride == 1 ? 70 : 120), 0.0);
            for (std::int64_t q = 0; q < levels; q += stride) {
                verticalLine(plot, double(m_data.fmin) + double(q) * delta, levelPen)->setLayer(QLatin1String(kLevelsLayer));
                ++m_gridLines;
            }
            const QString gridName = stride == 1
                ? tr("%1-bit grid: all %2 levels").arg(m_data.bits).arg(levels)
                : tr("%1-bit grid: every %2th of %3 levels (too dense to draw all)").arg(m_data.bits).arg(stride).arg(levels);
            legendOnly(plot, gridName, QPen(QColor(120, 120, 120), 1.0));
        }
        const QPen rangePen(QColor(20, 20, 20), 2.0);
        verticalLine(plot, m_data.fmin, rangePen);
        verticalLine(plot, m_data.fmax, rangePen);
        legendOnly(plot, tr("range [%1, %2]").arg(fmt(m_data.fmin), fmt(m_data.fmax)), rangePen);
    }

    double xlo = lo, xhi = hi;
    if (range) {
        xlo = std::min(xlo, double(m_data.fmin));
        xhi = std::max(xhi, double(m_data.fmax));
    }
    plot->xAxis->setRange(paddedRange(QCPRange(xlo, xhi), 1.0));
    if (log) {
        // Bars keep their base at 0, below a log axis' range: they rise from the bottom edge.
        plot->yAxis->setRange(0.5, std::max(10.0, maxCount * 3.0));
    } else {
        plot->yAxis->setRange(0.0, std::max(1.0, maxCount * 1.08));
    }
    plot->replot(QCustomPlot::rpQueuedRefresh);
}

void OutlierInspector::rebuildChannels()
{
    QCustomPlot *plot = m_channelPlot;
    plot->clearItems();
    plot->clearGraphs();
    m_channelBars->data()->clear();
    m_outlierBars->data()->clear();
    m_transformedBars->data()->clear();
    m_outliers.clear();
    m_table->setRowCount(0);

    if (!m_data.hasChannels()) {
        m_channelMessage->setText(m_data.site.empty() ? QString()
                                                      : tr("No per-channel max|x| for %1: it is not watched.\nAdd it to "
                                                           "the watched sites to find its outlier channels.")
                                                            .arg(QString::fromStdString(m_data.site)));
        m_channelStack->setCurrentWidget(m_channelMessage);
        m_table->setVisible(false);
        plot->replot(QCustomPlot::rpQueuedRefresh);
        return;
    }
    m_channelStack->setCurrentWidget(m_channelPlot);
    m_table->setVisible(true);

    const auto &maxAbs = m_data.channelMaxAbs;
    const double median = medianOf(maxAbs);
    m_outliers = findOutlierChannels(maxAbs, threshold());
    std::vector<bool> isOutlier(maxAbs.size(), false);
    for (const OutlierChannel &o : m_outliers)
        isOutlier[std::size_t(o.channel)] = true;

    const bool haveScale = m_data.pairScale.size() == maxAbs.size();
    const bool showRaw = m_mode != TransformMode::After || !haveScale;
    const bool showAfter = m_mode != TransformMode::Before && haveScale;

    QVector<double> keys, values, outKeys, outValues, afterKeys, afterValues;
    double top = 0.0;
    for (std::size_t c = 0; c < maxAbs.size(); ++c) {
        const double v = double(maxAbs[c]);
        if (!std::isfinite(v))
            continue;
        // Overlaid, the raw bar sits left of the channel and the transformed one right of it.
        const double rawKey = showAfter ? double(c) - 0.21 : double(c);
        const double afterKey = showRaw ? double(c) + 0.21 : double(c);
        if (showRaw) {
            (isOutlier[c] ? outKeys : keys).push_back(rawKey);
            (isOutlier[c] ? outValues : values).push_back(v);
            top = std::max(top, v);
        }
        if (showAfter && m_data.pairScale[c] != 0.0f) {
            const double a = v / std::abs(double(m_data.pairScale[c]));
            afterKeys.push_back(afterKey);
            afterValues.push_back(a);
            top = std::max(top, a);
        }
    }
    m_channelBars->setData(keys, values, true);
    m_outlierBars->setData(outKeys, outValues, true);
    m_transformedBars->setData(afterKeys, afterValues, true);
    for (QCPBars *bars : { m_channelBars, m_outlierBars })
        bars->setWidth(showAfter ? 0.42 : 0.9);
    m_transformedBars->setWidth(showRaw ? 0.42 : 0.9);
    m_transformedBars->setName(haveScale ? tr("after ÷ %1 scale").arg(QString::fromStdString(m_data.pair))
                                         : tr("after ÷ scale"));
    m_outlierBars->setName(tr("outlier channels (%1)").arg(m_outliers.size()));
    for (QCPBars *bars : { m_channelBars, m_outlierBars })
        bars->setVisible(showRaw);
    m_transformedBars->setVisible(showAfter);
    // Legend entries only for what is drawn.
    for (QCPBars *bars : { m_channelBars, m_outlierBars, m_transformedBars }) {
        if (bars->visible())
            bars->addToLegend();
        else
            bars->removeFromLegend();
    }

    if (std::isfinite(median) && median > 0.0 && showRaw) {
        const double line = threshold() * median;
        auto *item = new QCPItemStraightLine(plot);
        item->point1->setCoords(0.0, line);
        item->point2->setCoords(1.0, line);
        const QPen pen(QColor(214, 39, 40), 1.2, Qt::DashLine);
        item->setPen(pen);
        legendOnly(plot, tr("%1 × median = %2").arg(fmt(threshold()), fmt(line)), pen);
        top = std::max(top, line);
    }
    if (m_mode != TransformMode::Before && !haveScale)
        legendOnly(plot,
            m_data.pair.empty() ? tr("no transform pair scales this site")
                                : tr("no %1 scale recorded (the method learns none)").arg(QString::fromStdString(m_data.pair)),
            Qt::NoPen);

    plot->xAxis->setRange(-1.0, double(maxAbs.size()));
    plot->yAxis->setRange(0.0, std::max(1e-6, top * 1.1));

    m_table->setRowCount(int(m_outliers.size()));
    for (int r = 0; r < int(m_outliers.size()); ++r) {
        const OutlierChannel &o = m_outliers[std::size_t(r)];
        auto cell = [&](int column, const QString &text, double sortValue) {
            auto *item = new QTableWidgetItem(text);
            item->setData(Qt::UserRole, sortValue);
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(r, column, item);
        };
        cell(0, QString::number(o.channel), o.channel);
        cell(1, fmt(o.maxAbs), o.maxAbs);
        cell(2, QString::number(o.ratio, 'f', 1), o.ratio);
        if (haveScale && m_data.pairScale[std::size_t(o.channel)] != 0.0f) {
            const double after = double(o.maxAbs) / std::abs(double(m_data.pairScale[std::size_t(o.channel)]));
            cell(3, fmt(after), after);
        } else {
            cell(3, QStringLiteral("–"), kNaN);
        }
    }
    plot->replot(QCustomPlot::rpQueuedRefresh);
}

void OutlierInspector::updateTitle()
{
    if (m_data.site.empty()) {
        m_title->setText(tr("Outlier inspector: no site selected"));
        return;
    }
    QStringList parts { QString::fromStdString(m_data.site) };
    if (m_data.step >= 0)
        parts << tr("step %1").arg(m_data.step);
    parts << (m_data.bits > kMaxQuantBits ? tr("float (not quantized)") : tr("%1-bit").arg(m_data.bits));
    if (m_data.hasRange)
        parts << tr("range [%1, %2]").arg(fmt(m_data.fmin), fmt(m_data.fmax));
    if (std::isfinite(m_clippedPercent))
        parts << tr("clipped %1 %").arg(QString::number(m_clippedPercent, 'f', 2));
    if (m_data.hasChannels())
        parts << tr("%n outlier channel(s)", nullptr, int(m_outliers.size()));
    m_title->setText(parts.join(QStringLiteral("  ·  ")));
}

} // namespace mq
