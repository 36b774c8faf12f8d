#include "battery_service.h"

#include "log.h"

#include <chrono>
#include <exception>
#include <filesystem>

namespace mq::devsim {

BatteryService::BatteryService(const Sandbox &sandbox, CpuMeter &meter, const PowerParams &params, double periodSeconds)
    : m_sandbox(sandbox)
    , m_meter(meter)
    , m_period(periodSeconds)
    , m_model(params)
{
}

BatteryService::~BatteryService()
{
    stop();
}

void BatteryService::writeNow()
{
    std::map<std::string, std::string> files;
    {
        std::lock_guard lock(m_mutex);
        files = m_model.sysfsFiles();
    }
    for (const auto &[rel, content] : files)
        Sandbox::writeFileAtomic(m_sandbox.root() + "/" + rel, content);
}

void BatteryService::start()
{
    {
        // Folders beyond those every phone has (the ODPM device with --odpm).
        std::lock_guard lock(m_mutex);
        for (const auto &entry : m_model.sysfsFiles()) {
            const std::string path = m_sandbox.root() + "/" + entry.first;
            std::error_code ec;
            std::filesystem::create_directories(path.substr(0, path.rfind('/')), ec);
        }
    }
    writeNow();
    m_thread = std::thread([this] { run(); });
}

void BatteryService::stop()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable())
        m_thread.join();
}

PowerState BatteryService::state()
{
    std::lock_guard lock(m_mutex);
    return m_model.state();
}

void BatteryService::run()
{
    using clock = std::chrono::steady_clock;
    auto last = clock::now();
    double lastCpu = m_meter.totalSeconds();
    auto next = last;
    int failures = 0;
    for (;;) {
        next += std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(m_period));
        {
            std::unique_lock lock(m_mutex);
            if (m_cv.wait_until(lock, next, [this] { return m_stop; }))
                return;
        }
        const auto now = clock::now();
        if (now > next + std::chrono::seconds(1))
            next = now; // after a stall (suspended host), do not try to catch up
        const double cpu = m_meter.totalSeconds();
        const double dt = std::chrono::duration<double>(now - last).count();
        {
            std::lock_guard lock(m_mutex);
            m_model.step(dt, (cpu - lastCpu) / dt);
        }
        last = now;
        lastCpu = cpu;
        try {
            writeNow();
        } catch (const std::exception &e) {
            // The sandbox may have been removed under us; say so once in a while, keep simulating.
            if (failures++ % 100 == 0)
                logLine(std::string("cannot update the simulated battery files: ") + e.what());
        }
    }
}

} // namespace mq::devsim
