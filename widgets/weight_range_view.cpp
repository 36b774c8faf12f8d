#include "widgets/weight_range_view.h"

#include "core/calib/calibration_events.h"

#include "widgets/plot_legend.h"
#include "widgets/qcustomplot_include.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace mq {

namespace {

const std::string kMin = ".min";
const std::string kMax = ".max";
const std::string kUpper = ".upper";
const std::string kLower = ".lower";

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

const FloatMatrix *findSeries(const VectorSeries &v, const std::string &name)
{
    const auto it = v.series.find(name);
    return it == v.series.end() ? nullptr : &it->second;
}

// Appends one row to each series of `into` from `values`; an empty `into` takes the rows' names
// and lengths. False (nothing changed) when they do not match.
bool appendRows(VectorSeries &into, std::int64_t step, const std::map<std::string, std::vector<float>> &values)
{
    if (into.series.empty()) {
        into.step.clear();
        for (const auto &[name, row] : values)
            into.series[name] = FloatMatrix { 0, row.size(), {} };
    }
    if (values.size() != into.series.size())
        return false;
    for (const auto &[name, matrix] : into.series) {
        const auto it = values.find(name);
        if (it == values.end() || it->second.size() != matrix.cols)
            return false;
    }
    into.step.push_back(step);
    for (auto &[name, matrix] : into.series) {
        const auto &row = values.at(name);
        matrix.values.insert(matrix.values.end(), row.begin(), row.end());
        ++matrix.rows;
    }
    return true;
}

} // namespace

WeightRangeView::WeightRangeView(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *controls = new QHBoxLayout;
    auto *siteLabel = new QLabel(tr("Weight:"), this);
    controls->addWidget(siteLabel);
    m_siteBox = new QComboBox(this);
    m_siteBox->setMinimumContentsLength(22);
    siteLabel->setBuddy(m_siteBox);
    controls->addWidget(m_siteBox);
    controls->addSpacing(16);
    controls->addWidget(new QLabel(tr("Snapshot:"), this));
    m_stepSlider = new QSlider(Qt::Horizontal, this);
    m_stepSlider->setMinimumWidth(120);
    m_stepSlider->setToolTip(tr("Which snapshot to show; at the right end the view follows new snapshots."));
    controls->addWidget(m_stepSlider, 1);
    m_stepLabel = new QLabel(this);
    m_stepLabel->setMinimumWidth(110);
    controls->addWidget(m_stepLabel);
    layout->addLayout(controls);

    m_plot = new QCustomPlot(this);
    layout->addWidget(m_plot, 1);
    m_plot->xAxis->setLabel(tr("output channel (weight row)"));
    m_plot->yAxis->setLabel(tr("weight value"));
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->legend->setVisible(true);
    m_plot->legend->setBrush(QBrush(QColor(255, 255, 255, 230)));
    m_plot->legend->setMargins(QMargins(6, 4, 6, 4));
    placeLegendAbove(m_plot);

    auto addGraph = [this](const QString &name, const QColor &colour, bool inLegend) {
        QCPGraph *g = m_plot->addGraph();
        g->setName(name);
        g->setPen(QPen(colour, 1.2));
        g->setLineStyle(QCPGraph::lsStepCenter);
        if (!inLegend)
            g->removeFromLegend();
        return g;
    };
    const QColor before(127, 127, 127);
    const QColor after(31, 119, 180);
    m_max = addGraph(tr("min … max before clipping"), before, true);
    m_min = addGraph(tr("min before clipping"), before, false);
    m_clippedMax = addGraph(tr("σ(f_low)·min … σ(f_up)·max after clipping"), after, true);
    m_clippedMin = addGraph(tr("clipped min"), after, false);
    m_max->setBrush(QColor(127, 127, 127, 60));
    m_max->setChannelFillGraph(m_min);
    m_clippedMax->setBrush(QColor(31, 119, 180, 90));
    m_clippedMax->setChannelFillGraph(m_clippedMin);
    auto *zero = new QCPItemStraightLine(m_plot);
    zero->point1->setCoords(0.0, 0.0);
    zero->point2->setCoords(1.0, 0.0);
    zero->setPen(QPen(QColor(0, 0, 0, 90), 0.0));

    connect(m_siteBox, &QComboBox::currentTextChanged, this, [this](const QString &site) {
        if (site.isEmpty() || site == m_site)
            return;
        m_site = site;
        redraw();
        Q_EMIT weightSiteChanged(site);
    });
    connect(m_plot, &QCustomPlot::mousePress, this, [this] { m_followData = false; });
    connect(m_plot, &QCustomPlot::mouseWheel, this, [this] { m_followData = false; });
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] { redraw(); });
    connect(m_stepSlider, &QSlider::valueChanged, this, [this](int value) {
        m_stepIndex = value >= m_stepSlider->maximum() ? -1 : value;
        redraw(true); // another step of the same rows: keep the user's zoom
    });
    setMinimumSize(360, 260);
    redraw();
}

WeightRangeView::~WeightRangeView() = default;

void WeightRangeView::setSeries(const VectorSeries &weightRanges, const VectorSeries &clipping)
{
    m_ranges = weightRanges;
    m_clipping = clipping;
    m_stepIndex = -1;
    refreshSites();
    redraw();
}

QStringList WeightRangeView::weightSites() const
{
    QStringList sites;
    for (const auto &[name, matrix] : m_ranges.series)
        if (endsWith(name, kMin) && findSeries(m_ranges, name.substr(0, name.size() - kMin.size()) + kMax))
            sites << QString::fromStdString(name.substr(0, name.size() - kMin.size()));
    return sites;
}

bool WeightRangeView::setWeightSite(const QString &site)
{
    if (!weightSites().contains(site))
        return false;
    m_siteBox->setCurrentText(site);
    return true;
}

QString WeightRangeView::weightSite() const { return m_site; }

bool WeightRangeView::setStepIndex(int index)
{
    if (index < -1 || index >= int(m_ranges.step.size()))
        return false;
    m_stepIndex = index;
    redraw(true);
    return true;
}

int WeightRangeView::stepIndex() const
{
    if (m_ranges.step.empty())
        return -1;
    return m_stepIndex < 0 ? int(m_ranges.step.size()) - 1 : m_stepIndex;
}

std::int64_t WeightRangeView::shownStep() const
{
    const int i = stepIndex();
    return i < 0 ? -1 : m_ranges.step[std::size_t(i)];
}

bool WeightRangeView::appendSnapshot(std::int64_t step, const std::map<std::string, std::vector<float>> &weightMin,
    const std::map<std::string, std::vector<float>> &weightMax, const std::map<std::string, std::vector<float>> &clipUpper,
    const std::map<std::string, std::vector<float>> &clipLower)
{
    if (weightMin.empty() || (!m_ranges.step.empty() && step <= m_ranges.step.back()))
        return false;
    std::map<std::string, std::vector<float>> ranges, clipping;
    for (const auto &[site, row] : weightMin)
        ranges[site + kMin] = row;
    for (const auto &[site, row] : weightMax)
        ranges[site + kMax] = row;
    for (const auto &[site, row] : clipUpper)
        clipping[site + kUpper] = row;
    for (const auto &[site, row] : clipLower)
        clipping[site + kLower] = row;
    // Check both before changing either.
    VectorSeries newRanges = m_ranges, newClipping = m_clipping;
    if (!appendRows(newRanges, step, ranges))
        return false;
    if (!clipping.empty() && !appendRows(newClipping, step, clipping))
        return false;
    const bool sitesChanged = m_ranges.series.empty();
    m_ranges = std::move(newRanges);
    m_clipping = std::move(newClipping);
    if (sitesChanged)
        refreshSites();
    redraw(true);
    return true;
}

bool WeightRangeView::appendSnapshot(const SnapshotEvent &event)
{
    return appendSnapshot(event.step, event.weightMin, event.weightMax, event.clipUpper, event.clipLower);
}

void WeightRangeView::refreshSites()
{
    const QStringList sites = weightSites();
    if (!sites.contains(m_site))
        m_site = sites.isEmpty() ? QString() : sites.front();
    const QSignalBlocker block(m_siteBox);
    m_siteBox->clear();
    m_siteBox->addItems(sites);
    m_siteBox->setCurrentText(m_site);
}

void WeightRangeView::redraw(bool live)
{
    if (!live)
        m_followData = true;
    for (QCPGraph *g : { m_max, m_min, m_clippedMax, m_clippedMin })
        g->data()->clear();
    const int n = int(m_ranges.step.size());
    {
        const QSignalBlocker block(m_stepSlider);
        m_stepSlider->setRange(0, std::max(0, n - 1));
        m_stepSlider->setValue(stepIndex() < 0 ? 0 : stepIndex());
        m_stepSlider->setEnabled(n > 1);
    }
    const std::string site = m_site.toStdString();
    const FloatMatrix *lo = findSeries(m_ranges, site + kMin);
    const FloatMatrix *hi = findSeries(m_ranges, site + kMax);
    const int index = stepIndex();
    if (!lo || !hi || index < 0 || std::size_t(index) >= std::min(lo->rows, hi->rows) || lo->cols != hi->cols) {
        m_stepLabel->setText(m_ranges.series.empty() ? tr("no weight ranges in this run") : tr("no snapshot"));
        m_plot->xAxis->setRange(0.0, 1.0);
        m_plot->yAxis->setRange(-1.0, 1.0);
        m_plot->replot(QCustomPlot::rpQueuedRefresh);
        return;
    }
    const std::int64_t step = m_ranges.step[std::size_t(index)];
    m_stepLabel->setText(m_stepIndex < 0 ? tr("step %1 (latest)").arg(step) : tr("step %1").arg(step));

    // The clipping factors of the same step (their group is appended in the same snapshots).
    const FloatMatrix *up = findSeries(m_clipping, site + kUpper);
    const FloatMatrix *low = findSeries(m_clipping, site + kLower);
    int clipRow = -1;
    for (std::size_t i = 0; i < m_clipping.step.size(); ++i)
        if (m_clipping.step[i] == step)
            clipRow = int(i);
    const bool clipped = up && low && clipRow >= 0 && std::size_t(clipRow) < std::min(up->rows, low->rows);
    auto factor = [&](const FloatMatrix *m, std::size_t row) {
        // One factor per row, or one for the whole tensor.
        const std::size_t c = m->cols == 1 ? 0 : row;
        return c < m->cols ? double(m->values[std::size_t(clipRow) * m->cols + c]) : std::nan("");
    };

    const std::size_t rows = lo->cols;
    const auto count = qsizetype(rows);
    QVector<double> keys(count), mins(count), maxs(count);
    QVector<double> cmins, cmaxs;
    for (std::size_t r = 0; r < rows; ++r) {
        keys[qsizetype(r)] = double(r);
        mins[qsizetype(r)] = double(lo->values[std::size_t(index) * rows + r]);
        maxs[qsizetype(r)] = double(hi->values[std::size_t(index) * rows + r]);
        if (clipped) {
            cmins.push_back(factor(low, r) * mins[qsizetype(r)]);
            cmaxs.push_back(factor(up, r) * maxs[qsizetype(r)]);
        }
    }
    m_max->setData(keys, maxs, true);
    m_min->setData(keys, mins, true);
    if (clipped) {
        m_clippedMax->setData(keys, cmaxs, true);
        m_clippedMin->setData(keys, cmins, true);
    }
    if (clipped)
        m_clippedMax->addToLegend();
    else
        m_clippedMax->removeFromLegend();

    double ylo = 0.0, yhi = 0.0;
    for (qsizetype r = 0; r < keys.size(); ++r) {
        if (std::isfinite(mins[r]))
            ylo = std::min(ylo, mins[r]);
        if (std::isfinite(maxs[r]))
            yhi = std::max(yhi, maxs[r]);
    }
    if (m_followData) {
        m_plot->xAxis->setRange(-0.5, double(rows) - 0.5);
        m_plot->yAxis->setRange(paddedRange(QCPRange(ylo, yhi), 1.0));
    }
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

} // namespace mq
