#pragma once

#include <QList>
#include <QString>
#include <QStringList>
#include <QVariant>
#include <QVariantMap>

namespace mq {

enum class SettingType
{
    Int,    // whole number (QVariant holding int or qlonglong)
    Double, // real number (QVariant holding double; a whole number is accepted too)
    Bool,   // on/off (QVariant holding bool)
    Choice, // one string out of SettingSpec::choices
    String, // free text
};

// One setting of a method or back-end, described well enough for the GUI to build a form field
// and for the CLI to build a flag (`--<key> <value>`) with its help text. Plain value type.
struct SettingSpec
{
    QString key;           // settings-map key and CLI flag name: "iterations", "lr"
    QString label;         // form label: "Iterations"
    SettingType type = SettingType::String;
    QVariant defaultValue; // used when the key is missing from a settings map
    QVariant minimum;      // Int / Double only; invalid QVariant = no lower bound (inclusive)
    QVariant maximum;      // Int / Double only; invalid QVariant = no upper bound (inclusive)
    QStringList choices;   // Choice only
    QString unit;          // shown after the field and in messages: "steps", "samples"
    QString help;          // one or two sentences: tooltip and `--help` text
};

// "integer", "number", "true/false", "choice", "text": used in messages and in `--help`.
QString settingTypeName(SettingType type);

// Readable errors for `settings` against `specs`, one per problem, in key order; empty when the
// settings are valid. Checks unknown keys, value types, ranges and choices. Missing keys are not
// errors: they take their defaults (see withDefaults()).
// Example: "Iterations (iterations) is 0, must be between 1 and 10000 steps".
QStringList validateSettings(const QList<SettingSpec> &specs, const QVariantMap &settings);

// `settings` with every missing key set to its spec's default value.
QVariantMap withDefaults(const QList<SettingSpec> &specs, const QVariantMap &settings);

// Converts the text of a CLI flag or a config file to the QVariant type `spec` expects
// ("500" -> int 500, "yes"/"true"/"on"/"1" -> true). Returns an invalid QVariant and sets
// `*error` (when given) if the text is not of that type; range and choice checks are left to
// validateSettings().
QVariant settingFromText(const SettingSpec &spec, const QString &text, QString *error = nullptr);

} // namespace mq
