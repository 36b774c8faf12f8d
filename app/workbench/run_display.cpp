#include "app/workbench/run_display.h"

#include "widgets/outlier_inspector.h"
#include "widgets/outlier_stats.h"
#include "widgets/range_evolution_view.h"
#include "widgets/training_view.h"
#include "widgets/transform_scale_view.h"
#include "widgets/weight_range_view.h"

#include <QElapsedTimer>
#include <QFileInfo>

#include <algorithm>

namespace mq {

namespace {

// A vector group the file may lack (older runs, methods that do not record it): empty then.
VectorSeries optionalGroup(const RunReader &reader, const std::string &name)
{
    for (const VectorGroupSpec &g : reader.header().vectorGroups)
        if (g.name == name)
            return reader.vectors(name);
    return {};
}

} // namespace

RunDisplay::RunDisplay(Views views, QObject *parent)
    : QObject(parent)
    , m_v(views)
    , m_threshold(kDefaultOutlierThreshold)
{
    m_follow.setInterval(kFollowIntervalMs);
    connect(&m_follow, &QTimer::timeout, this, [this] {
        try {
            refreshFromFile();
        } catch (const std::exception &) {
            // A writer's brief reopen (evaluations) can make one read fail; the next tick retries.
        }
    });
}

RunDisplay::~RunDisplay() = default;

int RunDisplay::bitsOf(const std::string &site) const
{
    try {
        return m_map.site(site).bits;
    } catch (const std::exception &) {
        return 0;
    }
}

void RunDisplay::showModelSites(const std::vector<std::string> &sites, const PrecisionMap &map)
{
    if (m_live)
        return;
    m_map = map;
    SiteRangeSnapshot s;
    s.sites = sites;
    s.precision = map;
    m_v.sites->setSnapshot(s);
}

void RunDisplay::resetLiveState()
{
    m_snap = SiteRangeSnapshot {};
    m_rangeSeries = RangeSeries {};
    m_rangeSites.clear();
    m_trainStarted = false;
    m_lastWithHistograms.reset();
    m_lastStep = 0;
    m_snapshots = 0;
}

void RunDisplay::beginLive(const QString &runPath, const PrecisionMap &map)
{
    m_follow.stop();
    m_reader.reset();
    m_released = false;
    m_live = true;
    m_path = runPath;
    m_map = map;
    resetLiveState();
    m_v.training->setSeries(TrainSeries {});
    m_v.ranges->setSeries(RangeSeries {}, {});
    m_v.scales->setSeries(VectorSeries {});
    m_v.weights->setSeries(VectorSeries {}, VectorSeries {});
    updateInspector();
}

void RunDisplay::endLive()
{
    m_live = false;
}

void RunDisplay::applyBatch(const EventBatch &events)
{
    if (!m_live)
        return;
    QElapsedTimer clock;
    clock.start();
    for (const StepEvent &e : events.steps) {
        if (!m_trainStarted || !m_v.training->appendStep(e.step, e.loss, e.learningRates)) {
            // The first step names the lr groups; a refused append (a resumed run starting over)
            // starts the curves again from this step.
            TrainSeries t;
            for (const auto &lr : e.learningRates)
                t.lr[lr.first];
            m_v.training->setSeries(t);
            m_v.training->appendStep(e.step, e.loss, e.learningRates);
            m_trainStarted = true;
        }
        m_lastStep = e.step;
    }
    for (const SnapshotEvent &e : events.snapshots) {
        ++m_snapshots;
        if (m_rangeSites != e.sites || m_rangeSeries.sites != e.sites.size()) {
            m_rangeSeries = RangeSeries {};
            m_rangeSeries.sites = e.sites.size();
            m_rangeSites = e.sites;
        }
        const bool follows = m_rangeSeries.step.empty() || e.step > m_rangeSeries.step.back();
        if (!follows) {
            m_rangeSeries.step.clear();
            m_rangeSeries.fmin.clear();
            m_rangeSeries.fmax.clear();
        }
        m_rangeSeries.step.push_back(e.step);
        m_rangeSeries.fmin.insert(m_rangeSeries.fmin.end(), e.fmin.begin(), e.fmin.end());
        m_rangeSeries.fmax.insert(m_rangeSeries.fmax.end(), e.fmax.begin(), e.fmax.end());
        if (m_rangeSeries.step.size() == 1 || !m_v.ranges->appendSnapshot(e.step, e.fmin, e.fmax))
            m_v.ranges->setSeries(m_rangeSeries, m_rangeSites);

        // A refused append means the pairs or the step order changed (a resumed run): start over.
        if (!e.letScales.empty() && !m_v.scales->appendSnapshot(e)) {
            m_v.scales->setSeries(VectorSeries {});
            m_v.scales->appendSnapshot(e);
        }
        if (!e.weightMin.empty() && !m_v.weights->appendSnapshot(e)) {
            m_v.weights->setSeries(VectorSeries {}, VectorSeries {});
            m_v.weights->appendSnapshot(e);
        }
        if (!e.histograms.empty() || !e.channelMaxAbs.empty())
            m_lastWithHistograms = e;
    }
    if (!events.snapshots.empty()) {
        const SnapshotEvent &e = events.snapshots.back();
        if (m_snap.sites != e.sites) {
            m_snap = SiteRangeSnapshot {};
            m_snap.sites = e.sites;
            m_snap.precision = m_map;
            m_snap.initialFmin = e.fmin;
            m_snap.initialFmax = e.fmax;
        }
        m_snap.fmin = e.fmin;
        m_snap.fmax = e.fmax;
        m_snap.step = e.step;
        m_snap.setStatistics(e.clipRate, e.sqnrDb, e.channelMaxAbs, m_threshold);
        m_v.sites->setSnapshot(m_snap);
        if (m_lastWithHistograms && !m_v.inspector->appendSnapshot(*m_lastWithHistograms))
            updateInspector();
    }
    const double ms = double(clock.nsecsElapsed()) / 1e6;
    m_applyMsTotal += ms;
    m_applyMsMax = std::max(m_applyMsMax, ms);
    ++m_batchesApplied;
    if (!events.empty())
        Q_EMIT updated();
}

QString RunDisplay::showRunFile(const QString &path)
{
    std::unique_ptr<RunReader> reader;
    try {
        reader = std::make_unique<RunReader>(RunReader::open(path.toStdString()));
        m_map = PrecisionMap::fromJson(reader->header().precisionMapJson, path.toStdString());
    } catch (const std::exception &e) {
        return QString::fromStdString(e.what());
    }
    m_live = false;
    m_released = false;
    m_path = path;
    m_reader = std::move(reader);
    m_fileTrainRows = std::size_t(-1);
    m_fileRangeRows = std::size_t(-1);
    try {
        refreshFromFile();
    } catch (const std::exception &e) {
        m_reader.reset();
        m_path.clear();
        return QString::fromStdString(e.what());
    }
    m_follow.start();
    return {};
}

void RunDisplay::releaseFile(const QString &path)
{
    if (m_live || !m_reader || path.isEmpty() || QFileInfo(path) != QFileInfo(m_path))
        return;
    m_follow.stop();
    m_reader.reset();
    m_released = true;
}

QString RunDisplay::reacquireFile()
{
    if (!m_released)
        return {};
    m_released = false;
    try {
        m_reader = std::make_unique<RunReader>(RunReader::open(m_path.toStdString()));
        m_fileTrainRows = std::size_t(-1);
        m_fileRangeRows = std::size_t(-1);
        refreshFromFile();
    } catch (const std::exception &e) {
        m_reader.reset();
        return QString::fromStdString(e.what());
    }
    m_follow.start();
    return {};
}

bool RunDisplay::refreshFromFile()
{
    if (!m_reader || m_live)
        return false;
    const RunReader &r = *m_reader;
    const TrainSeries train = r.train();
    const RangeSeries ranges = r.ranges();
    if (train.step.size() == m_fileTrainRows && ranges.step.size() == m_fileRangeRows)
        return false;
    const bool first = m_fileTrainRows == std::size_t(-1);
    m_fileTrainRows = train.step.size();
    m_fileRangeRows = ranges.step.size();
    m_lastStep = train.step.empty() ? 0 : train.step.back();
    m_snapshots = std::int64_t(ranges.step.size());

    const RunHeader &h = r.header();
    m_v.sites->setSnapshot(SiteRangeSnapshot::fromRun(
        h, ranges, optionalGroup(r, "site_stats"), optionalGroup(r, "outliers"), m_threshold));
    m_v.ranges->setSeries(ranges, h.sites);
    m_v.training->setSeries(train);
    m_v.scales->setSeries(optionalGroup(r, "scales"));
    m_v.weights->setSeries(optionalGroup(r, "weight_ranges"), optionalGroup(r, "clipping"));
    if (first && m_site.isEmpty() && !h.histograms.empty())
        m_site = QString::fromStdString(h.histograms.front().site);
    updateInspector();
    Q_EMIT updated();
    return true;
}

void RunDisplay::setCurrentSite(const QString &site)
{
    if (site == m_site)
        return;
    m_site = site;
    const QString pair = QString::fromStdString(letPairOfSite(site.toStdString()));
    if (!pair.isEmpty())
        m_v.scales->setPair(pair);
    updateInspector();
}

void RunDisplay::setOutlierThreshold(double threshold)
{
    m_threshold = threshold;
    if (!m_live && m_reader) {
        m_fileTrainRows = std::size_t(-1);
        try {
            refreshFromFile();
        } catch (const std::exception &) {
        }
    } else if (m_live && !m_snap.sites.empty() && m_lastWithHistograms) {
        m_snap.setStatistics(m_snap.clipRate, m_snap.sqnrDb, m_lastWithHistograms->channelMaxAbs, threshold);
        m_v.sites->setSnapshot(m_snap);
    }
}

void RunDisplay::updateInspector()
{
    const std::string site = m_site.toStdString();
    if (site.empty())
        return;
    if (m_live) {
        if (m_lastWithHistograms)
            m_v.inspector->setData(OutlierSiteData::fromSnapshot(*m_lastWithHistograms, site, bitsOf(site)));
        else {
            OutlierSiteData d;
            d.site = site;
            d.bits = bitsOf(site);
            m_v.inspector->setData(d);
        }
    } else if (m_reader) {
        m_v.inspector->loadFromRun(*m_reader, site);
    }
}

} // namespace mq
