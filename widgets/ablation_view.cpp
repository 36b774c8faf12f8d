#include "widgets/ablation_view.h"

#include "widgets/qcustomplot_include.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <optional>

namespace mq {

namespace {

// The paper's names for the method ids the plugins register.
QString methodTitle(const QString &method)
{
    if (method == QLatin1String("mobilequant"))
        return QStringLiteral("mobilequant (end-to-end)");
    if (method == QLatin1String("blockwise"))
        return QStringLiteral("blockwise (block-wise)");
    return method.isEmpty() ? QStringLiteral("(no method)") : method;
}

struct Point
{
    double x = 0.0;
    double ppl = 0.0;
    QString label;
};

void setupPlot(QCustomPlot *plot, const QString &xLabel)
{
    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(QStringLiteral("perplexity (quantized)"));
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->legend->setVisible(true);
    plot->legend->setBrush(QBrush(QColor(255, 255, 255, 230)));
    plot->legend->setMargins(QMargins(6, 4, 6, 4));
    plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    plot->setMinimumSize(300, 240);
}

QString number(double v) { return QString::number(v, 'g', 6); }

// What tells the runs of one plot apart: samples×epochs, with the bits when they vary.
QString pointLabel(const RunSummary &run, bool withBits)
{
    const QString samples = run.samples ? number(*run.samples) : QStringLiteral("?");
    const QString epochs = run.epochs ? number(*run.epochs) : QStringLiteral("?");
    QString label = samples + QStringLiteral("×") + epochs;
    if (withBits && !run.bits.isEmpty())
        label = run.bits + QLatin1Char(' ') + label;
    return label;
}

struct Group
{
    QString method;
    double group;
    std::vector<Point> points;
};

bool sameGroup(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void addPoint(std::vector<Group> &groups, const QString &method, double group, Point p)
{
    for (Group &g : groups)
        if (g.method == method && sameGroup(g.group, group)) {
            g.points.push_back(std::move(p));
            return;
        }
    groups.push_back({ method, group, { std::move(p) } });
}

} // namespace

AblationView::AblationView(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *controls = new QHBoxLayout;
    auto *iterLabel = new QLabel(tr("Iterations:"), this);
    controls->addWidget(iterLabel);
    m_iterBox = new QComboBox(this);
    // Items in the order of Iterations.
    m_iterBox->addItem(tr("training steps recorded"));
    m_iterBox->addItem(tr("epochs (run config)"));
    m_iterBox->setCurrentIndex(int(m_iterations));
    iterLabel->setBuddy(m_iterBox);
    controls->addWidget(m_iterBox);
    controls->addStretch(1);
    layout->addLayout(controls);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    m_samplesPlot = new QCustomPlot(splitter);
    m_iterPlot = new QCustomPlot(splitter);
    splitter->addWidget(m_samplesPlot);
    splitter->addWidget(m_iterPlot);
    layout->addWidget(splitter, 1);
    setupPlot(m_samplesPlot, tr("calibration samples"));
    setupPlot(m_iterPlot, tr("step"));
    // Table 2 doubles the samples from row to row: a log₂ axis spaces them evenly.
    m_samplesPlot->xAxis->setScaleType(QCPAxis::stLogarithmic);
    auto ticker = QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog);
    ticker->setLogBase(2.0);
    ticker->setSubTickCount(0);
    m_samplesPlot->xAxis->setTicker(ticker);
    m_samplesPlot->xAxis->setNumberFormat(QStringLiteral("f"));
    m_samplesPlot->xAxis->setNumberPrecision(0);

    m_skippedLabel = new QLabel(this);
    m_skippedLabel->setWordWrap(true);
    m_skippedLabel->setTextFormat(Qt::PlainText);
    m_skippedLabel->setStyleSheet(QStringLiteral("color: #8a4b00;"));
    layout->addWidget(m_skippedLabel);

    connect(m_iterBox, &QComboBox::currentIndexChanged, this, [this](int i) { setIterations(Iterations(i)); });
    setMinimumSize(480, 320);
    rebuild();
}

AblationView::~AblationView() = default;

void AblationView::setRuns(const std::vector<RunSummary> &runs)
{
    m_runs = runs;
    rebuild();
}

void AblationView::setIterations(Iterations measure)
{
    m_iterations = measure;
    {
        const QSignalBlocker block(m_iterBox);
        m_iterBox->setCurrentIndex(int(measure));
    }
    rebuild();
}

QStringList AblationView::methods() const { return m_methods; }

QCPGraph *AblationView::find(const std::vector<Series> &series, const QString &method, double group)
{
    for (const Series &s : series)
        if (s.method == method && (s.group == group || (std::isnan(s.group) && std::isnan(group))))
            return s.graph;
    return nullptr;
}

QCPGraph *AblationView::samplesGraph(const QString &method, double epochs) const
{
    return find(m_samplesSeries, method, epochs);
}

QCPGraph *AblationView::iterationsGraph(const QString &method, double samples) const
{
    return find(m_iterSeries, method, samples);
}

void AblationView::rebuild()
{
    m_skipped.clear();
    m_methods.clear();
    const bool steps = m_iterations == Iterations::Steps;
    m_iterPlot->xAxis->setLabel(steps ? tr("training steps") : tr("epochs"));

    bool mixedBits = false;
    for (const RunSummary &run : m_runs)
        mixedBits = mixedBits || run.bits != m_runs.front().bits;

    std::vector<Group> bySamples, byIterations;
    std::vector<double> floats;
    const double unknown = std::nan("");
    for (const RunSummary &run : m_runs) {
        if (!run.quantPerplexity || !std::isfinite(*run.quantPerplexity)) {
            m_skipped.push_back({ run.path, tr("no perplexity evaluation in the run file") });
            continue;
        }
        if (run.floatPerplexity && std::isfinite(*run.floatPerplexity))
            floats.push_back(*run.floatPerplexity);
        if (!m_methods.contains(run.method))
            m_methods << run.method;
        const QString label = pointLabel(run, mixedBits);
        if (run.samples && *run.samples > 0)
            addPoint(bySamples, run.method, run.epochs ? *run.epochs : unknown, { *run.samples, *run.quantPerplexity, label });
        else
            m_skipped.push_back({ run.path, tr("no \"samples\" in the run config (left out of the samples plot)") });
        std::optional<double> iterations;
        if (steps && run.steps > 0)
            iterations = double(run.steps);
        else if (!steps && run.epochs)
            iterations = *run.epochs;
        if (iterations)
            addPoint(byIterations, run.method, run.samples ? *run.samples : unknown, { *iterations, *run.quantPerplexity, label });
        else
            m_skipped.push_back({ run.path,
                steps ? tr("no training steps recorded (left out of the iterations plot)")
                      : tr("no \"epochs\" in the run config (left out of the iterations plot)") });
    }
    std::optional<double> floatPpl;
    if (!floats.empty()) {
        std::sort(floats.begin(), floats.end());
        floatPpl = floats[floats.size() / 2];
    }

    // Methods in order of first appearance, within a method by group value (unknown last).
    auto order = [this](std::vector<Group> &groups) {
        std::stable_sort(groups.begin(), groups.end(), [this](const Group &a, const Group &b) {
            const auto ma = m_methods.indexOf(a.method), mb = m_methods.indexOf(b.method);
            if (ma != mb)
                return ma < mb;
            if (std::isnan(a.group) || std::isnan(b.group))
                return !std::isnan(a.group) && std::isnan(b.group);
            return a.group < b.group;
        });
    };
    order(bySamples);
    order(byIterations);

    auto fill = [&](QCustomPlot *plot, std::vector<Group> &groups, std::vector<Series> &series, bool logX,
                    const QString &groupUnit) {
        plot->clearGraphs();
        plot->clearItems();
        series.clear();
        double xlo = HUGE_VAL, xhi = -HUGE_VAL, ylo = HUGE_VAL, yhi = -HUGE_VAL;
        std::vector<int> seenOfMethod(std::size_t(m_methods.size()), 0);
        struct Label
        {
            QCPItemText *item;
            double x;
            QColor colour;
        };
        std::vector<Label> labels;
        for (Group &group : groups) {
            std::sort(group.points.begin(), group.points.end(),
                [](const Point &a, const Point &b) { return a.x != b.x ? a.x < b.x : a.ppl < b.ppl; });
            const auto m = std::size_t(m_methods.indexOf(group.method));
            const int within = seenOfMethod[m]++;
            QCPGraph *g = plot->addGraph();
            const QString groupText = std::isnan(group.group) ? QStringLiteral("?") : number(group.group);
            g->setName(methodTitle(group.method) + QStringLiteral(", ") + groupText + QLatin1Char(' ') + groupUnit);
            const QColor colour = plotColour(m);
            static const Qt::PenStyle dashes[] = { Qt::SolidLine, Qt::DashLine, Qt::DotLine, Qt::DashDotLine };
            static const QCPScatterStyle::ScatterShape shapes[] = { QCPScatterStyle::ssDisc, QCPScatterStyle::ssSquare,
                QCPScatterStyle::ssTriangle, QCPScatterStyle::ssDiamond };
            g->setPen(QPen(colour, 1.8, dashes[within % 4]));
            g->setScatterStyle(QCPScatterStyle(shapes[within % 4], colour, colour, 7));
            QVector<double> keys, values;
            for (const Point &p : group.points) {
                keys.push_back(p.x);
                values.push_back(p.ppl);
                xlo = std::min(xlo, p.x);
                xhi = std::max(xhi, p.x);
                ylo = std::min(ylo, p.ppl);
                yhi = std::max(yhi, p.ppl);
                auto *text = new QCPItemText(plot);
                text->position->setCoords(p.x, p.ppl);
                text->setPadding(QMargins(0, 0, 0, 6));
                text->setText(p.label);
                text->setFont(QFont(font().family(), 8));
                text->setColor(colour.darker(130));
                labels.push_back({ text, p.x, colour });
            }
            g->setData(keys, values, true);
            series.push_back({ group.method, group.group, g });
        }
        const bool any = xlo <= xhi;
        if (floatPpl) {
            ylo = std::min(ylo, *floatPpl);
            yhi = std::max(yhi, *floatPpl);
        }
        QCPRange xr = any ? QCPRange(xlo, xhi) : QCPRange(logX ? 64.0 : 0.0, logX ? 1024.0 : 1.0);
        if (logX)
            xr = xr.upper > xr.lower ? QCPRange(xr.lower / 1.5, xr.upper * 1.5) : QCPRange(xr.lower / 2.0, xr.upper * 2.0);
        else
            xr = xr.upper > xr.lower ? QCPRange(xr.lower - 0.1 * xr.size(), xr.upper + 0.1 * xr.size())
                                     : QCPRange(xr.lower - std::max(1.0, std::abs(xr.lower) * 0.5), xr.upper + std::max(1.0, std::abs(xr.upper) * 0.5));
        plot->xAxis->setRange(xr);
        // Labels near an end of the axis grow inwards, so that none is cut off; points that share
        // an x (several runs with the same samples) get their labels alternately left and right,
        // in perplexity order, so that they do not print over each other.
        for (const Label &l : labels) {
            const double at = logX ? std::log(l.x / xr.lower) / std::log(xr.upper / xr.lower) : (l.x - xr.lower) / xr.size();
            const Qt::Alignment h = at < 0.2 ? Qt::AlignLeft : at > 0.8 ? Qt::AlignRight : Qt::AlignHCenter;
            l.item->setPositionAlignment(h | Qt::AlignBottom);
        }
        std::vector<Label> sorted = labels;
        std::sort(sorted.begin(), sorted.end(), [](const Label &a, const Label &b) {
            return a.x != b.x ? a.x < b.x : a.item->position->value() < b.item->position->value();
        });
        for (std::size_t i = 0; i < sorted.size();) {
            std::size_t j = i;
            while (j < sorted.size() && sorted[j].x == sorted[i].x)
                ++j;
            if (j - i > 1)
                for (std::size_t k = i; k < j; ++k) {
                    const bool right = (k - i) % 2 == 1;
                    sorted[k].item->setPositionAlignment((right ? Qt::AlignLeft : Qt::AlignRight) | Qt::AlignVCenter);
                    sorted[k].item->setPadding(right ? QMargins(8, 0, 0, 0) : QMargins(0, 0, 8, 0));
                }
            i = j;
        }
        if (floatPpl) {
            QCPGraph *f = plot->addGraph();
            f->setName(tr("float (%1)").arg(QString::number(*floatPpl, 'f', 3)));
            f->setPen(QPen(QColor(60, 60, 60), 1.2, Qt::DashLine));
            f->setData({ xr.lower, xr.upper }, { *floatPpl, *floatPpl }, true);
        }
        if (ylo <= yhi) {
            // Room above for the point labels and the legend.
            const double span = std::max(yhi - ylo, 0.05 * std::max(1.0, std::abs(yhi)));
            plot->yAxis->setRange(ylo - 0.08 * span, yhi + 0.45 * span);
        } else {
            plot->yAxis->setRange(0.0, 10.0);
        }
        plot->legend->setVisible(plot->graphCount() > 0);
        plot->replot(QCustomPlot::rpQueuedRefresh);
    };
    fill(m_samplesPlot, bySamples, m_samplesSeries, true, tr("epochs"));
    fill(m_iterPlot, byIterations, m_iterSeries, false, tr("samples"));

    if (m_skipped.empty()) {
        m_skippedLabel->clear();
        m_skippedLabel->setVisible(false);
    } else {
        QStringList lines;
        for (const Skipped &s : m_skipped)
            lines << tr("Skipped %1: %2").arg(QFileInfo(s.path).fileName(), s.reason);
        m_skippedLabel->setText(lines.join(QLatin1Char('\n')));
        m_skippedLabel->setToolTip(lines.join(QLatin1Char('\n')));
        m_skippedLabel->setVisible(true);
    }
}

} // namespace mq
