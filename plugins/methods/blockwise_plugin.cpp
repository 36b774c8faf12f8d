// The block-wise baseline (OmniQuant-style, mobilequant-method.md §5.3): each decoder layer
// trained in turn against its float output.
#include "core/calib/methods.h"
#include "plugins/api/method_plugin.h"
#include "plugins/methods/train_settings_spec.h"

#include <QObject>

namespace mq {

class BlockwiseMethodPlugin : public QObject, public QuantMethodPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID MQ_QUANT_METHOD_PLUGIN_IID FILE "blockwise.json")
    Q_INTERFACES(mq::QuantMethodPlugin)

public:
    QString id() const override { return QStringLiteral("blockwise"); }
    QString name() const override { return QStringLiteral("Block-wise (OmniQuant-style)"); }

    QList<SettingSpec> settingSpecs() const override
    {
        // OmniQuant trains LET and LWC only; LRL is the `lrl_*` scripts' extension (§5.3).
        TrainSettings defaults;
        defaults.lrl = false;
        return trainSettingSpecs(defaults);
    }

    QStringList validateSettings(const QVariantMap &settings) const override
    {
        return validateTrainSettings(settingSpecs(), settings);
    }

    std::unique_ptr<CalibrationMethod> createMethod(const QVariantMap &settings) const override
    {
        return makeBlockwiseMethod(trainSettingsFrom(settingSpecs(), settings));
    }
};

} // namespace mq

#include "blockwise_plugin.moc"
