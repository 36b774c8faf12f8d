// The four built-in method plugins as the application sees them: loaded from the build's plugin
// folder, their settings' defaults against the reference (mobilequant-method.md §5.2–5.3), and
// the validation a GUI form or the CLI relies on.
#include "core/calib/methods.h"
#include "plugins/api/plugin_manager.h"

#include <QStringList>
#include <QVariantMap>

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace {

using mq::PluginInfo;
using mq::PluginKind;
using mq::PluginManager;
using mq::QuantMethodPlugin;
using mq::SettingSpec;
using mq::SettingType;
using mq::TrainSettings;

const QStringList kTrainKeys = { QStringLiteral("epochs"), QStringLiteral("let"), QStringLiteral("lwc"),
    QStringLiteral("lrl"), QStringLiteral("let-lr"), QStringLiteral("let-min-lr"), QStringLiteral("lwc-lr"),
    QStringLiteral("lwc-min-lr"), QStringLiteral("lrl-lr"), QStringLiteral("lrl-min-lr"), QStringLiteral("alpha") };

// One manager for the whole file: plugins are never unloaded, so their objects outlive it anyway.
const PluginManager &manager()
{
    static PluginManager *m = [] {
        auto *pm = new PluginManager(QStringList { QStringLiteral(MQ_METHOD_PLUGIN_DIR) });
        pm->scan();
        return pm;
    }();
    return *m;
}

const QuantMethodPlugin &plugin(const char *id)
{
    const QuantMethodPlugin *p = manager().method(QLatin1String(id));
    if (!p)
        throw std::runtime_error(std::string("method plugin not loaded: ") + id);
    return *p;
}

// The spec of `key`; an empty one (and a failure) when the plugin has none.
SettingSpec spec(const QuantMethodPlugin &p, const char *key)
{
    for (const SettingSpec &s : p.settingSpecs()) {
        if (s.key == QLatin1String(key))
            return s;
    }
    ADD_FAILURE() << p.id().toStdString() << " has no setting " << key;
    return SettingSpec();
}

QString joined(const QStringList &errors)
{
    return errors.join(QStringLiteral(" | "));
}

TEST(MethodPlugins, LoadsTheFourBuiltInMethodsWithoutFailures)
{
    for (const auto &failure : manager().failures())
        ADD_FAILURE() << failure.message.toStdString();

    struct Expected
    {
        const char *id;
        const char *name;
    };
    const Expected expected[] = {
        { "blockwise", "Block-wise (OmniQuant-style)" },
        { "mobilequant", "MobileQuant (end-to-end)" },
        { "rtn", "Round-to-nearest (min/max)" },
        { "smoothquant", "SmoothQuant" },
    };
    std::set<std::string> ids;
    for (const PluginInfo &info : manager().plugins()) {
        if (info.kind == PluginKind::Method)
            ids.insert(info.id.toStdString());
    }
    EXPECT_EQ(ids, (std::set<std::string> { "blockwise", "mobilequant", "rtn", "smoothquant" }));
    EXPECT_EQ(manager().methods().size(), 4);

    for (const Expected &e : expected) {
        SCOPED_TRACE(e.id);
        const QuantMethodPlugin *p = manager().method(QLatin1String(e.id));
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p->id(), QLatin1String(e.id));
        EXPECT_EQ(p->name(), QLatin1String(e.name));
        for (const PluginInfo &info : manager().plugins()) {
            if (info.kind != PluginKind::Method || info.id != QLatin1String(e.id))
                continue;
            EXPECT_EQ(info.name, QLatin1String(e.name));
            EXPECT_EQ(info.version, QLatin1String(MQ_EXPECTED_PLUGIN_VERSION));
            EXPECT_FALSE(info.description.isEmpty());
            EXPECT_TRUE(info.file.contains(QLatin1String(e.id))) << info.file.toStdString();
        }
    }
}

TEST(MethodPlugins, RtnHasNoSettings)
{
    const QuantMethodPlugin &rtn = plugin("rtn");
    EXPECT_TRUE(rtn.settingSpecs().isEmpty());
    EXPECT_TRUE(rtn.validateSettings({}).isEmpty());
    const QStringList errors = rtn.validateSettings({ { QStringLiteral("alpha"), 0.5 } });
    ASSERT_EQ(errors.size(), 1);
    EXPECT_TRUE(errors[0].contains(QLatin1String("unknown setting \"alpha\""))) << errors[0].toStdString();
}

TEST(MethodPlugins, SmoothQuantAlphaDefaultsToTheReferencesHalf)
{
    const QuantMethodPlugin &sq = plugin("smoothquant");
    ASSERT_EQ(sq.settingSpecs().size(), 1);
    const SettingSpec alpha = spec(sq, "alpha");
    EXPECT_EQ(alpha.type, SettingType::Double);
    EXPECT_DOUBLE_EQ(alpha.defaultValue.toDouble(), 0.5); // §2.4: TinyLlama and Gemma
    EXPECT_DOUBLE_EQ(alpha.minimum.toDouble(), 0.0);
    EXPECT_DOUBLE_EQ(alpha.maximum.toDouble(), 1.0);
    EXPECT_FALSE(alpha.label.isEmpty());
    EXPECT_TRUE(alpha.help.contains(QLatin1String("0.6"))) << alpha.help.toStdString();

    EXPECT_TRUE(sq.validateSettings({ { QStringLiteral("alpha"), 0.6 } }).isEmpty());
    EXPECT_TRUE(sq.validateSettings({ { QStringLiteral("alpha"), 0 } }).isEmpty());
    EXPECT_EQ(sq.validateSettings({ { QStringLiteral("alpha"), 1.5 } }).size(), 1);
    EXPECT_EQ(sq.validateSettings({ { QStringLiteral("alpha"), -0.1 } }).size(), 1);
    EXPECT_EQ(sq.validateSettings({ { QStringLiteral("alpha"), QStringLiteral("half") } }).size(), 1);
    EXPECT_EQ(sq.validateSettings({ { QStringLiteral("epochs"), 3 } }).size(), 1);
}

TEST(MethodPlugins, TrainedMethodsDefaultToTheReferencesHyperParameters)
{
    const TrainSettings engine;
    for (const char *id : { "blockwise", "mobilequant" }) {
        SCOPED_TRACE(id);
        const QuantMethodPlugin &p = plugin(id);
        QStringList keys;
        for (const SettingSpec &s : p.settingSpecs()) {
            keys << s.key;
            EXPECT_FALSE(s.label.isEmpty()) << s.key.toStdString();
            EXPECT_FALSE(s.help.isEmpty()) << s.key.toStdString();
            EXPECT_TRUE(s.defaultValue.isValid()) << s.key.toStdString();
        }
        QStringList expected = kTrainKeys;
        if (std::string(id) == "mobilequant")
            expected << QStringLiteral("checkpoint-layers"); // end-to-end only
        EXPECT_EQ(keys, expected);

        // The engine's defaults...
        EXPECT_EQ(spec(p, "epochs").defaultValue.toInt(), engine.epochs);
        EXPECT_EQ(spec(p, "epochs").type, SettingType::Int);
        EXPECT_EQ(spec(p, "epochs").minimum.toInt(), 1);
        EXPECT_EQ(spec(p, "let").defaultValue.toBool(), engine.let);
        EXPECT_EQ(spec(p, "lwc").defaultValue.toBool(), engine.lwc);
        EXPECT_DOUBLE_EQ(spec(p, "let-lr").defaultValue.toDouble(), engine.letLr);
        EXPECT_DOUBLE_EQ(spec(p, "let-min-lr").defaultValue.toDouble(), engine.letMinLr);
        EXPECT_DOUBLE_EQ(spec(p, "lwc-lr").defaultValue.toDouble(), engine.lwcLr);
        EXPECT_DOUBLE_EQ(spec(p, "lwc-min-lr").defaultValue.toDouble(), engine.lwcMinLr);
        EXPECT_DOUBLE_EQ(spec(p, "lrl-lr").defaultValue.toDouble(), engine.lrlLr);
        EXPECT_DOUBLE_EQ(spec(p, "lrl-min-lr").defaultValue.toDouble(), engine.lrlMinLr);
        EXPECT_DOUBLE_EQ(spec(p, "alpha").defaultValue.toDouble(), engine.alpha);

        // ...are the reference's TinyLlama W8A8 values, §5.2 table (independent numbers).
        EXPECT_TRUE(spec(p, "let").defaultValue.toBool());
        EXPECT_TRUE(spec(p, "lwc").defaultValue.toBool());
        EXPECT_DOUBLE_EQ(spec(p, "let-lr").defaultValue.toDouble(), 1e-3);
        EXPECT_DOUBLE_EQ(spec(p, "let-min-lr").defaultValue.toDouble(), 1e-4);
        EXPECT_DOUBLE_EQ(spec(p, "lwc-lr").defaultValue.toDouble(), 1e-2);
        EXPECT_DOUBLE_EQ(spec(p, "lwc-min-lr").defaultValue.toDouble(), 1e-3);
        EXPECT_DOUBLE_EQ(spec(p, "lrl-lr").defaultValue.toDouble(), 1e-6);
        EXPECT_DOUBLE_EQ(spec(p, "lrl-min-lr").defaultValue.toDouble(), 1e-7);
        EXPECT_DOUBLE_EQ(spec(p, "alpha").defaultValue.toDouble(), 0.5);

        EXPECT_TRUE(p.validateSettings({}).isEmpty()) << joined(p.validateSettings({})).toStdString();
    }
    // LRL is MobileQuant's addition; the OmniQuant baseline trains LET and LWC only (§5.3).
    EXPECT_TRUE(spec(plugin("mobilequant"), "lrl").defaultValue.toBool());
    EXPECT_FALSE(spec(plugin("blockwise"), "lrl").defaultValue.toBool());
}

TEST(MethodPlugins, TrainedMethodsRejectBadSettings)
{
    for (const char *id : { "blockwise", "mobilequant" }) {
        SCOPED_TRACE(id);
        const QuantMethodPlugin &p = plugin(id);
        auto errorsFor = [&](const QVariantMap &settings) { return p.validateSettings(settings); };

        // Out of range, wrong type, unknown key: one sentence each, naming the setting.
        QStringList e = errorsFor({ { QStringLiteral("epochs"), 0 } });
        ASSERT_EQ(e.size(), 1) << joined(e).toStdString();
        EXPECT_TRUE(e[0].contains(QLatin1String("(epochs) is 0"))) << e[0].toStdString();
        EXPECT_EQ(errorsFor({ { QStringLiteral("alpha"), 1.01 } }).size(), 1);
        EXPECT_EQ(errorsFor({ { QStringLiteral("lwc-lr"), -1e-3 } }).size(), 1);
        EXPECT_EQ(errorsFor({ { QStringLiteral("let-lr"), 2.0 } }).size(), 1);
        EXPECT_EQ(errorsFor({ { QStringLiteral("let"), QStringLiteral("yes") } }).size(), 1);
        e = errorsFor({ { QStringLiteral("iterations"), 5 } });
        ASSERT_EQ(e.size(), 1);
        EXPECT_TRUE(e[0].contains(QLatin1String("unknown setting \"iterations\""))) << e[0].toStdString();

        // A learning rate of 0 is refused: switching the group off is the way to freeze it.
        e = errorsFor({ { QStringLiteral("lrl-min-lr"), 0.0 } });
        ASSERT_EQ(e.size(), 1) << joined(e).toStdString();
        EXPECT_TRUE(e[0].contains(QLatin1String("(lrl-min-lr) is 0, must be greater than 0"))) << e[0].toStdString();

        // min lr above the peak, for each group, also against the other key's default.
        for (const char *group : { "let", "lwc", "lrl" }) {
            const QString lr = QLatin1String(group) + QLatin1String("-lr");
            const QString minLr = QLatin1String(group) + QLatin1String("-min-lr");
            e = errorsFor({ { lr, 1e-4 }, { minLr, 2e-4 } });
            ASSERT_EQ(e.size(), 1) << group;
            EXPECT_TRUE(e[0].contains(QStringLiteral("(%1) is 0.0002, must not exceed").arg(minLr)))
                << e[0].toStdString();
            EXPECT_TRUE(e[0].contains(QStringLiteral("(%1), which is 0.0001").arg(lr))) << e[0].toStdString();
            EXPECT_TRUE(errorsFor({ { lr, 2e-4 }, { minLr, 2e-4 } }).isEmpty()) << group; // equal is fine
        }
        e = errorsFor({ { QStringLiteral("lwc-min-lr"), 0.5 } }); // default lwc-lr is 1e-2
        ASSERT_EQ(e.size(), 1);
        EXPECT_TRUE(e[0].contains(QLatin1String("must not exceed"))) << e[0].toStdString();

        // Nothing to train.
        const QVariantMap allOff
            = { { QStringLiteral("let"), false }, { QStringLiteral("lwc"), false }, { QStringLiteral("lrl"), false } };
        e = errorsFor(allOff);
        ASSERT_EQ(e.size(), 1) << joined(e).toStdString();
        EXPECT_TRUE(e[0].contains(QLatin1String("nothing to train"))) << e[0].toStdString();
        EXPECT_TRUE(errorsFor(
            { { QStringLiteral("let"), false }, { QStringLiteral("lwc"), false }, { QStringLiteral("lrl"), true } })
                        .isEmpty());

        // A value wrong on its own is reported once, not again by the checks between settings.
        e = errorsFor({ { QStringLiteral("let-min-lr"), QStringLiteral("fast") } });
        EXPECT_EQ(e.size(), 1) << joined(e).toStdString();
    }
    // Block-wise has LRL off by default, so LET and LWC off alone leave nothing to train.
    const QStringList e
        = plugin("blockwise").validateSettings({ { QStringLiteral("let"), false }, { QStringLiteral("lwc"), false } });
    ASSERT_EQ(e.size(), 1);
    EXPECT_TRUE(e[0].contains(QLatin1String("nothing to train")));
    EXPECT_TRUE(plugin("mobilequant")
                    .validateSettings({ { QStringLiteral("let"), false }, { QStringLiteral("lwc"), false } })
                    .isEmpty());
}

TEST(MethodPlugins, CreateMethodReturnsAMethodOfThePlugin)
{
    for (const char *id : { "rtn", "smoothquant", "blockwise", "mobilequant" }) {
        SCOPED_TRACE(id);
        const QuantMethodPlugin &p = plugin(id);
        const auto method = p.createMethod({});
        ASSERT_NE(method, nullptr);
        EXPECT_EQ(method->id(), id);
    }
    // Settings as they arrive from a JSON config (whole numbers as double) are taken as well.
    const auto method = plugin("mobilequant").createMethod({ { QStringLiteral("epochs"), 3.0 } });
    ASSERT_NE(method, nullptr);
    EXPECT_EQ(method->id(), "mobilequant");
}

} // namespace
