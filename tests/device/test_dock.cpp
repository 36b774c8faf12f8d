// The devices dock, offscreen, against the real adb and mq-devsim: it lists the virtual phone,
// one click benchmarks three variants (exporting the missing one from a calibration run), shows
// the plots, keeps a history and exports PNG/PDF/CSV.

#include "core/device/adb_backend.h"
#include "core/store/device_results.h"
#include "plugins/api/device_plugin.h"
#include "plugins/api/plugin_manager.h"
#include "tests/common/temp_dir.h"
#include "tests/device/virtual_phone.h"
#include "widgets/devices/benchmark_history_model.h"
#include "widgets/devices/benchmark_plots.h"
#include "widgets/devices/device_list_model.h"
#include "widgets/devices/devices_dock.h"

#include <QApplication>
#include <QPushButton>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include "widgets/qcustomplot_include.h"
#include <gtest/gtest.h>

namespace fs = std::filesystem;
using mq::test::VirtualPhone;

namespace {

std::unique_ptr<mq::DeviceBackend> backendFor(const VirtualPhone &phone)
{
    return std::make_unique<mq::device::AdbDeviceBackend>(phone.adb());
}

} // namespace

TEST(DevicesDock, ListsThePhoneAndExplainsAnUnauthorizedOne)
{
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path() / "ok");
    VirtualPhone locked(dir.path() / "locked", { "--unauthorized" });
    // Both phones on one adb server: connect the locked one through the first phone's server.
    mq::DevicesDock dock(backendFor(phone));
    QSignalSpy listed(&dock, &mq::DevicesDock::devicesChanged);
    dock.setConnectAddress(QString::fromStdString(phone.address()));
    dock.connectToAddress();
    ASSERT_TRUE(listed.wait(20000));
    ASSERT_EQ(dock.deviceModel()->rowCount(), 1);
    const auto *m = dock.deviceModel();
    EXPECT_EQ(m->index(0, mq::DeviceListModel::State).data().toString(), QStringLiteral("device"));
    EXPECT_EQ(m->index(0, mq::DeviceListModel::Abi).data().toString(), QStringLiteral("x86_64"));
    EXPECT_EQ(m->index(0, mq::DeviceListModel::Android).data().toString(), QStringLiteral("14"));
    EXPECT_TRUE(m->index(0, mq::DeviceListModel::Serial)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("simulated")));
    EXPECT_TRUE(dock.benchmarkButton()->isEnabled()) << "the only ready device is selected";

    dock.setConnectAddress(QString::fromStdString(locked.address()));
    QSignalSpy failed(&dock, &mq::DevicesDock::benchmarkFailed);
    dock.connectToAddress();
    ASSERT_TRUE(failed.wait(20000));
    const QString message = failed.front().front().toString();
    EXPECT_TRUE(message.contains(QStringLiteral("accept the"))) << message.toStdString();
    dock.refresh();
    ASSERT_TRUE(listed.wait(20000));
    const int row = dock.deviceModel()->rowOf(QString::fromStdString(locked.address()));
    ASSERT_GE(row, 0);
    EXPECT_EQ(m->index(row, mq::DeviceListModel::State).data().toString(), QStringLiteral("unauthorized"));
    EXPECT_TRUE(m->index(row, 0).data(Qt::ToolTipRole).toString().contains(QStringLiteral("prompt")));
}

TEST(DevicesDock, OneClickBenchmarkPlotsHistoryAndExport)
{
    const mq::test::Packages &p = mq::test::packages();
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path());
    phone.connect();
    // A copy of the W8A8 calibration run: the dock exports its a16 and w8a8 packages (w4a8 cannot
    // come from a W8 run: a warning, not an error) and takes the ready w4a8 package as an extra.
    const fs::path run = dir.path() / "calib.h5";
    fs::copy_file(fs::path(MQ_DEVICE_TEST_CACHE) / "w8a8.h5", run);
    mq::DevicesDock dock(backendFor(phone));
    dock.setCliPath(QStringLiteral(MQ_CLI));
    dock.setRunnerPath(QStringLiteral(MQ_RUN));
    dock.setCalibrationRun(QString::fromStdString(run.string()));
    dock.setVariants({ QStringLiteral("a16"), QStringLiteral("w8a8"), QStringLiteral("w4a8") });
    dock.setPackages({ QString::fromStdString(p.w4a8) });
    dock.setTokens(64, 128, 3);
    dock.setPowerHz(100);
    QSignalSpy listed(&dock, &mq::DevicesDock::devicesChanged);
    dock.refresh();
    ASSERT_TRUE(listed.wait(20000));
    ASSERT_TRUE(dock.benchmarkButton()->isEnabled());

    QSignalSpy finished(&dock, &mq::DevicesDock::benchmarkFinished);
    QTest::mouseClick(dock.benchmarkButton(), Qt::LeftButton);
    EXPECT_TRUE(dock.cancelButton()->isEnabled());
    ASSERT_TRUE(finished.wait(60000)) << dock.logText().toStdString();
    EXPECT_TRUE(finished.front().at(2).toBool()) << dock.statusText().toStdString();
    EXPECT_EQ(finished.front().at(0).toString(), QString::fromStdString(run.string()));
    EXPECT_TRUE(fs::exists(dir.path() / "calib-a16.mqpkg"));
    EXPECT_TRUE(fs::exists(dir.path() / "calib-w8a8.mqpkg"));
    EXPECT_TRUE(dock.logText().contains(QStringLiteral("w4a8 not exported")));

    // Plots: three variants, error bars, a power trace with shaded phases, temperatures.
    const auto &report = dock.plots()->report();
    ASSERT_EQ(report.variants.size(), 3u);
    EXPECT_EQ(report.variants[0].variant, "a16");
    EXPECT_EQ(dock.plots()->latencyPlot()->plottableCount(), 12) << "prompt and decode: 3 bar sets + 3 error bars each";
    EXPECT_EQ(dock.plots()->energyPlot()->plottableCount(), 6);
    // The trace is every stored sample of the shown variant (how many depends on how fast mq-run is).
    EXPECT_GE(report.variants[0].trace.watts.size(), 3u);
    EXPECT_EQ(size_t(dock.plots()->powerPlot()->graph(0)->dataCount()), report.variants[0].trace.watts.size());
    EXPECT_EQ(dock.plots()->powerPlot()->itemCount(), 2 * 3) << "a prompt and a decode band per repeat";
    EXPECT_EQ(dock.plots()->temperaturePlot()->graphCount(), 3);
    // The bar heights are the stored medians.
    const auto stored = mq::readDeviceBenchmarks(run.string());
    ASSERT_EQ(stored.size(), 1u);
    auto *bars = qobject_cast<QCPBars *>(dock.plots()->energyPlot()->plottable(0));
    ASSERT_NE(bars, nullptr);
    EXPECT_NEAR(bars->data()->at(0)->value, stored[0].report.variants[0].energyPerTokenJ.median * 1e3, 1e-9);

    // History shows it; export writes every file.
    ASSERT_EQ(dock.historyModel()->rowCount(), 1);
    EXPECT_TRUE(dock.historyModel()
                    ->index(0, mq::BenchmarkHistoryModel::Status)
                    .data()
                    .toString()
                    .contains(QStringLiteral("complete")));
    for (const char *ext : { "png", "pdf" }) {
        const QStringList errors = dock.plots()->exportAll(
            QString::fromStdString(dir.path().string()), QStringLiteral("b"), QLatin1String(ext));
        EXPECT_TRUE(errors.isEmpty()) << errors.join(QLatin1Char('\n')).toStdString();
        for (const char *plot : { "latency", "energy", "power", "temperature" })
            EXPECT_GT(fs::file_size(dir.path() / (std::string("b-") + plot + "." + ext)), 1000u) << plot << ext;
    }
    const std::string csv = mq::test::readFile(dir.path() / "b.csv");
    EXPECT_NE(csv.find("energy/token"), std::string::npos);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3 * 7) << "header + 7 figures per variant";
}

TEST(DevicesDock, AndroidAdbPluginLoadsAndSeesThePhone)
{
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path());
    phone.connect();
    mq::PluginManager manager({ QStringLiteral(MQ_PLUGIN_DIR) });
    manager.scan();
    const mq::DeviceBackendPlugin *plugin = manager.device(QStringLiteral("android-adb"));
    ASSERT_NE(plugin, nullptr) << "failures: " << manager.failures().size();
    QVariantMap settings { { QStringLiteral("adb"), QString::fromStdString(phone.adb().adbPath()) },
        { QStringLiteral("server-port"), std::stoi(phone.adb().environment().at("ANDROID_ADB_SERVER_PORT")) } };
    ASSERT_TRUE(plugin->validateSettings(settings).isEmpty());
    // The private server's HOME is not needed to list devices: the port selects the server.
    auto backend = plugin->createBackend(settings);
    EXPECT_EQ(backend->id(), "android-adb");
    const auto devices = backend->listDevices();
    ASSERT_EQ(devices.size(), 1u);
    EXPECT_EQ(devices[0].serial, phone.address());
    EXPECT_EQ(devices[0].abi, "x86_64");

    // Without an adb the back-end still exists, and says what is missing when used: the dock
    // shows it, also when asked to start the virtual phone.
    auto missing = plugin->createBackend({ { QStringLiteral("adb"), QString::fromStdString(dir.file("no-adb")) } });
    EXPECT_EQ(missing->id(), "android-adb");
    mq::DevicesDock dock(std::move(missing));
    QSignalSpy failed(&dock, &mq::DevicesDock::benchmarkFailed);
    dock.setVirtualPhoneProgram(QStringLiteral(MQ_DEVSIM));
    dock.setVirtualPhoneSandbox(QString::fromStdString(dir.file("virtual-phone")));
    dock.startVirtualPhone();
    ASSERT_TRUE(failed.wait(20000));
    EXPECT_TRUE(failed.front().front().toString().contains(QStringLiteral("no-adb")))
        << dock.statusText().toStdString();
}

TEST(DevicesDock, DefaultsAreTheIssuesAndPromptsLongerThanTheContextAreClamped)
{
    const mq::test::Packages &p = mq::test::packages();
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path());
    phone.connect();
    mq::DevicesDock dock(backendFor(phone));
    // The issue's defaults: A16 baseline, W8A8, W4A8; prompts of 1024 and 256 tokens.
    EXPECT_EQ(dock.promptLengths(), (QList<int> { 1024, 256 }));
    dock.setCalibrationRun(QStringLiteral("/nonexistent/run.h5"));
    EXPECT_EQ(dock.request().variants,
        (QStringList { QStringLiteral("a16"), QStringLiteral("w8a8"), QStringLiteral("w4a8") }));
    EXPECT_EQ(dock.request().promptLengths, (QList<int> { 1024, 256 }));
    dock.setCalibrationRun({});

    // stories260K has a context of 512 positions: prompt 1024 + 16 decoded is clamped to 496.
    dock.setRunnerPath(QStringLiteral(MQ_RUN));
    dock.setPackages({ QString::fromStdString(p.w4a8) });
    dock.setResultsFile(QString::fromStdString(dir.file("clamped.h5")));
    dock.setTokens(64, 16, 1);
    dock.setPromptLengths({ 1024, 64 });
    QSignalSpy listed(&dock, &mq::DevicesDock::devicesChanged);
    dock.refresh();
    ASSERT_TRUE(listed.wait(20000));
    QSignalSpy done(&dock, &mq::DevicesDock::benchmarksDone);
    QTest::mouseClick(dock.benchmarkButton(), Qt::LeftButton);
    ASSERT_TRUE(done.wait(60000)) << dock.logText().toStdString();
    EXPECT_EQ(done.front().front().toInt(), 2) << dock.logText().toStdString();
    EXPECT_TRUE(dock.noteText().contains(QStringLiteral("prompt clamped to 496 tokens")))
        << dock.noteText().toStdString();
    const auto stored = mq::readDeviceBenchmarks(dir.file("clamped.h5"));
    ASSERT_EQ(stored.size(), 2u);
    EXPECT_EQ(stored[0].report.promptTokens, 496);
    EXPECT_EQ(stored[0].report.variants.at(0).promptTokens, 496) << "what mq-run measured";
    EXPECT_EQ(stored[1].report.promptTokens, 64);
    const auto &w = stored[0].report.warnings;
    EXPECT_TRUE(
        std::any_of(w.begin(), w.end(), [](const std::string &x) { return x.find("clamped") != std::string::npos; }));
    ASSERT_EQ(dock.historyModel()->rowCount(), 2);
    QList<int> prompts;
    for (int row = 0; row < 2; ++row) {
        prompts << dock.historyModel()->index(row, mq::BenchmarkHistoryModel::Prompt).data().toInt();
        EXPECT_EQ(dock.historyModel()->index(row, mq::BenchmarkHistoryModel::Power).data().toString(),
            QStringLiteral("battery"));
    }
    std::sort(prompts.begin(), prompts.end());
    EXPECT_EQ(prompts, (QList<int> { 64, 496 }));
    EXPECT_TRUE(dock.benchmarkButton()->isEnabled()) << "not busy any more";

    // Bad input says what is wrong.
    dock.setPromptLengths({});
    QTest::mouseClick(dock.benchmarkButton(), Qt::LeftButton);
    EXPECT_TRUE(dock.statusText().contains(QStringLiteral("whole numbers"))) << dock.statusText().toStdString();
}

TEST(DevicesDock, StartsAVirtualPhoneWhenThereIsNoneAndStopsItWithTheDock)
{
    mq::test::TempDir dir;
    VirtualPhone server(dir.path()); // only its private adb server is used: nothing is connected
    QString address;
    {
        mq::DevicesDock dock(backendFor(server));
        dock.show();
        QSignalSpy listed(&dock, &mq::DevicesDock::devicesChanged);
        dock.refresh();
        ASSERT_TRUE(listed.wait(20000));
        EXPECT_FALSE(dock.hasDevices());
        EXPECT_TRUE(dock.virtualPhoneButton()->isVisible());

        // A missing program is said plainly.
        QSignalSpy failed(&dock, &mq::DevicesDock::benchmarkFailed);
        dock.setVirtualPhoneProgram(QString::fromStdString(dir.file("no-such-mq-devsim")));
        dock.startVirtualPhone();
        ASSERT_EQ(failed.size(), 1);
        EXPECT_TRUE(failed.front().front().toString().contains(QStringLiteral("missing")))
            << dock.statusText().toStdString();

        dock.setVirtualPhoneProgram(QStringLiteral(MQ_DEVSIM));
        dock.setVirtualPhoneSandbox(QString::fromStdString(dir.file("virtual-phone")));
        listed.clear();
        QTest::mouseClick(dock.virtualPhoneButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(dock.hasDevices(), 30000);
        address = dock.virtualPhoneAddress();
        ASSERT_FALSE(address.isEmpty()) << dock.logText().toStdString();
        const int port = address.section(QLatin1Char(':'), 1).toInt();
        EXPECT_TRUE(port < 5555 || port > 5585) << port;
        const int row = dock.deviceModel()->rowOf(address);
        ASSERT_GE(row, 0) << dock.logText().toStdString();
        EXPECT_EQ(
            dock.deviceModel()->index(row, mq::DeviceListModel::State).data().toString(), QStringLiteral("device"));
        EXPECT_FALSE(dock.virtualPhoneButton()->isVisible());
        EXPECT_TRUE(fs::exists(dir.path() / "virtual-phone" / "sys/class/power_supply/battery/current_now"));
    }
    // The dock stopped it: nothing listens on its port any more.
    QTcpSocket socket;
    socket.connectToHost(QStringLiteral("127.0.0.1"), quint16(address.section(QLatin1Char(':'), 1).toInt()));
    EXPECT_FALSE(socket.waitForConnected(2000));
}

// Not a check: MQ_DEVICE_DOCK_SCREENSHOT=file.png renders the dock after the one-click flow with
// the issue's defaults (prompts 1024 and 256, clamped to stories260K's context) for the docs;
// MQ_DEVICE_DOCK_SCREENSHOT_ODPM=1 plays a phone with ODPM rails.
TEST(DevicesDock, ScreenshotForTheDocs)
{
    const char *shot = std::getenv("MQ_DEVICE_DOCK_SCREENSHOT");
    if (!shot)
        GTEST_SKIP() << "set MQ_DEVICE_DOCK_SCREENSHOT=file.png to render the picture";
    const bool odpm = std::getenv("MQ_DEVICE_DOCK_SCREENSHOT_ODPM") != nullptr;
    const mq::test::Packages &p = mq::test::packages();
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path(), odpm ? std::vector<std::string> { "--odpm" } : std::vector<std::string> {});
    phone.connect();
    const fs::path run = dir.path() / "stories260K-w8a8.h5";
    fs::copy_file(fs::path(MQ_DEVICE_TEST_CACHE) / "w8a8.h5", run);
    mq::DevicesDock dock(backendFor(phone));
    dock.setCliPath(QStringLiteral(MQ_CLI));
    dock.setRunnerPath(QStringLiteral(MQ_RUN));
    dock.setCalibrationRun(QString::fromStdString(run.string()));
    dock.setPackages({ QString::fromStdString(p.w4a8) });
    dock.setTokens(1024, 128, 10);
    dock.setPromptLengths({ 1024, 256 });
    dock.setPowerHz(50);
    dock.resize(1500, 1200);
    dock.show();
    QSignalSpy listed(&dock, &mq::DevicesDock::devicesChanged);
    dock.refresh();
    ASSERT_TRUE(listed.wait(20000));
    QSignalSpy done(&dock, &mq::DevicesDock::benchmarksDone);
    QTest::mouseClick(dock.benchmarkButton(), Qt::LeftButton);
    ASSERT_TRUE(done.wait(180000)) << dock.logText().toStdString();
    ASSERT_EQ(dock.plots()->report().variants.size(), 3u) << dock.logText().toStdString();
    dock.plots()->showPowerTrace(1);
    QTest::qWait(500);
    EXPECT_TRUE(dock.grab().save(QString::fromLocal8Bit(shot)));
    std::printf("%s", mq::device::resultsTable(dock.plots()->report()).c_str());
}
