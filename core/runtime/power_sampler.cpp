#include "core/runtime/power_sampler.h"

#include <atomic>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace mq {

namespace {

using Clock = std::chrono::steady_clock;

// The file's whole text with surrounding white space removed; false when it cannot be read.
bool readTrimmed(const std::string &path, std::string &value)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad())
        return false;
    const std::string s = text.str();
    const char *space = " \t\r\n\f\v";
    const size_t begin = s.find_first_not_of(space);
    value = begin == std::string::npos ? std::string() : s.substr(begin, s.find_last_not_of(space) - begin + 1);
    return true;
}

} // namespace

struct PowerSampler::Impl
{
    std::vector<std::string> files;
    double hz = 0;
    Clock::time_point t0;
    std::thread thread;
    std::mutex mutex; // guards everything below
    std::condition_variable wake;
    bool stopRequested = false;
    std::vector<PowerSample> samples;
    std::vector<PhaseMark> marks;
    std::uint64_t errors = 0;

    double since(Clock::time_point t) const { return std::chrono::duration<double>(t - t0).count(); }

    void sampleOnce()
    {
        PowerSample s;
        s.seconds = since(Clock::now());
        s.values.resize(files.size());
        std::uint64_t failed = 0;
        for (size_t i = 0; i < files.size(); ++i)
            if (!readTrimmed(files[i], s.values[i])) {
                s.values[i].clear();
                ++failed;
            }
        std::lock_guard<std::mutex> lock(mutex);
        errors += failed;
        samples.push_back(std::move(s));
    }

    // Samples on a fixed grid t0 + n / hz (no drift from the read time); a late tick is skipped
    // rather than bunched up, so samples stay roughly evenly spaced.
    void loop()
    {
        const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / hz));
        Clock::time_point next = t0;
        for (;;) {
            sampleOnce();
            next += period;
            const Clock::time_point now = Clock::now();
            while (next <= now)
                next += period;
            std::unique_lock<std::mutex> lock(mutex);
            if (wake.wait_until(lock, next, [&] { return stopRequested; }))
                return;
        }
    }
};

PowerSampler::PowerSampler(std::vector<std::string> files, double hz)
    : m_impl(std::make_unique<Impl>())
{
    if (!(hz > 0) || hz > 100000)
        throw std::invalid_argument(
            "power sampler: the sampling rate must be in (0, 100000] Hz, got " + std::to_string(hz));
    m_impl->files = std::move(files);
    m_impl->hz = hz;
    m_impl->t0 = Clock::now(); // marks before start() count from construction
}

PowerSampler::~PowerSampler()
{
    stop();
}

void PowerSampler::start()
{
    Impl &d = *m_impl;
    if (d.thread.joinable())
        throw std::logic_error("power sampler: start() called twice without stop()");
    {
        std::lock_guard<std::mutex> lock(d.mutex);
        d.samples.clear();
        d.marks.clear();
        d.errors = 0;
        d.stopRequested = false;
        d.t0 = Clock::now();
    }
    d.thread = std::thread([&d] { d.loop(); });
}

void PowerSampler::stop()
{
    Impl &d = *m_impl;
    if (!d.thread.joinable())
        return;
    {
        std::lock_guard<std::mutex> lock(d.mutex);
        d.stopRequested = true;
    }
    d.wake.notify_all();
    d.thread.join();
}

void PowerSampler::mark(const std::string &name)
{
    Impl &d = *m_impl;
    const Clock::time_point now = Clock::now();
    std::lock_guard<std::mutex> lock(d.mutex);
    d.marks.push_back(PhaseMark { d.since(now), name });
}

const std::vector<std::string> &PowerSampler::files() const
{
    return m_impl->files;
}

double PowerSampler::hz() const
{
    return m_impl->hz;
}

std::vector<PowerSample> PowerSampler::samples() const
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    return m_impl->samples;
}

std::vector<PhaseMark> PowerSampler::marks() const
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    return m_impl->marks;
}

std::uint64_t PowerSampler::readErrors() const
{
    std::lock_guard<std::mutex> lock(m_impl->mutex);
    return m_impl->errors;
}

} // namespace mq
