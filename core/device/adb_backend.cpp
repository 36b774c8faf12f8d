#include "core/device/adb_backend.h"

#include "core/device/bench_protocol.h"
#include "core/device/deploy.h"

namespace mq::device {

AdbDeviceBackend::AdbDeviceBackend(AdbClient adb)
    : m_adb(std::move(adb))
{
}

std::vector<DeviceInfo> AdbDeviceBackend::listDevices()
{
    if (!m_serverStarted) {
        m_adb.startServer();
        m_serverStarted = true;
    }
    return m_adb.listDevices();
}

void AdbDeviceBackend::connect(const std::string &address)
{
    if (!m_serverStarted) {
        m_adb.startServer();
        m_serverStarted = true;
    }
    m_adb.connect(address);
}

void AdbDeviceBackend::disconnect(const std::string &address)
{
    if (m_serverStarted) // no server of ours: nothing was connected, and none should be started
        m_adb.disconnect(address);
}

DeployResult AdbDeviceBackend::deploy(const std::string &serial, const std::vector<std::string> &packages,
    const BenchOptions &options, const DeviceEvents &events, const std::atomic<bool> *cancel)
{
    m_adb.requireReady(serial);
    const auto facts = m_adb.deviceFacts(serial);
    const auto abi = facts.count("abi") ? facts.at("abi") : std::string();
    const std::string runner = findRunner(abi, options.runnerPath, DeviceBenchmark::executableDir());
    return device::deploy(m_adb, serial, runner, packages, options, events, cancel);
}

BenchmarkReport AdbDeviceBackend::benchmark(const std::string &serial, const std::vector<std::string> &packages,
    const BenchOptions &options, const DeviceEvents &events, const std::atomic<bool> *cancel)
{
    DeviceBenchmark bench(m_adb, serial, options, events);
    return bench.run(packages, cancel);
}

} // namespace mq::device
