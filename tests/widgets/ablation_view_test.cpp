#include "view_test_data.h"

#include "widgets/ablation_view.h"
#include "widgets/plot_export.h"
#include "widgets/run_list_model.h"

#include "widgets/qcustomplot_include.h"

#include <QFileInfo>

#include <gtest/gtest.h>

#include <cmath>

namespace mq {
namespace {

using test::TempDir;

struct Ablation
{
    std::string name, method;
    int samples, epochs, steps;
    std::optional<double> ppl; // quantized
};

TEST(AblationView, PlotsPerplexityAgainstSamplesAndIterationsPerMethod)
{
    TempDir dir;
    // Table 2's shape: end-to-end keeps improving with samples and steps, block-wise saturates.
    const std::vector<Ablation> runs = {
        { "e2e_128", "mobilequant", 128, 1, 8, 14.0 },
        { "e2e_256", "mobilequant", 256, 1, 16, 13.0 },
        { "e2e_512", "mobilequant", 512, 1, 32, 12.5 },
        { "bw_256", "blockwise", 256, 1, 12, 13.6 },
        { "bw_128", "blockwise", 128, 1, 6, 13.8 },
        { "bw_e2", "blockwise", 128, 2, 12, 13.7 },
        { "no_eval", "mobilequant", 1024, 1, 4, std::nullopt },
    };
    std::vector<RunSummary> summaries;
    for (const Ablation &a : runs) {
        const std::string path = dir.file(a.name + ".h5");
        const std::string config = R"({"method":")" + a.method + R"(","bits":"W8A8","samples":)" + std::to_string(a.samples)
            + R"(,"epochs":)" + std::to_string(a.epochs) + "}";
        std::optional<std::pair<double, double>> ppl;
        if (a.ppl)
            ppl = std::make_pair(11.0, *a.ppl);
        test::writeViewRun(path, config, 1, a.steps, ppl);
        summaries.push_back(RunSummary::read(path));
    }

    AblationView view;
    view.resize(1100, 500);
    view.setRuns(summaries);
    EXPECT_EQ(view.methods(), QStringList({ QStringLiteral("mobilequant"), QStringLiteral("blockwise") }));
    const QString e2e = QStringLiteral("mobilequant"), bw = QStringLiteral("blockwise");

    auto expectPoints = [](QCPGraph *g, const std::vector<std::pair<double, double>> &points) {
        ASSERT_TRUE(g);
        ASSERT_EQ(g->dataCount(), int(points.size())) << g->name().toStdString();
        for (std::size_t i = 0; i < points.size(); ++i) {
            EXPECT_EQ(g->data()->at(int(i))->key, points[i].first);
            EXPECT_NEAR(g->data()->at(int(i))->value, points[i].second, 1e-6); // written with 6 decimals
        }
    };
    // Samples: one series per method and epoch count, (samples, perplexity) sorted by samples.
    expectPoints(view.samplesGraph(e2e, 1), { { 128, 14.0 }, { 256, 13.0 }, { 512, 12.5 } });
    expectPoints(view.samplesGraph(bw, 1), { { 128, 13.8 }, { 256, 13.6 } });
    expectPoints(view.samplesGraph(bw, 2), { { 128, 13.7 } });
    EXPECT_EQ(view.samplesGraph(e2e, 2), nullptr);

    // Iterations: one series per method and sample count; epochs by default, then the steps
    // recorded in each file.
    EXPECT_EQ(view.iterations(), AblationView::Iterations::Epochs);
    expectPoints(view.iterationsGraph(bw, 128), { { 1, 13.8 }, { 2, 13.7 } });
    expectPoints(view.iterationsGraph(bw, 256), { { 1, 13.6 } });
    expectPoints(view.iterationsGraph(e2e, 512), { { 1, 12.5 } });
    view.setIterations(AblationView::Iterations::Steps);
    expectPoints(view.iterationsGraph(bw, 128), { { 6, 13.8 }, { 12, 13.7 } });
    expectPoints(view.iterationsGraph(e2e, 256), { { 16, 13.0 } });
    EXPECT_EQ(view.iterationsGraph(e2e, 1024), nullptr); // the run without evaluation

    // The float perplexity as a reference line over the whole x range.
    QCPGraph *reference = nullptr;
    for (int i = 0; i < view.samplesPlot()->graphCount(); ++i)
        if (view.samplesPlot()->graph(i)->name().startsWith(QStringLiteral("float")))
            reference = view.samplesPlot()->graph(i);
    ASSERT_TRUE(reference);
    EXPECT_NEAR(reference->data()->at(0)->value, 11.0, 1e-6);
    EXPECT_LE(reference->data()->at(0)->key, 128.0);
    EXPECT_GE(reference->data()->at(reference->dataCount() - 1)->key, 512.0);

    // The run without evaluation is listed, with the reason.
    ASSERT_EQ(view.skipped().size(), 1u);
    EXPECT_TRUE(view.skipped()[0].path.endsWith(QStringLiteral("no_eval.h5")));
    EXPECT_TRUE(view.skipped()[0].reason.contains(QStringLiteral("no perplexity")));
    // Every point is labelled (one text item per point) with samples×epochs.
    ASSERT_EQ(view.samplesPlot()->itemCount(), 6);
    QStringList labels;
    for (int i = 0; i < view.samplesPlot()->itemCount(); ++i)
        labels << qobject_cast<QCPItemText *>(view.samplesPlot()->item(i))->text();
    EXPECT_TRUE(labels.contains(QStringLiteral("128×2")));
    EXPECT_TRUE(labels.contains(QStringLiteral("512×1")));

    const QString png = QString::fromStdString(dir.file("ablation.png"));
    EXPECT_EQ(exportPlot(view.samplesPlot(), png), QString());
    EXPECT_GT(QFileInfo(png).size(), 1000);
    EXPECT_EQ(exportPlot(view.iterationsPlot(), QString::fromStdString(dir.file("iter.pdf"))), QString());
}

TEST(AblationView, RunsWithoutSamplesAreListedForThatPlot)
{
    RunSummary run;
    run.path = QStringLiteral("/runs/x.h5");
    run.method = QStringLiteral("rtn");
    run.quantPerplexity = 20.0;
    run.steps = 0;
    AblationView view;
    view.setRuns({ run });
    ASSERT_EQ(view.skipped().size(), 2u); // no samples, no epochs
    EXPECT_TRUE(view.skipped()[0].reason.contains(QStringLiteral("samples")));
    EXPECT_TRUE(view.skipped()[1].reason.contains(QStringLiteral("epochs")));
    view.setIterations(AblationView::Iterations::Steps);
    ASSERT_EQ(view.skipped().size(), 2u); // no samples, no steps
    EXPECT_TRUE(view.skipped()[1].reason.contains(QStringLiteral("steps")));
    EXPECT_EQ(view.samplesGraph(QStringLiteral("rtn"), std::nan("")), nullptr);
}

} // namespace
} // namespace mq
