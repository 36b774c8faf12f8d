#include "plugins/methods/train_settings_spec.h"

#include <QString>

namespace mq {

namespace {

// One trained parameter group (§5.2 step 4): its on/off switch and its cosine schedule's ends.
struct Group
{
    const char *name; // "LET"
    const char *onKey; // "let"
    const char *lrKey; // "let-lr"
    const char *minKey; // "let-min-lr"
};

const Group kGroups[] = {
    { "LET", "let", "let-lr", "let-min-lr" },
    { "LWC", "lwc", "lwc-lr", "lwc-min-lr" },
    { "LRL", "lrl", "lrl-lr", "lrl-min-lr" },
};

SettingSpec boolSpec(const char *key, const QString &label, bool defaultValue, const QString &help)
{
    SettingSpec spec;
    spec.key = QLatin1String(key);
    spec.label = label;
    spec.type = SettingType::Bool;
    spec.defaultValue = defaultValue;
    spec.help = help;
    return spec;
}

// A learning rate lies in (0, 1]. The spec can only hold an inclusive minimum, so 0 itself is
// refused in validateTrainSettings(); above 1 AdamW steps on these parameters make no sense.
SettingSpec lrSpec(const char *key, const QString &label, double defaultValue, const QString &help)
{
    SettingSpec spec;
    spec.key = QLatin1String(key);
    spec.label = label;
    spec.type = SettingType::Double;
    spec.defaultValue = defaultValue;
    spec.minimum = 0.0;
    spec.maximum = 1.0;
    spec.help = help;
    return spec;
}

const SettingSpec *findSpec(const QList<SettingSpec> &specs, const QString &key)
{
    for (const SettingSpec &spec : specs) {
        if (spec.key == key)
            return &spec;
    }
    return nullptr;
}

QString subject(const QList<SettingSpec> &specs, const QString &key)
{
    const SettingSpec *spec = findSpec(specs, key);
    return spec && !spec->label.isEmpty() ? QStringLiteral("%1 (%2)").arg(spec->label, key) : key;
}

} // namespace

SettingSpec smoothQuantAlphaSpec(double defaultAlpha)
{
    SettingSpec alpha;
    alpha.key = QStringLiteral("alpha");
    alpha.label = QStringLiteral("SmoothQuant alpha");
    alpha.type = SettingType::Double;
    alpha.defaultValue = defaultAlpha;
    alpha.minimum = 0.0;
    alpha.maximum = 1.0;
    alpha.help = QStringLiteral(
        "Migration strength of SmoothQuant: per input channel s = max|X|^alpha / max|W|^(1-alpha) moves "
        "activation outliers into the weights; 0 leaves the activations alone. The reference uses 0.5 "
        "for TinyLlama and Gemma, 0.6 for StableLM-2.");
    return alpha;
}

QList<SettingSpec> trainSettingSpecs(const TrainSettings &defaults)
{
    SettingSpec epochs;
    epochs.key = QStringLiteral("epochs");
    epochs.label = QStringLiteral("Epochs");
    epochs.type = SettingType::Int;
    epochs.defaultValue = defaults.epochs;
    epochs.minimum = 1;
    epochs.unit = QStringLiteral("epochs");
    epochs.help
        = QStringLiteral("Passes over the calibration windows, one AdamW step per window (block-wise: per layer). The "
                         "reference trains 60 epochs end-to-end and 20 block-wise; the default is sized for a CPU.");

    SettingSpec alpha = smoothQuantAlphaSpec(defaults.alpha);
    alpha.help += QStringLiteral(" Applied once before training; the trained parameters start from "
                                 "the smoothed weights.");

    return {
        epochs,
        boolSpec("let", QStringLiteral("Train LET"), defaults.let,
            QStringLiteral("Learnable equivalent transformation: per-channel scales and shifts that "
                           "move outliers between activations and weights, folded into the weights at "
                           "the end.")),
        boolSpec("lwc", QStringLiteral("Train LWC"), defaults.lwc,
            QStringLiteral("Learnable weight clipping: per-channel factors that shrink each weight's "
                           "quantization range (OmniQuant).")),
        boolSpec("lrl", QStringLiteral("Train LRL"), defaults.lrl,
            QStringLiteral("Learnable range learning: the scale and offset of every static activation "
                           "quantizer, MobileQuant's addition.")),
        lrSpec("let-lr", QStringLiteral("LET learning rate"), defaults.letLr,
            QStringLiteral("Peak learning rate of the LET parameters; a cosine schedule takes it down to "
                           "let-min-lr. Reference (TinyLlama W8A8): 1e-3.")),
        lrSpec("let-min-lr", QStringLiteral("LET minimum learning rate"), defaults.letMinLr,
            QStringLiteral("Learning rate at the end of the LET schedule; at most let-lr. Reference: 1e-4.")),
        lrSpec("lwc-lr", QStringLiteral("LWC learning rate"), defaults.lwcLr,
            QStringLiteral("Peak learning rate of the clipping factors; a cosine schedule takes it down to "
                           "lwc-min-lr. Reference (TinyLlama W8A8): 1e-2.")),
        lrSpec("lwc-min-lr", QStringLiteral("LWC minimum learning rate"), defaults.lwcMinLr,
            QStringLiteral("Learning rate at the end of the LWC schedule; at most lwc-lr. Reference: 1e-3.")),
        lrSpec("lrl-lr", QStringLiteral("LRL learning rate"), defaults.lrlLr,
            QStringLiteral("Peak learning rate of the activation scales and offsets; tiny, because they are "
                           "in activation and integer units. Reference (TinyLlama W8A8): 1e-6.")),
        lrSpec("lrl-min-lr", QStringLiteral("LRL minimum learning rate"), defaults.lrlMinLr,
            QStringLiteral("Learning rate at the end of the LRL schedule; at most lrl-lr. Reference: 1e-7.")),
        alpha,
    };
}

QStringList validateTrainSettings(const QList<SettingSpec> &specs, const QVariantMap &settings)
{
    QStringList errors = validateSettings(specs, settings);

    // The checks between settings look only at values that are valid on their own (or defaults),
    // so that a wrong value is reported once, by the check above.
    const QVariantMap all = withDefaults(specs, settings);
    auto usable = [&](const char *key) {
        const QString k = QLatin1String(key);
        return all.contains(k) && validateSettings(specs, { { k, all.value(k) } }).isEmpty();
    };

    bool anyOn = false;
    bool switchesKnown = true;
    for (const Group &group : kGroups) {
        for (const char *key : { group.lrKey, group.minKey }) {
            if (usable(key) && all.value(QLatin1String(key)).toDouble() == 0.0)
                errors << QStringLiteral("%1 is 0, must be greater than 0; to leave %2 untrained, set %3 "
                                         "to false")
                              .arg(subject(specs, QLatin1String(key)), QLatin1String(group.name),
                                  QLatin1String(group.onKey));
        }
        if (usable(group.lrKey) && usable(group.minKey)) {
            const double lr = all.value(QLatin1String(group.lrKey)).toDouble();
            const double minLr = all.value(QLatin1String(group.minKey)).toDouble();
            if (minLr > lr)
                errors << QStringLiteral("%1 is %2, must not exceed %3, which is %4")
                              .arg(subject(specs, QLatin1String(group.minKey)), QString::number(minLr),
                                  subject(specs, QLatin1String(group.lrKey)), QString::number(lr));
        }
        if (usable(group.onKey))
            anyOn = anyOn || all.value(QLatin1String(group.onKey)).toBool();
        else
            switchesKnown = false;
    }
    if (switchesKnown && !anyOn)
        errors << QStringLiteral("let, lwc and lrl are all false: nothing to train; turn at least one on, or "
                                 "use the rtn or smoothquant method");
    return errors;
}

TrainSettings trainSettingsFrom(const QList<SettingSpec> &specs, const QVariantMap &settings)
{
    const QVariantMap s = withDefaults(specs, settings);
    auto number = [&](const char *key) { return s.value(QLatin1String(key)).toDouble(); };
    auto flag = [&](const char *key) { return s.value(QLatin1String(key)).toBool(); };

    TrainSettings t;
    t.epochs = s.value(QStringLiteral("epochs")).toInt();
    t.let = flag("let");
    t.lwc = flag("lwc");
    t.lrl = flag("lrl");
    t.letLr = number("let-lr");
    t.letMinLr = number("let-min-lr");
    t.lwcLr = number("lwc-lr");
    t.lwcMinLr = number("lwc-min-lr");
    t.lrlLr = number("lrl-lr");
    t.lrlMinLr = number("lrl-min-lr");
    t.alpha = number("alpha");
    if (s.contains(QStringLiteral("checkpoint-layers")))
        t.checkpointLayers = flag("checkpoint-layers");
    return t;
}

} // namespace mq
