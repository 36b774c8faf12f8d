// What the user set up survives a restart: the calibration form (including the method's own
// settings), the site filters, the inspector options and the dock layout, all through QSettings
// (in QStandardPaths' test folder here, set up in main.cpp).
#include "app/workbench/calibration_panel.h"
#include "app/workbench/main_window.h"
#include "app/workbench/method_form.h"
#include "widgets/outlier_inspector.h"
#include "workbench_test_util.h"

#include <QDockWidget>
#include <QSettings>
#include <QSpinBox>

#include <gtest/gtest.h>

using namespace mq;

TEST(WorkbenchSettings, FormAndLayoutRoundTrip)
{
    QSettings().clear();
    PluginManager &plugins = test::builtPlugins();
    ASSERT_NE(plugins.method(QStringLiteral("mobilequant")), nullptr) << "plugins in " MQ_METHOD_PLUGIN_DIR;

    {
        MainWindow w(plugins);
        w.setInteractive(false);
        w.show();
        CalibrationPanel *p = w.calibrationPanel();
        p->setModelPath(QStringLiteral("/models/a.bin"));
        p->setCalibPath(QStringLiteral("/data/calib.txt"));
        p->setRunPath(QStringLiteral("/runs/r1.h5"));
        ASSERT_TRUE(p->setMethod(QStringLiteral("blockwise")));
        ASSERT_TRUE(p->methodForm()->setValue(QStringLiteral("epochs"), 7));
        ASSERT_TRUE(p->methodForm()->setValue(QStringLiteral("lwc-lr"), 0.005));
        p->setBits(QStringLiteral("W4A8"));
        p->setSamples(33);
        p->setSeqLen(77);
        p->setWatchSites({ QStringLiteral("layers.1.mlp.down.in") });
        w.inspector()->setThreshold(9.5);
        w.inspector()->setLogCounts(true);
        w.findChild<QDockWidget *>(QStringLiteral("scalesDock"))->hide();
        w.findChild<QDockWidget *>(QStringLiteral("rangeDock"))->setFloating(true);
        w.saveSettings();
    }
    {
        MainWindow w(plugins);
        w.setInteractive(false);
        w.show();
        // Before restoring: defaults, so the comparison below can fail.
        ASSERT_NE(w.calibrationPanel()->request().samples, 33);
        w.restoreSettings();
        const RunRequest r = w.calibrationPanel()->request();
        EXPECT_EQ(r.modelPath, QStringLiteral("/models/a.bin"));
        EXPECT_EQ(r.calibPath, QStringLiteral("/data/calib.txt"));
        EXPECT_EQ(r.runPath, QStringLiteral("/runs/r1.h5"));
        EXPECT_EQ(r.method, QStringLiteral("blockwise"));
        EXPECT_EQ(r.settings.value(QStringLiteral("epochs")).toInt(), 7);
        EXPECT_DOUBLE_EQ(r.settings.value(QStringLiteral("lwc-lr")).toDouble(), 0.005);
        EXPECT_EQ(r.bits, QStringLiteral("W4A8"));
        EXPECT_EQ(r.samples, 33);
        EXPECT_EQ(r.seqLen, 77);
        EXPECT_EQ(r.watchSites, QStringList { QStringLiteral("layers.1.mlp.down.in") });
        EXPECT_DOUBLE_EQ(w.inspector()->threshold(), 9.5);
        EXPECT_TRUE(w.inspector()->logCounts());
        EXPECT_TRUE(w.findChild<QDockWidget *>(QStringLiteral("scalesDock"))->isHidden());
        EXPECT_TRUE(w.findChild<QDockWidget *>(QStringLiteral("rangeDock"))->isFloating());
    }
    QSettings().clear();
}

TEST(WorkbenchSettings, RecentModelsAreRememberedNewestFirst)
{
    QSettings().clear();
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    const QString model = QString::fromStdString(test::stories260K().string());
    ASSERT_TRUE(w.openModel(model)) << w.lastError().toStdString();
    EXPECT_FALSE(w.openModel(QStringLiteral("/nonexistent/model.bin")));
    EXPECT_TRUE(w.lastError().contains(QStringLiteral("/nonexistent/model.bin"))) << w.lastError().toStdString();
    const QStringList recent = MainWindow(test::builtPlugins()).recentModels();
    ASSERT_EQ(recent.size(), 1) << "a model that did not open is not recent";
    EXPECT_EQ(recent.front(), QFileInfo(model).absoluteFilePath());
    QSettings().clear();
}
