#pragma once

#include "cpu_meter.h"
#include "power_model.h"
#include "sandbox.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

// Drives the PowerModel from the CpuMeter every period on a thread of its own and rewrites the
// sandbox's battery and thermal files atomically. Owns the thread; start()/stop() from one thread.

namespace mq::devsim {

class BatteryService
{
public:
    BatteryService(const Sandbox &sandbox, CpuMeter &meter, const PowerParams &params, double periodSeconds);
    ~BatteryService();

    void writeNow(); // writes the current state (also done at start())
    void start();
    void stop();

    PowerState state();

private:
    void run();

    const Sandbox &m_sandbox;
    CpuMeter &m_meter;
    double m_period;
    std::mutex m_mutex;
    std::condition_variable m_cv;
    bool m_stop = false;
    PowerModel m_model;
    std::thread m_thread;
};

} // namespace mq::devsim
