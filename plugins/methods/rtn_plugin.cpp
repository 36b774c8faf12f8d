// Round-to-nearest: the untrained baseline, ranges from min/max statistics of the float model.
#include "core/calib/methods.h"
#include "plugins/api/method_plugin.h"

#include <QObject>

namespace mq {

class RtnMethodPlugin : public QObject, public QuantMethodPlugin
{
    Q_OBJECT
    Q_PLUGIN_METADATA(IID MQ_QUANT_METHOD_PLUGIN_IID FILE "rtn.json")
    Q_INTERFACES(mq::QuantMethodPlugin)

public:
    QString id() const override { return QStringLiteral("rtn"); }
    QString name() const override { return QStringLiteral("Round-to-nearest (min/max)"); }
    QList<SettingSpec> settingSpecs() const override { return {}; }
    std::unique_ptr<CalibrationMethod> createMethod(const QVariantMap &) const override { return makeRtnMethod(); }
};

} // namespace mq

#include "rtn_plugin.moc"
