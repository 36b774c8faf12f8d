#include "view_test_data.h"

#include "core/store/run_reader.h"
#include "widgets/site_tree_model.h"

#include <QAbstractItemModelTester>
#include <QSignalSpy>

#include <gtest/gtest.h>

#include <cmath>

namespace mq {
namespace {

using test::TempDir;

constexpr auto kFatal = QAbstractItemModelTester::FailureReportingMode::Fatal;

double sortValue(const QModelIndex &i) { return i.data(SiteTreeModel::SortRole).toDouble(); }

TEST(SiteTreeModelStatistics, ShowsClippingSqnrAndOutlierCountsFromTheRunFile)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    test::writeViewRun(path, R"({"method":"mobilequant","bits":"W4A8"})", 3, 0);
    const auto reader = RunReader::open(path);

    SiteTreeModel model;
    QAbstractItemModelTester tester(&model, kFatal);
    model.setSnapshot(SiteRangeSnapshot::fromRun(reader.header(), reader.ranges(), reader.vectors("site_stats"),
        reader.vectors("outliers")));
    EXPECT_EQ(model.columnCount(), SiteTreeModel::ColumnCount);
    EXPECT_EQ(model.headerData(SiteTreeModel::ClipRateColumn, Qt::Horizontal).toString(), QStringLiteral("Clipped %"));
    EXPECT_EQ(model.headerData(SiteTreeModel::SqnrColumn, Qt::Horizontal).toString(), QStringLiteral("SQNR dB"));

    const auto sites = test::twoLayerSites();
    for (std::size_t i = 0; i < sites.size(); ++i) {
        SCOPED_TRACE(sites[i]);
        const QModelIndex site = model.indexOfSite(sites[i]);
        auto at = [&](int column) { return model.index(site.row(), column, site.parent()); };
        // The last snapshot (k = 2): clip rate as a percentage, SQNR as written.
        EXPECT_NEAR(sortValue(at(SiteTreeModel::ClipRateColumn)), 100.0 * double(test::clipRate(i, 2)), 1e-5);
        EXPECT_EQ(sortValue(at(SiteTreeModel::SqnrColumn)), double(test::sqnrDb(i, 2)));
        if (sites[i] == test::kWatched) {
            // Channels 3 (at 11) and 11 (at 20) against median 1.425 × 6.
            EXPECT_EQ(at(SiteTreeModel::OutliersColumn).data().toInt(), 2);
        } else {
            EXPECT_TRUE(std::isnan(sortValue(at(SiteTreeModel::OutliersColumn))));
            EXPECT_FALSE(at(SiteTreeModel::OutliersColumn).data().isValid());
        }
    }
}

TEST(SiteTreeModelStatistics, LiveStatisticsUpdateInPlace)
{
    SiteRangeSnapshot s;
    s.sites = test::twoLayerSites();
    s.precision = PrecisionMap::fromJson(test::kPrecisionMapJson);
    const SnapshotEvent e0 = test::viewEvent(0);
    s.fmin = e0.fmin;
    s.fmax = e0.fmax;
    s.setStatistics(e0.clipRate, e0.sqnrDb, e0.channelMaxAbs);

    SiteTreeModel model;
    QAbstractItemModelTester tester(&model, kFatal);
    model.setSnapshot(s);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

    // The threshold decides the count: 7 × 1.425 leaves channel 11 only.
    s.setStatistics(e0.clipRate, e0.sqnrDb, e0.channelMaxAbs, 7.0);
    model.setSnapshot(s);
    EXPECT_EQ(reset.count(), 0);
    EXPECT_EQ(changed.count(), 1); // only layer 0 changed
    const QModelIndex watched = model.indexOfSite(test::kWatched);
    EXPECT_EQ(model.index(watched.row(), SiteTreeModel::OutliersColumn, watched.parent()).data().toInt(), 1);

    // SQNR +inf (an exact grid) shows as ∞ and sorts above every number.
    std::vector<float> sqnr = e0.sqnrDb;
    sqnr[0] = INFINITY;
    s.setStatistics(e0.clipRate, sqnr, e0.channelMaxAbs, 7.0);
    model.setSnapshot(s);
    const QModelIndex first = model.indexOfSite(s.sites[0]);
    const QModelIndex cell = model.index(first.row(), SiteTreeModel::SqnrColumn, first.parent());
    EXPECT_EQ(cell.data().toString(), QStringLiteral("∞"));
    EXPECT_TRUE(std::isinf(sortValue(cell)));

    // Vectors that do not match the sites are ignored (unknown, not misattributed).
    s.setStatistics({ 0.5f }, {}, {});
    model.setSnapshot(s);
    EXPECT_FALSE(model.index(first.row(), SiteTreeModel::ClipRateColumn, first.parent()).data().isValid());
}

} // namespace
} // namespace mq
