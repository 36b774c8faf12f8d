#pragma once

#include "core/quant/precision_map.h"
#include "core/store/run_types.h"
#include "widgets/outlier_stats.h"

#include <QAbstractItemModel>
#include <QSortFilterProxyModel>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mq {

// The learned activation ranges of every site at one moment of a run: a plain value that a
// poller builds from the run file and hands to the GUI thread. fmin/fmax are indexed like
// `sites`; an empty (or short) vector means "no snapshot yet" for the sites it does not cover.
// initialFmin/initialFmax are the first snapshot's values, the reference for "moved %".
struct SiteRangeSnapshot
{
    std::vector<std::string> sites;
    std::vector<float> fmin;
    std::vector<float> fmax;
    std::vector<float> initialFmin;
    std::vector<float> initialFmax;
    PrecisionMap precision;
    std::int64_t step = -1; // step of fmin/fmax; -1 before the first snapshot
    // Per-site statistics of the latest snapshot, indexed like `sites` (short or empty = unknown,
    // NaN = not measured): fraction of values outside [fmin, fmax] (0..1), SQNR in dB, and the
    // number of outlier channels (widgets/outlier_stats.h; -1 = the site is not watched).
    std::vector<float> clipRate;
    std::vector<float> sqnrDb;
    std::vector<int> outlierChannels;

    // The latest snapshot of a run file's ranges. Throws mq::Error when the header's precision
    // map does not parse.
    static SiteRangeSnapshot fromRun(const RunHeader &header, const RangeSeries &ranges);
    // The same plus the latest rows of the "site_stats" group (series clip_rate, sqnr_db,
    // [n, n_sites]) and the "outliers" group (one series of per-channel max|x| per watched site),
    // outliers counted at `outlierThreshold` × median. Empty groups leave the statistics unknown.
    static SiteRangeSnapshot fromRun(const RunHeader &header, const RangeSeries &ranges,
        const VectorSeries &siteStats, const VectorSeries &outliers,
        double outlierThreshold = kDefaultOutlierThreshold);
    // Replaces the statistics with a live snapshot's (SnapshotEvent::clipRate, sqnrDb and
    // channelMaxAbs counted at `outlierThreshold`); vectors that do not match `sites` are ignored.
    void setStatistics(const std::vector<float> &clipRateBySite, const std::vector<float> &sqnrDbBySite,
        const std::map<std::string, std::vector<float>> &channelMaxAbs,
        double outlierThreshold = kDefaultOutlierThreshold);
};

// Layers → sites, one row per site of the snapshot, in the snapshot's order. Columns: site, bits,
// fmin, fmax, width, moved %, clipping %, SQNR (dB), outlier channels. Top-level rows are
// the decoder layers ("layer 0", …), then "model" for the sites outside the layers and "other"
// for names that are not sites. GUI thread only.
//
// setSnapshot() with the same site list updates the values in place (dataChanged), so a view
// that follows a live run keeps its selection and expansion; a different site list resets.
class SiteTreeModel : public QAbstractItemModel
{
    Q_OBJECT

public:
    enum Column {
        SiteColumn,
        BitsColumn,
        FminColumn,
        FmaxColumn,
        WidthColumn,
        MovedColumn,
        ClipRateColumn, // % of the snapshot batch outside [fmin, fmax]
        SqnrColumn,     // dB
        OutliersColumn, // outlier-channel count (watched sites only)
        ColumnCount
    };
    enum Roles {
        SortRole = Qt::UserRole, // numbers as double (NaN when unknown), the site's order in column 0
        SiteNameRole,            // full site name ("layers.3.mlp.down.in"); empty for layer rows
        BitsRole,                // int bit width; > 16 = not quantized, 0 = unknown site; invalid for layer rows
        LayerRole,               // int layer index, -1 for model-level/other rows
    };

    explicit SiteTreeModel(QObject *parent = nullptr);

    void setSnapshot(const SiteRangeSnapshot &snapshot);
    const SiteRangeSnapshot &snapshot() const { return m_snapshot; }

    // The index (column 0) of a site by full name; invalid when absent.
    QModelIndex indexOfSite(const std::string &site) const;

    QModelIndex index(int row, int column, const QModelIndex &parent = {}) const override;
    QModelIndex parent(const QModelIndex &child) const override;
    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Group
    {
        int layer = -1;  // -1: model-level or other
        bool other = false;
        QString label;
        std::vector<int> sites; // indices into m_snapshot.sites
    };
    struct SiteValues
    {
        int bits = 0;
        double fmin, fmax, width, moved; // NaN when unknown
        double clipPercent, sqnrDb, outliers; // NaN when unknown
    };

    static std::vector<Group> groupSites(const std::vector<std::string> &sites);
    static std::vector<SiteValues> computeValues(const SiteRangeSnapshot &snapshot);
    QVariant groupData(const Group &group, int column, int role) const;
    QVariant siteData(int site, int column, int role) const;

    SiteRangeSnapshot m_snapshot;
    std::vector<Group> m_groups;
    std::vector<SiteValues> m_values;
    std::vector<std::string> m_shortNames;
};

// Sorting and filtering of a SiteTreeModel: a case-insensitive substring of the full site name
// and a bit-width filter. A layer row stays while one of its sites matches.
class SiteFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    enum class BitsFilter { All, Only16Bit, Only8Bit };

    explicit SiteFilterModel(QObject *parent = nullptr);

    void setFilterText(const QString &text);
    QString filterText() const { return m_text; }
    void setBitsFilter(BitsFilter filter);
    BitsFilter bitsFilter() const { return m_bits; }

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;
    // Numeric order of SortRole, unknown (NaN) values first, so that the order stays strict.
    bool lessThan(const QModelIndex &left, const QModelIndex &right) const override;

private:
    QString m_text;
    BitsFilter m_bits = BitsFilter::All;
};

} // namespace mq
