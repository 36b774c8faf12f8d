#include "view_test_data.h"

#include "core/store/run_reader.h"
#include "widgets/outlier_inspector.h"
#include "widgets/plot_export.h"

#include "widgets/qcustomplot_include.h"

#include <QFileInfo>
#include <QTableWidget>

#include <gtest/gtest.h>

#include <cmath>

namespace mq {
namespace {

using test::TempDir;

const char *kConfig = R"({"method":"mobilequant","bits":"W8A8","samples":128,"epochs":2})";

// Sum of a QCPBars' values and its number of bars.
double barSum(QCPBars *bars)
{
    double sum = 0.0;
    for (int i = 0; i < bars->dataCount(); ++i)
        sum += bars->data()->at(i)->value;
    return sum;
}

int otherBarsCount(QCustomPlot *plot, QCPBars *except, double *sum)
{
    int count = 0;
    *sum = 0.0;
    for (int i = 0; i < plot->plottableCount(); ++i)
        if (auto *bars = qobject_cast<QCPBars *>(plot->plottable(i)); bars && bars != except) {
            count += bars->dataCount();
            *sum += barSum(bars);
        }
    return count;
}

TEST(OutlierStats, MedianOutliersAndClippedMassByHand)
{
    EXPECT_DOUBLE_EQ(medianOf({ 3.0f, 1.0f, 2.0f }), 2.0);
    EXPECT_DOUBLE_EQ(medianOf({ 4.0f, 1.0f, 3.0f, 2.0f }), 2.5);
    EXPECT_DOUBLE_EQ(medianOf({ 1.0f, NAN, 5.0f }), 3.0);
    EXPECT_TRUE(std::isnan(medianOf({})));

    // Seven channels at 1, then 5.9, 7 and 10: median 1 (the mean of the 5th and 6th values).
    const std::vector<float> maxAbs = { 1, 10, 1, 1, 5.9f, 1, 1, 7, 1, 1 };
    const auto outliers = findOutlierChannels(maxAbs, 6.0);
    ASSERT_EQ(outliers.size(), 2u);
    EXPECT_EQ(outliers[0].channel, 1);
    EXPECT_DOUBLE_EQ(outliers[0].ratio, 10.0);
    EXPECT_EQ(outliers[1].channel, 7);
    EXPECT_DOUBLE_EQ(outliers[1].ratio, 7.0);
    EXPECT_EQ(findOutlierChannels(maxAbs, 5.5).size(), 3u);
    EXPECT_TRUE(findOutlierChannels({ 0, 0, 0, 5 }).empty()); // median 0: no reference

    // Bins of width 1 on [-2, 3]; range [-1.5, 2.5] cuts the first and the last bin in half:
    // clipped = 10/2 + 20/2 = 15 of 100.
    const std::vector<float> edges = { -2, -1, 0, 1, 2, 3 };
    const std::vector<std::uint64_t> counts = { 10, 20, 30, 20, 20 };
    EXPECT_NEAR(clippedFraction(edges, counts, -1.5, 2.5), 0.15, 1e-12);
    EXPECT_NEAR(clippedFraction(edges, counts, -5, 5), 0.0, 1e-12);
    EXPECT_NEAR(clippedFraction(edges, counts, 0.5, 0.5), 1.0, 1e-12);
    EXPECT_TRUE(std::isnan(clippedFraction(edges, { 1, 2 }, 0, 1)));

    EXPECT_EQ(letPairOfSite("layers.0.attn_norm.out"), "layers.0.qkv");
    EXPECT_EQ(letPairOfSite("layers.7.mlp_norm.out"), "layers.7.fc1");
    EXPECT_EQ(letPairOfSite("layers.2.attn.pv.out"), "layers.2.out");
    EXPECT_EQ(letPairOfSite("layers.2.mlp.down.in"), "layers.2.fc2");
    EXPECT_EQ(letPairOfSite("layers.2.mlp.up.out"), "");
    EXPECT_EQ(letPairOfSite("lm_head.in"), "");
    EXPECT_EQ(siteOfLetPair("layers.3.fc1"), "layers.3.mlp_norm.out");
    EXPECT_EQ(siteOfLetPair("layers.3.nope"), "");
}

class OutlierInspectorTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        test::writeViewRun(path, kConfig, 3, 5);
        view.resize(1000, 800);
    }

    TempDir dir;
    std::string path = dir.file("run.h5");
    OutlierInspector view;
};

TEST_F(OutlierInspectorTest, ShowsHistogramRangeGridAndClippedMassFromTheRunFile)
{
    const auto reader = RunReader::open(path);
    ASSERT_TRUE(view.loadFromRun(reader, test::kWatched).isEmpty());
    ASSERT_TRUE(view.histogramShown());
    EXPECT_EQ(view.data().step, 20);
    EXPECT_EQ(view.data().bits, 8); // attn_norm.out is 8-bit in W4A8-sym

    // Every bin is a bar, inside the range (blue) or outside it (red), holding its count.
    double clippedSum = 0.0;
    const int clippedBars = otherBarsCount(view.histogramPlot(), view.histogramBars(), &clippedSum);
    EXPECT_EQ(view.histogramBars()->dataCount() + clippedBars, int(test::kBins));
    EXPECT_EQ(barSum(view.histogramBars()) + clippedSum, 300.0); // snapshot 2: counts × 3

    // Range [-1.5, 2.5] over bins [-4, -3, …, 6] with counts 1 2 3 10 20 30 20 8 4 2 (× 3):
    // below: 1 + 2 + 3/2, above: 20/2 + 8 + 4 + 2, of 100 → 28.5 %.
    EXPECT_NEAR(view.clippedPercent(), 28.5, 1e-9);

    // 8 bits: all 256 levels drawn.
    EXPECT_EQ(view.gridLinesDrawn(), 256);
    EXPECT_EQ(view.gridLevelStride(), 1);
    // A legend entry says the clipped percentage.
    bool named = false;
    for (int i = 0; i < view.histogramPlot()->plottableCount(); ++i)
        named = named || view.histogramPlot()->plottable(i)->name().contains(QStringLiteral("28.50 %"));
    EXPECT_TRUE(named);

    // Log counts: same data, logarithmic axis.
    view.setLogCounts(true);
    EXPECT_EQ(view.histogramPlot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    EXPECT_NEAR(view.clippedPercent(), 28.5, 1e-9);
}

TEST_F(OutlierInspectorTest, SixteenBitGridIsThinnedWithANote)
{
    OutlierSiteData d;
    d.site = "layers.0.attn_norm.in";
    d.bits = 16;
    d.fmin = -2.0f;
    d.fmax = 2.0f;
    d.hasRange = true;
    d.edges = test::histogramEdges();
    d.counts = test::histogramCounts(0);
    view.setData(d);
    // 65536 levels: every 1024th, 64 lines, and the legend says so.
    EXPECT_EQ(view.gridLevelStride(), 1024);
    EXPECT_EQ(view.gridLinesDrawn(), 64);
    bool noted = false;
    for (int i = 0; i < view.histogramPlot()->graphCount(); ++i)
        noted = noted || view.histogramPlot()->graph(i)->name().contains(QStringLiteral("every 1024th of 65536"));
    EXPECT_TRUE(noted);
    // Not quantized: no grid.
    d.bits = 32;
    view.setData(d);
    EXPECT_EQ(view.gridLinesDrawn(), 0);
}

TEST_F(OutlierInspectorTest, MarksAndListsOutlierChannelsAndShowsTheTransform)
{
    const auto reader = RunReader::open(path);
    ASSERT_TRUE(view.loadFromRun(reader, test::kWatched, 0).isEmpty());
    ASSERT_TRUE(view.channelsShown());
    EXPECT_EQ(view.data().step, 0);

    // Snapshot 0: fourteen channels at 1 + 0.05c (c ≠ 3, 11), channel 3 at 9, channel 11 at 20.
    // Median = (1.40 + 1.45) / 2 = 1.425 (c = 8 and 9); 6 × 1.425 = 8.55 → channels 11 and 3.
    const double median = 1.425;
    const auto &outliers = view.outliers();
    ASSERT_EQ(outliers.size(), 2u);
    EXPECT_EQ(outliers[0].channel, 11);
    EXPECT_NEAR(outliers[0].ratio, 20.0 / median, 1e-5);
    EXPECT_EQ(outliers[1].channel, 3);
    EXPECT_NEAR(outliers[1].ratio, 9.0 / median, 1e-5);
    EXPECT_EQ(view.outlierBars()->dataCount(), 2);
    EXPECT_EQ(view.channelBars()->dataCount(), int(test::kHidden) - 2);
    ASSERT_EQ(view.outlierTable()->rowCount(), 2);
    EXPECT_EQ(view.outlierTable()->item(0, 0)->text(), QStringLiteral("11"));
    EXPECT_EQ(view.outlierTable()->item(1, 0)->text(), QStringLiteral("3"));

    // 7 × 1.425 = 9.975: only channel 11 remains.
    view.setThreshold(7.0);
    ASSERT_EQ(view.outliers().size(), 1u);
    EXPECT_EQ(view.outliers()[0].channel, 11);
    EXPECT_EQ(view.outlierTable()->rowCount(), 1);

    // After the transform: max|x| ÷ the qkv scale of the same snapshot, channel by channel.
    view.setTransformMode(OutlierInspector::TransformMode::After);
    EXPECT_FALSE(view.channelBars()->visible());
    ASSERT_EQ(view.transformedBars()->dataCount(), int(test::kHidden));
    for (std::size_t c = 0; c < test::kHidden; ++c) {
        SCOPED_TRACE(c);
        const auto point = view.transformedBars()->data()->at(int(c));
        EXPECT_EQ(point->key, double(c));
        EXPECT_NEAR(point->value, double(test::channelMaxAbs(c, 0)) / double(test::letScale(c, 0)), 1e-6);
    }
    view.setTransformMode(OutlierInspector::TransformMode::Overlay);
    EXPECT_TRUE(view.channelBars()->visible());
    EXPECT_TRUE(view.transformedBars()->visible());
}

TEST_F(OutlierInspectorTest, AnUnwatchedSiteSaysSoInsteadOfAnEmptyPlot)
{
    const auto reader = RunReader::open(path);
    ASSERT_TRUE(view.loadFromRun(reader, "layers.1.mlp.up.out").isEmpty());
    EXPECT_FALSE(view.histogramShown());
    EXPECT_FALSE(view.channelsShown());
    EXPECT_TRUE(view.data().hasRange); // the range is still known
    const auto labels = view.findChildren<QLabel *>();
    bool told = false;
    for (const QLabel *label : labels)
        told = told || (label->text().contains(QStringLiteral("not watched")) && label->text().contains(QStringLiteral("watched sites")));
    EXPECT_TRUE(told);
}

TEST_F(OutlierInspectorTest, LiveSnapshotsUpdateThePlotsInPlace)
{
    view.setData(OutlierSiteData::fromSnapshot(test::viewEvent(0), test::kWatched, 8));
    QCPBars *hist = view.histogramBars();
    QCPBars *channels = view.channelBars();
    EXPECT_EQ(view.data().step, 0);
    // Bars by bin centre: -1.5 and 2.5 sit on the range's ends and count as inside, so inside
    // are the bins with 3, 10, 20, 30 and 20 values.
    EXPECT_EQ(barSum(hist), 83.0);

    EXPECT_TRUE(view.appendSnapshot(test::viewEvent(1)));
    EXPECT_EQ(view.histogramBars(), hist);
    EXPECT_EQ(view.channelBars(), channels);
    EXPECT_EQ(view.data().step, 10);
    // Snapshot 1 doubles the counts.
    EXPECT_EQ(barSum(hist), 166.0);
    EXPECT_NEAR(view.clippedPercent(), 28.5, 1e-9);
    // Channel 3 is now at 10.
    bool found = false;
    for (int i = 0; i < view.outlierBars()->dataCount(); ++i)
        if (std::abs(view.outlierBars()->data()->at(i)->key - 3.0) < 0.5) { // overlaid: left of channel 3
            EXPECT_EQ(view.outlierBars()->data()->at(i)->value, 10.0);
            found = true;
        }
    EXPECT_TRUE(found);

    SnapshotEvent other = test::viewEvent(2);
    other.sites = { "layers.5.attn_norm.out" };
    EXPECT_FALSE(view.appendSnapshot(other));
    EXPECT_EQ(view.data().step, 10);
}

TEST_F(OutlierInspectorTest, ExportsBothPlotsAsPng)
{
    const auto reader = RunReader::open(path);
    view.loadFromRun(reader, test::kWatched);
    const QString hist = QString::fromStdString(dir.file("hist.png"));
    const QString channels = QString::fromStdString(dir.file("channels.png"));
    EXPECT_EQ(exportPlot(view.histogramPlot(), hist), QString());
    EXPECT_EQ(exportPlot(view.channelPlot(), channels), QString());
    EXPECT_GT(QFileInfo(hist).size(), 1000);
    EXPECT_GT(QFileInfo(channels).size(), 1000);
}

} // namespace
} // namespace mq
