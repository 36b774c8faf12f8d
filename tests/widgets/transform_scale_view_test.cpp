#include "view_test_data.h"

#include "core/store/run_reader.h"
#include "widgets/plot_export.h"
#include "widgets/transform_scale_view.h"

#include "widgets/qcustomplot_include.h"

#include <QFileInfo>
#include <QTest>

#include <gtest/gtest.h>

namespace mq {
namespace {

using test::TempDir;

const char *kConfig = R"({"method":"mobilequant","bits":"W8A8","samples":128,"epochs":2})";

// Cell (snapshot k, channel c) of the heat map must hold the scale of that snapshot and channel.
void expectHeatMap(TransformScaleView &view, int snapshots, float factor)
{
    QCPColorMapData *data = view.colorMap()->data();
    ASSERT_EQ(data->keySize(), snapshots);
    ASSERT_EQ(data->valueSize(), int(test::kHidden));
    for (int k = 0; k < snapshots; ++k)
        for (std::size_t c = 0; c < test::kHidden; ++c) {
            SCOPED_TRACE(testing::Message() << "k " << k << " c " << c);
            EXPECT_EQ(data->cell(k, int(c)), double(factor * test::letScale(c, k)));
        }
    // Columns sit at the snapshots' steps (10·k), rows at the channels.
    double key = 0.0, value = 0.0;
    data->cellToCoord(snapshots - 1, int(test::kHidden) - 1, &key, &value);
    EXPECT_DOUBLE_EQ(key, 10.0 * (snapshots - 1));
    EXPECT_DOUBLE_EQ(value, double(test::kHidden - 1));
}

TEST(TransformScaleView, ShowsLatestScalesAndTheirEvolutionFromTheRunFile)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    test::writeViewRun(path, kConfig, 4, 0);
    const auto reader = RunReader::open(path);

    TransformScaleView view;
    view.resize(800, 700);
    view.setSeries(reader.vectors("scales"));
    EXPECT_EQ(view.pairs(), QStringList({ QString::fromStdString(test::kPairQkv), QString::fromStdString(test::kPairFc1) }));
    EXPECT_EQ(view.pair().toStdString(), test::kPairQkv);
    EXPECT_EQ(view.snapshotCount(), 4u);

    // The line: the latest snapshot (k = 3), one point per channel.
    ASSERT_EQ(view.scaleGraph()->dataCount(), int(test::kHidden));
    for (std::size_t c = 0; c < test::kHidden; ++c) {
        EXPECT_EQ(view.scaleGraph()->data()->at(int(c))->key, double(c));
        EXPECT_EQ(view.scaleGraph()->data()->at(int(c))->value, double(test::letScale(c, 3)));
    }
    expectHeatMap(view, 4, 1.0f);
    EXPECT_FALSE(view.colorScale()->label().isEmpty());

    ASSERT_TRUE(view.setPair(QString::fromStdString(test::kPairFc1)));
    expectHeatMap(view, 4, 2.0f);
    EXPECT_FALSE(view.setPair(QStringLiteral("layers.9.qkv")));
    EXPECT_EQ(view.pair().toStdString(), test::kPairFc1);

    // Log colours: the colour scale and the scale axis become logarithmic, the cells stay the scales.
    view.setLogScale(true);
    EXPECT_EQ(view.colorScale()->dataScaleType(), QCPAxis::stLogarithmic);
    EXPECT_EQ(view.scalePlot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    expectHeatMap(view, 4, 2.0f);
    // The colour range covers the data: min 2·1.0 (c % 4 = 0, k = 0), max 2·(1.75 + 0.3).
    EXPECT_NEAR(view.colorScale()->dataRange().lower, 2.0, 1e-6);
    EXPECT_NEAR(view.colorScale()->dataRange().upper, 4.1, 1e-6);

    const QString png = QString::fromStdString(dir.file("heat.png"));
    EXPECT_EQ(exportPlot(view.heatMapPlot(), png), QString());
    EXPECT_GT(QFileInfo(png).size(), 1000);
    EXPECT_EQ(exportPlot(view.scalePlot(), QString::fromStdString(dir.file("bars.png"))), QString());
}

TEST(TransformScaleView, LiveSnapshotsAppendColumnsWithoutReset)
{
    TransformScaleView view;
    view.resize(800, 700);
    EXPECT_TRUE(view.appendSnapshot(test::viewEvent(0)));
    EXPECT_EQ(view.pair().toStdString(), test::kPairQkv); // the first pair, taken from the snapshot
    ASSERT_TRUE(view.setPair(QString::fromStdString(test::kPairFc1)));
    view.setLogScale(true);
    QCPColorMap *map = view.colorMap();
    QCPGraph *line = view.scaleGraph();

    for (int k = 1; k < 3; ++k)
        EXPECT_TRUE(view.appendSnapshot(test::viewEvent(k)));
    // Same plottables, selection and option kept; one column per snapshot, old ones unchanged.
    EXPECT_EQ(view.colorMap(), map);
    EXPECT_EQ(view.scaleGraph(), line);
    EXPECT_EQ(view.pair().toStdString(), test::kPairFc1);
    EXPECT_TRUE(view.logScale());
    expectHeatMap(view, 3, 2.0f);
    EXPECT_EQ(line->data()->at(5)->value, double(2.0f * test::letScale(5, 2)));

    // After the user zooms (a press on the plot, then a new range), live snapshots keep the view.
    QTest::mousePress(view.heatMapPlot(), Qt::LeftButton, {}, QPoint(200, 100));
    QTest::mouseRelease(view.heatMapPlot(), Qt::LeftButton, {}, QPoint(200, 100));
    view.heatMapPlot()->xAxis->setRange(3.0, 7.0);
    EXPECT_TRUE(view.appendSnapshot(test::viewEvent(3)));
    EXPECT_EQ(view.heatMapPlot()->xAxis->range(), QCPRange(3.0, 7.0));
    expectHeatMap(view, 4, 2.0f);
    // Choosing the pair again follows the data: the last column (step 30) is in view.
    view.setSeries(VectorSeries {});
    EXPECT_TRUE(view.appendSnapshot(test::viewEvent(0)));
    EXPECT_LT(view.heatMapPlot()->xAxis->range().lower, 0.0);

    // Out of order, or a different set of pairs: refused, nothing changes.
    EXPECT_FALSE(view.appendSnapshot(test::viewEvent(0)));
    SnapshotEvent fewer = test::viewEvent(1);
    fewer.letScales.erase(test::kPairQkv);
    EXPECT_FALSE(view.appendSnapshot(fewer));
    EXPECT_EQ(view.snapshotCount(), 1u);
}

} // namespace
} // namespace mq
