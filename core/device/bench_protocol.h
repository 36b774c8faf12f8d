#pragma once

#include "core/device/adb.h"
#include "core/device/bench_types.h"
#include "core/device/results.h"

#include <atomic>
#include <string>
#include <vector>

// The benchmark protocol (docs/device-benchmarking.md "Protocol"):
//  1. the device must be ready ("unauthorized" → accept the prompt on the phone);
//  2. deploy mq-run for its ABI and the packages (skipping what is there);
//  3. idle baseline: battery current/voltage sampled for idleSeconds with nothing running; the
//     unit and sign of the current are decided here (power.h) and charging is warned about;
//  4. per package, in order (the first is the baseline): cooldown until the temperature is within
//     cooldownCelsius of the temperature before the first variant (or the timeout, with a
//     warning), then `mq-run bench ... --json --power-files current,voltage,temp` ON the device,
//     so sampling costs no adb round trips; the JSON (every raw sample and the phase marks) comes
//     back on stdout and becomes a VariantResult;
//  5. cancel kills the runner on the device; a lost connection ends the run with report.error set
//     and the finished variants kept.
// Blocking: run it on a worker thread. One thread uses an object.

namespace mq::device {

class DeviceBenchmark
{
public:
    DeviceBenchmark(const AdbClient &adb, std::string serial, BenchOptions options, DeviceEvents events = {});

    // Steps 1–2 fail by throwing mq::Error (nothing measured yet). From step 3 on, failures end
    // up in report.error and the variants finished by then are in the report.
    BenchmarkReport run(const std::vector<std::string> &packages, const std::atomic<bool> *cancel = nullptr);

    // The folder of this executable (where a host mq-run is looked for).
    static std::string executableDir();

private:
    struct PowerFiles
    {
        std::string current, voltage, status, temperature;
    };
    PowerFiles findPowerFiles();
    // One ODPM reading now (empty readings when the phone has no rails).
    RailReadings readOdpm(std::vector<std::string> *rails = nullptr);
    void idleBaseline(BenchmarkReport &report, const PowerFiles &files);
    double readCelsius(const PowerFiles &files);
    double cooldown(double targetCelsius, const PowerFiles &files, const std::atomic<bool> *cancel);
    VariantResult runVariant(const DeployedFile &runner, const DeployedFile &package, const PowerFiles &files,
        BenchmarkReport &report, const std::atomic<bool> *cancel);
    void attachRails(VariantResult &v, const std::string &log, BenchmarkReport &report) const;
    void stage(const std::string &s) const;
    void warn(BenchmarkReport &report, const std::string &s) const;

    const AdbClient &m_adb;
    std::string m_serial;
    BenchOptions m_options;
    DeviceEvents m_events;
};

// The context (max positions) of a model package, 0 when it cannot be read. Reads the whole file.
int packageContext(const std::string &packagePath);

// Parses mq-run bench --json output into a VariantResult (trace converted with `n`); throws
// mq::Error when the text is not that JSON. Exposed for tests.
VariantResult parseBenchJson(const std::string &json, const PowerNormalization &n);

// The device shell text of one ODPM reading: a marker line, /proc/uptime, the energy meter section
// of `dumpsys android.hardware.power.stats.IPowerStats/default`, /proc/uptime again.
std::string odpmReadCommand();
// Readings printed by odpmReadCommand(), any number of them; one cut off or without rails is left
// out. seconds = the midpoint of the two uptimes; totalJoules sums the rails of the first reading
// (their names go to `rails` when given). Exposed for tests.
RailReadings parseOdpmReadings(const std::string &text, std::vector<std::string> *rails = nullptr);
// Device uptime minus the sampler's clock, from /proc/uptime texts ("1234.56 789.01", 10 ms
// steps) sampled at `samplerSeconds`: the middle of the interval every sample allows. NaN without
// usable samples.
double uptimeOffset(const std::vector<double> &samplerSeconds, const std::vector<std::string> &rawUptime);

} // namespace mq::device
