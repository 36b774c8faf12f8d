#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// Samples text files (battery current/voltage, thermal zones: sysfs on a phone, any readable file
// here) at a fixed rate on a side thread while a benchmark runs, and records phase markers, so
// that energy can be integrated per phase afterwards. Values are kept as the raw text the file
// held (trimmed): units and signs differ between vendors and are decided by the reader
// (device-benchmark issue), not here. A file that cannot be read yields an empty value and an
// error count, never an exception on the sampling thread.

namespace mq {

struct PowerSample
{
    double seconds = 0;              // since start(), steady clock
    std::vector<std::string> values; // one per file, in the order given
};

struct PhaseMark
{
    double seconds = 0; // since start()
    std::string name;   // e.g. "prompt:begin", "decode:end"
};

class PowerSampler
{
public:
    PowerSampler(std::vector<std::string> files, double hz);
    ~PowerSampler(); // stops

    void start();
    void stop();
    // Thread-safe: records `name` at the current time.
    void mark(const std::string &name);

    const std::vector<std::string> &files() const;
    double hz() const;
    // Valid after stop().
    std::vector<PowerSample> samples() const;
    std::vector<PhaseMark> marks() const;
    std::uint64_t readErrors() const;

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace mq
