#pragma once

#include "core/device/bench_types.h"
#include "core/device/results.h"

#include <atomic>
#include <map>
#include <stdexcept>
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
// DeviceBackendPlugin. The protocol behind deploy() and benchmark() is in
// docs/device-benchmarking.md; their value types are in bench_types.h and results.h.
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

    // Makes a network device known ("adb connect HOST:PORT": a phone over Wi-Fi, the virtual
    // phone). Back-ends without network devices keep this default, which throws.
    virtual void connect(const std::string &address)
    {
        throw std::runtime_error("the " + id() + " device back-end cannot connect to " + address);
    }

    // Forgets a network device made known by connect() ("adb disconnect HOST:PORT"), so that a
    // stopped virtual phone is not left listed as offline. Default: nothing to forget.
    virtual void disconnect(const std::string &address) { (void)address; }

    // Copies the runner for the device's ABI and the packages (host paths) to the device, skipping
    // files already there with the same size and hash. `cancel` (may be null) stops a push.
    // Back-ends that cannot deploy keep this default, which throws.
    virtual device::DeployResult deploy(const std::string &serial, const std::vector<std::string> &packages,
        const device::BenchOptions &options, const device::DeviceEvents &events, const std::atomic<bool> *cancel)
    {
        (void)serial, (void)packages, (void)options, (void)events, (void)cancel;
        throw std::runtime_error("the " + id() + " device back-end cannot deploy packages");
    }

    // Deploys, then benchmarks each package in order (the first is the baseline). Throws when
    // nothing could be measured (device not ready, deploy failed); once measuring started, a
    // failure (connection lost, cancel) is in BenchmarkReport::error and the finished variants
    // are kept.
    virtual device::BenchmarkReport benchmark(const std::string &serial, const std::vector<std::string> &packages,
        const device::BenchOptions &options, const device::DeviceEvents &events, const std::atomic<bool> *cancel)
    {
        (void)serial, (void)packages, (void)options, (void)events, (void)cancel;
        throw std::runtime_error("the " + id() + " device back-end cannot run benchmarks");
    }
};

} // namespace mq
