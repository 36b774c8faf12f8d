#pragma once

#include <map>
#include <string>
#include <vector>

namespace mq {

// One device a back-end can see, as a value: copied freely, safe to pass between threads.
struct DeviceInfo
{
    std::string serial; // adb serial ("R58M123ABC", "127.0.0.1:5555"), or "localhost" for the host
    std::string state;  // as adb prints it: "device" (ready), "unauthorized", "offline", ...
    std::string model;  // human-readable model ("Pixel 8"); empty when unknown
    std::string abi;    // "arm64-v8a", "x86_64": which runner binary the device needs
    std::map<std::string, std::string> facts; // free-form: SoC, Android version, battery, ...
};

// A way of reaching devices to deploy and benchmark on (Android over adb; this host). Created by a
// DeviceBackendPlugin; later issues add deploy and benchmark calls.
//
// Ownership and threads: the caller of createBackend() owns the object. Calls may block (they run
// `adb`), so make them from a worker thread, never the GUI thread; one thread at a time uses an
// instance. Failures are thrown as exceptions whose messages are meant for a person ("device
// R58M123ABC is unauthorized: accept the prompt on the phone").
//
// Plain C++ on purpose: no Qt and no LibTorch type here.
class DeviceBackend
{
public:
    virtual ~DeviceBackend() = default;

    // The id of the plugin that made it ("android-adb", "host").
    virtual std::string id() const = 0;

    // The devices visible right now, in a stable order (by serial).
    virtual std::vector<DeviceInfo> listDevices() = 0;
};

} // namespace mq
