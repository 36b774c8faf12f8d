#include "widgets/site_tree_model.h"

#include "core/model/sites.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace mq {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr quintptr kTopLevelId = 0; // children carry their group's row + 1

std::vector<float> row(const std::vector<float> &matrix, std::size_t cols, std::size_t r)
{
    return { matrix.begin() + std::ptrdiff_t(r * cols), matrix.begin() + std::ptrdiff_t((r + 1) * cols) };
}

QVariant number(double v, int role)
{
    if (std::isnan(v))
        return role == SiteTreeModel::SortRole ? QVariant(kNaN) : QVariant();
    if (role == SiteTreeModel::SortRole)
        return v;
    return QString::number(v, 'g', 5);
}

QString bitsText(int bits)
{
    if (bits <= 0)
        return QStringLiteral("?");
    if (bits > kMaxQuantBits)
        return QStringLiteral("float");
    return QString::number(bits);
}

} // namespace

SiteRangeSnapshot SiteRangeSnapshot::fromRun(const RunHeader &header, const RangeSeries &ranges)
{
    SiteRangeSnapshot s;
    s.sites = header.sites;
    s.precision = PrecisionMap::fromJson(header.precisionMapJson, "the run's precision map");
    const std::size_t n = ranges.step.size();
    if (n > 0 && ranges.sites == header.sites.size()) {
        s.initialFmin = row(ranges.fmin, ranges.sites, 0);
        s.initialFmax = row(ranges.fmax, ranges.sites, 0);
        s.fmin = row(ranges.fmin, ranges.sites, n - 1);
        s.fmax = row(ranges.fmax, ranges.sites, n - 1);
        s.step = ranges.step.back();
    }
    return s;
}

SiteRangeSnapshot SiteRangeSnapshot::fromRun(const RunHeader &header, const RangeSeries &ranges,
    const VectorSeries &siteStats, const VectorSeries &outliers, double outlierThreshold)
{
    SiteRangeSnapshot s = fromRun(header, ranges);
    const std::size_t n = s.sites.size();
    auto lastRow = [&](const char *series) -> std::vector<float> {
        const auto it = siteStats.series.find(series);
        if (it == siteStats.series.end() || it->second.rows == 0 || it->second.cols != n)
            return {};
        return row(it->second.values, it->second.cols, it->second.rows - 1);
    };
    std::map<std::string, std::vector<float>> maxAbs;
    for (const auto &[site, matrix] : outliers.series)
        if (matrix.rows > 0 && matrix.cols > 0)
            maxAbs[site] = row(matrix.values, matrix.cols, matrix.rows - 1);
    s.setStatistics(lastRow("clip_rate"), lastRow("sqnr_db"), maxAbs, outlierThreshold);
    return s;
}

void SiteRangeSnapshot::setStatistics(const std::vector<float> &clipRateBySite, const std::vector<float> &sqnrDbBySite,
    const std::map<std::string, std::vector<float>> &channelMaxAbs, double outlierThreshold)
{
    clipRate = clipRateBySite.size() == sites.size() ? clipRateBySite : std::vector<float>();
    sqnrDb = sqnrDbBySite.size() == sites.size() ? sqnrDbBySite : std::vector<float>();
    outlierChannels.assign(sites.size(), -1);
    bool any = false;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        const auto it = channelMaxAbs.find(sites[i]);
        if (it == channelMaxAbs.end() || it->second.empty())
            continue;
        outlierChannels[i] = int(findOutlierChannels(it->second, outlierThreshold).size());
        any = true;
    }
    if (!any)
        outlierChannels.clear();
}

SiteTreeModel::SiteTreeModel(QObject *parent)
    : QAbstractItemModel(parent)
{
}

std::vector<SiteTreeModel::Group> SiteTreeModel::groupSites(const std::vector<std::string> &sites)
{
    std::map<int, Group> layers;
    Group model { -1, false, QStringLiteral("model"), {} };
    Group other { -1, true, QStringLiteral("other"), {} };
    for (int i = 0; i < int(sites.size()); ++i) {
        const auto parsed = parseSiteName(sites[size_t(i)]);
        if (!parsed) {
            other.sites.push_back(i);
        } else if (parsed->layer < 0) {
            model.sites.push_back(i);
        } else {
            auto &g = layers[parsed->layer];
            g.layer = parsed->layer;
            g.label = QStringLiteral("layer %1").arg(parsed->layer);
            g.sites.push_back(i);
        }
    }
    std::vector<Group> groups;
    for (auto &[layer, g] : layers)
        groups.push_back(std::move(g));
    if (!model.sites.empty())
        groups.push_back(std::move(model));
    if (!other.sites.empty())
        groups.push_back(std::move(other));
    return groups;
}

std::vector<SiteTreeModel::SiteValues> SiteTreeModel::computeValues(const SiteRangeSnapshot &s)
{
    std::vector<SiteValues> values(s.sites.size());
    for (std::size_t i = 0; i < s.sites.size(); ++i) {
        auto &v = values[i];
        try {
            v.bits = s.precision.site(s.sites[i]).bits;
        } catch (const Error &) {
            v.bits = 0; // not a site name: no precision to show
        }
        const bool have = i < s.fmin.size() && i < s.fmax.size();
        v.fmin = have ? double(s.fmin[i]) : kNaN;
        v.fmax = have ? double(s.fmax[i]) : kNaN;
        v.width = have ? v.fmax - v.fmin : kNaN;
        v.moved = kNaN;
        v.clipPercent = i < s.clipRate.size() && std::isfinite(s.clipRate[i]) ? 100.0 * double(s.clipRate[i]) : kNaN;
        // +inf dB (q(x) = x, e.g. a site at 16 bits with an exact grid) sorts above every finite SQNR.
        v.sqnrDb = i < s.sqnrDb.size() && !std::isnan(s.sqnrDb[i]) ? double(s.sqnrDb[i]) : kNaN;
        v.outliers = i < s.outlierChannels.size() && s.outlierChannels[i] >= 0 ? double(s.outlierChannels[i]) : kNaN;
        if (have && i < s.initialFmin.size() && i < s.initialFmax.size()) {
            // The largest shift of either end, relative to the first snapshot's range width.
            const double f0 = s.initialFmin[i], g0 = s.initialFmax[i];
            if (g0 - f0 > 0)
                v.moved = 100.0 * std::max(std::abs(v.fmin - f0), std::abs(v.fmax - g0)) / (g0 - f0);
        }
    }
    return values;
}

void SiteTreeModel::setSnapshot(const SiteRangeSnapshot &snapshot)
{
    auto values = computeValues(snapshot);
    if (snapshot.sites != m_snapshot.sites) {
        beginResetModel();
        m_snapshot = snapshot;
        m_values = std::move(values);
        m_groups = groupSites(m_snapshot.sites);
        m_shortNames.clear();
        for (const auto &name : m_snapshot.sites) {
            const auto parsed = parseSiteName(name);
            const std::string prefix = parsed && parsed->layer >= 0 ? "layers." + std::to_string(parsed->layer) + "." : "";
            m_shortNames.push_back(!prefix.empty() && name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name);
        }
        endResetModel();
        return;
    }

    auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
    m_snapshot = snapshot;
    for (int g = 0; g < int(m_groups.size()); ++g) {
        int first = -1, last = -1;
        const auto &sites = m_groups[size_t(g)].sites;
        for (int r = 0; r < int(sites.size()); ++r) {
            const auto &o = m_values[size_t(sites[size_t(r)])];
            const auto &n = values[size_t(sites[size_t(r)])];
            if (o.bits != n.bits || !same(o.fmin, n.fmin) || !same(o.fmax, n.fmax) || !same(o.moved, n.moved)
                || !same(o.clipPercent, n.clipPercent) || !same(o.sqnrDb, n.sqnrDb) || !same(o.outliers, n.outliers)) {
                if (first < 0)
                    first = r;
                last = r;
            }
        }
        for (int site : sites)
            m_values[size_t(site)] = values[size_t(site)];
        if (first >= 0) {
            const QModelIndex parent = index(g, 0);
            Q_EMIT dataChanged(index(first, BitsColumn, parent), index(last, ColumnCount - 1, parent));
        }
    }
}

QModelIndex SiteTreeModel::indexOfSite(const std::string &site) const
{
    for (int g = 0; g < int(m_groups.size()); ++g) {
        const auto &sites = m_groups[size_t(g)].sites;
        for (int r = 0; r < int(sites.size()); ++r)
            if (m_snapshot.sites[size_t(sites[size_t(r)])] == site)
                return createIndex(r, SiteColumn, quintptr(g + 1));
    }
    return {};
}

QModelIndex SiteTreeModel::index(int row, int column, const QModelIndex &parent) const
{
    if (!hasIndex(row, column, parent))
        return {};
    if (!parent.isValid())
        return createIndex(row, column, kTopLevelId);
    return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex SiteTreeModel::parent(const QModelIndex &child) const
{
    if (!child.isValid() || child.internalId() == kTopLevelId)
        return {};
    return createIndex(int(child.internalId() - 1), 0, kTopLevelId);
}

int SiteTreeModel::rowCount(const QModelIndex &parent) const
{
    if (!parent.isValid())
        return int(m_groups.size());
    if (parent.column() != 0 || parent.internalId() != kTopLevelId)
        return 0;
    return int(m_groups[size_t(parent.row())].sites.size());
}

int SiteTreeModel::columnCount(const QModelIndex &) const
{
    return ColumnCount;
}

QVariant SiteTreeModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid))
        return {};
    if (index.internalId() == kTopLevelId)
        return groupData(m_groups[size_t(index.row())], index.column(), role);
    const auto &group = m_groups[size_t(index.internalId() - 1)];
    return siteData(group.sites[size_t(index.row())], index.column(), role);
}

QVariant SiteTreeModel::groupData(const Group &group, int column, int role) const
{
    switch (role) {
    case Qt::DisplayRole:
        return column == SiteColumn ? QVariant(group.label) : QVariant();
    case SortRole:
        // Layers in order, then "model", then "other", whichever column is sorted.
        return group.layer >= 0 ? double(group.layer) : (group.other ? 2e9 : 1e9);
    case LayerRole:
        return group.layer;
    case SiteNameRole:
        return QString();
    default:
        return {};
    }
}

QVariant SiteTreeModel::siteData(int site, int column, int role) const
{
    const auto &v = m_values[size_t(site)];
    const QString name = QString::fromStdString(m_snapshot.sites[size_t(site)]);
    switch (role) {
    case SiteNameRole:
        return name;
    case BitsRole:
        return v.bits;
    case LayerRole: {
        const auto parsed = parseSiteName(m_snapshot.sites[size_t(site)]);
        return parsed ? parsed->layer : -1;
    }
    case Qt::ToolTipRole:
        return column == SiteColumn ? QVariant(name) : QVariant();
    case Qt::TextAlignmentRole:
        return column == SiteColumn ? QVariant() : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    case Qt::DisplayRole:
    case SortRole:
        switch (column) {
        case SiteColumn:
            return role == SortRole ? QVariant(double(site)) : QVariant(QString::fromStdString(m_shortNames[size_t(site)]));
        case BitsColumn:
            return role == SortRole ? QVariant(double(v.bits)) : QVariant(bitsText(v.bits));
        case FminColumn:
            return number(v.fmin, role);
        case FmaxColumn:
            return number(v.fmax, role);
        case WidthColumn:
            return number(v.width, role);
        case MovedColumn:
            return number(v.moved, role);
        case ClipRateColumn:
            return number(v.clipPercent, role);
        case SqnrColumn:
            if (role == Qt::DisplayRole && std::isinf(v.sqnrDb))
                return v.sqnrDb > 0 ? QStringLiteral("∞") : QStringLiteral("−∞");
            return number(v.sqnrDb, role);
        case OutliersColumn:
            return role == SortRole || std::isnan(v.outliers) ? number(v.outliers, role) : QVariant(int(v.outliers));
        default:
            return {};
        }
    default:
        return {};
    }
}

QVariant SiteTreeModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::ToolTipRole) {
        switch (section) {
        case ClipRateColumn:
            return tr("Share of the snapshot batch's values outside [fmin, fmax], in %");
        case SqnrColumn:
            return tr("Signal-to-quantization-noise ratio on the snapshot batch: 10·log10(Σx² / Σ(x − q(x))²)");
        case OutliersColumn:
            return tr("Channels whose max|x| exceeds %1 × the median over the site's channels (watched sites only)")
                .arg(kDefaultOutlierThreshold);
        default:
            return {};
        }
    }
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case SiteColumn:
        return tr("Site");
    case BitsColumn:
        return tr("Bits");
    case FminColumn:
        return tr("fmin");
    case FmaxColumn:
        return tr("fmax");
    case WidthColumn:
        return tr("Width");
    case MovedColumn:
        return tr("Moved %");
    case ClipRateColumn:
        return tr("Clipped %");
    case SqnrColumn:
        return tr("SQNR dB");
    case OutliersColumn:
        return tr("Outliers");
    default:
        return {};
    }
}

SiteFilterModel::SiteFilterModel(QObject *parent)
    : QSortFilterProxyModel(parent)
{
    setRecursiveFilteringEnabled(true);
    setDynamicSortFilter(true);
    setSortRole(SiteTreeModel::SortRole);
}

void SiteFilterModel::setFilterText(const QString &text)
{
    if (text == m_text)
        return;
    m_text = text;
    invalidateFilter();
}

void SiteFilterModel::setBitsFilter(BitsFilter filter)
{
    if (filter == m_bits)
        return;
    m_bits = filter;
    invalidateFilter();
}

bool SiteFilterModel::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    const bool filtering = !m_text.isEmpty() || m_bits != BitsFilter::All;
    const QModelIndex index = sourceModel()->index(sourceRow, 0, sourceParent);
    const QString name = index.data(SiteTreeModel::SiteNameRole).toString();
    if (name.isEmpty())
        return !filtering; // a layer row: kept by recursive filtering while one of its sites matches
    if (!m_text.isEmpty() && !name.contains(m_text, Qt::CaseInsensitive))
        return false;
    const int bits = index.data(SiteTreeModel::BitsRole).toInt();
    switch (m_bits) {
    case BitsFilter::All:
        return true;
    case BitsFilter::Only16Bit:
        return bits == 16;
    case BitsFilter::Only8Bit:
        return bits == 8;
    }
    return true;
}

bool SiteFilterModel::lessThan(const QModelIndex &left, const QModelIndex &right) const
{
    const double a = left.data(sortRole()).toDouble();
    const double b = right.data(sortRole()).toDouble();
    if (std::isnan(a))
        return !std::isnan(b);
    if (std::isnan(b))
        return false;
    return a < b;
}

} // namespace mq
