// ODPM rails: the readings the benchmark takes around each run (dumpsys between two reads of
// /proc/uptime), their alignment with mq-run's sampler clock, and energies from the counters.

#include "core/device/bench_protocol.h"
#include "core/device/results.h"
#include "core/store/device_results.h"
#include "tests/common/temp_dir.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

using namespace mq::device;

namespace {

// One reading as the device prints odpmReadCommand(): the dumpsys section as a Pixel 6 prints it.
std::string reading(double before, double after, double bigMws, double ddrMws)
{
    char buf[640];
    std::snprintf(buf, sizeof buf,
        "__MQ_ODPM__\n%.2f 9876.54\n"
        "============= PowerStats HAL 2.0 energy meter ==============\n"
        "            Channel    Cumulative Energy (Delta)\n"
        "  [S2M_VDD_CPUCL2]:CPU(BIG)    %.3f mWs (   0.00)\n"
        "  [S1M_VDD_MIF]:DDR    %.3f mWs (   0.00)\n"
        "========== End of PowerStats HAL 2.0 energy meter ==========\n"
        "%.2f 9876.60\n",
        before, bigMws, ddrMws, after);
    return buf;
}

} // namespace

TEST(DeviceOdpm, ReadingsParseWithUptimesAndACutOffReadingIsLeftOut)
{
    const std::string text = reading(100.00, 100.04, 1000, 500) + reading(100.50, 100.52, 1600, 700)
        + "__MQ_ODPM__\n101.00 9876.70\n============= PowerStats HAL 2.0 energy meter ==============\n";
    std::vector<std::string> rails;
    const RailReadings r = parseOdpmReadings(text, &rails);
    ASSERT_EQ(r.seconds.size(), 2u);
    EXPECT_NEAR(r.seconds[0], 100.02, 1e-9);
    EXPECT_NEAR(r.seconds[1], 100.51, 1e-9);
    EXPECT_NEAR(r.totalJoules[0], 1.5, 1e-12); // 1000 + 500 mWs = 1.5 J
    EXPECT_NEAR(r.totalJoules[1], 2.3, 1e-12);
    EXPECT_EQ(r.raw[0].rfind("============= PowerStats HAL 2.0 energy meter", 0), 0u);
    EXPECT_EQ(rails, (std::vector<std::string> { "S2M_VDD_CPUCL2:CPU(BIG)", "S1M_VDD_MIF:DDR" }));
    // A phone without the power HAL: dumpsys says so and sed keeps nothing.
    EXPECT_TRUE(parseOdpmReadings("__MQ_ODPM__\n100.00 1.0\n100.01 1.0\n").seconds.empty());
}

TEST(DeviceOdpm, UptimeOffsetRecoversTheClockWithinItsResolution)
{
    // An offset of 1234.5678 s; uptime is the boot clock truncated to 10 ms, read at 10 Hz with jitter.
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> jitter(0, 0.003);
    const double c = 1234.5678;
    std::vector<double> t;
    std::vector<std::string> raw;
    for (int i = 0; i < 40; ++i) {
        t.push_back(0.1 * i + jitter(rng));
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.2f 5000.00", std::floor((t.back() + c) * 100) / 100);
        raw.push_back(buf);
    }
    EXPECT_NEAR(uptimeOffset(t, raw), c, 0.003);
    EXPECT_TRUE(std::isnan(uptimeOffset(t, std::vector<std::string>(t.size(), ""))));
}

TEST(DeviceOdpm, CounterDifferenceInterpolatesAndExtrapolates)
{
    // A counter rising at 2 W, then 5 W from t = 1.
    const std::vector<double> t { 0, 0.5, 1.0, 1.5, 2.0 }, e { 10, 11, 12, 14.5, 17 };
    EXPECT_NEAR(counterDifference(t, e, 0.25, 0.75), 1.0, 1e-12);
    EXPECT_NEAR(counterDifference(t, e, 0.5, 1.5), 3.5, 1e-12);
    EXPECT_NEAR(counterDifference(t, e, 1.2, 2.4), 5 * 1.2, 1e-12); // beyond the last reading: its rate
    EXPECT_NEAR(counterDifference(t, e, -0.5, 0), 1.0, 1e-12);
    EXPECT_TRUE(std::isnan(counterDifference({ 0 }, { 1 }, 0, 1)));
}

TEST(DeviceOdpm, VariantEnergiesComeFromTheCountersWhenTheSourceIsOdpm)
{
    // 3 repeats of prompt 0.5 s + decode 1.0 s (10 tokens) at 3 W, 1 W between them; idle 1 W.
    // The counter is read every 0.25 s (exact for piecewise-constant power between readings
    // that fall on the phase edges); the battery trace is deliberately wrong, to show it is unused.
    VariantResult v;
    v.name = "odpm";
    v.promptTokens = 64;
    v.decodeTokens = 10;
    v.powerSource = "odpm";
    for (int k = 0; k < 3; ++k) {
        const double b = 0.25 + 2.0 * k;
        v.marks.push_back({ b, "prompt:begin" });
        v.marks.push_back({ b + 0.5, "prompt:end" });
        v.marks.push_back({ b + 0.5, "decode:begin" });
        v.marks.push_back({ b + 1.5, "decode:end" });
    }
    double energy = 0;
    for (int i = 0; i <= 26; ++i) {
        const double t = 0.25 * i;
        v.rails.seconds.push_back(t);
        v.rails.totalJoules.push_back(energy);
        const double phase = std::fmod(t, 2.0);
        energy += 0.25 * (phase >= 0.25 && phase < 1.75 ? 3.0 : 1.0);
        v.trace.seconds.push_back(t);
        v.trace.watts.push_back(100.0);
    }
    computeVariantStatistics(v, 1.0);
    EXPECT_NEAR(v.energyPerInferenceJ.median, 2.0 * 1.5, 1e-9);
    EXPECT_NEAR(v.energyPerPromptJ.median, 2.0 * 0.5, 1e-9);
    EXPECT_NEAR(v.energyPerTokenJ.median, 2.0 * 1.0 / 10, 1e-9);
    EXPECT_NEAR(v.averageWatts.median, 3.0, 1e-9);
    v.powerSource = "battery-sysfs"; // the same marks over the battery trace give its 100 W
    computeVariantStatistics(v, 1.0);
    EXPECT_NEAR(v.averageWatts.median, 100.0, 1e-9);
}

TEST(DeviceOdpm, RailReadingsAndTheSourceRoundTripThroughTheRunFile)
{
    BenchmarkReport r;
    r.serial = "127.0.0.1:1";
    r.power.source = "odpm";
    r.power.odpmRails = { "S2M_VDD_CPUCL2:CPU(BIG)", "S1M_VDD_MIF:DDR" };
    r.idleRails = parseOdpmReadings(reading(10.0, 10.02, 100, 50) + reading(13.0, 13.02, 200, 150));
    VariantResult v;
    v.name = "w8a8";
    v.powerSource = "odpm";
    v.rails = parseOdpmReadings(reading(20.0, 20.02, 300, 150) + reading(20.5, 20.52, 400, 250));
    v.rails.clockOffset = 19.9;
    v.trace.seconds = { 0.1, 0.2 };
    v.trace.watts = { 1, 1 };
    v.trace.rawCurrent = { "-1", "-1" };
    v.trace.rawVoltage = { "1", "1" };
    v.trace.rawTemperature = { "1", "1" };
    v.trace.rawClock = { "20.00 1.00", "20.10 1.00" };
    r.variants.push_back(v);
    mq::test::TempDir dir;
    const std::string path = dir.file("odpm.h5");
    mq::writeDeviceBenchmark(path, r);
    const auto stored = mq::readDeviceBenchmarks(path);
    ASSERT_EQ(stored.size(), 1u);
    const BenchmarkReport &b = stored[0].report;
    EXPECT_EQ(b.power.source, "odpm");
    EXPECT_EQ(b.power.odpmRails, r.power.odpmRails);
    EXPECT_EQ(b.idleRails.raw, r.idleRails.raw);
    EXPECT_EQ(b.idleRails.totalJoules, r.idleRails.totalJoules);
    ASSERT_EQ(b.variants.size(), 1u);
    EXPECT_EQ(b.variants[0].powerSource, "odpm");
    EXPECT_EQ(b.variants[0].rails.raw, v.rails.raw);
    EXPECT_EQ(b.variants[0].rails.seconds, v.rails.seconds);
    EXPECT_EQ(b.variants[0].rails.uptimeBefore, v.rails.uptimeBefore);
    EXPECT_DOUBLE_EQ(b.variants[0].rails.clockOffset, 19.9);
    EXPECT_EQ(b.variants[0].trace.rawClock, v.trace.rawClock);
    // The stored raw text gives the stored totals again.
    const RailReadings again = parseOdpmReadings("__MQ_ODPM__\n1.00 0\n" + b.variants[0].rails.raw[1] + "\n1.01 0\n");
    ASSERT_EQ(again.totalJoules.size(), 1u);
    EXPECT_NEAR(again.totalJoules[0], b.variants[0].rails.totalJoules[1], 1e-12);
    EXPECT_NE(powerSourceText(b).find("ODPM power rails (2 rails"), std::string::npos) << powerSourceText(b);
}
