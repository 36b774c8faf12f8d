#pragma once

#include "core/device/device_backend.h"
#include "plugins/api/plugin_api.h"
#include "plugins/api/setting_spec.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantMap>
#include <QtPlugin>

#include <memory>

namespace mq {

// A device back-end packaged as a Qt plugin (Android over adb, this host): it makes DeviceBackend
// objects. A plugin's root class derives from QObject and from this interface, and declares
//     Q_PLUGIN_METADATA(IID MQ_DEVICE_BACKEND_PLUGIN_IID FILE "my_backend.json")
//     Q_INTERFACES(mq::DeviceBackendPlugin)
// (docs/plugins.md has a complete example and the metadata JSON).
//
// Threads and ownership: as for QuantMethodPlugin. The plugin object is owned by Qt's plugin
// loader, lives until the process exits and is called from the thread that owns the
// PluginManager; implementations keep no mutable state.
class DeviceBackendPlugin
{
public:
    virtual ~DeviceBackendPlugin() = default;

    // Stable id, equal to the "id" in the plugin's metadata: "android-adb", "host".
    virtual QString id() const = 0;

    // Shown in the device dock: "Android (adb)".
    virtual QString name() const = 0;

    // Settings of the back-end (e.g. the path of `adb`); none by default.
    virtual QList<SettingSpec> settingSpecs() const { return {}; }

    // Readable errors for `settings`, empty when they are valid. Override to add checks between
    // settings, and call this base version first.
    virtual QStringList validateSettings(const QVariantMap &settings) const
    {
        return mq::validateSettings(settingSpecs(), settings);
    }

    // A back-end ready to list devices. The caller owns it and may hand it to a worker thread.
    // Precondition: validateSettings(settings) is empty; missing keys take their defaults.
    virtual std::unique_ptr<DeviceBackend> createBackend(const QVariantMap &settings) const = 0;
};

} // namespace mq

// The "/1" is the plugin API version (plugins/api/plugin_api.h).
#define MQ_DEVICE_BACKEND_PLUGIN_IID "org.mqworkbench.DeviceBackendPlugin/1"

QT_BEGIN_NAMESPACE
Q_DECLARE_INTERFACE(mq::DeviceBackendPlugin, MQ_DEVICE_BACKEND_PLUGIN_IID)
QT_END_NAMESPACE
