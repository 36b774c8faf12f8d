#pragma once

namespace mq {

// The version of the plugin interfaces this build implements. A plugin states the version it was
// built against twice: in its IID ("org.mqworkbench.QuantMethodPlugin/1") and as "apiVersion" in
// its metadata JSON. The PluginManager loads a plugin only when both equal this number.
//
// Rule: any change that breaks a built plugin (a virtual function added, removed or changed in
// method_plugin.h, device_plugin.h, setting_spec.h, core/calib/calibration_method.h or
// core/device/device_backend.h, or a change to a struct they pass) increments this number and
// the "/N" suffix of both IIDs, in the same commit. There are no minor versions: compatibility
// is exact, because a C++ vtable mismatch is a crash, not an error message.
constexpr int kPluginApiVersion = 1;

} // namespace mq
