// The package view (issue 7: a package opened from the file manager shows in the workbench): an
// exported stories260K package opens with every activation site and weight of the model, each
// site's bits as the run's precision map says, every tensor of the container; its Benchmark
// button hands the package to the devices dock; a truncated package is refused naming the file.
#include "app/workbench/main_window.h"
#include "app/workbench/package_dialog.h"
#include "core/quant/precision_map.h"
#include "core/runtime/model_package.h"
#include "core/runtime/package.h"
#include "core/store/run_reader.h"
#include "widgets/devices/devices_dock.h"
#include "workbench_test_util.h"

#include <QProcess>
#include <QPushButton>
#include <QTableWidget>

#include <gtest/gtest.h>

#include <fstream>

using namespace mq;
namespace fs = std::filesystem;

namespace {

QString qs(const fs::path &p)
{
    return QString::fromStdString(p.string());
}

int runMq(const QStringList &args, QString *output)
{
    QProcess mq;
    mq.setProcessChannelMode(QProcess::MergedChannels);
    mq.start(QStringLiteral(MQ_CLI), args);
    mq.waitForFinished(120000);
    *output = QString::fromLocal8Bit(mq.readAll());
    return mq.exitStatus() == QProcess::NormalExit ? mq.exitCode() : -1;
}

class PackageView : public ::testing::Test
{
protected:
    void SetUp() override
    {
        run = m_dir.path() / "rtn.h5";
        package = m_dir.path() / "rtn-w8a8.mqpkg";
        QString out;
        ASSERT_EQ(runMq({ QStringLiteral("calibrate"), qs(test::stories260K()), QStringLiteral("--method"),
                          QStringLiteral("rtn"), QStringLiteral("--bits"), QStringLiteral("w8a8"),
                          QStringLiteral("--calib"), qs(test::calibrationText(m_dir.path())),
                          QStringLiteral("--samples"), QStringLiteral("2"), QStringLiteral("--seqlen"),
                          QStringLiteral("32"), QStringLiteral("--out"), qs(run) },
                      &out),
            0)
            << out.toStdString();
        ASSERT_EQ(runMq({ QStringLiteral("export"), qs(run), QStringLiteral("--out"), qs(package),
                          QStringLiteral("--variant"), QStringLiteral("w8a8") },
                      &out),
            0)
            << out.toStdString();
    }
    test::TempDir m_dir;
    fs::path run, package;
};

} // namespace

TEST_F(PackageView, ShowsEverySiteWeightAndTensorOfTheModel)
{
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    w.show();
    ASSERT_TRUE(w.openPackage(qs(package))) << w.lastError().toStdString();
    PackageDialog *d = w.packageDialog();
    ASSERT_NE(d, nullptr);
    EXPECT_TRUE(d->isVisible());
    EXPECT_EQ(d->variant(), QStringLiteral("w8a8"));

    // Counted independently of the metadata the dialog reads: from the model's config and the
    // runtime's list of sites and linears, and from the container's tensor table.
    const Package pkg = Package::open(package.string());
    const ModelPackageConfig c = readModelConfig(pkg);
    int sitesPerLayer = 0;
    for (int s = 0; s < kRtSiteCount; ++s)
        sitesPerLayer += rtSiteExists(RtSite(s), c.activation) ? 1 : 0;
    EXPECT_EQ(d->sitesTable()->rowCount(), c.layers * sitesPerLayer);
    EXPECT_EQ(d->weightsTable()->rowCount(), c.layers * (kRtLinearCount + 2)); // + the two norm weights
    EXPECT_EQ(d->tensorsTable()->rowCount(), int(pkg.names().size()));

    // Each site's bits are the run's precision map's (16 at the non-linear sites, 8 elsewhere).
    const PrecisionMap map = PrecisionMap::fromJson(RunReader::open(run.string()).header().precisionMapJson, run.string());
    int sixteen = 0;
    for (int r = 0; r < d->sitesTable()->rowCount(); ++r) {
        const std::string site = d->sitesTable()->item(r, 0)->text().toStdString();
        const int bits = d->sitesTable()->item(r, 1)->data(Qt::DisplayRole).toInt();
        SCOPED_TRACE(site);
        EXPECT_EQ(bits, map.site(site).bits);
        EXPECT_GT(d->sitesTable()->item(r, 2)->data(Qt::DisplayRole).toDouble(), 0.0) << "a positive scale";
        sixteen += bits == 16 ? 1 : 0;
    }
    EXPECT_GT(sixteen, 0) << "W8A8 keeps the non-linear sites at 16 bits";
    EXPECT_LT(sixteen, d->sitesTable()->rowCount());
    EXPECT_TRUE(d->summaryText().contains(QStringLiteral("rtn"))) << "where it came from";
    EXPECT_TRUE(d->showRunButton()->isEnabled()) << "the run is on this computer";

    // Show the run: the run opens in the views.
    d->showRunButton()->click();
    EXPECT_EQ(w.lastError(), QString());
}

TEST_F(PackageView, BenchmarkHandsThePackageToTheDevicesDock)
{
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    w.show();
    DevicesDock *devices = w.devicesDock();
    ASSERT_NE(devices, nullptr) << "the android-adb plugin did not load from " MQ_METHOD_PLUGIN_DIR;
    ASSERT_TRUE(w.openPackage(qs(package))) << w.lastError().toStdString();
    w.packageDialog()->benchmarkButton()->click();
    EXPECT_TRUE(devices->isVisible());
    EXPECT_FALSE(w.packageDialog()->isVisible());
    const BenchmarkRequest r = devices->request();
    EXPECT_EQ(r.packages, QStringList { qs(package) });
    EXPECT_TRUE(r.variants.isEmpty()) << "nothing else is exported on this click";
}

TEST_F(PackageView, TruncatedPackageIsRefusedNamingTheFile)
{
    const fs::path cut = m_dir.path() / "cut.mqpkg";
    {
        std::ifstream in(package, std::ios::binary);
        std::string bytes(std::istreambuf_iterator<char>(in), {});
        std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    }
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    EXPECT_FALSE(w.openPackage(qs(cut)));
    EXPECT_TRUE(w.lastError().contains(QStringLiteral("cut.mqpkg"))) << w.lastError().toStdString();
}
