// MobileQuant (mobilequant-method.md §5.2): LET, LWC and LRL trained end-to-end against the float
// model's last hidden state.
#include "core/calib/methods.h"
#include "plugins/api/method_plugin.h"
#include "plugins/methods/train_settings_spec.h"

#include <QObject>

namespace mq {

class MobileQuantMethodPlugin : public QObject, public QuantMethodPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID MQ_QUANT_METHOD_PLUGIN_IID FILE "mobilequant.json")
    Q_INTERFACES(mq::QuantMethodPlugin)

public:
    QString id() const override { return QStringLiteral("mobilequant"); }
    QString name() const override { return QStringLiteral("MobileQuant (end-to-end)"); }

    QList<SettingSpec> settingSpecs() const override
    {
        QList<SettingSpec> specs = trainSettingSpecs(TrainSettings {});
        SettingSpec checkpoint;
        checkpoint.key = QStringLiteral("checkpoint-layers");
        checkpoint.label = QStringLiteral("Checkpoint layers");
        checkpoint.type = SettingType::Bool;
        checkpoint.defaultValue = false;
        checkpoint.help = QStringLiteral("Recompute each decoder layer in the backward pass instead of keeping its "
                                         "activations, so long sequences fit in memory (one extra forward per step).");
        specs << checkpoint;
        return specs;
    }

    QStringList validateSettings(const QVariantMap &settings) const override
    {
        return validateTrainSettings(settingSpecs(), settings);
    }

    std::unique_ptr<CalibrationMethod> createMethod(const QVariantMap &settings) const override
    {
        return makeEndToEndMethod(trainSettingsFrom(settingSpecs(), settings));
    }
};

} // namespace mq

#include "mobilequant_plugin.moc"
