// SmoothQuant (mobilequant-method.md §2.4, §5.3): smooth, then min/max ranges; no training.
#include "core/calib/methods.h"
#include "plugins/api/method_plugin.h"
#include "plugins/methods/train_settings_spec.h"

#include <QObject>

namespace mq {

class SmoothQuantMethodPlugin : public QObject, public QuantMethodPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID MQ_QUANT_METHOD_PLUGIN_IID FILE "smoothquant.json")
    Q_INTERFACES(mq::QuantMethodPlugin)

public:
    QString id() const override { return QStringLiteral("smoothquant"); }
    QString name() const override { return QStringLiteral("SmoothQuant"); }

    QList<SettingSpec> settingSpecs() const override { return { smoothQuantAlphaSpec(TrainSettings {}.alpha) }; }

    std::unique_ptr<CalibrationMethod> createMethod(const QVariantMap &settings) const override
    {
        const QVariantMap s = withDefaults(settingSpecs(), settings);
        return makeSmoothQuantMethod(s.value(QStringLiteral("alpha")).toDouble());
    }
};

} // namespace mq

#include "smoothquant_plugin.moc"
