#include "widgets/devices/benchmark_plots.h"

#include "widgets/plot_export.h"
#include "widgets/qcustomplot_include.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include <cmath>
#include <vector>

namespace mq {

namespace {

QCustomPlot *makePlot(QWidget *parent, const QString &title)
{
    auto *plot = new QCustomPlot(parent);
    plot->setMinimumSize(320, 220);
    plot->plotLayout()->insertRow(0);
    plot->plotLayout()->addElement(0, 0, new QCPTextElement(plot, title, QFont(QString(), 10, QFont::Bold)));
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    return plot;
}

void setTitle(QCustomPlot *plot, const QString &title)
{
    if (auto *t = qobject_cast<QCPTextElement *>(plot->plotLayout()->element(0, 0)))
        t->setText(title);
}

// Bars at x = group + offset with error bars from the CI (asymmetric when the CI is).
QCPBars *addBars(QCustomPlot *plot, const QString &name, const QVector<double> &x, const QVector<double> &y,
    const QVector<double> &lo, const QVector<double> &hi, const QColor &colour, double width,
    QCPAxis *valueAxis = nullptr)
{
    if (!valueAxis)
        valueAxis = plot->yAxis;
    auto *bars = new QCPBars(plot->xAxis, valueAxis);
    bars->setName(name);
    bars->setWidth(width);
    bars->setPen(QPen(colour.darker(130)));
    bars->setBrush(colour);
    bars->setData(x, y);
    auto *err = new QCPErrorBars(plot->xAxis, valueAxis);
    err->removeFromLegend();
    err->setDataPlottable(bars);
    QVector<double> minus, plus;
    for (int i = 0; i < y.size(); ++i) {
        minus << std::max(0.0, y[i] - lo[i]);
        plus << std::max(0.0, hi[i] - y[i]);
    }
    err->setData(minus, plus);
    err->setPen(QPen(Qt::black));
    return bars;
}

} // namespace

BenchmarkPlots::BenchmarkPlots(QWidget *parent)
    : QWidget(parent)
{
    m_latency = makePlot(this, tr("Latency per phase"));
    m_energy = makePlot(this, tr("Energy per token (above idle)"));
    m_power = makePlot(this, tr("Power over time"));
    m_temperature = makePlot(this, tr("Temperature"));
    m_variantChoice = new QComboBox(this);
    connect(
        m_variantChoice, QOverload<int>::of(&QComboBox::currentIndexChanged), this, &BenchmarkPlots::showPowerTrace);

    auto *powerBox = new QWidget(this);
    auto *pv = new QVBoxLayout(powerBox);
    pv->setContentsMargins(0, 0, 0, 0);
    auto *choice = new QHBoxLayout;
    choice->addWidget(new QLabel(tr("Variant:"), powerBox));
    choice->addWidget(m_variantChoice, 1);
    pv->addLayout(choice);
    pv->addWidget(m_power, 1);

    auto *grid = new QGridLayout(this);
    grid->addWidget(m_latency, 0, 0);
    grid->addWidget(m_energy, 0, 1);
    grid->addWidget(powerBox, 1, 0);
    grid->addWidget(m_temperature, 1, 1);
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
}

void BenchmarkPlots::setReport(const device::BenchmarkReport &report)
{
    m_report = report;
    const QString sim = report.simulated ? tr(" — SIMULATED (virtual phone)") : QString();
    setTitle(m_latency, tr("Latency per phase, median with 95% CI") + sim);
    const QString source = report.power.source == "odpm" ? tr(" (ODPM rails)")
        : report.power.source == "none"                  ? tr(" (no power readings)")
                                                         : tr(" (battery)");
    setTitle(m_energy, tr("Energy per token above idle%1, median with 95% CI").arg(source) + sim);
    setTitle(m_temperature, tr("Temperature during each variant") + sim);
    plotLatency();
    plotEnergy();
    plotTemperature();
    m_variantChoice->blockSignals(true);
    m_variantChoice->clear();
    for (const auto &v : report.variants)
        m_variantChoice->addItem(QString::fromStdString(v.name));
    m_variantChoice->blockSignals(false);
    showPowerTrace(report.variants.empty() ? -1 : 0);
}

void BenchmarkPlots::plotLatency()
{
    QCustomPlot *p = m_latency;
    p->clearPlottables();
    p->clearItems();
    const auto &vs = m_report.variants;
    const int n = int(vs.size());
    // Two groups with their own axes, since a prompt takes hundreds of times longer than one
    // decoded token: prompt encoding (ms, left) and decode (ms per token, right).
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    ticker->addTick(0, tr("prompt encoding\n(ms, left axis)"));
    ticker->addTick(1, tr("decode\n(ms/token, right axis)"));
    p->xAxis->setTicker(ticker);
    p->yAxis2->setVisible(true);
    const double width = 0.8 / std::max(1, n);
    for (int i = 0; i < n; ++i) {
        const auto &v = vs[size_t(i)];
        const double off = -0.4 + width * (i + 0.5);
        const QColor c = plotColour(size_t(i));
        addBars(p, QString::fromStdString(v.name), { 0 + off }, { v.promptSeconds.median * 1e3 },
            { v.promptSeconds.ciLow * 1e3 }, { v.promptSeconds.ciHigh * 1e3 }, c, width * 0.9);
        QCPBars *decode = addBars(p, QString::fromStdString(v.name), { 1 + off },
            { v.decodeSecondsPerToken.median * 1e3 }, { v.decodeSecondsPerToken.ciLow * 1e3 },
            { v.decodeSecondsPerToken.ciHigh * 1e3 }, c, width * 0.9, p->yAxis2);
        decode->removeFromLegend();
    }
    p->yAxis->setLabel(tr("prompt encoding, ms"));
    p->yAxis2->setLabel(tr("decode, ms per token"));
    p->legend->setVisible(n > 0);
    p->rescaleAxes(true);
    p->xAxis->setRange(-0.6, 1.6);
    for (QCPAxis *a : { p->yAxis, p->yAxis2 }) {
        a->setRangeLower(0);
        a->setRangeUpper(a->range().upper * 1.15);
    }
    p->replot(QCustomPlot::rpQueuedReplot);
}

void BenchmarkPlots::plotEnergy()
{
    QCustomPlot *p = m_energy;
    p->clearPlottables();
    const auto &vs = m_report.variants;
    auto ticker = QSharedPointer<QCPAxisTickerText>::create();
    for (size_t i = 0; i < vs.size(); ++i) {
        const auto &e = vs[i].energyPerTokenJ;
        QString label = QString::fromStdString(vs[i].name);
        if (i > 0)
            if (auto r = device::reductionPercent(vs[0].energyPerTokenJ.median, e.median))
                label += QStringLiteral("\n%1%2%")
                             .arg(*r >= 0 ? QStringLiteral("−") : QStringLiteral("+"))
                             .arg(std::fabs(*r), 0, 'f', 1);
        ticker->addTick(double(i), label);
        addBars(p, label, { double(i) }, { e.median * 1e3 }, { e.ciLow * 1e3 }, { e.ciHigh * 1e3 }, plotColour(i), 0.6);
    }
    p->xAxis->setTicker(ticker);
    p->yAxis->setLabel(tr("mJ per token"));
    p->legend->setVisible(false);
    p->rescaleAxes(true);
    p->xAxis->setRange(-0.6, double(vs.size()) - 0.4);
    p->yAxis->setRangeLower(std::min(0.0, p->yAxis->range().lower));
    p->yAxis->setRangeUpper(p->yAxis->range().upper * 1.15);
    p->replot(QCustomPlot::rpQueuedReplot);
}

void BenchmarkPlots::showPowerTrace(int index)
{
    QCustomPlot *p = m_power;
    p->clearGraphs();
    p->clearItems();
    const QString sim = m_report.simulated ? tr(" — SIMULATED") : QString();
    if (index < 0 || index >= int(m_report.variants.size())) {
        setTitle(p, tr("Power over time") + sim);
        p->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    if (m_variantChoice->currentIndex() != index) {
        m_variantChoice->blockSignals(true);
        m_variantChoice->setCurrentIndex(index);
        m_variantChoice->blockSignals(false);
    }
    const auto &v = m_report.variants[size_t(index)];
    const bool odpm = v.powerSource == "odpm";
    setTitle(p,
        tr("Power of %1, phases shaded (energy: %2)")
                .arg(QString::fromStdString(v.name), odpm ? tr("ODPM rails") : tr("battery"))
            + sim);
    QCPGraph *g = p->addGraph();
    g->setName(odpm ? tr("battery V·I (for comparison)") : tr("battery V·I"));
    g->setPen(QPen(plotColour(size_t(index)), 1.5));
    for (size_t i = 0; i < v.trace.seconds.size() && i < v.trace.watts.size(); ++i)
        if (std::isfinite(v.trace.watts[i]))
            g->addData(v.trace.seconds[i], v.trace.watts[i]);
    QCPGraph *idle = p->addGraph();
    idle->setName(tr("idle"));
    idle->setPen(QPen(Qt::gray, 1, Qt::DashLine));
    if (!v.trace.seconds.empty()) {
        idle->addData(v.trace.seconds.front(), m_report.idleWatts);
        idle->addData(v.trace.seconds.back(), m_report.idleWatts);
    }
    if (odpm) {
        // The rails' mean power between readings (the counters' slope), as steps. Readings closer
        // than 0.1 s are merged: the counters move in steps (50 ms on the virtual phone), so a
        // short interval's slope says little.
        QCPGraph *rails = p->addGraph();
        rails->setName(tr("ODPM rails (sum)"));
        rails->setPen(QPen(Qt::black, 1.5));
        rails->setLineStyle(QCPGraph::lsStepLeft);
        const auto &r = v.rails;
        std::vector<size_t> kept;
        for (size_t i = 0; i < r.seconds.size(); ++i)
            if (kept.empty() || r.seconds[i] - r.seconds[kept.back()] >= 0.1)
                kept.push_back(i);
        if (kept.size() > 1 && kept.back() != r.seconds.size() - 1)
            kept.back() = r.seconds.size() - 1;
        for (size_t k = 0; k + 1 < kept.size(); ++k) {
            const size_t a = kept[k], b = kept[k + 1];
            rails->addData(r.seconds[a], (r.totalJoules[b] - r.totalJoules[a]) / (r.seconds[b] - r.seconds[a]));
        }
        if (rails->dataCount() > 0)
            rails->addData(r.seconds.back(), (rails->data()->end() - 1)->value);
    }
    p->xAxis->setLabel(tr("seconds"));
    p->yAxis->setLabel(tr("watts"));
    p->rescaleAxes();
    p->yAxis->setRangeLower(0);
    p->yAxis->setRangeUpper(p->yAxis->range().upper * 1.1);
    // Phase marks: prompt shaded in one tint, decode in another, between their begin/end marks.
    double begin = 0;
    for (const auto &m : v.marks) {
        const bool isPrompt = m.name.rfind("prompt", 0) == 0;
        if (m.name.size() > 6 && m.name.substr(m.name.size() - 6) == ":begin") {
            begin = m.seconds;
            continue;
        }
        auto *rect = new QCPItemRect(p);
        rect->topLeft->setCoords(begin, p->yAxis->range().upper);
        rect->bottomRight->setCoords(m.seconds, 0);
        rect->setPen(Qt::NoPen);
        rect->setBrush(isPrompt ? QColor(255, 160, 0, 60) : QColor(60, 140, 255, 45));
        rect->setLayer(QStringLiteral("background"));
    }
    p->legend->setVisible(true);
    p->replot(QCustomPlot::rpQueuedReplot);
}

void BenchmarkPlots::plotTemperature()
{
    QCustomPlot *p = m_temperature;
    p->clearGraphs();
    for (size_t i = 0; i < m_report.variants.size(); ++i) {
        const auto &v = m_report.variants[i];
        QCPGraph *g = p->addGraph();
        g->setName(QString::fromStdString(v.name));
        g->setPen(QPen(plotColour(i), 1.5));
        for (size_t k = 0; k < v.trace.seconds.size() && k < v.trace.celsius.size(); ++k)
            if (std::isfinite(v.trace.celsius[k]))
                g->addData(v.trace.seconds[k], v.trace.celsius[k]);
    }
    p->xAxis->setLabel(tr("seconds since the variant started"));
    p->yAxis->setLabel(tr("°C"));
    p->legend->setVisible(!m_report.variants.empty());
    p->rescaleAxes();
    const QCPRange r = p->yAxis->range();
    p->yAxis->setRange(r.lower - 0.5, r.upper + 0.5);
    p->replot(QCustomPlot::rpQueuedReplot);
}

QStringList BenchmarkPlots::exportAll(const QString &directory, const QString &stem, const QString &ext)
{
    QStringList errors;
    const QDir dir(directory);
    const std::pair<const char *, QCustomPlot *> plots[]
        = { { "latency", m_latency }, { "energy", m_energy }, { "power", m_power }, { "temperature", m_temperature } };
    for (const auto &[name, plot] : plots) {
        const QString e
            = exportPlot(plot, dir.filePath(stem + QLatin1Char('-') + QLatin1String(name) + QLatin1Char('.') + ext));
        if (!e.isEmpty())
            errors << e;
    }
    QFile csv(dir.filePath(stem + QStringLiteral(".csv")));
    if (!csv.open(QIODevice::WriteOnly | QIODevice::Truncate))
        errors << tr("%1: cannot be written (%2)").arg(csv.fileName(), csv.errorString());
    else
        csv.write(QByteArray::fromStdString(device::resultsCsv(m_report)));
    return errors;
}

} // namespace mq
