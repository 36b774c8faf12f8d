// The real adb (Debian's 29.0.6) against mq-devsim, the virtual phone, running the real mq-run:
// deploy, a three-variant benchmark from the CLI, and the faults users meet (unauthorized,
// dropped connection, slow link, cancel). Each test has its own adb server (ANDROID_ADB_SERVER_PORT,
// HOME) and its own virtual phone on a free loopback port outside adb's 5555-5585 scan.

#include "core/device/adb.h"
#include "core/device/bench_protocol.h"
#include "core/device/deploy.h"
#include "core/device/results.h"
#include "core/store/device_results.h"
#include "tests/common/temp_dir.h"
#include "tests/device/virtual_phone.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

namespace fs = std::filesystem;
using namespace mq::device;
using mq::test::Packages;
using mq::test::packages;
using mq::test::readFile;
using mq::test::VirtualPhone;

namespace {

BenchOptions quickOptions()
{
    BenchOptions o;
    o.promptTokens = 64;
    o.decodeTokens = 48;
    o.repeats = 3;
    o.warmup = 1;
    o.idleSeconds = 1;
    o.powerHz = 50;
    o.cooldownTimeoutSeconds = 5;
    o.runnerPath = MQ_RUN;
    return o;
}

// Independent integral: plain trapezoid sum between two times (linear interpolation at the ends).
double referenceEnergy(const PowerTrace &t, double a, double b)
{
    auto at = [&](double x) {
        for (size_t i = 1; i < t.seconds.size(); ++i)
            if (t.seconds[i] >= x) {
                const double w = (x - t.seconds[i - 1]) / (t.seconds[i] - t.seconds[i - 1]);
                return t.watts[i - 1] + w * (t.watts[i] - t.watts[i - 1]);
            }
        return t.watts.back();
    };
    double sum = 0, pt = a, pp = a <= t.seconds.front() ? t.watts.front() : at(a);
    for (size_t i = 0; i < t.seconds.size(); ++i)
        if (t.seconds[i] > a && t.seconds[i] < b) {
            sum += (t.seconds[i] - pt) * (t.watts[i] + pp) / 2;
            pt = t.seconds[i];
            pp = t.watts[i];
        }
    return sum + (b - pt) * (pp + (b >= t.seconds.back() ? t.watts.back() : at(b))) / 2;
}

} // namespace

TEST(DeviceIntegration, DevicesListsTheVirtualPhoneWithItsFacts)
{
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path());
    const ProcessResult r = phone.mq({ "devices", "--connect", phone.address() });
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find(phone.address()), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("device"), std::string::npos);
    EXPECT_NE(r.out.find("x86_64"), std::string::npos);
    EXPECT_NE(r.out.find("simulated"), std::string::npos);
    const ProcessResult j = phone.mq({ "devices", "--json" });
    const auto list = nlohmann::json::parse(j.out);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["state"], "device");
    EXPECT_EQ(list[0]["facts"]["android"], "14");
    EXPECT_EQ(list[0]["facts"]["charging"], "no");
    // The battery level the phone's sysfs holds, read independently from the sandbox.
    EXPECT_EQ(list[0]["facts"]["battery.capacity"].get<std::string>(),
        std::to_string(std::stoi(readFile(phone.sandbox() + "/sys/class/power_supply/battery/capacity"))));
}

TEST(DeviceIntegration, SecondDeployUploadsNothing)
{
    const Packages &p = packages();
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path());
    phone.connect();
    const std::string serial = phone.address();
    const DeployResult first = deploy(phone.adb(), serial, MQ_RUN, { p.w4a8 }, quickOptions());
    EXPECT_EQ(first.filesUploaded, 2);
    EXPECT_EQ(first.filesSkipped, 0);
    // The bytes on the phone are the package's bytes (read from the sandbox, not through adb).
    ASSERT_EQ(first.packages.size(), 1u);
    EXPECT_EQ(first.packages[0].remote.rfind("/data/local/tmp/mq/" + fileSha256(p.w4a8).substr(0, 16) + "/", 0), 0u);
    EXPECT_EQ(readFile(phone.sandbox() + first.packages[0].remote), readFile(p.w4a8));
    const DeployResult second = deploy(phone.adb(), serial, MQ_RUN, { p.w4a8 }, quickOptions());
    EXPECT_EQ(second.filesUploaded, 0);
    EXPECT_EQ(second.filesSkipped, 2);
    EXPECT_EQ(second.bytesUploaded, 0u);
}

TEST(DeviceIntegration, ThreeVariantBenchmarkFromTheCli)
{
    const Packages &p = packages();
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path());
    const std::string run = dir.file("bench.h5");
    const ProcessResult r = phone.mq({ "bench", "--connect", phone.address(), "--serial", phone.address(), "--packages",
        p.a16 + "," + p.w8a8 + "," + p.w4a8, "--prompt-tokens", "64", "--decode-tokens", "128", "--repeats", "3",
        "--idle-seconds", "1", "--power-hz", "100", "--cooldown-timeout", "5", "--runner", MQ_RUN, "--out", run,
        "--json" });
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    ASSERT_EQ(j["variants"].size(), 3u);
    EXPECT_TRUE(j["simulated"].get<bool>());
    EXPECT_EQ(j["variants"][0]["variant"], "a16");
    EXPECT_EQ(j["variants"][1]["variant"], "w8a8");
    EXPECT_EQ(j["variants"][2]["variant"], "w4a8");
    EXPECT_TRUE(j["variants"][0]["reduction_percent"]["energy_per_token_j"].get<double>() == 0.0);
    // The virtual phone reports µA, negative while discharging (its default).
    EXPECT_EQ(j["power_normalization"]["current_unit"], "uA");
    EXPECT_EQ(j["power_normalization"]["discharge_sign"], -1);
    EXPECT_EQ(j["power_source"], "battery-sysfs") << "no ODPM rails without --odpm";

    const auto stored = mq::readDeviceBenchmarks(run);
    ASSERT_EQ(stored.size(), 1u);
    const BenchmarkReport &b = stored[0].report;
    EXPECT_TRUE(b.error.empty()) << b.error;
    ASSERT_EQ(b.variants.size(), 3u);
    EXPECT_GT(b.idleWatts, 0.1);
    for (const VariantResult &v : b.variants) {
        SCOPED_TRACE(v.name);
        // Every raw sample is stored: at 100 Hz, at least half of the samples the measured span
        // should hold (how long the span is depends on how fast mq-run is), and never fewer than 3.
        ASSERT_FALSE(v.marks.empty());
        const double span = v.marks.back().seconds - v.marks.front().seconds;
        ASSERT_GE(v.trace.seconds.size(), 3u);
        EXPECT_GE(double(v.trace.seconds.size()), 0.5 * span * 100.0) << "span " << span << " s";
        EXPECT_EQ(v.trace.rawCurrent.size(), v.trace.seconds.size());
        EXPECT_EQ(v.marks.size(), 4u * 3u);
        // Watts from the stored raw text and the stored normalisation.
        for (size_t i = 0; i < v.trace.seconds.size(); ++i) {
            const double w = std::stod(v.trace.rawCurrent[i]) * b.power.currentScaleToAmps * b.power.dischargeSign
                * std::stod(v.trace.rawVoltage[i]) * b.power.voltageScaleToVolts;
            EXPECT_NEAR(v.trace.watts[i], w, 1e-9 * std::fabs(w) + 1e-12);
        }
        // Stored energy per inference == integral of the stored samples (above idle), within 1 %.
        std::vector<double> begins, ends;
        for (const auto &m : v.marks) {
            if (m.name == "prompt:begin")
                begins.push_back(m.seconds);
            if (m.name == "decode:end")
                ends.push_back(m.seconds);
        }
        ASSERT_EQ(begins.size(), v.energyPerInferenceJ.values.size());
        for (size_t k = 0; k < begins.size(); ++k) {
            const double e = referenceEnergy(v.trace, begins[k], ends[k]) - b.idleWatts * (ends[k] - begins[k]);
            EXPECT_NEAR(v.energyPerInferenceJ.values[k], e, 0.01 * std::fabs(e) + 1e-9);
        }
        // Latency per repeat against what mq-run itself measured (its JSON, kept verbatim): the
        // marks bracket the timed call, so they can only be a little longer.
        const auto raw = nlohmann::json::parse(v.rawJson);
        EXPECT_NEAR(v.promptSeconds.median, raw["prompt_seconds"]["median"].get<double>(),
            0.2 * raw["prompt_seconds"]["median"].get<double>() + 2e-3);
        EXPECT_GT(v.averageWatts.median, b.idleWatts) << "running a model draws more than idling";
    }
}

TEST(DeviceIntegration, UnauthorizedDeviceSaysToAcceptThePrompt)
{
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path(), { "--unauthorized" });
    const ProcessResult r = phone.mq({ "bench", "--connect", phone.address(), "--serial", phone.address(), "--packages",
        "/nonexistent.mqpkg", "--out", dir.file("x.h5") });
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("unauthorized"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("accept the"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("prompt on it"), std::string::npos) << r.err;
    const ProcessResult list = phone.mq({ "devices" });
    EXPECT_NE(list.out.find("unauthorized"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("accept the"), std::string::npos) << list.out;
}

TEST(DeviceIntegration, DroppedConnectionIsReportedAndFinishedVariantsKept)
{
    const Packages &p = packages();
    mq::test::TempDir dir;
    // The phone hangs up 12 s after adb connected. The first variant finishes well before (about
    // 3-5 s in); the cooldown before the second is made to last past the drop (a target below the
    // start temperature, 40 s timeout), so the drop always falls inside the benchmark.
    VirtualPhone phone(dir.path(), { "--drop-after", "12" });
    const std::string run = dir.file("bench.h5");
    const ProcessResult r = phone.mq({ "bench", "--connect", phone.address(), "--serial", phone.address(), "--packages",
        p.a16 + "," + p.w4a8, "--prompt-tokens", "64", "--decode-tokens", "48", "--repeats", "3", "--idle-seconds", "1",
        "--cooldown-celsius", "-50", "--cooldown-timeout", "40", "--runner", MQ_RUN, "--out", run });
    EXPECT_EQ(r.exitCode, 1);
    EXPECT_NE(r.err.find("lost the connection"), std::string::npos) << r.err;
    EXPECT_NE(r.out.find("a16"), std::string::npos) << "the finished variant's results are printed";
    const auto stored = mq::readDeviceBenchmarks(run);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].report.variants.size(), 1u);
    EXPECT_EQ(stored[0].report.variants[0].variant, "a16");
    EXPECT_NE(stored[0].report.error.find("lost the connection"), std::string::npos);
}

TEST(DeviceIntegration, SlowLinkShowsPushProgress)
{
    mq::test::TempDir dir;
    // adb's percentage counts bytes handed to the adb server; loopback socket buffers absorb the
    // first ~2-3 MB at once, so the file must be larger than that to crawl visibly: 8 MB at 4 MB/s.
    const std::string big = dir.file("big.mqpkg");
    {
        std::ofstream out(big, std::ios::binary);
        std::string block(1 << 16, '\0');
        for (int i = 0; i < 128; ++i) {
            for (size_t k = 0; k < block.size(); ++k)
                block[k] = char((k * 131 + size_t(i) * 7) & 0xff);
            out.write(block.data(), std::streamsize(block.size()));
        }
    }
    VirtualPhone phone(dir.path(), { "--slow-link", "4000" });
    phone.connect();
    std::map<std::string, std::vector<int>> seen;
    DeviceEvents events;
    events.push = [&](const std::string &file, int percent, std::uint64_t) { seen[file].push_back(percent); };
    const auto t0 = std::chrono::steady_clock::now();
    deploy(phone.adb(), phone.address(), MQ_RUN, { big }, quickOptions(), events);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    EXPECT_GT(seconds, 1.5) << "the link really was slow (8 MB + mq-run at 4 MB/s)";
    const auto &pkg = seen["big.mqpkg"];
    ASSERT_FALSE(pkg.empty());
    int between = 0;
    for (int x : pkg)
        between += x > 0 && x < 100 ? 1 : 0;
    EXPECT_GE(between, 3) << "intermediate percentages while the package crawls over the link";
    EXPECT_EQ(pkg.back(), 100);
    EXPECT_TRUE(std::is_sorted(pkg.begin(), pkg.end()));
    EXPECT_EQ(readFile(phone.sandbox() + remotePathFor("/data/local/tmp/mq", big, fileSha256(big))), readFile(big));
}

TEST(DeviceIntegration, CancelKillsTheRunnerOnThePhone)
{
    const Packages &p = packages();
    // Also on a phone with ODPM rails, where a reading loop runs beside mq-run.
    for (const std::vector<std::string> &args :
        { std::vector<std::string> {}, std::vector<std::string> { "--odpm" } }) {
        SCOPED_TRACE(args.empty() ? "battery" : "odpm");
        mq::test::TempDir dir;
        VirtualPhone phone(dir.path(), args);
        phone.connect();
        BenchOptions o = quickOptions();
        o.decodeTokens = 400;
        o.repeats = 200; // far longer than the test waits
        std::atomic<bool> cancel { false };
        std::thread canceller;
        DeviceEvents events;
        events.stage = [&](const std::string &s) {
            if (s.rfind("benchmarking", 0) == 0 && !canceller.joinable())
                canceller = std::thread([&] {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
                    cancel = true;
                });
        };
        DeviceBenchmark bench(phone.adb(), phone.address(), o, events);
        const auto t0 = std::chrono::steady_clock::now();
        const BenchmarkReport report = bench.run({ p.w4a8 }, &cancel);
        if (canceller.joinable())
            canceller.join();
        EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30);
        EXPECT_NE(report.error.find("cancelled"), std::string::npos) << report.error;
        // The virtual phone runs its programs on this host: no mq-run from the sandbox may be left.
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        int left = 0, loops = 0;
        for (const auto &e : fs::directory_iterator("/proc")) {
            const std::string cmd = readFile(e.path() / "cmdline");
            if (cmd.find(phone.sandbox()) != std::string::npos && cmd.find("mq-run") != std::string::npos
                && cmd.find("bench") != std::string::npos)
                ++left;
            if (cmd.find(phone.sandbox()) != std::string::npos && cmd.find("odpm.stop") != std::string::npos)
                ++loops;
        }
        EXPECT_EQ(left, 0);
        EXPECT_EQ(loops, 0) << "the ODPM reading loop ends with the run";
    }
}

TEST(DeviceIntegration, DropDuringTheRunnerIsReportedWithoutLeftovers)
{
    const Packages &p = packages();
    mq::test::TempDir dir;
    // One long variant (about a minute of decoding); the phone hangs up 10 s after adb connected,
    // i.e. while mq-run runs (deploy and the 1 s idle baseline take 2-4 s here).
    VirtualPhone phone(dir.path(), { "--drop-after", "10" });
    phone.connect();
    BenchOptions o = quickOptions();
    o.decodeTokens = 400;
    o.repeats = 300;
    DeviceBenchmark bench(phone.adb(), phone.address(), o);
    const auto t0 = std::chrono::steady_clock::now();
    const BenchmarkReport report = bench.run({ p.w4a8 });
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 30)
        << "a drop is noticed at once, not after the benchmark would have ended";
    EXPECT_NE(report.error.find("lost the connection"), std::string::npos) << report.error;
    EXPECT_TRUE(report.variants.empty());
    // The phone hung up the runner with the connection.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    int left = 0;
    for (const auto &e : fs::directory_iterator("/proc")) {
        const std::string cmd = readFile(e.path() / "cmdline");
        left += cmd.find(phone.sandbox()) != std::string::npos && cmd.find("mq-run") != std::string::npos ? 1 : 0;
    }
    EXPECT_EQ(left, 0);
}

TEST(DeviceIntegration, VendorCurrentConventionsGiveTheSamePower)
{
    const Packages &p = packages();
    // The virtual phone's idle draw is 0.55 W plus what our sampling shell costs (docs/devsim.md):
    // whatever unit and sign its current file uses, the detected idle power must be that.
    std::vector<double> idle;
    for (const std::vector<std::string> &args : { std::vector<std::string> {},
             std::vector<std::string> { "--current-unit", "mA", "--current-sign", "positive" } }) {
        mq::test::TempDir dir;
        VirtualPhone phone(dir.path(), args);
        phone.connect();
        BenchOptions o = quickOptions();
        o.repeats = 1;
        DeviceBenchmark bench(phone.adb(), phone.address(), o);
        const BenchmarkReport r = bench.run({ p.w4a8 });
        ASSERT_TRUE(r.error.empty()) << r.error;
        const bool vendor = !args.empty();
        EXPECT_EQ(r.power.currentUnit, vendor ? "mA" : "uA");
        EXPECT_EQ(r.power.dischargeSign, vendor ? 1 : -1);
        EXPECT_FALSE(r.power.charging);
        EXPECT_EQ(r.power.source, "battery-sysfs") << "no ODPM rails on this phone: the battery is the source";
        EXPECT_EQ(r.variants.at(0).powerSource, "battery-sysfs");
        EXPECT_TRUE(r.variants.at(0).rails.seconds.empty());
        EXPECT_NE(powerSourceText(r).find("battery current_now"), std::string::npos) << powerSourceText(r);
        EXPECT_GT(r.idleWatts, 0.5);
        EXPECT_LT(r.idleWatts, 1.2);
        idle.push_back(r.idleWatts);
    }
    EXPECT_NEAR(idle[0], idle[1], 0.25 * idle[0]);
}

TEST(DeviceIntegration, ChargingPhoneIsWarnedAbout)
{
    const Packages &p = packages();
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path(), { "--charging" });
    const ProcessResult r = phone.mq({ "bench", "--connect", phone.address(), "--serial", phone.address(), "--packages",
        p.w4a8, "--prompt-tokens", "32", "--decode-tokens", "16", "--repeats", "1", "--idle-seconds", "1", "--runner",
        MQ_RUN, "--out", dir.file("c.h5"), "--json" });
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("charging"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("unplug"), std::string::npos) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_TRUE(j["power_normalization"]["charging"].get<bool>());
    const auto stored = mq::readDeviceBenchmarks(dir.file("c.h5"));
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_TRUE(stored[0].report.power.charging);
    EXPECT_FALSE(stored[0].report.warnings.empty());
}

TEST(DeviceIntegration, OdpmRailsArePreferredAndAgreeWithTheBattery)
{
    // A phone with ODPM rails (mq-devsim --odpm: the same simulated P split into six rails). The
    // benchmark must take its energy from the rail counters, keep every reading, and agree with
    // the battery estimate of the same simulated power.
    const Packages &p = packages();
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path(), { "--odpm" });
    phone.connect();
    BenchOptions o = quickOptions();
    o.promptTokens = 256;
    o.decodeTokens = 192;
    // mq-run takes ~50 ms per repeat here: 20 repeats give about a second, several fuel-gauge
    // time constants (0.25 s) and counter updates (50 ms).
    o.repeats = 20;
    o.idleSeconds = 2;
    DeviceBenchmark bench(phone.adb(), phone.address(), o);
    const BenchmarkReport r = bench.run({ p.a16, p.w8a8 });
    ASSERT_TRUE(r.error.empty()) << r.error;
    EXPECT_EQ(r.power.source, "odpm");
    EXPECT_EQ(r.power.odpmRails.size(), 6u);
    EXPECT_NE(resultsTable(r).find("power source: ODPM power rails (6 rails"), std::string::npos) << resultsTable(r);
    ASSERT_EQ(r.idleRails.seconds.size(), 2u);
    // Idle from the rails against the mean of the battery's idle samples.
    double batteryIdle = 0;
    for (double w : r.idleTrace.watts)
        batteryIdle += w / double(r.idleTrace.watts.size());
    std::printf("idle: ODPM %.4f W, battery %.4f W\n", r.idleWatts, batteryIdle);
    EXPECT_NEAR(r.idleWatts, batteryIdle, 0.05 * batteryIdle);
    ASSERT_EQ(r.variants.size(), 2u);
    for (const VariantResult &v : r.variants) {
        EXPECT_EQ(v.powerSource, "odpm") << v.name;
        ASSERT_GE(v.rails.seconds.size(), 3u) << v.name;
        EXPECT_EQ(v.rails.raw.size(), v.rails.seconds.size());
        EXPECT_EQ(v.trace.rawClock.size(), v.trace.seconds.size()) << "uptime sampled with the battery";
        // The readings span the measurement (one before mq-run starts, one after it ends).
        EXPECT_LT(v.rails.seconds.front(), v.marks.front().seconds);
        EXPECT_GT(v.rails.seconds.back(), v.marks.back().seconds);
        // Gross energy of each repeat: counters (interpolated at the marks) vs the trapezoid of the
        // battery's V·I samples.
        double odpm = 0, battery = 0, duration = 0, reported = 0;
        for (size_t k = 0; k + 3 < v.marks.size(); k += 4) {
            const double a = v.marks[k].seconds, b = v.marks[k + 3].seconds;
            odpm += counterDifference(v.rails.seconds, v.rails.totalJoules, a, b);
            battery += referenceEnergy(v.trace, a, b);
            duration += b - a;
            reported += v.energyPerInferenceJ.values.at(k / 4) + r.idleWatts * (b - a);
        }
        std::printf("%s: %zu rail readings over %.2f s measured; gross energy ODPM %.4f J, battery %.4f J (%+.2f%%); "
                    "energy/inference above idle %.4f J\n",
            v.name.c_str(), v.rails.seconds.size(), duration, odpm, battery, 100 * (odpm - battery) / battery,
            v.energyPerInferenceJ.median);
        EXPECT_NEAR(odpm, battery, 0.05 * battery) << v.name;
        EXPECT_NEAR(reported, odpm, 1e-9 * odpm) << "the figures are the counters' differences";
    }
    // Stored: the source, every rail reading as dumpsys printed it, and energies that the stored
    // readings give again.
    const std::string file = dir.file("odpm.h5");
    mq::writeDeviceBenchmark(file, r);
    const auto stored = mq::readDeviceBenchmarks(file);
    ASSERT_EQ(stored.size(), 1u);
    EXPECT_EQ(stored[0].report.power.source, "odpm");
    for (const VariantResult &v : stored[0].report.variants) {
        EXPECT_EQ(v.powerSource, "odpm");
        ASSERT_FALSE(v.rails.raw.empty());
        EXPECT_NE(v.rails.raw.front().find("[S2M_VDD_CPUCL2]:CPU(BIG)"), std::string::npos) << v.rails.raw.front();
        VariantResult again = v;
        computeVariantStatistics(again, stored[0].report.idleWatts);
        for (size_t k = 0; k < v.energyPerInferenceJ.values.size(); ++k)
            EXPECT_NEAR(again.energyPerInferenceJ.values[k], v.energyPerInferenceJ.values[k], 1e-9);
    }
}

TEST(DeviceIntegration, CliSaysWhichPowerSourceItUsed)
{
    const Packages &p = packages();
    mq::test::TempDir dir;
    VirtualPhone phone(dir.path(), { "--odpm" });
    auto bench = [&](std::vector<std::string> extra) {
        std::vector<std::string> args { "bench", "--connect", phone.address(), "--serial", phone.address(),
            "--packages", p.w4a8, "--prompt-tokens", "32", "--decode-tokens", "16", "--repeats", "2", "--idle-seconds",
            "1", "--runner", MQ_RUN, "--out", dir.file("s.h5") };
        args.insert(args.end(), extra.begin(), extra.end());
        return phone.mq(args);
    };
    const ProcessResult table = bench({});
    ASSERT_EQ(table.exitCode, 0) << table.err;
    EXPECT_NE(table.out.find("power source: ODPM power rails (6 rails"), std::string::npos) << table.out;
    EXPECT_NE(table.out.find("simulated"), std::string::npos) << table.out;
    const ProcessResult battery = bench({ "--no-odpm", "--json" });
    ASSERT_EQ(battery.exitCode, 0) << battery.err;
    const auto j = nlohmann::json::parse(battery.out);
    EXPECT_EQ(j["power_source"], "battery-sysfs");
    EXPECT_EQ(j["variants"][0]["power_source"], "battery-sysfs");
}
