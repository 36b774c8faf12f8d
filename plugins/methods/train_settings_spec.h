#pragma once

#include "core/calib/methods.h"
#include "plugins/api/setting_spec.h"

#include <QList>
#include <QStringList>
#include <QVariantMap>

namespace mq {

// The settings the trained method plugins (blockwise, mobilequant) share, and their conversion to
// the engine's TrainSettings. Linked into both plugins so the two describe the hyper-parameters
// (mobilequant-method.md §5.2–5.3) with the same keys, labels and help.
// Plain functions of their arguments; callable from any thread.

// SmoothQuant's migration strength α (§2.4), key "alpha"; also the smoothquant plugin's setting.
SettingSpec smoothQuantAlphaSpec(double defaultAlpha);

// Keys: epochs, let, lwc, lrl, let-lr, let-min-lr, lwc-lr, lwc-min-lr, lrl-lr, lrl-min-lr, alpha.
// Each default is the field of `defaults` of the same name.
QList<SettingSpec> trainSettingSpecs(const TrainSettings &defaults);

// mq::validateSettings() against `specs`, then the checks between settings: a learning rate must
// be above 0, a group's minimum learning rate must not exceed its peak, and at least one of LET,
// LWC and LRL must be on.
QStringList validateTrainSettings(const QList<SettingSpec> &specs, const QVariantMap &settings);

// `settings` (valid for `specs`; missing keys take the spec defaults) as TrainSettings.
TrainSettings trainSettingsFrom(const QList<SettingSpec> &specs, const QVariantMap &settings);

} // namespace mq
