// The window as a researcher uses it (issue 4's "done when"): open stories260K, start an
// end-to-end MobileQuant calibration from the form, watch the views fill while it runs, pause,
// resume, stop; then run a block-wise calibration and compare the two runs.
#include "app/workbench/calibration_panel.h"
#include "app/workbench/main_window.h"
#include "app/workbench/method_form.h"
#include "app/workbench/run_display.h"
#include "core/store/run_reader.h"
#include "widgets/outlier_inspector.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/range_evolution_view.h"
#include "widgets/run_comparison_view.h"
#include "widgets/run_list_model.h"
#include "widgets/site_tree_model.h"
#include "widgets/training_view.h"
#include "widgets/transform_scale_view.h"
#include "workbench_test_util.h"

#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

using namespace mq;
namespace fs = std::filesystem;

namespace {

int lossPoints(MainWindow &w)
{
    QCustomPlot *plot = w.trainingView()->plot();
    return plot->graphCount() > 0 ? plot->graph(0)->dataCount() : 0;
}

// The values the tree shows for a site: fmin, fmax, clipping %, SQNR.
std::vector<double> siteRow(MainWindow &w, const std::string &site)
{
    const QModelIndex i = w.siteModel()->indexOfSite(site);
    std::vector<double> values;
    for (int c : { int(SiteTreeModel::FminColumn), int(SiteTreeModel::FmaxColumn), int(SiteTreeModel::ClipRateColumn),
             int(SiteTreeModel::SqnrColumn) })
        values.push_back(i.siblingAtColumn(c).data(SiteTreeModel::SortRole).toDouble());
    return values;
}

bool sameValues(const std::vector<double> &a, const std::vector<double> &b)
{
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))))
            return false;
    return true;
}

} // namespace

TEST(WorkbenchWindow, CalibrateFromTheWindowPauseStopAndCompareWithBlockwise)
{
    test::TempDir dir;
    const fs::path calib = test::calibrationText(dir.path());
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    w.resize(1400, 900);
    w.show();

    ASSERT_TRUE(w.openModel(QString::fromStdString(test::stories260K().string()))) << w.lastError().toStdString();
    // stories260K: 5 layers and the model-level sites, before any run.
    EXPECT_EQ(w.siteModel()->rowCount(), 6);
    const std::string watched = "layers.0.mlp.down.in";
    ASSERT_TRUE(w.selectSite(QString::fromStdString(watched)));

    CalibrationPanel *panel = w.calibrationPanel();
    const QString e2ePath = QString::fromStdString(dir.file("e2e.h5"));
    panel->setCalibPath(QString::fromStdString(calib.string()));
    panel->setRunPath(e2ePath);
    ASSERT_TRUE(panel->setMethod(QStringLiteral("mobilequant")));
    // Long enough to pause in the middle (4 windows × 60 epochs = 240 steps); stopped below.
    ASSERT_TRUE(panel->methodForm()->setValue(QStringLiteral("epochs"), 60));
    panel->setSamples(4);
    panel->setSeqLen(32);
    panel->setBits(QStringLiteral("W8A8"));

    QSignalSpy finished(&w, &MainWindow::runFinished);
    QSignalSpy treeChanged(w.siteModel(), &QAbstractItemModel::dataChanged);
    QTest::mouseClick(panel->startButton(), Qt::LeftButton);
    ASSERT_EQ(w.runner()->state(), CalibrationRunner::State::Running) << w.lastError().toStdString();
    EXPECT_FALSE(panel->startButton()->isEnabled());

    // The training graph grows while the run goes on.
    ASSERT_TRUE(test::waitUntil([&] { return lossPoints(w) >= 5; }, 40000)) << w.lastError().toStdString();
    const int early = lossPoints(w);
    ASSERT_TRUE(test::waitUntil([&] { return lossPoints(w) > early + 10; }, 20000));

    // Snapshots (every 10 steps) reach the tree, the range view, the inspector and the scales.
    ASSERT_TRUE(test::waitUntil([&] { return w.display()->snapshotsShown() >= 2; }, 20000));
    const std::vector<double> first = siteRow(w, watched);
    ASSERT_TRUE(test::waitUntil([&] { return !sameValues(siteRow(w, watched), first); }, 20000))
        << "the watched site's values in the tree change from snapshot to snapshot";
    EXPECT_GT(treeChanged.count(), 0) << "updated in place, not reset";
    const QStringList shown = w.rangeView()->shownSites();
    ASSERT_TRUE(shown.contains(QString::fromStdString(watched))) << shown.join(',').toStdString();
    EXPECT_GE(w.rangeView()->plot()->graph(0)->dataCount(), 2);
    EXPECT_TRUE(w.inspector()->histogramShown());
    EXPECT_EQ(w.inspector()->data().site, watched);
    EXPECT_GT(w.inspector()->histogramBars()->data()->size(), 0);
    EXPECT_TRUE(w.inspector()->channelsShown());
    EXPECT_GE(w.scaleView()->snapshotCount(), 2u);
    EXPECT_GT(w.progressBar()->value(), 0);
    // The running calibration is already in the comparison, its loss curve growing.
    ASSERT_EQ(w.comparisonView()->runPaths(), QStringList { QFileInfo(e2ePath).absoluteFilePath() });
    EXPECT_GE(w.comparisonView()->graphsOfRun(0).at(0)->dataCount(), early + 10);

    // Pause: after the step in flight, nothing moves.
    QTest::mouseClick(panel->pauseButton(), Qt::LeftButton);
    EXPECT_EQ(w.runner()->state(), CalibrationRunner::State::Paused);
    EXPECT_EQ(panel->pauseButton()->text(), QStringLiteral("Resume"));
    const std::int64_t atPause = w.display()->lastStep();
    QTest::qWait(2000); // the step in flight ends (slow on a loaded machine) and its event arrives
    const std::int64_t heldAt = w.display()->lastStep();
    // The step in flight, and one more whose event was still in the bridge at the click.
    EXPECT_LE(heldAt, atPause + 2);
    const int heldPoints = lossPoints(w);
    QTest::qWait(1500);
    EXPECT_EQ(w.display()->lastStep(), heldAt) << "no step runs while paused";
    EXPECT_EQ(lossPoints(w), heldPoints);

    // Resume, then stop.
    QTest::mouseClick(panel->pauseButton(), Qt::LeftButton);
    EXPECT_EQ(w.runner()->state(), CalibrationRunner::State::Running);
    ASSERT_TRUE(test::waitUntil([&] { return w.display()->lastStep() > heldAt + 3; }, 20000));
    QTest::mouseClick(panel->stopButton(), Qt::LeftButton);
    ASSERT_TRUE(test::waitUntil([&] { return finished.count() == 1; }, 30000));
    const auto e2e = finished.at(0).at(0).value<RunOutcome>();
    EXPECT_EQ(e2e.status, RunOutcome::Status::Cancelled) << e2e.error.toStdString();
    EXPECT_LT(e2e.steps, 240);
    EXPECT_EQ(w.runner()->state(), CalibrationRunner::State::Idle);
    EXPECT_TRUE(panel->startButton()->isEnabled());
    {
        // The window showed every step the run file holds, the last one included.
        const RunReader file = RunReader::open(e2ePath.toStdString());
        const TrainSeries t = file.train();
        ASSERT_FALSE(t.step.empty());
        EXPECT_EQ(w.display()->lastStep(), t.step.back());
        EXPECT_EQ(std::size_t(lossPoints(w)), t.step.size());
    }

    // A block-wise run from the same window: 1 epoch × 2 windows × 5 layers = 10 steps.
    const QString bwPath = QString::fromStdString(dir.file("blockwise.h5"));
    ASSERT_TRUE(panel->setMethod(QStringLiteral("blockwise")));
    ASSERT_TRUE(panel->methodForm()->setValue(QStringLiteral("epochs"), 1));
    panel->setRunPath(bwPath);
    panel->setSamples(2);
    ASSERT_TRUE(w.startCalibration()) << w.lastError().toStdString();
    ASSERT_TRUE(test::waitUntil([&] { return finished.count() == 2; }, 50000));
    const auto bw = finished.at(1).at(0).value<RunOutcome>();
    ASSERT_EQ(bw.status, RunOutcome::Status::Finished) << bw.error.toStdString();
    EXPECT_EQ(bw.steps, 10);

    // Reopen the end-to-end run: it is shown again, and both runs are listed and compared.
    ASSERT_TRUE(w.openRun(e2ePath)) << w.lastError().toStdString();
    EXPECT_EQ(w.display()->runPath(), QFileInfo(e2ePath).absoluteFilePath());
    EXPECT_FALSE(w.display()->live());
    RunListModel *runs = w.runList();
    ASSERT_EQ(runs->rowCount(), 2);
    const int e2eRow = runs->rowOfPath(QFileInfo(e2ePath).absoluteFilePath());
    const int bwRow = runs->rowOfPath(QFileInfo(bwPath).absoluteFilePath());
    ASSERT_GE(e2eRow, 0);
    ASSERT_GE(bwRow, 0);
    EXPECT_EQ(runs->run(e2eRow).method, QStringLiteral("mobilequant"));
    EXPECT_EQ(runs->run(bwRow).method, QStringLiteral("blockwise"));
    EXPECT_EQ(runs->run(bwRow).steps, 10u);

    RunComparisonView *cmp = w.comparisonView();
    ASSERT_EQ(cmp->mode(), RunComparisonView::Mode::Loss);
    ASSERT_EQ(cmp->runPaths().size(), 2);
    int curves = 0;
    for (int i = 0; i < 2; ++i) {
        const std::vector<QCPGraph *> graphs = cmp->graphsOfRun(i);
        ASSERT_EQ(graphs.size(), 1u) << "one loss curve per run";
        const QString path = cmp->runPaths()[i];
        const std::size_t steps = RunReader::open(path.toStdString()).train().step.size();
        EXPECT_EQ(std::size_t(graphs[0]->dataCount()), steps) << path.toStdString();
        curves += graphs[0]->dataCount() > 0;
    }
    EXPECT_EQ(curves, 2);
}

TEST(WorkbenchWindow, ErrorsSayWhatToDo)
{
    test::TempDir dir;
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);

    // Nothing chosen yet.
    EXPECT_FALSE(w.startCalibration());
    EXPECT_TRUE(w.lastError().contains(QStringLiteral("choose"))) << w.lastError().toStdString();

    // A checkpoint without a tokenizer beside it.
    const fs::path lonely = dir.path() / "lonely" / "model.bin";
    fs::create_directories(lonely.parent_path());
    fs::copy_file(test::stories260K(), lonely);
    ASSERT_TRUE(w.openModel(QString::fromStdString(lonely.string())));
    w.calibrationPanel()->setCalibPath(QString::fromStdString(test::calibrationText(dir.path()).string()));
    w.calibrationPanel()->setRunPath(QString::fromStdString(dir.file("run.h5")));
    EXPECT_FALSE(w.startCalibration());
    EXPECT_TRUE(w.lastError().contains(QStringLiteral("tokenizer"))) << w.lastError().toStdString();

    // A file that is not a run file.
    const std::string notes = dir.file("notes.h5");
    std::ofstream(notes) << "not hdf5";
    EXPECT_FALSE(w.openRun(QString::fromStdString(notes)));
    EXPECT_TRUE(w.lastError().contains(QString::fromStdString(notes))) << w.lastError().toStdString();
    EXPECT_EQ(w.runList()->rowCount(), 0);

    // A failing session (unreadable calibration text found only by the worker) comes back as a
    // message with the session's error text.
    w.calibrationPanel()->setModelPath(QString::fromStdString(test::stories260K().string()));
    const fs::path emptyCalib = dir.path() / "empty.txt";
    std::ofstream(emptyCalib) << "";
    w.calibrationPanel()->setCalibPath(QString::fromStdString(emptyCalib.string()));
    QSignalSpy finished(&w, &MainWindow::runFinished);
    ASSERT_TRUE(w.startCalibration()) << w.lastError().toStdString();
    ASSERT_TRUE(test::waitUntil([&] { return finished.count() == 1; }, 30000));
    const auto o = finished.at(0).at(0).value<RunOutcome>();
    EXPECT_EQ(o.status, RunOutcome::Status::Failed);
    EXPECT_FALSE(o.error.isEmpty());
    EXPECT_EQ(w.lastError(), o.error);
}

TEST(WorkbenchWindow, AStoppedRunContinuesFromItsCheckpoint)
{
    test::TempDir dir;
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    ASSERT_TRUE(w.openModel(QString::fromStdString(test::stories260K().string())));
    CalibrationPanel *panel = w.calibrationPanel();
    const QString run = QString::fromStdString(dir.file("resumed.h5"));
    panel->setCalibPath(QString::fromStdString(test::calibrationText(dir.path()).string()));
    panel->setRunPath(run);
    ASSERT_TRUE(panel->setMethod(QStringLiteral("mobilequant")));
    ASSERT_TRUE(panel->methodForm()->setValue(QStringLiteral("epochs"), 30)); // 2 windows: 60 steps
    panel->setSamples(2);
    panel->setSeqLen(16);
    QSignalSpy finished(&w, &MainWindow::runFinished);
    ASSERT_TRUE(w.startCalibration()) << w.lastError().toStdString();
    // Past the checkpoint at step 50 (the session checkpoints every 50 steps), then stop.
    ASSERT_TRUE(test::waitUntil([&] { return w.display()->lastStep() >= 51; }, 40000));
    w.stopCalibration();
    ASSERT_TRUE(test::waitUntil([&] { return finished.count() == 1; }, 30000));
    ASSERT_EQ(finished.at(0).at(0).value<RunOutcome>().status, RunOutcome::Status::Cancelled);

    ASSERT_TRUE(w.continueRun(run)) << w.lastError().toStdString();
    ASSERT_TRUE(test::waitUntil([&] { return finished.count() == 2; }, 40000));
    const auto o = finished.at(1).at(0).value<RunOutcome>();
    ASSERT_EQ(o.status, RunOutcome::Status::Finished) << o.error.toStdString();
    // The file holds every step once: 1–50 from the first run, 51–60 from the continuation.
    const TrainSeries t = RunReader::open(run.toStdString()).train();
    ASSERT_EQ(t.step.size(), 60u);
    for (std::size_t i = 0; i < t.step.size(); ++i)
        EXPECT_EQ(t.step[i], std::int64_t(i + 1));
    EXPECT_EQ(w.display()->lastStep(), 60) << "the continuation is shown live";
}
