// The first-run welcome page (issue 7): shown on a first run and until "Don't show at startup",
// its three job buttons each take their first step (open the sample model and focus the sites;
// open a folder of real run files into the comparison; show the devices dock), and when no
// sample model is found it says every place it looked.
#include "app/workbench/calibration_panel.h"
#include "app/workbench/main_window.h"
#include "app/workbench/runs_panel.h"
#include "app/workbench/site_browser.h"
#include "app/workbench/welcome_page.h"
#include "widgets/devices/devices_dock.h"
#include "widgets/run_comparison_view.h"
#include "widgets/run_list_model.h"
#include "tests/common/free_port.h"
#include "workbench_test_util.h"

#include <QCheckBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QLineEdit>
#include <QListWidget>
#include <QMenuBar>
#include <QProcess>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTreeView>

#include <gtest/gtest.h>

using namespace mq;
namespace fs = std::filesystem;

namespace {

QString qs(const fs::path &p)
{
    return QString::fromStdString(p.string());
}

// Every test gets its own settings file in its temporary folder, so a user's (or another test
// process's) settings can neither make it pass nor fail; afterwards QSettings goes back to the
// folder main.cpp chose for this process.
class Welcome : public ::testing::Test
{
protected:
    void SetUp() override
    {
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, qs(m_dir.path() / "config"));
        QSettings().clear();
        QSettings().setValue(QStringLiteral("welcome/runsFolder"), qs(m_dir.path() / "runs"));
    }
    void TearDown() override
    {
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, test::testSettingsFolder());
    }
    test::TempDir m_dir;
};

// Sets an environment variable for one scope.
class ScopedEnv
{
public:
    ScopedEnv(const char *name, const QByteArray &value)
        : m_name(name)
        , m_had(qEnvironmentVariableIsSet(name))
        , m_old(qgetenv(name))
    {
        qputenv(name, value);
    }
    ~ScopedEnv()
    {
        if (m_had)
            qputenv(m_name, m_old);
        else
            qunsetenv(m_name);
    }

private:
    const char *m_name;
    bool m_had;
    QByteArray m_old;
};

QAction *menuAction(QMainWindow &w, const QString &menu, const QString &text)
{
    for (QAction *top : w.menuBar()->actions())
        if (top->text() == menu && top->menu())
            for (QAction *a : top->menu()->actions())
                if (a->text() == text)
                    return a;
    return nullptr;
}

} // namespace

TEST_F(Welcome, ShownOnFirstRunAndUntilDontShowIsTicked)
{
    {
        MainWindow w(test::builtPlugins());
        w.setInteractive(false);
        w.show();
        EXPECT_EQ(w.welcomePage(), nullptr) << "a window made directly (tests) shows no page by itself";
        ASSERT_TRUE(w.showWelcomeIfFirstRun());
        ASSERT_NE(w.welcomePage(), nullptr);
        EXPECT_TRUE(w.welcomePage()->isVisible());
        EXPECT_FALSE(w.welcomePage()->isModal());
        EXPECT_TRUE(QSettings().value(QStringLiteral("welcome/shown")).toBool());
        w.welcomePage()->close();
    }
    {
        // Shown again at startup until the box is ticked; ticking it is remembered.
        MainWindow w(test::builtPlugins());
        w.setInteractive(false);
        ASSERT_TRUE(w.showWelcomeIfFirstRun());
        EXPECT_FALSE(w.welcomePage()->dontShowBox()->isChecked());
        w.welcomePage()->dontShowBox()->click();
        EXPECT_FALSE(QSettings().value(QStringLiteral("welcome/showAtStartup")).toBool());
    }
    {
        MainWindow w(test::builtPlugins());
        w.setInteractive(false);
        EXPECT_FALSE(w.showWelcomeIfFirstRun());
        EXPECT_EQ(w.welcomePage(), nullptr);
        // Help > Welcome shows it any time, with the box as saved.
        QAction *help = menuAction(w, QStringLiteral("&Help"), QStringLiteral("&Welcome"));
        ASSERT_NE(help, nullptr);
        help->trigger();
        ASSERT_NE(w.welcomePage(), nullptr);
        EXPECT_TRUE(w.welcomePage()->isVisible());
        EXPECT_TRUE(w.welcomePage()->dontShowBox()->isChecked());
    }
    {
        // A fresh profile is a first run again.
        QSettings().clear();
        MainWindow w(test::builtPlugins());
        EXPECT_TRUE(w.showWelcomeIfFirstRun());
    }
}

TEST_F(Welcome, InspectOpensTheSampleModelAndSelectsTheWidestSite)
{
    // MQ_SHARED_DIR (set by ctest) is where the sample model is found.
    const QString sample = QFileInfo(qs(test::stories260K())).absoluteFilePath();
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    w.show();
    w.showWelcome();
    WelcomePage *page = w.welcomePage();
    EXPECT_TRUE(page->sampleStatusText().contains(sample)) << page->sampleStatusText().toStdString();
    EXPECT_TRUE(page->sampleStatusText().contains(QStringLiteral("MQ_SHARED_DIR")));

    page->inspectButton()->click();
    EXPECT_EQ(QFileInfo(w.calibrationPanel()->modelPath()).absoluteFilePath(), sample) << w.lastError().toStdString();
    EXPECT_EQ(w.siteBrowser()->currentSite(), QStringLiteral("layers.0.mlp.down.in"));
    EXPECT_FALSE(page->isVisible()) << "choosing a job closes the page";
    auto *sites = w.findChild<QDockWidget *>(QStringLiteral("sitesDock"));
    EXPECT_TRUE(sites->isVisible());
    // The form is ready to Start: the TinyStories sample beside the shared models, a new run file
    // in the runs folder.
    const RunRequest r = w.calibrationPanel()->request();
    EXPECT_EQ(QFileInfo(r.calibPath).fileName(), QStringLiteral("TinyStories-valid.sample30K.txt"));
    EXPECT_TRUE(QFileInfo(r.calibPath).isFile());
    EXPECT_EQ(QFileInfo(r.runPath).absolutePath(), qs(m_dir.path() / "runs"));
    EXPECT_FALSE(QFileInfo::exists(r.runPath));
    EXPECT_EQ(w.recentModels().value(0), sample);
}

TEST_F(Welcome, ARecentModelOpensFromThePage)
{
    const QString sample = QFileInfo(qs(test::stories260K())).absoluteFilePath();
    QSettings().setValue(QStringLiteral("recentModels"), QStringList { sample });
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    w.showWelcome();
    QListWidget *recent = w.welcomePage()->recentList();
    ASSERT_EQ(recent->count(), 1);
    Q_EMIT recent->itemActivated(recent->item(0));
    EXPECT_EQ(w.calibrationPanel()->modelPath(), sample);
    EXPECT_FALSE(w.welcomePage()->isVisible());
}

TEST_F(Welcome, CompareOpensTheRunsFolderIntoTheComparison)
{
    // Two real run files, as `mq calibrate` writes them: RTN at W8A8 and W4A8.
    const fs::path runs = m_dir.path() / "ablation";
    fs::create_directories(runs);
    const fs::path calib = test::calibrationText(m_dir.path());
    for (const char *bits : { "w8a8", "w4a8" }) {
        QProcess mq;
        mq.setProcessChannelMode(QProcess::MergedChannels);
        mq.start(QStringLiteral(MQ_CLI),
            { QStringLiteral("calibrate"), qs(test::stories260K()), QStringLiteral("--method"), QStringLiteral("rtn"),
                QStringLiteral("--bits"), QString::fromLatin1(bits), QStringLiteral("--calib"), qs(calib),
                QStringLiteral("--samples"), QStringLiteral("4"), QStringLiteral("--seqlen"), QStringLiteral("64"),
                QStringLiteral("--out"), qs(runs / (std::string("rtn-") + bits + ".h5")) });
        ASSERT_TRUE(mq.waitForFinished(120000));
        ASSERT_EQ(mq.exitCode(), 0) << mq.readAll().toStdString();
    }

    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    w.show();
    w.showWelcome();
    WelcomePage *page = w.welcomePage();

    // An empty folder: nothing to compare, and the message says what to do.
    page->setRunsFolder(qs(m_dir.path() / "runs"));
    page->compareButton()->click();
    EXPECT_EQ(w.runList()->rowCount(), 0);
    EXPECT_TRUE(w.lastError().contains(qs(m_dir.path() / "runs"))) << w.lastError().toStdString();
    EXPECT_TRUE(w.lastError().contains(QStringLiteral("no run files"))) << w.lastError().toStdString();
    EXPECT_TRUE(page->isVisible());

    page->setRunsFolder(qs(runs));
    page->compareButton()->click();
    ASSERT_EQ(w.runList()->rowCount(), 2) << w.lastError().toStdString();
    EXPECT_EQ(w.comparisonView()->runPaths().size(), 2);
    EXPECT_EQ(w.runsPanel()->currentIndex(), int(RunsPanel::ComparisonTab));
    EXPECT_TRUE(w.findChild<QDockWidget *>(QStringLiteral("runsDock"))->isVisible());
    EXPECT_FALSE(page->isVisible());
    // The folder is remembered for next time.
    EXPECT_EQ(QSettings().value(QStringLiteral("welcome/runsFolder")).toString(), qs(runs));
}

TEST_F(Welcome, BenchmarkShowsTheDevicesDockAndOffersTheVirtualPhone)
{
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    w.show();
    DevicesDock *devices = w.devicesDock();
    ASSERT_NE(devices, nullptr) << "the android-adb plugin did not load from " MQ_METHOD_PLUGIN_DIR;
    EXPECT_FALSE(devices->isVisible()) << "hidden until asked for";
    w.showWelcome();
    WelcomePage *page = w.welcomePage();
    // No device listed yet: the virtual phone is offered.
    EXPECT_TRUE(page->virtualPhoneButton()->isVisible());
    EXPECT_TRUE(page->benchmarkButton()->isEnabled());
    page->benchmarkButton()->click();
    EXPECT_TRUE(devices->isVisible());
    EXPECT_FALSE(page->isVisible());
}

#ifdef MQ_DEVSIM
TEST_F(Welcome, VirtualPhoneButtonStartsTheVirtualPhone)
{
    // A private adb server (own port and HOME): a developer's server on 5037 is never touched.
    const ScopedEnv port("ANDROID_ADB_SERVER_PORT", QByteArray::number(test::freePort()));
    const ScopedEnv home("HOME", QFile::encodeName(qs(m_dir.path() / "home")));
    const ScopedEnv mdns("ADB_MDNS", "0");
    QDir().mkpath(qs(m_dir.path() / "home"));
    QString address;
    {
        MainWindow w(test::builtPlugins());
        w.setInteractive(false);
        w.show();
        DevicesDock *devices = w.devicesDock();
        ASSERT_NE(devices, nullptr);
        // The test binary is not beside mq-devsim: point the dock at the built one.
        devices->setVirtualPhoneProgram(QStringLiteral(MQ_DEVSIM));
        devices->setVirtualPhoneSandbox(qs(m_dir.path() / "phone"));
        QSignalSpy started(devices, &DevicesDock::virtualPhoneStarted);
        w.showWelcome();
        ASSERT_TRUE(w.welcomePage()->virtualPhoneButton()->isVisible());
        w.welcomePage()->virtualPhoneButton()->click();
        EXPECT_TRUE(devices->isVisible());
        EXPECT_FALSE(w.welcomePage()->isVisible());
        ASSERT_TRUE(test::waitUntil([&] { return !started.isEmpty(); }, 20000)) << devices->statusText().toStdString();
        address = started.front().front().toString();
        EXPECT_TRUE(address.startsWith(QStringLiteral("127.0.0.1:"))) << address.toStdString();
        EXPECT_EQ(devices->virtualPhoneAddress(), address);
    } // the dock forgets the phone in adb, stops mq-devsim and waits for its worker
    QProcess adb;
    adb.start(QStringLiteral("adb"), { QStringLiteral("devices") });
    ASSERT_TRUE(adb.waitForFinished(30000));
    const QString listed = QString::fromLocal8Bit(adb.readAllStandardOutput());
    EXPECT_FALSE(listed.contains(address)) << "adb still lists the stopped virtual phone:\n" << listed.toStdString();
    QProcess::execute(QStringLiteral("adb"), { QStringLiteral("kill-server") });
}
#endif

TEST_F(Welcome, NoSampleModelListsEveryPlaceLooked)
{
    const fs::path empty = m_dir.path() / "empty";
    fs::create_directories(empty / "shared");
    SampleModelPlaces places;
    places.configured = qs(empty / "configured.bin");
    places.envSample = qs(empty / "from-env.bin");
    places.sharedDir = qs(empty / "shared");
    places.baseDirs = { qs(empty / "a" / "bin"), qs(empty / "b" / "work") };
    places.userModels = qs(empty / "models");
    const SampleModelSearch s = findSampleModel(places);
    EXPECT_TRUE(s.found.isEmpty());
    const QString text = s.describe();
    for (const QString &place :
        { places.configured, places.envSample, qs(empty / "shared/models/stories260K/stories260K.bin"),
            qs(empty / "a/shared/models/stories260K/stories260K.bin"),
            qs(empty / "b/shared/models/stories260K/stories260K.bin"),
            qs(empty / "models/stories260K/stories260K.bin") })
        EXPECT_TRUE(text.contains(place)) << place.toStdString() << "\n" << text.toStdString();
    EXPECT_TRUE(text.contains(QStringLiteral("No sample model found")));
    EXPECT_TRUE(text.contains(QStringLiteral("does not exist"))) << "the configured path is wrong: say so";
    EXPECT_EQ(s.looked.size(), 7) << s.looked.join(QLatin1Char('\n')).toStdString();

    // Once a checkpoint is in the user's models folder, it is found there, and a configured path
    // that exists wins over everything else.
    fs::create_directories(empty / "models" / "tiny");
    QFile(qs(empty / "models" / "tiny" / "tok512.bin")).open(QIODevice::WriteOnly);
    QFile(qs(empty / "models" / "tiny" / "tiny.bin")).open(QIODevice::WriteOnly);
    EXPECT_EQ(findSampleModel(places).found, qs(empty / "models" / "tiny" / "tiny.bin"));
    places.configured = qs(test::stories260K());
    const SampleModelSearch configured = findSampleModel(places);
    EXPECT_EQ(configured.found, QFileInfo(qs(test::stories260K())).absoluteFilePath());
    EXPECT_EQ(configured.looked.size(), 1);
}

TEST_F(Welcome, InspectWithoutASampleModelSaysWhereItLooked)
{
    const QString model = qs(test::stories260K()); // before MQ_SHARED_DIR changes below
    const fs::path empty = m_dir.path() / "nothing";
    fs::create_directories(empty);
    const ScopedEnv shared("MQ_SHARED_DIR", qs(empty).toUtf8());
    const ScopedEnv sample("MQ_SAMPLE_MODEL", QByteArray());
    const QString cwd = QDir::currentPath();
    QDir::setCurrent(qs(empty));
    QSettings().setValue(QStringLiteral("welcome/sampleModel"), qs(empty / "missing.bin"));

    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    w.showWelcome();
    WelcomePage *page = w.welcomePage();
    EXPECT_EQ(page->inspectButton()->text(), QStringLiteral("&Inspect a model…"));
    page->inspectButton()->click();
    QDir::setCurrent(cwd);
    EXPECT_TRUE(w.calibrationPanel()->modelPath().isEmpty());
    EXPECT_TRUE(page->isVisible());
    const QString error = w.lastError();
    EXPECT_TRUE(error.contains(QStringLiteral("No sample model found"))) << error.toStdString();
    EXPECT_TRUE(error.contains(qs(empty / "missing.bin"))) << error.toStdString();
    EXPECT_TRUE(error.contains(qs(empty / "models/stories260K/stories260K.bin"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("MQ_SAMPLE_MODEL"))) << error.toStdString();
    EXPECT_EQ(page->sampleStatusText(), error) << "the page shows the same list";

    // Typing a path on the page configures it.
    page->setConfiguredSampleModel(model);
    Q_EMIT page->findChild<QLineEdit *>(QStringLiteral("sampleModel"))->editingFinished();
    EXPECT_EQ(QSettings().value(QStringLiteral("welcome/sampleModel")).toString(), model);
    EXPECT_TRUE(page->sampleStatusText().contains(QStringLiteral("configured on the welcome page")))
        << page->sampleStatusText().toStdString();
}

// Not a check but a picture: the window maximised on the screen with the welcome page over it, to
// see that the page is legible at the screen sizes the issue names. Skipped unless asked for:
//   MQ_WELCOME_SCREENSHOT=/tmp/w1280.png QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x800x24"
//   build/tests/workbench/workbench_tests --gtest_filter='*WelcomeScreenshot*'   (one command)
TEST_F(Welcome, WelcomeScreenshotOverTheWindow)
{
    const QString out = qEnvironmentVariable("MQ_WELCOME_SCREENSHOT");
    if (out.isEmpty())
        GTEST_SKIP() << "set MQ_WELCOME_SCREENSHOT=FILE.png and run under xvfb-run";
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    ASSERT_TRUE(w.openModel(qs(test::stories260K())));
    w.showMaximized();
    w.showWelcome();
    QTest::qWait(1500);
    QScreen *screen = w.screen();
    ASSERT_TRUE(screen->grabWindow(0).save(out));
    const QRect page = w.welcomePage()->frameGeometry();
    EXPECT_TRUE(screen->availableGeometry().contains(page))
        << "page " << page.width() << "x" << page.height() << " on a " << screen->size().width() << "x"
        << screen->size().height() << " screen";
}
