#include "widgets/run_comparison_view.h"

#include "core/store/run_reader.h"
#include "core/util/error.h"

#include "widgets/plot_legend.h"
#include "widgets/qcustomplot_include.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <set>

namespace mq {

namespace {

QString shortNumber(double v) { return QString::number(v, 'g', QLocale::FloatingPointShortest); }

} // namespace

QString runLabel(const RunSummary &run)
{
    QStringList head;
    if (!run.method.isEmpty())
        head << run.method;
    if (!run.bits.isEmpty())
        head << run.bits;
    QString label = head.join(QLatin1Char(' '));
    QString size;
    if (run.samples && run.epochs)
        size = shortNumber(*run.samples) + QStringLiteral("×") + shortNumber(*run.epochs);
    else if (run.samples)
        size = shortNumber(*run.samples) + QStringLiteral(" samples");
    else if (run.epochs)
        size = shortNumber(*run.epochs) + QStringLiteral(" epochs");
    if (!size.isEmpty())
        label += (label.isEmpty() ? QString() : QStringLiteral(", ")) + size;
    if (label.isEmpty())
        label = QFileInfo(run.path).fileName();
    return label;
}

RunComparisonView::RunComparisonView(QWidget *parent)
    : QWidget(parent)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto *controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Show:"), this));
    m_modeBox = new QComboBox(this);
    m_modeBox->addItem(tr("loss"));
    m_modeBox->addItem(tr("range of a site"));
    controls->addWidget(m_modeBox);
    controls->addSpacing(16);
    auto *siteLabel = new QLabel(tr("Site:"), this);
    controls->addWidget(siteLabel);
    m_siteBox = new QComboBox(this);
    m_siteBox->setMinimumContentsLength(22);
    siteLabel->setBuddy(m_siteBox);
    controls->addWidget(m_siteBox);
    controls->addStretch(1);
    layout->addLayout(controls);

    m_plot = new QCustomPlot(this);
    layout->addWidget(m_plot, 1);
    m_plot->xAxis->setLabel(tr("step"));
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->legend->setBrush(QBrush(QColor(255, 255, 255, 230)));
    m_plot->legend->setMargins(QMargins(6, 4, 6, 4));
    placeLegendBeside(m_plot);

    connect(m_modeBox, &QComboBox::currentIndexChanged, this, [this](int i) { setMode(Mode(i)); });
    connect(m_siteBox, &QComboBox::currentTextChanged, this, [this](const QString &site) {
        if (!site.isEmpty())
            setRangeSite(site);
    });
    setMinimumSize(360, 260);
    rebuild();
}

RunComparisonView::~RunComparisonView() = default;

void RunComparisonView::addRun(const RunSummary &summary, const TrainSeries &train, const RangeSeries &ranges,
    const std::vector<std::string> &sites)
{
    Run run { summary, train, ranges, sites, {} };
    const auto it = std::find_if(m_runs.begin(), m_runs.end(), [&](const Run &r) { return r.summary.path == summary.path; });
    if (it != m_runs.end())
        *it = std::move(run);
    else
        m_runs.push_back(std::move(run));
    refreshSiteBox();
    rebuild();
}

QString RunComparisonView::addRunFile(const QString &path)
{
    try {
        const RunSummary summary = RunSummary::read(path.toStdString());
        const RunReader reader = RunReader::open(path.toStdString());
        addRun(summary, reader.train(), reader.ranges(), reader.header().sites);
        return {};
    } catch (const Error &e) {
        return QString::fromUtf8(e.what());
    }
}

bool RunComparisonView::removeRun(const QString &path)
{
    const auto it = std::find_if(m_runs.begin(), m_runs.end(), [&](const Run &r) { return r.summary.path == path; });
    if (it == m_runs.end())
        return false;
    m_runs.erase(it);
    refreshSiteBox();
    rebuild();
    return true;
}

void RunComparisonView::clear()
{
    m_runs.clear();
    refreshSiteBox();
    rebuild();
}

QStringList RunComparisonView::runPaths() const
{
    QStringList paths;
    for (const Run &run : m_runs)
        paths << run.summary.path;
    return paths;
}

bool RunComparisonView::appendStep(const QString &path, std::int64_t step, double loss)
{
    const auto it = std::find_if(m_runs.begin(), m_runs.end(), [&](const Run &r) { return r.summary.path == path; });
    if (it == m_runs.end() || (!it->train.step.empty() && step <= it->train.step.back()))
        return false;
    it->train.step.push_back(step);
    it->train.loss.push_back(loss);
    it->train.seconds.push_back(std::nan(""));
    if (m_mode == Mode::Loss && !it->graphs.empty() && std::isfinite(loss) && loss > 0.0) {
        it->graphs.front()->addData(double(step), loss);
        rescale();
        m_plot->replot(QCustomPlot::rpQueuedRefresh);
    }
    return true;
}

void RunComparisonView::setMode(Mode mode)
{
    m_mode = mode;
    {
        const QSignalBlocker block(m_modeBox);
        m_modeBox->setCurrentIndex(int(mode));
    }
    m_siteBox->setEnabled(mode == Mode::Range);
    rebuild();
}

void RunComparisonView::setRangeSite(const QString &site)
{
    m_site = site;
    {
        const QSignalBlocker block(m_siteBox);
        m_siteBox->setCurrentText(site);
    }
    if (m_mode == Mode::Range)
        rebuild();
}

QStringList RunComparisonView::sites() const
{
    // In the first run's order, then what later runs add.
    QStringList names;
    std::set<std::string> seen;
    for (const Run &run : m_runs)
        for (const std::string &s : run.sites)
            if (seen.insert(s).second)
                names << QString::fromStdString(s);
    return names;
}

void RunComparisonView::refreshSiteBox()
{
    const QStringList names = sites();
    if (!names.contains(m_site))
        m_site = names.isEmpty() ? QString() : names.front();
    const QSignalBlocker block(m_siteBox);
    m_siteBox->clear();
    m_siteBox->addItems(names);
    m_siteBox->setCurrentText(m_site);
    m_siteBox->setEnabled(m_mode == Mode::Range);
}

std::vector<QCPGraph *> RunComparisonView::graphsOfRun(int i) const
{
    if (i < 0 || i >= int(m_runs.size()))
        return {};
    return m_runs[std::size_t(i)].graphs;
}

void RunComparisonView::rebuild()
{
    m_plot->clearGraphs();
    const bool loss = m_mode == Mode::Loss;
    setLogAxis(m_plot->yAxis, loss);
    m_plot->yAxis->setLabel(loss ? tr("loss (MSE)") : tr("activation value (solid fmax, dashed fmin)"));
    const std::string site = m_site.toStdString();
    for (std::size_t i = 0; i < m_runs.size(); ++i) {
        Run &run = m_runs[i];
        run.graphs.clear();
        const QColor colour = plotColour(i);
        const QString label = runLabel(run.summary);
        if (loss) {
            QCPGraph *g = m_plot->addGraph();
            g->setName(label);
            g->setPen(QPen(colour, 1.8));
            const std::size_t n = std::min(run.train.step.size(), run.train.loss.size());
            QVector<double> keys, values;
            for (std::size_t k = 0; k < n; ++k) {
                if (!std::isfinite(run.train.loss[k]) || run.train.loss[k] <= 0.0)
                    continue; // a log axis cannot show it
                keys.push_back(double(run.train.step[k]));
                values.push_back(run.train.loss[k]);
            }
            g->setData(keys, values, true);
            run.graphs.push_back(g);
            continue;
        }
        const auto column = std::find(run.sites.begin(), run.sites.end(), site);
        if (column == run.sites.end() || run.ranges.sites != run.sites.size())
            continue;
        const auto c = std::size_t(column - run.sites.begin());
        const std::size_t n = run.ranges.sites == 0 ? 0 : std::min(run.ranges.step.size(), run.ranges.fmax.size() / run.ranges.sites);
        QVector<double> keys, hi, lo;
        for (std::size_t k = 0; k < n; ++k) {
            keys.push_back(double(run.ranges.step[k]));
            hi.push_back(double(run.ranges.fmax[k * run.ranges.sites + c]));
            lo.push_back(double(run.ranges.fmin[k * run.ranges.sites + c]));
        }
        QCPGraph *fmax = m_plot->addGraph();
        fmax->setName(label);
        fmax->setPen(QPen(colour, 1.8));
        fmax->setData(keys, hi, true);
        QCPGraph *fmin = m_plot->addGraph();
        fmin->setName(label + tr(" fmin"));
        fmin->setPen(QPen(colour, 1.8, Qt::DashLine));
        fmin->setData(keys, lo, true);
        fmin->removeFromLegend();
        run.graphs = { fmax, fmin };
    }
    m_plot->legend->setVisible(m_plot->graphCount() > 0);
    rescale();
    m_plot->replot(QCustomPlot::rpQueuedRefresh);
}

void RunComparisonView::rescale()
{
    const bool loss = m_mode == Mode::Loss;
    bool any = false;
    for (int i = 0; i < m_plot->graphCount(); ++i)
        any = any || !m_plot->graph(i)->data()->isEmpty();
    if (!any) {
        m_plot->xAxis->setRange(0.0, 1.0);
        m_plot->yAxis->setRange(loss ? QCPRange(1e-3, 1.0) : QCPRange(-1.0, 1.0));
        return;
    }
    m_plot->rescaleAxes();
    m_plot->xAxis->setRange(paddedRange(m_plot->xAxis->range(), 1.0));
    const QCPRange v = m_plot->yAxis->range();
    if (loss) {
        // 5% of the decades on each side; half a decade around a single value.
        const double factor = v.upper > v.lower ? std::pow(v.upper / v.lower, kPlotMargin) : std::sqrt(10.0);
        m_plot->yAxis->setRange(v.lower / factor, v.upper * factor);
    } else {
        m_plot->yAxis->setRange(paddedRange(v, std::max(1.0, std::abs(v.lower)) * 0.1));
    }
}

} // namespace mq
