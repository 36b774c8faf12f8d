#pragma once

#include "plugins/api/setting_spec.h"

#include <QList>
#include <QVariantMap>
#include <QWidget>

class QFormLayout;

namespace mq {

// A form built from a method plugin's SettingSpec list: a spin box per Int / Double setting
// (with its bounds and unit), a check box per Bool, a combo box per Choice and a line edit per
// String; the spec's help is the tooltip. GUI thread only.
class MethodForm : public QWidget
{
    Q_OBJECT

public:
    explicit MethodForm(QWidget *parent = nullptr);

    // Replaces the fields; every field starts at its default.
    void setSpecs(const QList<SettingSpec> &specs);
    const QList<SettingSpec> &specs() const { return m_specs; }

    // Every setting, as the plugin expects it (int, double, bool, QString).
    QVariantMap values() const;
    // Sets the fields named in `values` (unknown keys are ignored); returns false when a key is
    // not a setting of this form.
    bool setValues(const QVariantMap &values);
    bool setValue(const QString &key, const QVariant &value);
    // The widget of a setting (for tests), nullptr when there is none.
    QWidget *field(const QString &key) const;

Q_SIGNALS:
    void changed();

private:
    QFormLayout *m_layout = nullptr;
    QList<SettingSpec> m_specs;
    QList<QWidget *> m_fields; // parallel to m_specs
};

} // namespace mq
