// The "android-adb" device back-end: Android phones reached through the adb host tool
// (core/device/adb_backend.h; protocol in docs/device-benchmarking.md).
#include "core/device/adb_backend.h"
#include "plugins/api/device_plugin.h"

#include <QObject>

namespace mq {

namespace {

// Without an adb the back-end still exists (the window builds its devices dock from it), and every
// call says what is missing and how to get it.
class AdbMissingBackend : public DeviceBackend
{
public:
    explicit AdbMissingBackend(std::string why)
        : m_why(std::move(why))
    {
    }
    std::string id() const override { return "android-adb"; }
    std::vector<DeviceInfo> listDevices() override { throw std::runtime_error(m_why); }
    void connect(const std::string &) override { throw std::runtime_error(m_why); }
    device::DeployResult deploy(const std::string &, const std::vector<std::string> &, const device::BenchOptions &,
        const device::DeviceEvents &, const std::atomic<bool> *) override
    {
        throw std::runtime_error(m_why);
    }
    device::BenchmarkReport benchmark(const std::string &, const std::vector<std::string> &,
        const device::BenchOptions &, const device::DeviceEvents &, const std::atomic<bool> *) override
    {
        throw std::runtime_error(m_why);
    }

private:
    std::string m_why;
};

} // namespace

class AndroidAdbPlugin : public QObject, public DeviceBackendPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID MQ_DEVICE_BACKEND_PLUGIN_IID FILE "android_adb.json")
    Q_INTERFACES(mq::DeviceBackendPlugin)

public:
    QString id() const override { return QStringLiteral("android-adb"); }
    QString name() const override { return QStringLiteral("Android (adb)"); }

    QList<SettingSpec> settingSpecs() const override
    {
        SettingSpec adb;
        adb.key = QStringLiteral("adb");
        adb.label = QStringLiteral("adb executable");
        adb.type = SettingType::String;
        adb.defaultValue = QString();
        adb.help = QStringLiteral("Path of adb; empty: $ADB, then PATH, then $ANDROID_HOME/platform-tools.");
        SettingSpec port;
        port.key = QStringLiteral("server-port");
        port.label = QStringLiteral("adb server port");
        port.type = SettingType::Int;
        port.defaultValue = 0;
        port.minimum = 0;
        port.maximum = 65535;
        port.help = QStringLiteral("0: adb's default (5037 or $ANDROID_ADB_SERVER_PORT).");
        return { adb, port };
    }

    std::unique_ptr<DeviceBackend> createBackend(const QVariantMap &settings) const override
    {
        const QVariantMap s = withDefaults(settingSpecs(), settings);
        std::map<std::string, std::string> env;
        if (const int port = s.value(QStringLiteral("server-port")).toInt(); port > 0)
            env["ANDROID_ADB_SERVER_PORT"] = std::to_string(port);
        std::string adb;
        try {
            adb = device::findAdb(s.value(QStringLiteral("adb")).toString().toStdString());
        } catch (const std::exception &e) {
            return std::make_unique<AdbMissingBackend>(e.what());
        }
        return std::make_unique<device::AdbDeviceBackend>(device::AdbClient(adb, env));
    }
};

} // namespace mq

#include "android_adb_plugin.moc"
