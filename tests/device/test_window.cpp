// The one-click flow from the real window, offscreen: MainWindow with the built plugins,
// a calibration run opened in it, View > Devices, Refresh, then a click on Benchmark against a
// virtual phone that this test starts (its own adb server and port). Small token counts keep it
// short; the dock's defaults (A16, W8A8, W4A8) choose the variants.

#include "app/workbench/main_window.h"
#include "app/workbench/run_display.h"
#include "core/device/results.h"
#include "core/store/device_results.h"
#include "tests/device/virtual_phone.h"
#include "tests/workbench/workbench_test_util.h"
#include "widgets/devices/benchmark_history_model.h"
#include "widgets/devices/benchmark_plots.h"
#include "widgets/devices/device_list_model.h"
#include "widgets/devices/devices_dock.h"

#include <QAction>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTest>

#include "widgets/qcustomplot_include.h"
#include <gtest/gtest.h>

#include <cstdio>

namespace fs = std::filesystem;

TEST(DevicesWindow, ThreeVariantBenchmarkFromTheWindow)
{
    const mq::test::Packages &p = mq::test::packages();
    mq::test::TempDir dir;
    mq::test::VirtualPhone phone(dir.path() / "device");
    phone.connect();
    // The window's android-adb back-end uses the default settings: point this process's adb at
    // the test's private server (port, HOME) so that a developer's adb server is never touched.
    for (const auto &[key, value] : phone.adb().environment())
        qputenv(key.c_str(), QByteArray::fromStdString(value));
    const fs::path run = dir.path() / "calib.h5";
    fs::copy_file(fs::path(MQ_DEVICE_TEST_CACHE) / "w8a8.h5", run);

    mq::MainWindow window(mq::test::builtPlugins());
    window.resize(1400, 900);
    window.show();
    ASSERT_TRUE(window.openRun(QString::fromStdString(run.string()))) << "the run whose packages are exported";
    mq::DevicesDock *dock = window.devicesDock();
    ASSERT_NE(dock, nullptr) << "the android-adb plugin did not load";
    EXPECT_FALSE(dock->isVisible());

    // View > Devices opens the dock.
    QAction *devices = nullptr;
    for (QAction *menu : window.menuBar()->actions())
        if (menu->menu() && menu->text().remove(QLatin1Char('&')) == QStringLiteral("View"))
            for (QAction *a : menu->menu()->actions())
                if (a->text() == QStringLiteral("Devices"))
                    devices = a;
    ASSERT_NE(devices, nullptr);
    devices->trigger();
    ASSERT_TRUE(dock->isVisible());

    // The calibration run is W8A8: A16 and W8A8 are exported from it, W4A8 is a ready package.
    dock->setPackages({ QString::fromStdString(p.w4a8) });
    dock->setTokens(64, 32, 3);
    dock->setRunnerPath(QStringLiteral(MQ_RUN));
    dock->setCliPath(QStringLiteral(MQ_CLI));
    dock->setPowerHz(100);
    QSignalSpy listed(dock, &mq::DevicesDock::devicesChanged);
    dock->refresh();
    ASSERT_TRUE(listed.wait(20000));
    ASSERT_TRUE(dock->hasDevices());
    ASSERT_TRUE(dock->benchmarkButton()->isEnabled()) << "the only ready device is selected";

    QSignalSpy done(dock, &mq::DevicesDock::benchmarksDone);
    QSignalSpy finished(dock, &mq::DevicesDock::benchmarkFinished);
    QTest::mouseClick(dock->benchmarkButton(), Qt::LeftButton);
    ASSERT_TRUE(mq::test::waitUntil([&] { return !done.isEmpty(); }, 90000)) << dock->logText().toStdString();
    ASSERT_EQ(finished.size(), 1) << dock->logText().toStdString();
    EXPECT_TRUE(finished.front().at(2).toBool()) << dock->statusText().toStdString();
    // Stored in the calibration run the window shows: the window lets go of the file while the
    // benchmark writes it (without that, HDF5 refuses and the results go beside it), then
    // shows it again.
    const std::string resultsFile = finished.front().at(0).toString().toStdString();
    EXPECT_EQ(resultsFile, run.string()) << dock->logText().toStdString();
    EXPECT_FALSE(fs::exists(dir.path() / "calib-device-benchmarks.h5"));
    EXPECT_EQ(window.display()->runPath().toStdString(), run.string());
    EXPECT_GT(window.display()->snapshotsShown(), 0) << "the run is shown again after the benchmark";

    // Plots: three variants in order, the baseline first; the status names the power source.
    const mq::device::BenchmarkReport &report = dock->plots()->report();
    ASSERT_EQ(report.variants.size(), 3u);
    EXPECT_EQ(report.variants[0].variant, "a16");
    EXPECT_EQ(report.variants[1].variant, "w8a8");
    EXPECT_EQ(report.variants[2].variant, "w4a8");
    EXPECT_TRUE(report.simulated);
    EXPECT_EQ(dock->plots()->latencyPlot()->plottableCount(), 12);
    EXPECT_EQ(dock->plots()->energyPlot()->plottableCount(), 6);
    EXPECT_EQ(dock->plots()->temperaturePlot()->graphCount(), 3);
    EXPECT_TRUE(dock->statusText().contains(QStringLiteral("battery"))) << dock->statusText().toStdString();

    // History and run file: the benchmark is stored in the calibration run, every sample kept, and
    // its energy equals the integral of the stored power samples.
    EXPECT_EQ(dock->historyModel()->rowCount(), 1);
    const auto stored = mq::readDeviceBenchmarks(resultsFile);
    ASSERT_EQ(stored.size(), 1u);
    const mq::device::BenchmarkReport &b = stored[0].report;
    EXPECT_TRUE(b.error.empty()) << b.error;
    ASSERT_EQ(b.variants.size(), 3u);
    for (const auto &v : b.variants) {
        SCOPED_TRACE(v.name);
        ASSERT_EQ(v.energyPerInferenceJ.values.size(), 3u);
        const auto &m = v.marks;
        ASSERT_EQ(m.size(), 12u);
        const double whole = m[3].seconds - m[0].seconds;
        const double e = mq::device::trapezoidIntegral(v.trace.seconds, v.trace.watts, m[0].seconds, m[3].seconds)
            - b.idleWatts * whole;
        EXPECT_NEAR(v.energyPerInferenceJ.values[0], e, 0.01 * std::fabs(e) + 1e-12);
    }
    EXPECT_TRUE(fs::exists(dir.path() / "calib-a16.mqpkg"));
    EXPECT_TRUE(fs::exists(dir.path() / "calib-w8a8.mqpkg"));
}
