#include "widget_test_util.h"

#include "core/store/run_reader.h"
#include "widgets/site_tree_model.h"

#include <QAbstractItemModelTester>
#include <QItemSelectionModel>
#include <QSignalSpy>
#include <QTreeView>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace mq {
namespace {

using test::TempDir;

constexpr auto kFatal = QAbstractItemModelTester::FailureReportingMode::Fatal;

const char *kConfig = R"({"method":"mobilequant","bits":"W4A8","samples":128,"epochs":2,"seqlen":256})";

// The 16-bit activation sites of docs/precision-map.md, plus the test map's override.
const std::set<std::string> kSixteenBit = { "attn_norm.in", "attn.qk.out", "attn.pv.in", "attn.o.out", "mlp_norm.in",
    "mlp.down.out" };

int expectedBits(const std::string &site)
{
    if (site == "final_norm.in" || site == "lm_head.in")
        return kDisabledBits;
    if (site == "layers.1.mlp.down.in")
        return 16;
    const std::string kind = site.substr(site.find('.', std::string("layers.").size()) + 1);
    return kSixteenBit.count(kind) ? 16 : 8;
}

double sortValue(const QAbstractItemModel &m, const QModelIndex &i) { return m.data(i, SiteTreeModel::SortRole).toDouble(); }

// Full site names of the children of every top-level row, as "label: site, site, …".
QStringList printTree(const QAbstractItemModel &m)
{
    QStringList lines;
    for (int g = 0; g < m.rowCount(); ++g) {
        const QModelIndex parent = m.index(g, 0);
        QStringList sites;
        for (int r = 0; r < m.rowCount(parent); ++r)
            sites << m.index(r, 0, parent).data(SiteTreeModel::SiteNameRole).toString();
        lines << parent.data().toString() + QStringLiteral(": ") + sites.join(QStringLiteral(", "));
    }
    return lines;
}

class SiteTreeModelTest : public ::testing::Test
{
protected:
    TempDir dir;
    std::string path = dir.file("run.h5");
};

TEST_F(SiteTreeModelTest, ShowsTheRunFilesRangesAndPrecision)
{
    {
        auto writer = RunWriter::create(path, test::twoLayerHeader(kConfig));
        for (int k = 0; k < 3; ++k)
            test::appendSnapshot(writer, k);
        writer.close();
    }
    const auto reader = RunReader::open(path);
    const auto snapshot = SiteRangeSnapshot::fromRun(reader.header(), reader.ranges());
    EXPECT_EQ(snapshot.step, 20);

    SiteTreeModel model;
    QAbstractItemModelTester tester(&model, kFatal);
    model.setSnapshot(snapshot);

    const auto sites = test::twoLayerSites();
    ASSERT_EQ(model.rowCount(), 3);
    EXPECT_EQ(model.index(0, 0).data().toString(), QStringLiteral("layer 0"));
    EXPECT_EQ(model.index(1, 0).data().toString(), QStringLiteral("layer 1"));
    EXPECT_EQ(model.index(2, 0).data().toString(), QStringLiteral("model"));
    const int perLayer = int(sites.size() - 2) / 2;
    EXPECT_EQ(model.rowCount(model.index(0, 0)), perLayer);
    EXPECT_EQ(model.rowCount(model.index(1, 0)), perLayer);
    EXPECT_EQ(model.rowCount(model.index(2, 0)), 2);
    EXPECT_EQ(model.columnCount(), SiteTreeModel::ColumnCount);

    int seen = 0;
    for (std::size_t i = 0; i < sites.size(); ++i) {
        SCOPED_TRACE(sites[i]);
        const QModelIndex site = model.indexOfSite(sites[i]);
        ASSERT_TRUE(site.isValid());
        const QModelIndex parent = site.parent();
        auto at = [&](int column) { return model.index(site.row(), column, parent); };
        EXPECT_EQ(site.data(SiteTreeModel::SiteNameRole).toString().toStdString(), sites[i]);
        // The values shown are the last snapshot's, as written (float32).
        const double fmin = test::testFmin(i, 2), fmax = test::testFmax(i, 2);
        EXPECT_EQ(sortValue(model, at(SiteTreeModel::FminColumn)), fmin);
        EXPECT_EQ(sortValue(model, at(SiteTreeModel::FmaxColumn)), fmax);
        EXPECT_DOUBLE_EQ(sortValue(model, at(SiteTreeModel::WidthColumn)), fmax - fmin);
        EXPECT_EQ(at(SiteTreeModel::FmaxColumn).data().toString(), QString::number(fmax, 'g', 5));
        // Moved: the largest end shift against the first snapshot's width.
        const double f0 = test::testFmin(i, 0), g0 = test::testFmax(i, 0);
        const double moved = 100.0 * std::max(std::abs(fmin - f0), std::abs(fmax - g0)) / (g0 - f0);
        EXPECT_NEAR(sortValue(model, at(SiteTreeModel::MovedColumn)), moved, 1e-9);
        EXPECT_EQ(at(SiteTreeModel::BitsColumn).data(SiteTreeModel::BitsRole).toInt(), expectedBits(sites[i]));
        ++seen;
    }
    EXPECT_EQ(seen, int(sites.size()));
    EXPECT_EQ(model.index(0, SiteTreeModel::BitsColumn, model.index(2, 0)).data().toString(), QStringLiteral("float"));
    EXPECT_EQ(model.indexOfSite("layers.0.mlp.down.in").data().toString(), QStringLiteral("mlp.down.in"));
}

TEST_F(SiteTreeModelTest, BeforeTheFirstSnapshotValuesAreBlank)
{
    { auto writer = RunWriter::create(path, test::twoLayerHeader(kConfig)); }
    const auto reader = RunReader::open(path);
    SiteTreeModel model;
    QAbstractItemModelTester tester(&model, kFatal);
    model.setSnapshot(SiteRangeSnapshot::fromRun(reader.header(), reader.ranges()));
    const QModelIndex site = model.indexOfSite("layers.1.attn.qk.out");
    ASSERT_TRUE(site.isValid());
    EXPECT_FALSE(model.index(site.row(), SiteTreeModel::FminColumn, site.parent()).data().isValid());
    EXPECT_TRUE(std::isnan(sortValue(model, model.index(site.row(), SiteTreeModel::MovedColumn, site.parent()))));
    EXPECT_EQ(model.index(site.row(), SiteTreeModel::BitsColumn, site.parent()).data().toString(), QStringLiteral("16"));
}

// A view following a growing run: each poll re-reads the file and hands the model a new
// snapshot; rows must be updated, not rebuilt, so selection and expansion survive.
TEST_F(SiteTreeModelTest, LiveUpdateEmitsDataChangedAndKeepsSelectionAndExpansion)
{
    auto writer = RunWriter::create(path, test::twoLayerHeader(kConfig));
    test::appendSnapshot(writer, 0);
    writer.flush();
    const auto reader = RunReader::open(path);

    SiteTreeModel model;
    SiteFilterModel proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&model, kFatal);
    QAbstractItemModelTester proxyTester(&proxy, kFatal);
    model.setSnapshot(SiteRangeSnapshot::fromRun(reader.header(), reader.ranges()));

    QTreeView view;
    view.setModel(&proxy);
    view.setSortingEnabled(true);
    view.sortByColumn(SiteTreeModel::SiteColumn, Qt::AscendingOrder);
    const QModelIndex layer1 = proxy.index(1, 0);
    view.expand(layer1);
    const QModelIndex selected = proxy.mapFromSource(model.indexOfSite("layers.1.mlp.down.in"));
    ASSERT_TRUE(selected.isValid());
    view.selectionModel()->select(selected, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);

    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    QSignalSpy proxyReset(&proxy, &QAbstractItemModel::modelReset);
    for (int k = 1; k < 4; ++k) {
        test::appendSnapshot(writer, k);
        writer.flush();
        model.setSnapshot(SiteRangeSnapshot::fromRun(reader.header(), reader.ranges()));
    }
    EXPECT_EQ(reset.count(), 0);
    EXPECT_EQ(proxyReset.count(), 0);
    // Every value changes each time: one dataChanged per top-level row per update.
    EXPECT_EQ(changed.count(), 3 * model.rowCount());
    for (const auto &args : changed) {
        const auto topLeft = args.at(0).value<QModelIndex>();
        EXPECT_EQ(topLeft.column(), int(SiteTreeModel::BitsColumn));
        EXPECT_TRUE(topLeft.parent().isValid());
    }

    const auto sites = test::twoLayerSites();
    const auto i = std::size_t(std::find(sites.begin(), sites.end(), "layers.1.mlp.down.in") - sites.begin());
    const QModelIndex site = model.indexOfSite("layers.1.mlp.down.in");
    EXPECT_EQ(sortValue(model, model.index(site.row(), SiteTreeModel::FmaxColumn, site.parent())), test::testFmax(i, 3));
    EXPECT_TRUE(view.isExpanded(proxy.index(1, 0)));
    const auto rows = view.selectionModel()->selectedRows();
    ASSERT_EQ(rows.size(), 1);
    EXPECT_EQ(rows.first().data(SiteTreeModel::SiteNameRole).toString(), QStringLiteral("layers.1.mlp.down.in"));

    // The same values again change nothing.
    changed.clear();
    model.setSnapshot(SiteRangeSnapshot::fromRun(reader.header(), reader.ranges()));
    EXPECT_EQ(changed.count(), 0);
    writer.close();
}

TEST_F(SiteTreeModelTest, ADifferentSiteListResets)
{
    SiteTreeModel model;
    SiteFilterModel proxy;
    proxy.setSourceModel(&model);
    QAbstractItemModelTester tester(&model, kFatal);
    QAbstractItemModelTester proxyTester(&proxy, kFatal);
    SiteRangeSnapshot a;
    a.sites = test::twoLayerSites();
    model.setSnapshot(a);
    QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
    SiteRangeSnapshot b;
    b.sites = { "layers.0.mlp.down.in", "layers.2.attn.qk.out", "not.a.site" };
    b.fmin = { -1.f, -2.f, -3.f };
    b.fmax = { 1.f, 2.f, 3.f };
    model.setSnapshot(b);
    EXPECT_EQ(reset.count(), 1);
    EXPECT_EQ(printTree(model),
        QStringList({ "layer 0: layers.0.mlp.down.in", "layer 2: layers.2.attn.qk.out", "other: not.a.site" }));
    EXPECT_EQ(model.index(0, SiteTreeModel::BitsColumn, model.index(2, 0)).data().toString(), QStringLiteral("?"));
    model.setSnapshot({});
    EXPECT_EQ(model.rowCount(), 0);
}

TEST_F(SiteTreeModelTest, FilterKeepsTheLayersOfMatchingSites)
{
    {
        auto writer = RunWriter::create(path, test::twoLayerHeader(kConfig));
        test::appendSnapshot(writer, 0);
        test::appendSnapshot(writer, 1);
        writer.close();
    }
    const auto reader = RunReader::open(path);
    SiteTreeModel model;
    SiteFilterModel proxy;
    QAbstractItemModelTester tester(&model, kFatal);
    QAbstractItemModelTester proxyTester(&proxy, kFatal);
    proxy.setSourceModel(&model);
    model.setSnapshot(SiteRangeSnapshot::fromRun(reader.header(), reader.ranges()));
    ASSERT_EQ(proxy.rowCount(), 3);

    proxy.setFilterText(QStringLiteral("MLP.DOWN.IN"));
    EXPECT_EQ(printTree(proxy), QStringList({ "layer 0: layers.0.mlp.down.in", "layer 1: layers.1.mlp.down.in" }));

    proxy.setFilterText(QStringLiteral("down"));
    proxy.setBitsFilter(SiteFilterModel::BitsFilter::Only16Bit);
    EXPECT_EQ(printTree(proxy),
        QStringList({ "layer 0: layers.0.mlp.down.out", "layer 1: layers.1.mlp.down.in, layers.1.mlp.down.out" }));

    proxy.setFilterText({});
    proxy.setBitsFilter(SiteFilterModel::BitsFilter::Only8Bit);
    ASSERT_EQ(proxy.rowCount(), 2); // the model-level sites are not quantized
    int children = 0;
    for (int g = 0; g < proxy.rowCount(); ++g) {
        const QModelIndex parent = proxy.index(g, 0);
        for (int r = 0; r < proxy.rowCount(parent); ++r, ++children)
            EXPECT_EQ(proxy.index(r, 0, parent).data(SiteTreeModel::BitsRole).toInt(), 8);
    }
    const auto sites = test::twoLayerSites();
    const auto eightBit = std::count_if(sites.begin(), sites.end(), [](const std::string &s) { return expectedBits(s) == 8; });
    EXPECT_EQ(children, int(eightBit));

    proxy.setFilterText(QStringLiteral("no such site"));
    EXPECT_EQ(proxy.rowCount(), 0);
    proxy.setFilterText({});
    proxy.setBitsFilter(SiteFilterModel::BitsFilter::All);
    EXPECT_EQ(proxy.rowCount(), 3);

    // Sorting by range width, widest first, inside each layer.
    proxy.sort(SiteTreeModel::WidthColumn, Qt::DescendingOrder);
    const auto matches = proxy.match(proxy.index(0, 0), Qt::DisplayRole, QStringLiteral("layer 0"), 1, Qt::MatchExactly);
    ASSERT_EQ(matches.size(), 1);
    const QModelIndex layer0 = matches.first();
    ASSERT_EQ(proxy.rowCount(layer0), int(sites.size() - 2) / 2);
    for (int r = 1; r < proxy.rowCount(layer0); ++r)
        EXPECT_GE(sortValue(proxy, proxy.index(r - 1, SiteTreeModel::WidthColumn, layer0)),
            sortValue(proxy, proxy.index(r, SiteTreeModel::WidthColumn, layer0)));
}

} // namespace
} // namespace mq
