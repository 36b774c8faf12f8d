#include "app/workbench/method_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLineEdit>
#include <QSpinBox>

#include <cmath>
#include <limits>

namespace mq {

namespace {

// Learning rates span 1e-7 … 1e-2: a fixed number of decimals would show most of them as 0, so
// Double fields show and parse numbers in scientific notation when needed.
class RealSpinBox : public QDoubleSpinBox
{
public:
    using QDoubleSpinBox::QDoubleSpinBox;

    QString textFromValue(double value) const override { return QString::number(value, 'g', 6); }
    double valueFromText(const QString &text) const override { return text.toDouble(); }
    QValidator::State validate(QString &text, int &) const override
    {
        bool ok = false;
        text.toDouble(&ok);
        return ok ? QValidator::Acceptable : QValidator::Intermediate;
    }
    void stepBy(int steps) override
    {
        // Steps of a tenth of the value's decade, so 1e-6 steps to 1.1e-6, not to 1.000001.
        const double v = value();
        const double decade = v != 0 ? std::pow(10.0, std::floor(std::log10(std::abs(v)))) : 0.1;
        setValue(v + steps * decade / 10);
    }
};

} // namespace

MethodForm::MethodForm(QWidget *parent)
    : QWidget(parent)
    , m_layout(new QFormLayout(this))
{
    m_layout->setContentsMargins(0, 0, 0, 0);
    m_layout->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
}

void MethodForm::setSpecs(const QList<SettingSpec> &specs)
{
    while (m_layout->rowCount() > 0)
        m_layout->removeRow(0);
    m_fields.clear();
    m_specs = specs;
    for (const SettingSpec &spec : specs) {
        QWidget *w = nullptr;
        const QString suffix = spec.unit.isEmpty() ? QString() : QStringLiteral(" ") + spec.unit;
        switch (spec.type) {
        case SettingType::Int: {
            auto *box = new QSpinBox;
            box->setRange(spec.minimum.isValid() ? spec.minimum.toInt() : std::numeric_limits<int>::min(),
                spec.maximum.isValid() ? spec.maximum.toInt() : std::numeric_limits<int>::max());
            box->setValue(spec.defaultValue.toInt());
            box->setSuffix(suffix);
            connect(box, &QSpinBox::valueChanged, this, &MethodForm::changed);
            w = box;
            break;
        }
        case SettingType::Double: {
            auto *box = new RealSpinBox;
            box->setDecimals(12);
            box->setRange(spec.minimum.isValid() ? spec.minimum.toDouble() : -1e300,
                spec.maximum.isValid() ? spec.maximum.toDouble() : 1e300);
            box->setValue(spec.defaultValue.toDouble());
            box->setSuffix(suffix);
            connect(box, &QDoubleSpinBox::valueChanged, this, &MethodForm::changed);
            w = box;
            break;
        }
        case SettingType::Bool: {
            auto *box = new QCheckBox;
            box->setChecked(spec.defaultValue.toBool());
            connect(box, &QCheckBox::toggled, this, &MethodForm::changed);
            w = box;
            break;
        }
        case SettingType::Choice: {
            auto *box = new QComboBox;
            box->addItems(spec.choices);
            box->setCurrentText(spec.defaultValue.toString());
            connect(box, &QComboBox::currentTextChanged, this, &MethodForm::changed);
            w = box;
            break;
        }
        case SettingType::String: {
            auto *edit = new QLineEdit(spec.defaultValue.toString());
            connect(edit, &QLineEdit::textChanged, this, &MethodForm::changed);
            w = edit;
            break;
        }
        }
        w->setObjectName(QStringLiteral("setting-") + spec.key);
        w->setToolTip(spec.help);
        m_layout->addRow(spec.label.isEmpty() ? spec.key : spec.label, w);
        m_fields << w;
    }
    Q_EMIT changed();
}

QVariantMap MethodForm::values() const
{
    QVariantMap out;
    for (int i = 0; i < m_specs.size(); ++i) {
        const SettingSpec &spec = m_specs[i];
        QWidget *w = m_fields[i];
        switch (spec.type) {
        case SettingType::Int:
            out[spec.key] = static_cast<QSpinBox *>(w)->value();
            break;
        case SettingType::Double:
            out[spec.key] = static_cast<QDoubleSpinBox *>(w)->value();
            break;
        case SettingType::Bool:
            out[spec.key] = static_cast<QCheckBox *>(w)->isChecked();
            break;
        case SettingType::Choice:
            out[spec.key] = static_cast<QComboBox *>(w)->currentText();
            break;
        case SettingType::String:
            out[spec.key] = static_cast<QLineEdit *>(w)->text();
            break;
        }
    }
    return out;
}

bool MethodForm::setValue(const QString &key, const QVariant &value)
{
    for (int i = 0; i < m_specs.size(); ++i) {
        if (m_specs[i].key != key)
            continue;
        QWidget *w = m_fields[i];
        switch (m_specs[i].type) {
        case SettingType::Int:
            static_cast<QSpinBox *>(w)->setValue(value.toInt());
            break;
        case SettingType::Double:
            static_cast<QDoubleSpinBox *>(w)->setValue(value.toDouble());
            break;
        case SettingType::Bool:
            static_cast<QCheckBox *>(w)->setChecked(value.toBool());
            break;
        case SettingType::Choice:
            static_cast<QComboBox *>(w)->setCurrentText(value.toString());
            break;
        case SettingType::String:
            static_cast<QLineEdit *>(w)->setText(value.toString());
            break;
        }
        return true;
    }
    return false;
}

bool MethodForm::setValues(const QVariantMap &values)
{
    bool all = true;
    for (auto it = values.begin(); it != values.end(); ++it)
        all = setValue(it.key(), it.value()) && all;
    return all;
}

QWidget *MethodForm::field(const QString &key) const
{
    for (int i = 0; i < m_specs.size(); ++i)
        if (m_specs[i].key == key)
            return m_fields[i];
    return nullptr;
}

} // namespace mq
