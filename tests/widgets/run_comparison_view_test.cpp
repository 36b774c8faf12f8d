#include "view_test_data.h"

#include "core/store/run_reader.h"
#include "widgets/plot_export.h"
#include "widgets/run_comparison_view.h"

#include "widgets/qcustomplot_include.h"

#include <QFileInfo>

#include <gtest/gtest.h>

namespace mq {
namespace {

using test::TempDir;

TEST(RunComparisonView, OverlaysLossAndRangeOfSeveralRunsOneColourEach)
{
    TempDir dir;
    const std::string e2e = dir.file("e2e.h5");
    const std::string block = dir.file("block.h5");
    test::writeViewRun(e2e, R"({"method":"mobilequant","bits":"W8A8","samples":128,"epochs":2})", 3, 6);
    test::writeViewRun(block, R"({"method":"blockwise","bits":"W8A8","samples":256,"epochs":1})", 2, 4);

    RunComparisonView view;
    view.resize(900, 500);
    EXPECT_EQ(view.addRunFile(QString::fromStdString(e2e)), QString());
    EXPECT_EQ(view.addRunFile(QString::fromStdString(block)), QString());
    EXPECT_FALSE(view.addRunFile(QString::fromStdString(dir.file("missing.h5"))).isEmpty());
    ASSERT_EQ(view.runPaths().size(), 2);

    // Loss: one graph per run, loss 1/(s+1) at steps 0…n−1, labelled method bits samples×epochs.
    const int steps[] = { 6, 4 };
    for (int i = 0; i < 2; ++i) {
        const auto graphs = view.graphsOfRun(i);
        ASSERT_EQ(graphs.size(), 1u);
        ASSERT_EQ(graphs[0]->dataCount(), steps[i]);
        for (int s = 0; s < steps[i]; ++s) {
            EXPECT_EQ(graphs[0]->data()->at(s)->key, double(s));
            EXPECT_DOUBLE_EQ(graphs[0]->data()->at(s)->value, 1.0 / double(s + 1));
        }
    }
    EXPECT_EQ(view.graphsOfRun(0)[0]->name(), QStringLiteral("mobilequant W8A8, 128×2"));
    EXPECT_EQ(view.graphsOfRun(1)[0]->name(), QStringLiteral("blockwise W8A8, 256×1"));
    EXPECT_NE(view.graphsOfRun(0)[0]->pen().color(), view.graphsOfRun(1)[0]->pen().color());
    EXPECT_EQ(view.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);

    // Live: a step appended to the first run adds one point, nothing rebuilt.
    QCPGraph *first = view.graphsOfRun(0)[0];
    EXPECT_TRUE(view.appendStep(view.runPaths()[0], 6, 0.1));
    EXPECT_EQ(view.graphsOfRun(0)[0], first);
    EXPECT_EQ(first->dataCount(), 7);
    EXPECT_FALSE(view.appendStep(view.runPaths()[0], 6, 0.1));

    // Range of one site: fmax and fmin per run, the file's values.
    const std::string site = "layers.1.mlp.down.in";
    const std::size_t column = test::siteColumn(site);
    view.setMode(RunComparisonView::Mode::Range);
    view.setRangeSite(QString::fromStdString(site));
    const int snapshots[] = { 3, 2 };
    for (int i = 0; i < 2; ++i) {
        const auto graphs = view.graphsOfRun(i);
        ASSERT_EQ(graphs.size(), 2u);
        ASSERT_EQ(graphs[0]->dataCount(), snapshots[i]);
        for (int k = 0; k < snapshots[i]; ++k) {
            EXPECT_EQ(graphs[0]->data()->at(k)->key, 10.0 * k);
            EXPECT_EQ(graphs[0]->data()->at(k)->value, double(test::testFmax(column, k)));
            EXPECT_EQ(graphs[1]->data()->at(k)->value, double(test::testFmin(column, k)));
        }
    }
    EXPECT_EQ(view.plot()->yAxis->scaleType(), QCPAxis::stLinear);

    const QString png = QString::fromStdString(dir.file("compare.png"));
    EXPECT_EQ(exportPlot(view.plot(), png), QString());
    EXPECT_GT(QFileInfo(png).size(), 1000);

    EXPECT_TRUE(view.removeRun(view.runPaths()[0]));
    EXPECT_EQ(view.runPaths().size(), 1);
    EXPECT_EQ(view.graphsOfRun(0)[0]->name(), QStringLiteral("blockwise W8A8, 256×1"));
}

TEST(RunComparisonView, RunLabelLeavesOutWhatIsUnknown)
{
    RunSummary run;
    run.path = QStringLiteral("/runs/a.h5");
    EXPECT_EQ(runLabel(run), QStringLiteral("a.h5"));
    run.method = QStringLiteral("rtn");
    run.bits = QStringLiteral("W4A8");
    EXPECT_EQ(runLabel(run), QStringLiteral("rtn W4A8"));
    run.samples = 64;
    EXPECT_EQ(runLabel(run), QStringLiteral("rtn W4A8, 64 samples"));
    run.epochs = 0.5;
    EXPECT_EQ(runLabel(run), QStringLiteral("rtn W4A8, 64×0.5"));
}

} // namespace
} // namespace mq
