#pragma once

#include "core/device/adb.h"
#include "core/device/device_backend.h"

// The "android-adb" DeviceBackend: devices that the adb server sees, deploy and benchmark over adb.
// The device plugin (plugins/devices) and `mq devices` / `mq bench` create it. Blocking calls:
// use it from a worker thread; one thread at a time.

namespace mq::device {

class AdbDeviceBackend : public DeviceBackend
{
public:
    explicit AdbDeviceBackend(AdbClient adb);

    std::string id() const override { return "android-adb"; }
    std::vector<DeviceInfo> listDevices() override;
    void connect(const std::string &address) override;
    void disconnect(const std::string &address) override;
    DeployResult deploy(const std::string &serial, const std::vector<std::string> &packages,
        const BenchOptions &options, const DeviceEvents &events, const std::atomic<bool> *cancel) override;
    BenchmarkReport benchmark(const std::string &serial, const std::vector<std::string> &packages,
        const BenchOptions &options, const DeviceEvents &events, const std::atomic<bool> *cancel) override;

    const AdbClient &adb() const { return m_adb; }

private:
    AdbClient m_adb;
    bool m_serverStarted = false;
};

} // namespace mq::device
