#pragma once

#include "core/calib/calibration_method.h"
#include "plugins/api/plugin_api.h"
#include "plugins/api/setting_spec.h"

#include <QList>
#include <QString>
#include <QStringList>
#include <QVariantMap>
#include <QtPlugin>

#include <memory>

namespace mq {

// A quantization (calibration) method packaged as a Qt plugin: it describes the method and its
// settings, and makes configured CalibrationMethod objects. A plugin's root class derives from
// QObject and from this interface, and declares
//     Q_PLUGIN_METADATA(IID MQ_QUANT_METHOD_PLUGIN_IID FILE "my_method.json")
//     Q_INTERFACES(mq::QuantMethodPlugin)
// (docs/plugins.md has a complete example and the metadata JSON).
//
// Threads and ownership: the plugin object is owned by Qt's plugin loader and lives until the
// process exits (plugins are never unloaded, because the objects they create run their code).
// Call it from the thread that owns the PluginManager. Implementations keep no mutable state:
// every call depends only on its arguments.
class QuantMethodPlugin
{
public:
    virtual ~QuantMethodPlugin() = default;

    // Stable id, equal to the "id" in the plugin's metadata: "mobilequant", "rtn", "smoothquant".
    virtual QString id() const = 0;

    // Shown in menus and run lists: "MobileQuant (end-to-end)".
    virtual QString name() const = 0;

    // The settings the method takes; the GUI builds its form and the CLI its flags from these.
    virtual QList<SettingSpec> settingSpecs() const = 0;

    // Readable errors for `settings`, empty when they are valid: unknown keys, wrong types,
    // out-of-range values. Override to add checks between settings ("4-bit weights need
    // per-channel scales"), and call this base version first.
    virtual QStringList validateSettings(const QVariantMap &settings) const
    {
        return mq::validateSettings(settingSpecs(), settings);
    }

    // A configured method. The caller owns it and hands it to a calibration Session, whose worker
    // thread calls run(). Precondition: validateSettings(settings) is empty; keys missing from
    // `settings` take their spec's default.
    virtual std::unique_ptr<CalibrationMethod> createMethod(const QVariantMap &settings) const = 0;
};

} // namespace mq

// The "/1" is the plugin API version (plugins/api/plugin_api.h): a plugin built against another
// version declares another IID and is refused before it is loaded.
#define MQ_QUANT_METHOD_PLUGIN_IID "org.mqworkbench.QuantMethodPlugin/1"

QT_BEGIN_NAMESPACE
Q_DECLARE_INTERFACE(mq::QuantMethodPlugin, MQ_QUANT_METHOD_PLUGIN_IID)
QT_END_NAMESPACE
