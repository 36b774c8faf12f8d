#pragma once

#include "core/device/device_backend.h"
#include "core/device/process.h"

#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

// Driving the real `adb` host tool (docs/device-benchmarking.md). Parsers are free functions fed
// adb's text so they are tested on captured output; AdbClient runs adb with argv lists and always
// addresses one device with `-s SERIAL`.

namespace mq::device {

// One line of `adb devices -l`: serial, state and the key:value qualifiers
// ("product:x model:Pixel_8 device:shiba transport_id:3").
struct AdbListEntry
{
    std::string serial;
    std::string state; // "device", "unauthorized", "offline", "no permissions", "recovery", ...
    std::map<std::string, std::string> qualifiers;
    std::string detail; // the rest of a "no permissions (...)" line: adb's own hint
};

std::vector<AdbListEntry> parseDevicesList(const std::string &text);

// `adb shell getprop` output: "[key]: [value]" lines (values may span lines; those are joined).
std::map<std::string, std::string> parseGetprop(const std::string &text);

// A sentence for a person about a device that is not ready, or empty for state "device".
std::string stateAdvice(const std::string &serial, const std::string &state, const std::string &detail = {});

// Quotes one word for the device's /system/bin/sh ('...' with ' written as '\'').
std::string shellQuote(const std::string &word);
std::string shellJoin(const std::vector<std::string> &words);

// The last "[ NN%]" adb printed on a terminal during a push, or nullopt.
std::optional<int> parsePushPercent(const std::string &text);

// Where adb is: `explicitPath` (a setting or --adb), then $ADB, then PATH, then
// $ANDROID_HOME/platform-tools and $ANDROID_SDK_ROOT/platform-tools. Throws mq::Error listing what
// was tried when none is executable.
std::string findAdb(const std::string &explicitPath = {});

// Thrown when the device disappeared (unplugged, Wi-Fi dropped, adbd died) in the middle of work.
class DeviceLostError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

class AdbClient
{
public:
    // `env` is added to adb's environment (tests: ANDROID_ADB_SERVER_PORT, HOME, ADB_MDNS).
    explicit AdbClient(std::string adbPath, std::map<std::string, std::string> env = {});

    const std::string &adbPath() const { return m_adb; }
    const std::map<std::string, std::string> &environment() const { return m_env; }

    // Raw adb invocation: `adb ARGS...`.
    ProcessResult run(const std::vector<std::string> &args, ProcessOptions options = {}) const;

    void startServer() const;
    // `adb connect HOST:PORT`. adb exits 0 even on failure, so its text decides: throws mq::Error
    // with adb's words and advice unless it says "connected to" / "already connected".
    void connect(const std::string &address) const;
    void disconnect(const std::string &address) const;

    std::vector<AdbListEntry> devices() const;
    // The list with facts (model, ABI, Android version, SoC, battery) filled in for ready devices.
    std::vector<DeviceInfo> listDevices() const;

    // Throws mq::Error (with stateAdvice) unless `serial` is listed and in state "device".
    void requireReady(const std::string &serial) const;

    // `adb -s SERIAL shell COMMAND` (COMMAND is device shell text; build it with shellJoin).
    // Throws DeviceLostError when adb reports the device gone; otherwise returns the result,
    // with the remote exit code (adb's shell v2).
    ProcessResult shell(const std::string &serial, const std::string &command, ProcessOptions options = {}) const;
    // As shell(), but throws mq::Error with stderr unless the command exits 0.
    std::string shellChecked(const std::string &serial, const std::string &command, double timeoutSeconds = 60) const;

    // adb push with progress (percent 0..100) parsed from adb's terminal output.
    void push(const std::string &serial, const std::string &local, const std::string &remote,
        const std::function<void(int percent)> &progress = {}, const std::atomic<bool> *cancel = nullptr) const;
    void pull(const std::string &serial, const std::string &remote, const std::string &local) const;

    // getprop as a map; battery and thermal facts read from sysfs.
    std::map<std::string, std::string> properties(const std::string &serial) const;
    std::map<std::string, std::string> deviceFacts(const std::string &serial) const;

private:
    [[noreturn]] void throwFailure(const std::string &serial, const std::string &what, const ProcessResult &r) const;

    std::string m_adb;
    std::map<std::string, std::string> m_env;
};

// Words in adb's messages that mean the device went away.
bool looksLikeDeviceLost(const std::string &adbText);

} // namespace mq::device
