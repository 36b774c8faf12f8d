#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

// Benchmark results as plain values, and the arithmetic behind them (docs/device-benchmarking.md
// "Statistics"): the trapezoid energy integral, per-repeat figures, medians, spreads, confidence
// intervals and reductions versus a baseline. No I/O, no adb: unit-tested on synthetic data.

namespace mq::device {

// A figure measured once per repeat. The repeat is the independent unit: each one re-runs the
// whole prompt + decode, so the interval is over repeats, not over tokens.
struct Estimate
{
    int n = 0;
    double median = 0;
    double mean = 0;
    double stddev = 0; // sample standard deviation (n - 1); 0 when n < 2
    double min = 0;
    double max = 0;
    double p10 = 0, p90 = 0; // linear interpolation between order statistics
    // 95 % Student-t interval of the mean: mean ± t(0.975, n-1) · stddev / sqrt(n). Equal to the
    // mean when n < 2 (no spread can be estimated from one repeat).
    double ciLow = 0, ciHigh = 0;
    std::vector<double> values; // the per-repeat values, in run order
};

Estimate estimate(const std::vector<double> &values);

// Two-sided 95 % quantile of Student's t with `dof` degrees of freedom (table for 1..30, then the
// normal 1.96 approached as 1.96 + 2.4/dof).
double tQuantile975(int dof);

// Reduction of `value` relative to `baseline` in percent, as the paper reports it:
// 100 · (baseline − value) / baseline. Positive = smaller than the baseline. nullopt if baseline ≤ 0.
std::optional<double> reductionPercent(double baseline, double value);

// ∫ P dt over [t0, t1] by the trapezoid rule over the samples, with P linearly interpolated at t0
// and t1 (and held constant outside the sampled span). `t` strictly increasing, same size as `p`.
double trapezoidIntegral(const std::vector<double> &t, const std::vector<double> &p, double t0, double t1);
// Over the whole sampled span.
double trapezoidIntegral(const std::vector<double> &t, const std::vector<double> &p);

struct PhaseMarkValue
{
    double seconds = 0;
    std::string name; // "prompt:begin", "prompt:end", "decode:begin", "decode:end"
};

// How raw battery readings became watts (stored with every result), and which source the energy
// figures come from.
struct PowerNormalization
{
    // "odpm": the phone's ODPM rail energy counters (dumpsys
    // android.hardware.power.stats.IPowerStats/default), the battery still sampled for comparison
    // and temperature; "battery-sysfs": current_now × voltage_now; "none": nothing readable.
    std::string source = "battery-sysfs";
    std::vector<std::string> odpmRails; // with "odpm": the rails summed, as "NAME:Subsystem"
    std::string currentFile, voltageFile, temperatureFile;
    double currentScaleToAmps = 1e-6; // 1e-6 for µA, 1e-3 for mA
    double voltageScaleToVolts = 1e-6;
    int dischargeSign = -1; // raw current × sign × scale = discharge current (> 0 while drawing)
    std::string currentUnit = "uA";
    std::string rule; // one sentence: why this unit and sign were chosen
    bool charging = false;
};

// Cumulative ODPM rail energy counters read again and again during a phase. Each reading is one
// dumpsys between two reads of the device's /proc/uptime.
struct RailReadings
{
    std::vector<double> seconds; // time of each reading on the variant's sampler clock (idle: uptime)
    std::vector<double> uptimeBefore, uptimeAfter; // device /proc/uptime around each dumpsys, s
    std::vector<std::string> raw; // the energy meter section exactly as dumpsys printed it
    std::vector<double> totalJoules; // sum of the rails' cumulative energy at each reading
    double clockOffset = 0; // device uptime − sampler clock (0 for the idle readings)
};

// Energy over [t0, t1] from a cumulative counter `e` read at times `t` (increasing): the counter
// interpolated linearly at t0 and t1 (extrapolated with the nearest interval's rate outside).
double counterDifference(const std::vector<double> &t, const std::vector<double> &e, double t0, double t1);

struct PowerTrace
{
    std::vector<double> seconds; // since the sampler started, steady clock on the device
    std::vector<double> watts; // drawn by the phone (discharge positive)
    std::vector<double> celsius; // temperature zone sampled with it (NaN if none)
    std::vector<std::string> rawCurrent, rawVoltage, rawTemperature; // exactly as the files held them
    std::vector<std::string> rawClock; // /proc/uptime sampled with them (with ODPM), else empty
};

struct VariantResult
{
    std::string name; // label in tables and plots: file stem or the package's variant
    std::string packagePath; // on the host
    std::string variant; // "w8a8", "w4a8", "a16", "fp32" as mq-run reports it
    std::string contentHash;
    std::string remoteDir;
    int promptTokens = 0, decodeTokens = 0, warmup = 0, repeats = 0, threads = 0;
    std::string kernels;
    double peakRssBytes = 0;
    double startCelsius = 0; // temperature before the variant ran (after cooldown)
    double cooldownSeconds = 0;

    Estimate promptSeconds; // prompt encoding latency per repeat
    Estimate decodeSecondsPerToken; // mean per-token decode latency per repeat
    Estimate promptTokensPerSecond; // prompt tokens / prompt latency
    Estimate decodeTokensPerSecond; // 1 / per-token decode latency
    Estimate averageWatts; // gross mean power over prompt + decode, per repeat
    Estimate energyPerInferenceJ; // (P − P_idle) integrated over prompt + decode, per repeat
    Estimate energyPerPromptJ; // (P − P_idle) over the prompt phase
    Estimate energyPerTokenJ; // (P − P_idle) over decode / decoded tokens

    std::string powerSource = "battery-sysfs"; // what the energies below come from ("odpm", "none")
    PowerTrace trace;
    RailReadings rails; // with ODPM: the rail counters read during the run
    std::vector<PhaseMarkValue> marks;
    std::string rawJson; // mq-run's output, kept verbatim
};

struct BenchmarkReport
{
    std::string serial;
    std::map<std::string, std::string> deviceFacts;
    std::string created; // UTC ISO 8601
    int promptTokens = 0, decodeTokens = 0, warmup = 0, repeats = 0;
    double powerHz = 0;
    double cooldownCelsius = 0;
    PowerNormalization power;
    double idleWatts = 0; // mean over the idle trace
    PowerTrace idleTrace;
    RailReadings idleRails; // with ODPM: the rail counters before and after the idle baseline
    std::vector<VariantResult> variants; // finished ones, in run order; the first is the baseline
    std::vector<std::string> warnings; // charging, unit guesses, throttling, ...
    std::string error; // why the run stopped early (connection lost, cancelled), or empty
    bool simulated = false; // the device says its figures are simulated (mq-devsim)
};

// The results as a text table (median [95 % CI] per figure, reductions vs the first variant in %)
// and as CSV (one row per variant and figure, every statistic in its own column).
std::string resultsTable(const BenchmarkReport &report);
std::string resultsCsv(const BenchmarkReport &report);
// One line for people: where the power figures come from ("ODPM rails (6, dumpsys power stats)",
// "battery current_now × voltage_now (uA, ...)"), with "simulated" for the virtual phone.
std::string powerSourceText(const BenchmarkReport &report);

// Fills the per-repeat estimates of `v` from its marks and trace: for repeat k, the k-th
// prompt:begin/prompt:end/decode:begin/decode:end marks. idleWatts is subtracted for the "above
// idle" energies. Energies come from the rail counters (counterDifference) when v.powerSource is
// "odpm", else from the trapezoid integral of the battery trace. Marks that do not pair up are an
// error (mq::Error).
void computeVariantStatistics(VariantResult &v, double idleWatts);

} // namespace mq::device
