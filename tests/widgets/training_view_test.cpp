#include "widget_test_util.h"

#include "core/store/run_reader.h"
#include "widgets/training_view.h"

#include "widgets/qcustomplot_include.h"

#include <QDir>

#include <gtest/gtest.h>

#include <cmath>

namespace mq {
namespace {

using test::TempDir;

constexpr int kSteps = 8; // steps 0, 5, …, 35

const char *kConfig = R"({"method":"mobilequant","bits":"W4A8","samples":128,"epochs":2,"seqlen":256})";
const std::vector<std::string> kGroups = { "let", "lrl", "lwc" }; // the order of TrainSeries::lr (by name)

// Step k: a decaying loss, and per group a cosine-like decaying learning rate, all positive.
double testLoss(int k) { return 0.8 * std::pow(0.7, k) + 1e-3; }
double testLr(std::size_t group, int k) { return (1e-3 / double(group + 1)) * (1.0 + std::cos(0.3 * k)) + 1e-6; }

std::map<std::string, double> testLrs(int k)
{
    std::map<std::string, double> lrs;
    for (std::size_t g = 0; g < kGroups.size(); ++g)
        lrs[kGroups[g]] = testLr(g, k);
    return lrs;
}

// Graph 0 holds the loss, graph 1 + g the lr of kGroups[g]: one point per step k at step 5·k with
// the file's value (the file holds doubles, so the values compare exactly).
void expectGraphs(QCustomPlot *plot, int steps)
{
    ASSERT_EQ(plot->graphCount(), 1 + int(kGroups.size()));
    for (int g = 0; g < plot->graphCount(); ++g)
        ASSERT_EQ(plot->graph(g)->dataCount(), steps) << plot->graph(g)->name().toStdString();
    for (int k = 0; k < steps; ++k) {
        SCOPED_TRACE(k);
        EXPECT_EQ(plot->graph(0)->data()->at(k)->key, 5.0 * k);
        EXPECT_EQ(plot->graph(0)->data()->at(k)->value, testLoss(k));
        for (std::size_t g = 0; g < kGroups.size(); ++g) {
            EXPECT_EQ(plot->graph(1 + int(g))->data()->at(k)->key, 5.0 * k);
            EXPECT_EQ(plot->graph(1 + int(g))->data()->at(k)->value, testLr(g, k));
        }
    }
}

class TrainingViewTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        {
            RunHeader header = test::twoLayerHeader(kConfig);
            header.lrGroups = { "let", "lwc", "lrl" };
            auto writer = RunWriter::create(path, header);
            for (int k = 0; k < kSteps; ++k)
                writer.appendStep(5 * k, testLoss(k), 0.1 * k, testLrs(k));
            writer.close();
        }
        series = RunReader::open(path).train();
        view.resize(900, 540);
        view.setSeries(series);
    }

    TempDir dir;
    std::string path = dir.file("run.h5");
    TrainSeries series;
    TrainingView view;
};

TEST_F(TrainingViewTest, ShowsLossAndLearningRatesFromTheRunFile)
{
    QCustomPlot *plot = view.plot();
    EXPECT_EQ(view.groups(), kGroups);
    expectGraphs(plot, kSteps);

    EXPECT_EQ(plot->xAxis->label(), QStringLiteral("step"));
    EXPECT_EQ(plot->yAxis->label(), QStringLiteral("loss (MSE)"));
    EXPECT_EQ(plot->yAxis2->label(), QStringLiteral("learning rate"));
    EXPECT_TRUE(plot->yAxis2->visible());

    // The loss on the left axis, the learning rates on the right one, one colour each, all in the legend.
    EXPECT_EQ(plot->graph(0)->name(), QStringLiteral("loss"));
    EXPECT_EQ(plot->graph(0)->valueAxis(), plot->yAxis);
    EXPECT_EQ(plot->legend->itemCount(), 1 + int(kGroups.size()));
    EXPECT_TRUE(plot->legend->visible());
    for (int g = 0; g < plot->graphCount(); ++g) {
        QCPGraph *graph = plot->graph(g);
        EXPECT_TRUE(plot->legend->hasItemWithPlottable(graph));
        EXPECT_EQ(graph->keyAxis(), plot->xAxis);
        if (g > 0) {
            EXPECT_EQ(graph->valueAxis(), plot->yAxis2);
            EXPECT_EQ(graph->name(), QStringLiteral("lr ") + QString::fromStdString(kGroups[std::size_t(g - 1)]));
        }
        for (int h = 0; h < g; ++h)
            EXPECT_NE(graph->pen().color(), plot->graph(h)->pen().color()) << g << " vs " << h;
    }

    // The axes hold every point, with a margin on each side.
    EXPECT_LT(plot->xAxis->range().lower, 0.0);
    EXPECT_GT(plot->xAxis->range().upper, 5.0 * (kSteps - 1));
    EXPECT_LT(plot->yAxis->range().lower, testLoss(kSteps - 1));
    EXPECT_GT(plot->yAxis->range().upper, testLoss(0));
    double lrLo = 1.0, lrHi = 0.0;
    for (std::size_t g = 0; g < kGroups.size(); ++g)
        for (int k = 0; k < kSteps; ++k) {
            lrLo = std::min(lrLo, testLr(g, k));
            lrHi = std::max(lrHi, testLr(g, k));
        }
    EXPECT_LT(plot->yAxis2->range().lower, lrLo);
    EXPECT_GT(plot->yAxis2->range().upper, lrHi);
    EXPECT_GT(plot->yAxis2->range().lower, 0.0);

    if (qEnvironmentVariableIsSet("MQ_SCREENSHOT_DIR")) {
        view.show();
        plot->replot();
        const QString shot = QDir(qEnvironmentVariable("MQ_SCREENSHOT_DIR")).filePath(QStringLiteral("training_view.png"));
        EXPECT_TRUE(view.grab().save(shot)) << shot.toStdString();
    }
}

TEST_F(TrainingViewTest, BothValueAxesAreLogarithmic)
{
    QCustomPlot *plot = view.plot();
    for (QCPAxis *axis : { plot->yAxis, plot->yAxis2 }) {
        SCOPED_TRACE(axis->label().toStdString());
        EXPECT_EQ(axis->scaleType(), QCPAxis::stLogarithmic);
        EXPECT_NE(axis->ticker().dynamicCast<QCPAxisTickerLog>(), nullptr);
    }
    EXPECT_EQ(plot->xAxis->scaleType(), QCPAxis::stLinear);
}

TEST_F(TrainingViewTest, AppendingAStepAddsOnePointPerGraph)
{
    QCustomPlot *plot = view.plot();
    std::vector<QCPGraph *> before;
    for (int g = 0; g < plot->graphCount(); ++g)
        before.push_back(plot->graph(g));

    const int k = kSteps; // the next step of the test pattern, at step 40
    ASSERT_TRUE(view.appendStep(5 * k, testLoss(k), testLrs(k)));

    // The same graphs (no rebuild), one point more each.
    ASSERT_EQ(plot->graphCount(), int(before.size()));
    for (int g = 0; g < plot->graphCount(); ++g)
        EXPECT_EQ(plot->graph(g), before[std::size_t(g)]);
    expectGraphs(plot, kSteps + 1);
    EXPECT_GT(plot->xAxis->range().upper, 5.0 * k); // the axes follow the data

    // Refused, and nothing added: a step that does not come after the last one, a missing, an
    // extra or a different group.
    EXPECT_FALSE(view.appendStep(5 * k, testLoss(k), testLrs(k)));
    EXPECT_FALSE(view.appendStep(5 * k - 1, testLoss(k), testLrs(k)));
    auto missing = testLrs(k + 1);
    missing.erase("lrl");
    EXPECT_FALSE(view.appendStep(5 * k + 5, testLoss(k + 1), missing));
    auto extra = testLrs(k + 1);
    extra["other"] = 1e-4;
    EXPECT_FALSE(view.appendStep(5 * k + 5, testLoss(k + 1), extra));
    auto renamed = missing;
    renamed["LRL"] = 1e-4;
    EXPECT_FALSE(view.appendStep(5 * k + 5, testLoss(k + 1), renamed));
    for (int g = 0; g < plot->graphCount(); ++g)
        EXPECT_EQ(plot->graph(g)->dataCount(), kSteps + 1);

    // Reloading the series from the file shows the file's steps again.
    view.setSeries(series);
    expectGraphs(plot, kSteps);
}

TEST_F(TrainingViewTest, NonPositiveValuesAreSkippedOnTheLogAxes)
{
    QCustomPlot *plot = view.plot();
    auto lrs = testLrs(kSteps);
    lrs["lwc"] = 0.0; // e.g. a group frozen for a phase
    ASSERT_TRUE(view.appendStep(5 * kSteps, -1.0, lrs));
    EXPECT_EQ(plot->graph(0)->dataCount(), kSteps); // the loss point is skipped
    EXPECT_EQ(plot->graph(1)->dataCount(), kSteps + 1); // let
    EXPECT_EQ(plot->graph(2)->dataCount(), kSteps + 1); // lrl
    EXPECT_EQ(plot->graph(3)->dataCount(), kSteps); // lwc: skipped
    EXPECT_GT(plot->yAxis->range().lower, 0.0);
    EXPECT_GT(plot->yAxis2->range().lower, 0.0);

    // The skipped step still counts: the next one must come after it.
    EXPECT_FALSE(view.appendStep(5 * kSteps, testLoss(kSteps), testLrs(kSteps)));
    EXPECT_TRUE(view.appendStep(5 * kSteps + 5, testLoss(kSteps + 1), testLrs(kSteps + 1)));
    EXPECT_EQ(plot->graph(0)->dataCount(), kSteps + 1);
    EXPECT_EQ(plot->graph(3)->dataCount(), kSteps + 1);

    // Likewise in a series given whole.
    TrainSeries withZero = series;
    withZero.loss[2] = 0.0;
    withZero.lr["let"][3] = -1e-4;
    view.setSeries(withZero);
    EXPECT_EQ(plot->graph(0)->dataCount(), kSteps - 1);
    EXPECT_EQ(plot->graph(1)->dataCount(), kSteps - 1);
    EXPECT_EQ(plot->graph(2)->dataCount(), kSteps);
    EXPECT_EQ(plot->graph(0)->data()->at(2)->key, 15.0); // step 10 is missing
}

TEST(TrainingViewLive, StartsFromAnEmptySeries)
{
    TrainSeries empty;
    empty.lr["let"];
    empty.lr["lwc"];
    TrainingView view;
    view.setSeries(empty);
    QCustomPlot *plot = view.plot();
    ASSERT_EQ(plot->graphCount(), 3);
    EXPECT_EQ(plot->graph(0)->dataCount(), 0);

    EXPECT_FALSE(view.appendStep(0, 1.0, { { "let", 1e-3 } }));
    ASSERT_TRUE(view.appendStep(0, 1.0, { { "let", 1e-3 }, { "lwc", 5e-3 } }));
    ASSERT_TRUE(view.appendStep(1, 0.5, { { "let", 9e-4 }, { "lwc", 4e-3 } }));
    EXPECT_EQ(plot->graph(0)->data()->at(1)->value, 0.5);
    EXPECT_EQ(plot->graph(2)->data()->at(1)->value, 4e-3);

    // Without any series the view has no graphs and refuses steps.
    TrainingView bare;
    EXPECT_EQ(bare.plot()->graphCount(), 0);
    EXPECT_FALSE(bare.appendStep(0, 1.0, {}));
}

} // namespace
} // namespace mq
