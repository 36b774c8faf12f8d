#include "plugins/api/plugin_manager.h"

#include <QDir>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QVariantMap>

#include <gtest/gtest.h>

namespace {

using mq::PluginFailure;
using mq::PluginInfo;
using mq::PluginKind;
using mq::PluginManager;

QString fixtureDir(const char *folder)
{
    return QDir(QStringLiteral(MQ_FIXTURE_PLUGIN_DIR)).filePath(QLatin1String(folder));
}

QString fixtureFile(const char *folder, const char *library)
{
    return QDir(fixtureDir(folder)).filePath(QLatin1String(library));
}

// The message reported for `file`, or an empty string when there is none.
QString failureFor(const PluginManager &manager, const QString &file)
{
    for (const PluginFailure &failure : manager.failures()) {
        if (failure.file == file)
            return failure.message;
    }
    return QString();
}

bool wasLoaded(const char *fixtureTarget)
{
    const QByteArray name = QByteArray("MQ_FIXTURE_LOADED_") + fixtureTarget;
    return qEnvironmentVariableIsSet(name.constData());
}

// Restores an environment variable when the test ends.
class ScopedEnv
{
public:
    ScopedEnv(const char *name, const QByteArray &value)
        : m_name(name)
        , m_wasSet(qEnvironmentVariableIsSet(name))
        , m_old(qgetenv(name))
    {
        qputenv(name, value);
    }
    ~ScopedEnv()
    {
        if (m_wasSet)
            qputenv(m_name, m_old);
        else
            qunsetenv(m_name);
    }

private:
    const char *m_name;
    bool m_wasSet;
    QByteArray m_old;
};

TEST(PluginManager, LoadsGoodMethodAndDevicePlugins)
{
    PluginManager manager({fixtureDir("good")});
    manager.scan();

    EXPECT_TRUE(manager.failures().isEmpty())
        << manager.failures().value(0).message.toStdString();
    ASSERT_EQ(manager.methods().size(), 1);
    ASSERT_EQ(manager.devices().size(), 1);
    EXPECT_EQ(manager.methods().front()->id(), QStringLiteral("fixture-method"));
    EXPECT_EQ(manager.methods().front()->name(), QStringLiteral("Fixture method (test only)"));
    EXPECT_EQ(manager.devices().front()->id(), QStringLiteral("fixture-device"));
    EXPECT_EQ(manager.method(QStringLiteral("fixture-method")), manager.methods().front());
    EXPECT_EQ(manager.device(QStringLiteral("fixture-device")), manager.devices().front());
    EXPECT_EQ(manager.method(QStringLiteral("fixture-device")), nullptr);
    EXPECT_EQ(manager.device(QStringLiteral("nope")), nullptr);

    // In search order, files by name: libmq_fixture_device.so before libmq_fixture_method.so.
    ASSERT_EQ(manager.plugins().size(), 2);
    const PluginInfo &device = manager.plugins().at(0);
    EXPECT_EQ(device.file, fixtureFile("good", "libmq_fixture_device.so"));
    EXPECT_EQ(device.kind, PluginKind::Device);
    EXPECT_EQ(device.id, QStringLiteral("fixture-device"));
    EXPECT_EQ(device.name, QStringLiteral("Fixture devices (test only)"));
    EXPECT_EQ(device.version, QStringLiteral("0.9.0"));
    EXPECT_TRUE(device.description.isEmpty());
    const PluginInfo &method = manager.plugins().at(1);
    EXPECT_EQ(method.file, fixtureFile("good", "libmq_fixture_method.so"));
    EXPECT_EQ(method.kind, PluginKind::Method);
    EXPECT_EQ(method.id, QStringLiteral("fixture-method"));
    EXPECT_EQ(method.version, QStringLiteral("1.2.3"));
    EXPECT_EQ(method.description, QStringLiteral("Test fixture: a method that does nothing."));
    EXPECT_EQ(mq::pluginKindName(method.kind), QStringLiteral("method"));
    EXPECT_EQ(mq::pluginKindName(device.kind), QStringLiteral("device"));
}

TEST(PluginManager, LoadedPluginsCreateWorkingObjects)
{
    PluginManager manager({fixtureDir("good")});
    manager.scan();
    const mq::QuantMethodPlugin *methodPlugin = manager.method(QStringLiteral("fixture-method"));
    const mq::DeviceBackendPlugin *devicePlugin = manager.device(QStringLiteral("fixture-device"));
    ASSERT_NE(methodPlugin, nullptr);
    ASSERT_NE(devicePlugin, nullptr);

    const std::unique_ptr<mq::CalibrationMethod> method = methodPlugin->createMethod({});
    ASSERT_NE(method, nullptr);
    EXPECT_EQ(method->id(), "fixture-method");

    const std::unique_ptr<mq::DeviceBackend> backend =
        devicePlugin->createBackend({{QStringLiteral("deviceCount"), 3}});
    ASSERT_NE(backend, nullptr);
    EXPECT_EQ(backend->id(), "fixture-device");
    const std::vector<mq::DeviceInfo> devices = backend->listDevices();
    ASSERT_EQ(devices.size(), 3u);
    EXPECT_EQ(devices[2].serial, "fixture-2");
    EXPECT_EQ(devices[2].state, "device");
    EXPECT_EQ(devices[2].abi, "arm64-v8a");
    EXPECT_EQ(devices[2].facts.at("simulated"), "yes");
    // The setting's default (1) applies when the key is missing.
    EXPECT_EQ(devicePlugin->createBackend({})->listDevices().size(), 1u);
}

TEST(PluginManager, LoadedMethodPluginValidatesSettings)
{
    PluginManager manager({fixtureDir("good")});
    manager.scan();
    const mq::QuantMethodPlugin *plugin = manager.method(QStringLiteral("fixture-method"));
    ASSERT_NE(plugin, nullptr);
    ASSERT_EQ(plugin->settingSpecs().size(), 5);

    EXPECT_TRUE(plugin->validateSettings({}).isEmpty());
    EXPECT_TRUE(plugin->validateSettings({{QStringLiteral("iterations"), 500},
                                          {QStringLiteral("lr"), 0.01},
                                          {QStringLiteral("symmetric"), false},
                                          {QStringLiteral("granularity"),
                                           QStringLiteral("per-tensor")},
                                          {QStringLiteral("note"), QStringLiteral("ablation 3")}})
                    .isEmpty());

    EXPECT_EQ(plugin->validateSettings({{QStringLiteral("iterations"), 0}}),
              QStringList{QStringLiteral(
                  "Iterations (iterations) is 0, must be between 1 and 10000 steps")});
    EXPECT_EQ(plugin->validateSettings({{QStringLiteral("iterations"), QStringLiteral("many")}}),
              QStringList{QStringLiteral(
                  "Iterations (iterations) must be an integer, got \"many\" (text)")});
    EXPECT_EQ(plugin->validateSettings({{QStringLiteral("itrations"), 5}}),
              QStringList{QStringLiteral("unknown setting \"itrations\"; known settings: "
                                         "iterations, lr, symmetric, granularity, note")});
    EXPECT_EQ(plugin->validateSettings(
                  {{QStringLiteral("lr"), 2.5}, {QStringLiteral("symmetric"), 1}}),
              (QStringList{QStringLiteral("Learning rate (lr) is 2.5, must be between 0 and 1"),
                           QStringLiteral("Symmetric (symmetric) must be true or false, got 1 "
                                          "(integer)")}));
}

TEST(PluginManager, RefusesNewerPluginApiVersion)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    const QString file = fixtureFile("bad", "libmq_fixture_api_v2.so");
    EXPECT_EQ(failureFor(manager, file),
              file + QStringLiteral(": plugin API version 2, this build supports 1; rebuild the "
                                    "plugin against MQ Workbench " MQ_EXPECTED_WORKBENCH_VERSION));
}

TEST(PluginManager, RefusesMetadataWithoutId)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    const QString file = fixtureFile("bad", "libmq_fixture_missing_id.so");
    EXPECT_EQ(failureFor(manager, file),
              file + QStringLiteral(": the metadata lacks \"id\" (or it is empty); every plugin "
                                    "needs a non-empty \"id\", \"name\" and \"version\" (see "
                                    "docs/plugins.md)"));
}

TEST(PluginManager, RefusesPluginOfAnotherApplication)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    const QString file = fixtureFile("bad", "libmq_fixture_foreign_iid.so");
    EXPECT_EQ(failureFor(manager, file),
              file + QStringLiteral(": a Qt plugin for another application (interface "
                                    "\"org.example.OtherApp.Filter/1\"), not an MQ Workbench "
                                    "plugin; move it out of this folder"));
}

TEST(PluginManager, RefusesKindThatContradictsInterface)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    const QString file = fixtureFile("bad", "libmq_fixture_kind_mismatch.so");
    EXPECT_EQ(failureFor(manager, file),
              file + QStringLiteral(": the metadata says kind \"method\" but the plugin declares "
                                    "org.mqworkbench.DeviceBackendPlugin/1, which is a device "
                                    "plugin; make them agree"));
}

TEST(PluginManager, ReportsTextFileNamedLikeALibrary)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    const QString file = fixtureFile("bad", "libnotaplugin.so");
    const QString message = failureFor(manager, file);
    EXPECT_TRUE(message.startsWith(file + QStringLiteral(": not a Qt plugin: ")))
        << message.toStdString();
    EXPECT_TRUE(message.endsWith(QStringLiteral("; only plugins belong in this folder")))
        << message.toStdString();
    // Qt's own reason is kept, without repeating the path the message starts with.
    EXPECT_TRUE(message.contains(QStringLiteral("ELF"))) << message.toStdString();
    EXPECT_EQ(message.count(file), 1) << message.toStdString();
}

TEST(PluginManager, ReportsLoaderErrorForMissingDependency)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    const QString file = fixtureFile("bad", "libmq_fixture_missing_dep.so");
    const QString message = failureFor(manager, file);
    // The dynamic loader's own words, through QPluginLoader::errorString(), and what they mean.
    EXPECT_EQ(message,
              file + QStringLiteral(": could not be loaded: libmq_fixture_unreachable_dep.so: "
                                    "cannot open shared object file: No such file or directory "
                                    "(a library the plugin needs is not installed, or not on the "
                                    "library path)"));
}

TEST(PluginManager, RefusesObjectWithoutTheInterface)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    const QString file = fixtureFile("bad", "libmq_fixture_no_interface.so");
    EXPECT_EQ(failureFor(manager, file),
              file + QStringLiteral(": declares org.mqworkbench.QuantMethodPlugin/1 but its plugin "
                                    "object (NoInterfaceFixturePlugin) does not implement "
                                    "mq::QuantMethodPlugin; add "
                                    "Q_INTERFACES(mq::QuantMethodPlugin) to the class"));
}

TEST(PluginManager, RefusesIdThatDiffersFromMetadata)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    const QString file = fixtureFile("bad", "libmq_fixture_id_mismatch.so");
    EXPECT_EQ(failureFor(manager, file),
              file + QStringLiteral(": the metadata says id \"fixture-id-in-metadata\" but the "
                                    "plugin object reports \"fixture-id-in-code\"; make them "
                                    "equal"));
}

TEST(PluginManager, BadFolderYieldsOneFailurePerLibraryAndNoPlugins)
{
    PluginManager manager({fixtureDir("bad")});
    manager.scan();
    EXPECT_TRUE(manager.plugins().isEmpty());
    EXPECT_TRUE(manager.methods().isEmpty());
    EXPECT_TRUE(manager.devices().isEmpty());

    // README.txt is not a library name, so it is ignored without a word.
    QStringList files;
    for (const PluginFailure &failure : manager.failures()) {
        EXPECT_TRUE(failure.message.startsWith(failure.file + QStringLiteral(": ")))
            << failure.message.toStdString();
        files << QFileInfo(failure.file).fileName();
    }
    EXPECT_EQ(files, (QStringList{QStringLiteral("libmq_fixture_api_v2.so"),
                                  QStringLiteral("libmq_fixture_foreign_iid.so"),
                                  QStringLiteral("libmq_fixture_id_mismatch.so"),
                                  QStringLiteral("libmq_fixture_kind_mismatch.so"),
                                  QStringLiteral("libmq_fixture_missing_dep.so"),
                                  QStringLiteral("libmq_fixture_missing_id.so"),
                                  QStringLiteral("libmq_fixture_no_interface.so"),
                                  QStringLiteral("libnotaplugin.so")}));
}

TEST(PluginManager, MetadataIsCheckedBeforeLoading)
{
    PluginManager manager({fixtureDir("good"), fixtureDir("bad"), fixtureDir("dup")});
    manager.scan();
    // Refused on their metadata: their code never ran.
    EXPECT_FALSE(wasLoaded("mq_fixture_api_v2"));
    EXPECT_FALSE(wasLoaded("mq_fixture_missing_id"));
    EXPECT_FALSE(wasLoaded("mq_fixture_foreign_iid"));
    EXPECT_FALSE(wasLoaded("mq_fixture_kind_mismatch"));
    EXPECT_FALSE(wasLoaded("mq_fixture_duplicate"));
    // Control: the marker works; these pass the metadata checks and fail only once loaded.
    EXPECT_TRUE(wasLoaded("mq_fixture_method"));
    EXPECT_TRUE(wasLoaded("mq_fixture_no_interface"));
    EXPECT_TRUE(wasLoaded("mq_fixture_id_mismatch"));
}

TEST(PluginManager, FirstPluginWithAnIdWinsAndLaterOnesAreReported)
{
    PluginManager manager({fixtureDir("good"), fixtureDir("dup")});
    manager.scan();
    ASSERT_NE(manager.method(QStringLiteral("fixture-method")), nullptr);
    EXPECT_EQ(manager.method(QStringLiteral("fixture-method"))->name(),
              QStringLiteral("Fixture method (test only)"));
    EXPECT_EQ(manager.methods().size(), 1);
    const QString first = fixtureFile("good", "libmq_fixture_method.so");
    const QString later = fixtureFile("dup", "libmq_fixture_duplicate.so");
    ASSERT_EQ(manager.failures().size(), 1);
    EXPECT_EQ(failureFor(manager, later),
              later + QStringLiteral(": method id \"fixture-method\" is already taken by ") + first
                  + QStringLiteral(", which comes earlier in the search path; this one is "
                                   "ignored"));
}

TEST(PluginManager, EarlierSearchFolderWins)
{
    PluginManager manager({fixtureDir("dup-first"), fixtureDir("good")});
    manager.scan();
    ASSERT_NE(manager.method(QStringLiteral("fixture-method")), nullptr);
    EXPECT_EQ(manager.method(QStringLiteral("fixture-method"))->name(),
              QStringLiteral("Duplicate fixture method (test only)"));
    ASSERT_EQ(manager.failures().size(), 1);
    EXPECT_EQ(manager.failures().front().file, fixtureFile("good", "libmq_fixture_method.so"));
    // The device plugin in good/ has no rival and loads.
    EXPECT_NE(manager.device(QStringLiteral("fixture-device")), nullptr);
}

TEST(PluginManager, SameFolderTwiceAndMissingFoldersAreHarmless)
{
    PluginManager manager({QStringLiteral("/nonexistent/mq-plugins"), fixtureDir("good"),
                           fixtureDir("good") + QStringLiteral("/"), fixtureDir("good")});
    manager.scan();
    EXPECT_TRUE(manager.failures().isEmpty())
        << manager.failures().value(0).message.toStdString();
    EXPECT_EQ(manager.plugins().size(), 2);
}

TEST(PluginManager, ScanAgainStartsOver)
{
    PluginManager manager({fixtureDir("good")});
    manager.scan();
    manager.scan();
    EXPECT_TRUE(manager.failures().isEmpty());
    EXPECT_EQ(manager.plugins().size(), 2);

    // dup-first, not dup: MetadataIsCheckedBeforeLoading relies on nothing loading dup/.
    manager.setSearchPaths({fixtureDir("dup-first")});
    manager.scan();
    EXPECT_TRUE(manager.failures().isEmpty());
    ASSERT_EQ(manager.methods().size(), 1);
    EXPECT_EQ(manager.devices().size(), 0);
    EXPECT_EQ(manager.plugins().front().file,
              fixtureFile("dup-first", "libmq_fixture_duplicate_first.so"));
}

TEST(PluginManager, DefaultSearchPathsInOrder)
{
    const ScopedEnv pluginPath("MQ_PLUGIN_PATH", "/first/plugins::/second/plugins/");
    const ScopedEnv dataHome("XDG_DATA_HOME", "/home/someone/data");
    EXPECT_EQ(PluginManager::defaultSearchPaths(QStringLiteral("/opt/mq/bin")),
              (QStringList{QStringLiteral("/first/plugins"), QStringLiteral("/second/plugins"),
                           QStringLiteral("/opt/mq/bin/plugins"),
                           QStringLiteral("/opt/mq/lib/mq-workbench/plugins"),
                           QStringLiteral("/home/someone/data/mq-workbench/plugins")}));
}

TEST(PluginManager, DefaultUserFolderIsUnderLocalShare)
{
    const ScopedEnv pluginPath("MQ_PLUGIN_PATH", "");
    const ScopedEnv dataHome("XDG_DATA_HOME", "");
    const ScopedEnv home("HOME", "/home/someone");
    EXPECT_EQ(PluginManager::defaultSearchPaths(QStringLiteral("/opt/mq/bin")),
              (QStringList{QStringLiteral("/opt/mq/bin/plugins"),
                           QStringLiteral("/opt/mq/lib/mq-workbench/plugins"),
                           QStringLiteral("/home/someone/.local/share/mq-workbench/plugins")}));
}

TEST(PluginManager, DefaultConstructorFollowsPluginPathVariable)
{
    QTemporaryDir emptyDataHome;
    ASSERT_TRUE(emptyDataHome.isValid());
    const ScopedEnv pluginPath("MQ_PLUGIN_PATH", fixtureDir("good").toUtf8());
    const ScopedEnv dataHome("XDG_DATA_HOME", emptyDataHome.path().toUtf8());
    PluginManager manager; // no QCoreApplication here: no folder next to the executable
    EXPECT_EQ(manager.searchPaths(),
              (QStringList{fixtureDir("good"),
                           emptyDataHome.path() + QStringLiteral("/mq-workbench/plugins")}));
    manager.scan();
    EXPECT_TRUE(manager.failures().isEmpty());
    EXPECT_NE(manager.method(QStringLiteral("fixture-method")), nullptr);
}

TEST(PluginManager, InterfaceIidsCarryTheApiVersion)
{
    const QString suffix = QStringLiteral("/%1").arg(mq::kPluginApiVersion);
    EXPECT_TRUE(QStringLiteral(MQ_QUANT_METHOD_PLUGIN_IID).endsWith(suffix));
    EXPECT_TRUE(QStringLiteral(MQ_DEVICE_BACKEND_PLUGIN_IID).endsWith(suffix));
    EXPECT_EQ(QStringLiteral(MQ_QUANT_METHOD_PLUGIN_IID),
              QStringLiteral("org.mqworkbench.QuantMethodPlugin/1"));
    EXPECT_EQ(QStringLiteral(MQ_DEVICE_BACKEND_PLUGIN_IID),
              QStringLiteral("org.mqworkbench.DeviceBackendPlugin/1"));
}

} // namespace
