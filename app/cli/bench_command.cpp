#include "app/cli/args.h"
#include "app/cli/commands.h"

#include "core/device/bench_protocol.h"
#include "core/store/device_results.h"
#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace mq::cli {

namespace {

std::atomic<bool> g_cancel { false };

void onInterrupt(int)
{
    g_cancel.store(true);
}

std::vector<std::string> splitList(const std::string &s)
{
    std::vector<std::string> out;
    std::istringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty())
            out.push_back(item);
    return out;
}

nlohmann::json estimateJson(const device::Estimate &e)
{
    return { { "n", e.n }, { "median", e.median }, { "mean", e.mean }, { "stddev", e.stddev }, { "min", e.min },
        { "max", e.max }, { "ci95_low", e.ciLow }, { "ci95_high", e.ciHigh }, { "values", e.values } };
}

} // namespace

int runBench(const std::vector<std::string> &argv)
{
    const std::vector<OptionSpec> specs = { { "serial", "S", "the device (adb serial; default $ANDROID_SERIAL)", "" },
        { "packages", "A.mqpkg,B.mqpkg", "packages to compare, the first is the baseline", "" },
        { "out", "RUN.h5", "run file to store the results in (/device/benchmarks/...); created if missing", "" },
        { "prompt-tokens", "N", "prompt length encoded in one pass", "128" },
        { "decode-tokens", "M", "tokens decoded one by one after the prompt", "32" },
        { "repeats", "R", "measured repetitions per package", "5" },
        { "warmup", "W", "unmeasured repetitions first", "1" },
        { "threads", "T", "threads mq-run uses on the device", "1" },
        { "power-hz", "H", "battery sampling rate on the device", "10" },
        { "odpm-hz", "H", "ODPM rail reading rate where the phone has rails (each read is a dumpsys)", "4" },
        { "no-odpm", "", "use the battery even where the phone has ODPM power rails", "" },
        { "idle-seconds", "S", "idle baseline length", "3" },
        { "cooldown-celsius", "D", "before each further package wait until the temperature is within D of the start",
            "1" },
        { "cooldown-timeout", "S", "give up waiting for the cooldown after S seconds (with a warning)", "120" },
        { "runner", "PATH", "mq-run built for the device's ABI (default: found next to mq or $MQ_RUN_<ABI>)", "" },
        { "adb", "PATH", "the adb executable (default: $ADB, PATH, $ANDROID_HOME/platform-tools)", "" },
        { "connect", "HOST:PORT", "adb connect to this address first", "" },
        { "json", "", "print the results as JSON on stdout", "" }, { "help", "", "show this help", "" } };
    Args a(argv, specs);
    if (a.flag("help")) {
        std::cout << helpText("mq bench --serial S --packages a.mqpkg,b.mqpkg [--prompt-tokens N --decode-tokens M "
                              "--repeats R --warmup W --cooldown-celsius D] --out RUN.h5",
            "Deploy mq-run and the packages to the phone over adb, measure an idle baseline, then "
            "benchmark each package on the device with the battery sampled there (and the ODPM "
            "power rails read, where the phone has them: then the energy comes from the rails), "
            "cooling down between packages. Prints latency, tokens/s, power and energy per token and per "
            "inference (above idle) with medians and 95% confidence intervals, and the change vs "
            "the first package; stores everything, every raw sample included, in the run file "
            "(docs/device-benchmarking.md). Ctrl-C stops the benchmark on the phone and keeps the "
            "finished packages.",
            specs);
        return 0;
    }
    std::string serial = a.str("serial");
    if (serial.empty())
        if (const char *s = std::getenv("ANDROID_SERIAL"))
            serial = s;
    if (serial.empty())
        throw Error("mq bench needs --serial S (see `mq devices`) or $ANDROID_SERIAL");
    const std::vector<std::string> packages = splitList(a.str("packages"));
    if (packages.empty())
        throw Error("mq bench needs --packages a.mqpkg,b.mqpkg (the first is the baseline)");
    if (a.str("out").empty())
        throw Error("mq bench needs --out RUN.h5 (where the results are stored)");
    device::BenchOptions o;
    o.promptTokens = a.integer("prompt-tokens");
    o.decodeTokens = a.integer("decode-tokens");
    o.repeats = a.integer("repeats");
    o.warmup = a.integer("warmup");
    o.threads = a.integer("threads");
    o.powerHz = a.real("power-hz");
    o.idleSeconds = a.real("idle-seconds");
    o.cooldownCelsius = a.real("cooldown-celsius");
    o.cooldownTimeoutSeconds = a.real("cooldown-timeout");
    o.runnerPath = a.str("runner");
    o.odpmHz = a.real("odpm-hz");
    o.useOdpm = !a.flag("no-odpm");
    if (!(o.odpmHz > 0) || o.odpmHz > 50)
        throw Error("--odpm-hz must be between 0 and 50, not " + a.str("odpm-hz"));
    if (o.promptTokens < 1 || o.decodeTokens < 0 || o.repeats < 1 || o.warmup < 0 || o.threads < 1)
        throw Error("need --prompt-tokens >= 1, --decode-tokens >= 0, --repeats >= 1, --warmup >= 0, --threads >= 1");
    if (!(o.powerHz > 0) || o.powerHz > 1000)
        throw Error("--power-hz must be between 0 and 1000, not " + a.str("power-hz"));

    device::AdbClient adb(device::findAdb(a.str("adb")));
    adb.startServer();
    if (a.has("connect"))
        adb.connect(a.str("connect"));
    device::DeviceEvents events;
    events.stage = [](const std::string &s) { std::fprintf(stderr, "%s\n", s.c_str()); };
    int lastPercent = -1;
    events.push = [&](const std::string &file, int percent, std::uint64_t bytes) {
        if (percent == lastPercent)
            return;
        lastPercent = percent;
        std::fprintf(
            stderr, "push %s: %3d%% of %llu bytes\n", file.c_str(), percent, static_cast<unsigned long long>(bytes));
        if (percent >= 100)
            lastPercent = -1;
    };
    events.warning = [](const std::string &s) { std::fprintf(stderr, "warning: %s\n", s.c_str()); };

    struct sigaction sa
    {
    };
    sa.sa_handler = onInterrupt;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    device::DeviceBenchmark bench(adb, serial, o, events);
    const device::BenchmarkReport report = bench.run(packages, &g_cancel);
    std::string id;
    if (!report.variants.empty() || !report.error.empty()) {
        id = writeDeviceBenchmark(a.str("out"), report);
        std::fprintf(stderr, "stored as /device/benchmarks/%s in %s\n", id.c_str(), a.str("out").c_str());
    }
    if (a.flag("json")) {
        nlohmann::json j;
        j["serial"] = report.serial;
        j["run_file"] = a.str("out");
        j["benchmark"] = id;
        j["idle_watts"] = report.idleWatts;
        j["simulated"] = report.simulated;
        j["warnings"] = report.warnings;
        j["error"] = report.error;
        j["power_source"] = report.power.source; // "odpm", "battery-sysfs" or "none"
        j["power_source_text"] = device::powerSourceText(report);
        j["power_normalization"] = { { "source", report.power.source }, { "odpm_rails", report.power.odpmRails },
            { "current_unit", report.power.currentUnit }, { "discharge_sign", report.power.dischargeSign },
            { "rule", report.power.rule }, { "charging", report.power.charging } };
        j["variants"] = nlohmann::json::array();
        for (const auto &v : report.variants) {
            const auto &b = report.variants.front();
            auto red = [&](const device::Estimate &x, const device::Estimate &y) -> nlohmann::json {
                auto r = device::reductionPercent(x.median, y.median);
                return r ? nlohmann::json(*r) : nlohmann::json(nullptr);
            };
            j["variants"].push_back({ { "name", v.name }, { "package", v.packagePath }, { "variant", v.variant },
                { "power_source", v.powerSource }, { "prompt_seconds", estimateJson(v.promptSeconds) },
                { "decode_seconds_per_token", estimateJson(v.decodeSecondsPerToken) },
                { "decode_tokens_per_second", estimateJson(v.decodeTokensPerSecond) },
                { "average_watts", estimateJson(v.averageWatts) },
                { "energy_per_token_j", estimateJson(v.energyPerTokenJ) },
                { "energy_per_inference_j", estimateJson(v.energyPerInferenceJ) },
                { "reduction_percent",
                    { { "prompt_seconds", red(b.promptSeconds, v.promptSeconds) },
                        { "decode_seconds_per_token", red(b.decodeSecondsPerToken, v.decodeSecondsPerToken) },
                        { "energy_per_token_j", red(b.energyPerTokenJ, v.energyPerTokenJ) },
                        { "energy_per_inference_j", red(b.energyPerInferenceJ, v.energyPerInferenceJ) } } } });
        }
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << device::resultsTable(report);
        for (const auto &w : report.warnings)
            std::cout << "warning: " << w << "\n";
    }
    if (!report.error.empty()) {
        std::fprintf(stderr, "mq bench: %s\n", report.error.c_str());
        return 1;
    }
    return 0;
}

} // namespace mq::cli
