#include "plugins/api/setting_spec.h"

#include <QMetaType>

#include <cmath>
#include <limits>

namespace mq {

namespace {

bool isWholeNumberType(int typeId)
{
    switch (typeId) {
    case QMetaType::Int:
    case QMetaType::UInt:
    case QMetaType::LongLong:
    case QMetaType::ULongLong:
    case QMetaType::Long:
    case QMetaType::ULong:
    case QMetaType::Short:
    case QMetaType::UShort:
        return true;
    default:
        return false;
    }
}

bool isRealNumberType(int typeId)
{
    return typeId == QMetaType::Double || typeId == QMetaType::Float;
}

// How a person would write the value, followed by what it is: "\"abc\" (text)", "2.5 (number)".
QString describe(const QVariant &value)
{
    const int typeId = value.typeId();
    if (!value.isValid())
        return QStringLiteral("nothing");
    if (typeId == QMetaType::Bool)
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (typeId == QMetaType::QString)
        return QStringLiteral("\"%1\" (text)").arg(value.toString());
    if (isWholeNumberType(typeId))
        return QStringLiteral("%1 (integer)").arg(value.toString());
    if (isRealNumberType(typeId))
        return QStringLiteral("%1 (number)").arg(QString::number(value.toDouble()));
    return QStringLiteral("a value of type %1").arg(QString::fromLatin1(value.typeName()));
}

QString subject(const SettingSpec &spec)
{
    return spec.label.isEmpty() ? spec.key : QStringLiteral("%1 (%2)").arg(spec.label, spec.key);
}

QString expectation(const SettingSpec &spec)
{
    switch (spec.type) {
    case SettingType::Int:
        return QStringLiteral("an integer");
    case SettingType::Double:
        return QStringLiteral("a number");
    case SettingType::Bool:
        return QStringLiteral("true or false");
    case SettingType::Choice:
        return QStringLiteral("one of: %1").arg(spec.choices.join(QStringLiteral(", ")));
    case SettingType::String:
        return QStringLiteral("text");
    }
    return QString();
}

QString wrongType(const SettingSpec &spec, const QString &got)
{
    return QStringLiteral("%1 must be %2, got %3").arg(subject(spec), expectation(spec), got);
}

QString numberText(const SettingSpec &spec, const QVariant &value)
{
    return spec.type == SettingType::Int ? QString::number(value.toLongLong())
                                         : QString::number(value.toDouble());
}

// Empty when `value` (already of the right type) lies within the spec's bounds.
QString rangeError(const SettingSpec &spec, const QVariant &value)
{
    const double x = value.toDouble();
    const bool hasMin = spec.minimum.isValid();
    const bool hasMax = spec.maximum.isValid();
    const bool belowMin = hasMin
        && (spec.type == SettingType::Int ? value.toLongLong() < spec.minimum.toLongLong()
                                          : x < spec.minimum.toDouble());
    const bool aboveMax = hasMax
        && (spec.type == SettingType::Int ? value.toLongLong() > spec.maximum.toLongLong()
                                          : x > spec.maximum.toDouble());
    if (!belowMin && !aboveMax)
        return QString();

    const QString unit = spec.unit.isEmpty() ? QString() : QLatin1Char(' ') + spec.unit;
    QString bound;
    if (hasMin && hasMax) {
        bound = QStringLiteral("between %1 and %2%3")
                    .arg(numberText(spec, spec.minimum), numberText(spec, spec.maximum), unit);
    } else if (hasMin) {
        bound = QStringLiteral("at least %1%2").arg(numberText(spec, spec.minimum), unit);
    } else {
        bound = QStringLiteral("at most %1%2").arg(numberText(spec, spec.maximum), unit);
    }
    return QStringLiteral("%1 is %2, must be %3")
        .arg(subject(spec), numberText(spec, value), bound);
}

// Empty when `value` is a valid value for `spec`.
QString valueError(const SettingSpec &spec, const QVariant &value)
{
    const int typeId = value.typeId();
    switch (spec.type) {
    case SettingType::Int: {
        // Numbers read from JSON arrive as double; a whole one is a fine integer.
        const bool whole = isWholeNumberType(typeId)
            || (isRealNumberType(typeId) && std::isfinite(value.toDouble())
                && value.toDouble() == std::floor(value.toDouble())
                && std::abs(value.toDouble()) < 9.0e15);
        if (!whole)
            return wrongType(spec, describe(value));
        return rangeError(spec, value);
    }
    case SettingType::Double:
        if (!isWholeNumberType(typeId) && !isRealNumberType(typeId))
            return wrongType(spec, describe(value));
        if (!std::isfinite(value.toDouble()))
            return QStringLiteral("%1 must be a finite number, got %2")
                .arg(subject(spec), describe(value));
        return rangeError(spec, value);
    case SettingType::Bool:
        if (typeId != QMetaType::Bool)
            return wrongType(spec, describe(value));
        return QString();
    case SettingType::Choice:
        if (typeId != QMetaType::QString)
            return wrongType(spec, describe(value));
        if (!spec.choices.contains(value.toString()))
            return QStringLiteral("%1 is \"%2\", must be %3")
                .arg(subject(spec), value.toString(), expectation(spec));
        return QString();
    case SettingType::String:
        if (typeId != QMetaType::QString)
            return wrongType(spec, describe(value));
        return QString();
    }
    return QString();
}

} // namespace

QString settingTypeName(SettingType type)
{
    switch (type) {
    case SettingType::Int:
        return QStringLiteral("integer");
    case SettingType::Double:
        return QStringLiteral("number");
    case SettingType::Bool:
        return QStringLiteral("true/false");
    case SettingType::Choice:
        return QStringLiteral("choice");
    case SettingType::String:
        return QStringLiteral("text");
    }
    return QString();
}

QStringList validateSettings(const QList<SettingSpec> &specs, const QVariantMap &settings)
{
    QStringList errors;
    for (auto it = settings.cbegin(); it != settings.cend(); ++it) {
        const SettingSpec *spec = nullptr;
        for (const SettingSpec &candidate : specs) {
            if (candidate.key == it.key()) {
                spec = &candidate;
                break;
            }
        }
        if (!spec) {
            QStringList known;
            for (const SettingSpec &candidate : specs)
                known << candidate.key;
            errors << (known.isEmpty()
                           ? QStringLiteral("unknown setting \"%1\"; there are no settings")
                                 .arg(it.key())
                           : QStringLiteral("unknown setting \"%1\"; known settings: %2")
                                 .arg(it.key(), known.join(QStringLiteral(", "))));
            continue;
        }
        const QString error = valueError(*spec, it.value());
        if (!error.isEmpty())
            errors << error;
    }
    return errors;
}

QVariantMap withDefaults(const QList<SettingSpec> &specs, const QVariantMap &settings)
{
    QVariantMap result = settings;
    for (const SettingSpec &spec : specs) {
        if (!result.contains(spec.key) && spec.defaultValue.isValid())
            result.insert(spec.key, spec.defaultValue);
    }
    return result;
}

QVariant settingFromText(const SettingSpec &spec, const QString &text, QString *error)
{
    const QString trimmed = text.trimmed();
    bool ok = false;
    QVariant value;
    switch (spec.type) {
    case SettingType::Int: {
        const qlonglong number = trimmed.toLongLong(&ok);
        if (ok) {
            const bool fitsInt = number >= std::numeric_limits<int>::min()
                && number <= std::numeric_limits<int>::max();
            value = fitsInt ? QVariant(static_cast<int>(number)) : QVariant(number);
        }
        break;
    }
    case SettingType::Double: {
        const double number = trimmed.toDouble(&ok);
        ok = ok && std::isfinite(number);
        if (ok)
            value = number;
        break;
    }
    case SettingType::Bool: {
        const QString lower = trimmed.toLower();
        if (lower == QLatin1String("true") || lower == QLatin1String("yes")
            || lower == QLatin1String("on") || lower == QLatin1String("1")) {
            value = true;
        } else if (lower == QLatin1String("false") || lower == QLatin1String("no")
                   || lower == QLatin1String("off") || lower == QLatin1String("0")) {
            value = false;
        }
        ok = value.isValid();
        break;
    }
    case SettingType::Choice:
        value = trimmed;
        ok = true;
        break;
    case SettingType::String:
        value = text;
        ok = true;
        break;
    }
    if (!ok) {
        if (error)
            *error = wrongType(spec, QLatin1Char('"') + text + QLatin1Char('"'));
        return QVariant();
    }
    if (error)
        error->clear();
    return value;
}

} // namespace mq
