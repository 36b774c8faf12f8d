#include "plugins/api/setting_spec.h"

#include <gtest/gtest.h>

#include <limits>

namespace {

using mq::SettingSpec;
using mq::SettingType;

SettingSpec spec(const char *key, SettingType type)
{
    SettingSpec s;
    s.key = QLatin1String(key);
    s.type = type;
    return s;
}

TEST(PluginSettings, UnlabelledSettingIsNamedByKey)
{
    SettingSpec samples = spec("samples", SettingType::Int);
    samples.minimum = 1;
    EXPECT_EQ(mq::validateSettings({samples}, {{QStringLiteral("samples"), -4}}),
              QStringList{QStringLiteral("samples is -4, must be at least 1")});
}

TEST(PluginSettings, OneSidedBoundsAndUnits)
{
    SettingSpec temperature = spec("maxTemperature", SettingType::Double);
    temperature.label = QStringLiteral("Cool-down target");
    temperature.maximum = 45.0;
    temperature.unit = QStringLiteral("°C");
    EXPECT_TRUE(mq::validateSettings({temperature}, {{QStringLiteral("maxTemperature"), 45.0}})
                    .isEmpty());
    EXPECT_EQ(mq::validateSettings({temperature}, {{QStringLiteral("maxTemperature"), 45.5}}),
              QStringList{QStringLiteral(
                  "Cool-down target (maxTemperature) is 45.5, must be at most 45 °C")});
}

TEST(PluginSettings, IntegerAcceptsWholeNumbersFromJsonOnly)
{
    const SettingSpec steps = spec("steps", SettingType::Int);
    EXPECT_TRUE(mq::validateSettings({steps}, {{QStringLiteral("steps"), 300.0}}).isEmpty());
    EXPECT_TRUE(
        mq::validateSettings({steps}, {{QStringLiteral("steps"), qlonglong(1) << 40}}).isEmpty());
    EXPECT_EQ(mq::validateSettings({steps}, {{QStringLiteral("steps"), 2.5}}),
              QStringList{QStringLiteral("steps must be an integer, got 2.5 (number)")});
    EXPECT_EQ(mq::validateSettings({steps}, {{QStringLiteral("steps"), true}}),
              QStringList{QStringLiteral("steps must be an integer, got true")});
}

TEST(PluginSettings, DoubleRejectsNonFiniteAndText)
{
    const SettingSpec lr = spec("lr", SettingType::Double);
    EXPECT_TRUE(mq::validateSettings({lr}, {{QStringLiteral("lr"), 3}}).isEmpty());
    EXPECT_EQ(mq::validateSettings(
                  {lr}, {{QStringLiteral("lr"), std::numeric_limits<double>::quiet_NaN()}}),
              QStringList{QStringLiteral("lr must be a finite number, got nan (number)")});
    EXPECT_EQ(mq::validateSettings({lr}, {{QStringLiteral("lr"), QStringLiteral("1e-3")}}),
              QStringList{QStringLiteral("lr must be a number, got \"1e-3\" (text)")});
}

TEST(PluginSettings, ChoiceMustBeOneOfTheChoices)
{
    SettingSpec bits = spec("weightBits", SettingType::Choice);
    bits.choices = {QStringLiteral("w8"), QStringLiteral("w4")};
    EXPECT_TRUE(mq::validateSettings({bits}, {{QStringLiteral("weightBits"), QStringLiteral("w4")}})
                    .isEmpty());
    EXPECT_EQ(mq::validateSettings({bits}, {{QStringLiteral("weightBits"), QStringLiteral("w2")}}),
              QStringList{QStringLiteral("weightBits is \"w2\", must be one of: w8, w4")});
}

TEST(PluginSettings, UnknownKeyWhenThereAreNoSettings)
{
    EXPECT_EQ(mq::validateSettings({}, {{QStringLiteral("adb"), QStringLiteral("/usr/bin/adb")}}),
              QStringList{QStringLiteral("unknown setting \"adb\"; there are no settings")});
}

TEST(PluginSettings, WithDefaultsFillsOnlyMissingKeys)
{
    SettingSpec a = spec("a", SettingType::Int);
    a.defaultValue = 7;
    SettingSpec b = spec("b", SettingType::Bool);
    b.defaultValue = true;
    const QVariantMap filled = mq::withDefaults({a, b}, {{QStringLiteral("b"), false}});
    EXPECT_EQ(filled.value(QStringLiteral("a")).toInt(), 7);
    EXPECT_EQ(filled.value(QStringLiteral("b")).toBool(), false);
}

TEST(PluginSettings, FromTextConvertsCommandLineValues)
{
    QString error;
    const QVariant steps =
        mq::settingFromText(spec("steps", SettingType::Int), QStringLiteral(" 500 "), &error);
    EXPECT_EQ(steps.typeId(), QMetaType::Int);
    EXPECT_EQ(steps.toInt(), 500);
    EXPECT_TRUE(error.isEmpty());

    const SettingSpec lr = spec("lr", SettingType::Double);
    EXPECT_EQ(mq::settingFromText(lr, QStringLiteral("1e-3")).toDouble(), 1e-3);
    const SettingSpec on = spec("on", SettingType::Bool);
    EXPECT_EQ(mq::settingFromText(on, QStringLiteral("Yes")), QVariant(true));
    EXPECT_EQ(mq::settingFromText(on, QStringLiteral("off")), QVariant(false));
    EXPECT_EQ(mq::settingFromText(spec("c", SettingType::Choice), QStringLiteral("w8 ")),
              QVariant(QStringLiteral("w8")));

    SettingSpec iterations = spec("iterations", SettingType::Int);
    iterations.label = QStringLiteral("Iterations");
    EXPECT_FALSE(mq::settingFromText(iterations, QStringLiteral("5k"), &error).isValid());
    EXPECT_EQ(error, QStringLiteral("Iterations (iterations) must be an integer, got \"5k\""));
    EXPECT_FALSE(mq::settingFromText(spec("on", SettingType::Bool), QStringLiteral("maybe"), &error)
                     .isValid());
    EXPECT_EQ(error, QStringLiteral("on must be true or false, got \"maybe\""));
}

TEST(PluginSettings, TypeNamesForHelpText)
{
    EXPECT_EQ(mq::settingTypeName(SettingType::Int), QStringLiteral("integer"));
    EXPECT_EQ(mq::settingTypeName(SettingType::Double), QStringLiteral("number"));
    EXPECT_EQ(mq::settingTypeName(SettingType::Bool), QStringLiteral("true/false"));
    EXPECT_EQ(mq::settingTypeName(SettingType::Choice), QStringLiteral("choice"));
    EXPECT_EQ(mq::settingTypeName(SettingType::String), QStringLiteral("text"));
}

} // namespace
