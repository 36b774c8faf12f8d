// A run file that another writer is still appending to is followed (re-read at the display's
// rate), and the method form is what the plugin's SettingSpec list describes.
#include "../widgets/widget_test_util.h"
#include "app/workbench/main_window.h"
#include "app/workbench/method_form.h"
#include "app/workbench/run_display.h"
#include "widgets/qcustomplot_include.h"
#include "widgets/range_evolution_view.h"
#include "widgets/run_list_model.h"
#include "widgets/site_tree_model.h"
#include "widgets/training_view.h"
#include "workbench_test_util.h"

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QSpinBox>

#include <gtest/gtest.h>

using namespace mq;

TEST(WorkbenchFollow, AGrowingRunFileIsFollowed)
{
    test::TempDir dir;
    const std::string path = dir.file("growing.h5");
    RunWriter writer = RunWriter::create(path, test::twoLayerHeader(R"({"method":"mobilequant","bits":"W8A8"})"));
    for (int s = 1; s <= 3; ++s)
        writer.appendStep(s, 1.0 / s, 0.1 * s, { { "let", 1e-3 }, { "lwc", 1e-2 } });
    test::appendSnapshot(writer, 0);
    writer.flush();

    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    ASSERT_TRUE(w.openRun(QString::fromStdString(path))) << w.lastError().toStdString();
    QCustomPlot *loss = w.trainingView()->plot();
    ASSERT_EQ(loss->graph(0)->dataCount(), 3);
    const std::size_t site = 5;
    const QModelIndex fmax
        = w.siteModel()->indexOfSite(writer.header().sites[site]).siblingAtColumn(SiteTreeModel::FmaxColumn);
    EXPECT_FLOAT_EQ(float(fmax.data(SiteTreeModel::SortRole).toDouble()), test::testFmax(site, 0));

    // The writer goes on; the window shows the new rows without being asked.
    for (int s = 4; s <= 10; ++s)
        writer.appendStep(s, 1.0 / s, 0.1 * s, { { "let", 1e-3 }, { "lwc", 1e-2 } });
    test::appendSnapshot(writer, 1);
    writer.flush();
    ASSERT_TRUE(test::waitUntil([&] { return loss->graph(0)->dataCount() == 10; }, 5 * RunDisplay::kFollowIntervalMs))
        << loss->graph(0)->dataCount();
    EXPECT_EQ(w.display()->lastStep(), 10);
    const QModelIndex fmaxNow
        = w.siteModel()->indexOfSite(writer.header().sites[site]).siblingAtColumn(SiteTreeModel::FmaxColumn);
    EXPECT_FLOAT_EQ(float(fmaxNow.data(SiteTreeModel::SortRole).toDouble()), test::testFmax(site, 1));
    EXPECT_EQ(w.display()->snapshotsShown(), 2);
}

TEST(MethodForm, FieldsFollowTheSettingSpecs)
{
    const QuantMethodPlugin *plugin = test::builtPlugins().method(QStringLiteral("mobilequant"));
    ASSERT_NE(plugin, nullptr);
    const QList<SettingSpec> specs = plugin->settingSpecs();
    MethodForm form;
    form.setSpecs(specs);
    // Every spec has a field of its type, starting at the default.
    EXPECT_EQ(form.values(), withDefaults(specs, {}));
    EXPECT_TRUE(plugin->validateSettings(form.values()).isEmpty());
    for (const SettingSpec &spec : specs) {
        QWidget *field = form.field(spec.key);
        ASSERT_NE(field, nullptr) << spec.key.toStdString();
        EXPECT_EQ(field->toolTip(), spec.help);
        switch (spec.type) {
        case SettingType::Int:
            EXPECT_NE(qobject_cast<QSpinBox *>(field), nullptr);
            break;
        case SettingType::Double:
            EXPECT_NE(qobject_cast<QDoubleSpinBox *>(field), nullptr);
            break;
        case SettingType::Bool:
            EXPECT_NE(qobject_cast<QCheckBox *>(field), nullptr);
            break;
        default:
            break;
        }
    }
    // Small learning rates survive the round trip (a fixed-decimals spin box would round 1e-7 to 0).
    ASSERT_TRUE(form.setValue(QStringLiteral("lrl-min-lr"), 2.5e-7));
    EXPECT_DOUBLE_EQ(form.values().value(QStringLiteral("lrl-min-lr")).toDouble(), 2.5e-7);
    // The spec's bounds hold: epochs has minimum 1.
    ASSERT_TRUE(form.setValue(QStringLiteral("epochs"), 0));
    EXPECT_EQ(form.values().value(QStringLiteral("epochs")).toInt(), 1);
    EXPECT_FALSE(form.setValue(QStringLiteral("no-such-setting"), 1));
}

TEST(WorkbenchDrop, DroppedRunFilesFoldersAndModelsOpen)
{
    test::TempDir dir;
    const std::string run = dir.file("dropped.h5");
    {
        RunWriter writer = RunWriter::create(run, test::twoLayerHeader(R"({"method":"blockwise","bits":"W4A8"})"));
        writer.appendStep(1, 0.5, 0.1, { { "let", 1e-3 }, { "lwc", 1e-2 } });
        writer.flush();
    }
    MainWindow w(test::builtPlugins());
    w.setInteractive(false);
    // What the window's dropEvent() does with the dropped URLs.
    auto drop = [&](const std::string &path) { w.openPaths({ QString::fromStdString(path) }); };
    drop(run);
    ASSERT_EQ(w.runList()->rowCount(), 1) << w.lastError().toStdString();
    EXPECT_EQ(w.runList()->run(0).method, QStringLiteral("blockwise"));
    EXPECT_EQ(w.display()->runPath(), QString::fromStdString(run));

    // A folder of run files (here: one more) adds them all.
    const std::filesystem::path folder = dir.path() / "more";
    std::filesystem::create_directories(folder);
    std::filesystem::copy_file(run, folder / "copy.h5");
    drop(folder.string());
    EXPECT_EQ(w.runList()->rowCount(), 2);

    drop(test::stories260K().string());
    EXPECT_EQ(w.recentModels().value(0), QString::fromStdString(test::stories260K().string()));
}
