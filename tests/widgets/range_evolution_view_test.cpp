#include "widget_test_util.h"

#include "core/store/run_reader.h"
#include "widgets/plot_export.h"
#include "widgets/range_evolution_view.h"

#include "widgets/qcustomplot_include.h"

#include <QDir>
#include <QFileInfo>

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

namespace mq {
namespace {

using test::TempDir;

constexpr int kPerSite = RangeEvolutionView::kGraphsPerSite;
constexpr int kSnapshots = 6; // steps 0, 10, …, 50

const char *kConfig = R"({"method":"mobilequant","bits":"W4A8","samples":128,"epochs":2,"seqlen":256})";

std::size_t columnOf(const std::vector<std::string> &sites, const std::string &name)
{
    return std::size_t(std::find(sites.begin(), sites.end(), name) - sites.begin());
}

// Each of the site's graphs, in the view's order (fmax, fmin, initial fmax, initial fmin), holds
// one point per snapshot k at step 10·k: the file's values, and the first snapshot's for the
// initial lines. The file holds float32, so the values compare exactly.
void expectSiteGraphs(QCustomPlot *plot, int firstGraph, std::size_t column, int snapshots)
{
    QCPGraph *fmax = plot->graph(firstGraph);
    QCPGraph *fmin = plot->graph(firstGraph + 1);
    QCPGraph *initialFmax = plot->graph(firstGraph + 2);
    QCPGraph *initialFmin = plot->graph(firstGraph + 3);
    for (QCPGraph *g : { fmax, fmin, initialFmax, initialFmin })
        ASSERT_EQ(g->dataCount(), snapshots) << g->name().toStdString();
    for (int k = 0; k < snapshots; ++k) {
        SCOPED_TRACE(k);
        EXPECT_EQ(fmax->data()->at(k)->key, 10.0 * k);
        EXPECT_EQ(fmin->data()->at(k)->key, 10.0 * k);
        EXPECT_EQ(fmax->data()->at(k)->value, double(test::testFmax(column, k)));
        EXPECT_EQ(fmin->data()->at(k)->value, double(test::testFmin(column, k)));
        EXPECT_EQ(initialFmax->data()->at(k)->value, double(test::testFmax(column, 0)));
        EXPECT_EQ(initialFmin->data()->at(k)->value, double(test::testFmin(column, 0)));
    }
}

std::int64_t fileSize(const QString &path) { return QFileInfo(path).size(); }

class RangeEvolutionViewTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        {
            auto writer = RunWriter::create(path, test::twoLayerHeader(kConfig));
            for (int k = 0; k < kSnapshots; ++k)
                test::appendSnapshot(writer, k);
            writer.close();
        }
        const auto reader = RunReader::open(path);
        sites = reader.header().sites;
        view.resize(900, 540);
        view.setSeries(reader.ranges(), sites);
    }

    TempDir dir;
    std::string path = dir.file("run.h5");
    std::vector<std::string> sites;
    RangeEvolutionView view;
};

TEST_F(RangeEvolutionViewTest, ShowsTheSelectedSitesRangesFromTheRunFile)
{
    QCustomPlot *plot = view.plot();
    EXPECT_EQ(plot->graphCount(), 0); // nothing selected yet
    EXPECT_EQ(plot->xAxis->label(), QStringLiteral("step"));
    EXPECT_EQ(plot->yAxis->label(), QStringLiteral("activation value"));

    const QStringList chosen = { QStringLiteral("layers.0.attn_norm.in"), QStringLiteral("layers.1.mlp.down.in"),
        QStringLiteral("lm_head.in") };
    view.setSelectedSites(chosen + QStringList { QStringLiteral("layers.9.no.such.site") });
    EXPECT_EQ(view.shownSites(), chosen);
    ASSERT_EQ(plot->graphCount(), kPerSite * 3);

    for (int s = 0; s < 3; ++s) {
        SCOPED_TRACE(chosen[s].toStdString());
        const std::size_t column = columnOf(sites, chosen[s].toStdString());
        ASSERT_LT(column, sites.size());
        expectSiteGraphs(plot, kPerSite * s, column, kSnapshots);

        // One colour per site; fmax solid and in the legend under the site's name, fmin dashed.
        QCPGraph *fmax = plot->graph(kPerSite * s);
        EXPECT_EQ(fmax->name(), chosen[s]);
        EXPECT_TRUE(plot->legend->hasItemWithPlottable(fmax));
        EXPECT_EQ(fmax->pen().style(), Qt::SolidLine);
        EXPECT_EQ(plot->graph(kPerSite * s + 1)->pen().style(), Qt::DashLine);
        for (int g = 1; g < kPerSite; ++g) {
            EXPECT_EQ(plot->graph(kPerSite * s + g)->pen().color(), fmax->pen().color());
            EXPECT_FALSE(plot->legend->hasItemWithPlottable(plot->graph(kPerSite * s + g)));
        }
        EXPECT_LT(plot->graph(kPerSite * s + 2)->pen().widthF(), fmax->pen().widthF()); // the thin initial line
        if (s > 0) {
            EXPECT_NE(fmax->pen().color(), plot->graph(kPerSite * (s - 1))->pen().color());
        }
    }
    EXPECT_EQ(plot->legend->itemCount(), 3);

    // The axes hold every point, with a margin on each side.
    double lo = 0.0, hi = 0.0;
    for (int s = 0; s < 3; ++s) {
        const std::size_t column = columnOf(sites, chosen[s].toStdString());
        lo = std::min(lo, double(test::testFmin(column, kSnapshots - 1)));
        hi = std::max(hi, double(test::testFmax(column, kSnapshots - 1)));
    }
    EXPECT_LT(plot->yAxis->range().lower, lo);
    EXPECT_GT(plot->yAxis->range().upper, hi);
    EXPECT_LT(plot->yAxis->range().lower, lo - 0.01 * (hi - lo) + 1e-12);
    EXPECT_LT(plot->xAxis->range().lower, 0.0);
    EXPECT_GT(plot->xAxis->range().upper, 10.0 * (kSnapshots - 1));

    if (qEnvironmentVariableIsSet("MQ_SCREENSHOT_DIR")) {
        view.show();
        plot->replot();
        const QString shot = QDir(qEnvironmentVariable("MQ_SCREENSHOT_DIR")).filePath(QStringLiteral("range_view.png"));
        EXPECT_TRUE(view.grab().save(shot)) << shot.toStdString();
    }
}

TEST_F(RangeEvolutionViewTest, AppendingASnapshotAddsOnePointPerGraph)
{
    const QStringList chosen = { QStringLiteral("layers.0.mlp.down.in"), QStringLiteral("final_norm.in") };
    view.setSelectedSites(chosen);
    QCustomPlot *plot = view.plot();
    ASSERT_EQ(plot->graphCount(), kPerSite * 2);
    std::vector<QCPGraph *> before;
    for (int g = 0; g < plot->graphCount(); ++g)
        before.push_back(plot->graph(g));

    const int k = kSnapshots; // the next snapshot of the test pattern, at step 60
    std::vector<float> fmin(sites.size()), fmax(sites.size());
    for (std::size_t i = 0; i < sites.size(); ++i) {
        fmin[i] = test::testFmin(i, k);
        fmax[i] = test::testFmax(i, k);
    }
    ASSERT_TRUE(view.appendSnapshot(10 * k, fmin, fmax));

    // The same graphs (no rebuild), one point more each.
    ASSERT_EQ(plot->graphCount(), kPerSite * 2);
    for (int g = 0; g < plot->graphCount(); ++g)
        EXPECT_EQ(plot->graph(g), before[std::size_t(g)]);
    for (int s = 0; s < 2; ++s)
        expectSiteGraphs(plot, kPerSite * s, columnOf(sites, chosen[s].toStdString()), kSnapshots + 1);
    EXPECT_GT(plot->xAxis->range().upper, 10.0 * k); // the axes follow the data

    // Refused, and nothing added: a step that does not follow, or the wrong number of sites.
    EXPECT_FALSE(view.appendSnapshot(10 * k, fmin, fmax));
    EXPECT_FALSE(view.appendSnapshot(10 * k + 10, { 0.0f }, { 1.0f }));
    for (int g = 0; g < plot->graphCount(); ++g)
        EXPECT_EQ(plot->graph(g)->dataCount(), kSnapshots + 1);

    // A later selection change rebuilds from the series including the appended snapshot.
    view.setSelectedSites({ chosen[1] });
    ASSERT_EQ(plot->graphCount(), kPerSite);
    expectSiteGraphs(plot, 0, columnOf(sites, chosen[1].toStdString()), kSnapshots + 1);
}

TEST_F(RangeEvolutionViewTest, ChangingTheSelectionRebuildsTheGraphsForTheNewSites)
{
    QCustomPlot *plot = view.plot();
    view.setSelectedSites({ QStringLiteral("layers.0.attn_norm.in") });
    ASSERT_EQ(plot->graphCount(), kPerSite);

    const QStringList next = { QStringLiteral("layers.1.attn.qk.out"), QStringLiteral("layers.0.mlp_norm.in") };
    view.setSelectedSites(next);
    EXPECT_EQ(view.shownSites(), next);
    ASSERT_EQ(plot->graphCount(), kPerSite * 2);
    for (int s = 0; s < 2; ++s) {
        SCOPED_TRACE(next[s].toStdString());
        EXPECT_EQ(plot->graph(kPerSite * s)->name(), next[s]);
        const std::size_t column = columnOf(sites, next[s].toStdString());
        ASSERT_LT(column, sites.size());
        expectSiteGraphs(plot, kPerSite * s, column, kSnapshots);
    }
    EXPECT_EQ(plot->legend->itemCount(), 2);

    view.setSelectedSites({});
    EXPECT_EQ(plot->graphCount(), 0);
    EXPECT_EQ(plot->legend->itemCount(), 0);
}

TEST(RangeEvolutionViewLive, TheFirstAppendedSnapshotIsTheInitialRange)
{
    RangeSeries empty;
    empty.sites = 2;
    RangeEvolutionView view;
    view.setSeries(empty, { "layers.0.attn_norm.in", "lm_head.in" });
    view.setSelectedSites({ QStringLiteral("lm_head.in") });
    QCustomPlot *plot = view.plot();
    ASSERT_EQ(plot->graphCount(), kPerSite);
    EXPECT_EQ(plot->graph(0)->dataCount(), 0);

    ASSERT_TRUE(view.appendSnapshot(0, { -1.0f, -2.0f }, { 1.0f, 3.0f }));
    ASSERT_TRUE(view.appendSnapshot(5, { -1.5f, -2.5f }, { 1.5f, 3.5f }));
    EXPECT_EQ(plot->graph(0)->data()->at(1)->value, 3.5);
    EXPECT_EQ(plot->graph(1)->data()->at(1)->value, -2.5);
    EXPECT_EQ(plot->graph(2)->data()->at(1)->value, 3.0);
    EXPECT_EQ(plot->graph(3)->data()->at(1)->value, -2.0);
}

TEST_F(RangeEvolutionViewTest, ExportsPngAndPdf)
{
    view.setSelectedSites({ QStringLiteral("layers.0.attn_norm.in"), QStringLiteral("lm_head.in") });
    const QString png = QString::fromStdString(dir.file("ranges.png"));
    const QString pdf = QString::fromStdString(dir.file("ranges.PDF"));
    EXPECT_EQ(exportPlot(view.plot(), png), QString());
    EXPECT_EQ(exportPlot(view.plot(), pdf), QString());
    EXPECT_GT(fileSize(png), 1000);
    EXPECT_GT(fileSize(pdf), 1000);
    std::ifstream pdfFile(pdf.toStdString(), std::ios::binary);
    std::string magic(5, '\0');
    pdfFile.read(magic.data(), 5);
    EXPECT_EQ(magic, "%PDF-");
    EXPECT_FALSE(QImage(png).isNull());

    const QString svg = QString::fromStdString(dir.file("ranges.svg"));
    const QString error = exportPlot(view.plot(), svg);
    EXPECT_TRUE(error.contains(svg)) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("unsupported file type \"svg\""))) << error.toStdString();
    EXPECT_FALSE(QFileInfo::exists(svg));

    const QString unwritable = QString::fromStdString(dir.file("no/such/folder/ranges.png"));
    const QString writeError = exportPlot(view.plot(), unwritable);
    EXPECT_TRUE(writeError.contains(unwritable)) << writeError.toStdString();
    EXPECT_TRUE(writeError.contains(QStringLiteral("could not write"))) << writeError.toStdString();
}

} // namespace
} // namespace mq
