#include "view_test_data.h"

#include "core/store/run_reader.h"
#include "widgets/plot_export.h"
#include "widgets/weight_range_view.h"

#include "widgets/qcustomplot_include.h"

#include <QFileInfo>

#include <gtest/gtest.h>

namespace mq {
namespace {

using test::TempDir;

const char *kConfig = R"({"method":"mobilequant","bits":"W4A8","samples":128,"epochs":2})";

// The four graphs at snapshot k: before clipping the weight's min/max per row, after it the
// clipping factors times those (per row for q, one factor for all of k).
void expectBands(WeightRangeView &view, int k, bool perTensor)
{
    const float sign = perTensor ? 2.0f : 1.0f;
    for (QCPGraph *g : { view.maxGraph(), view.minGraph(), view.clippedMaxGraph(), view.clippedMinGraph() })
        ASSERT_EQ(g->dataCount(), int(test::kRows)) << g->name().toStdString();
    for (std::size_t r = 0; r < test::kRows; ++r) {
        SCOPED_TRACE(r);
        const double lo = sign * test::weightMin(r, k), hi = sign * test::weightMax(r, k);
        const double up = perTensor ? test::clipUpperK(k) : test::clipUpper(r, k);
        const double low = perTensor ? test::clipLowerK(k) : test::clipLower(r, k);
        EXPECT_EQ(view.maxGraph()->data()->at(int(r))->key, double(r));
        EXPECT_DOUBLE_EQ(view.maxGraph()->data()->at(int(r))->value, double(float(hi)));
        EXPECT_DOUBLE_EQ(view.minGraph()->data()->at(int(r))->value, double(float(lo)));
        EXPECT_NEAR(view.clippedMaxGraph()->data()->at(int(r))->value, up * hi, 1e-6);
        EXPECT_NEAR(view.clippedMinGraph()->data()->at(int(r))->value, low * lo, 1e-6);
    }
}

TEST(WeightRangeView, ShowsRangesBeforeAndAfterClippingAtTheChosenStep)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    test::writeViewRun(path, kConfig, 3, 0);
    const auto reader = RunReader::open(path);

    WeightRangeView view;
    view.resize(800, 500);
    view.setSeries(reader.vectors("weight_ranges"), reader.vectors("clipping"));
    EXPECT_EQ(view.weightSites(), QStringList({ QString::fromStdString(test::kWeightK), QString::fromStdString(test::kWeightQ) }));
    ASSERT_TRUE(view.setWeightSite(QString::fromStdString(test::kWeightQ)));
    EXPECT_EQ(view.stepIndex(), 2); // the latest by default
    EXPECT_EQ(view.shownStep(), 20);
    expectBands(view, 2, false);

    ASSERT_TRUE(view.setStepIndex(0));
    EXPECT_EQ(view.shownStep(), 0);
    expectBands(view, 0, false);
    EXPECT_FALSE(view.setStepIndex(3));

    ASSERT_TRUE(view.setWeightSite(QString::fromStdString(test::kWeightK)));
    expectBands(view, 0, true);
    EXPECT_FALSE(view.setWeightSite(QStringLiteral("layers.0.attn.o.weight")));

    const QString png = QString::fromStdString(dir.file("weights.png"));
    EXPECT_EQ(exportPlot(view.plot(), png), QString());
    EXPECT_GT(QFileInfo(png).size(), 1000);
}

TEST(WeightRangeView, FollowsLiveSnapshotsAtTheLatestStep)
{
    WeightRangeView view;
    view.resize(800, 500);
    EXPECT_TRUE(view.appendSnapshot(test::viewEvent(0)));
    ASSERT_TRUE(view.setWeightSite(QString::fromStdString(test::kWeightQ)));
    QCPGraph *max = view.maxGraph();
    expectBands(view, 0, false);
    EXPECT_TRUE(view.appendSnapshot(test::viewEvent(1)));
    EXPECT_EQ(view.maxGraph(), max);
    EXPECT_EQ(view.weightSite().toStdString(), test::kWeightQ);
    EXPECT_EQ(view.snapshotCount(), 2u);
    EXPECT_EQ(view.shownStep(), 10);
    expectBands(view, 1, false);

    // Pinned to snapshot 0, a new snapshot does not move the view.
    ASSERT_TRUE(view.setStepIndex(0));
    EXPECT_TRUE(view.appendSnapshot(test::viewEvent(2)));
    EXPECT_EQ(view.shownStep(), 0);
    EXPECT_FALSE(view.appendSnapshot(test::viewEvent(2))); // not after the last step
    EXPECT_EQ(view.snapshotCount(), 3u);
}

} // namespace
} // namespace mq
