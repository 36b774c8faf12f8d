// /device in the run file: what is written reads back, every raw sample included, and a run file
// with device results still opens with the ordinary reader.

#include "core/device/results.h"
#include "core/store/device_results.h"
#include "core/store/run_reader.h"
#include "tests/common/temp_dir.h"

#include <gtest/gtest.h>

using namespace mq::device;

namespace {

BenchmarkReport syntheticReport()
{
    BenchmarkReport r;
    r.serial = "127.0.0.1:1234";
    r.created = "2026-11-23T09:00:00Z";
    r.deviceFacts = { { "model", "Test Phone" }, { "abi", "x86_64" } };
    r.promptTokens = 64;
    r.decodeTokens = 8;
    r.warmup = 1;
    r.repeats = 2;
    r.powerHz = 20;
    r.idleWatts = 0.5;
    r.power.currentUnit = "mA";
    r.power.currentScaleToAmps = 1e-3;
    r.power.dischargeSign = 1;
    r.power.rule = "test rule";
    r.warnings = { "a warning" };
    r.error = "lost the connection";
    r.simulated = true;
    r.idleTrace.seconds = { 0, 0.2, 0.4 };
    r.idleTrace.watts = { 0.5, 0.5, 0.5 };
    r.idleTrace.celsius = { 30, 30, 30 };
    r.idleTrace.rawCurrent = { "125", "125", "125" };
    r.idleTrace.rawVoltage = { "4000000", "4000000", "4000000" };
    r.idleTrace.rawTemperature = { "30000", "30000", "30000" };
    for (const char *name : { "a16", "w8a8" }) {
        VariantResult v;
        v.name = name;
        v.packagePath = std::string("/tmp/") + name + ".mqpkg";
        v.variant = name;
        v.promptTokens = 64;
        v.decodeTokens = 8;
        v.rawJson = "{\"variant\": \"" + std::string(name) + "\"}";
        for (int i = 0; i <= 40; ++i) {
            v.trace.seconds.push_back(i * 0.05);
            v.trace.watts.push_back(1.0 + 0.01 * i);
            v.trace.celsius.push_back(31);
            v.trace.rawCurrent.push_back(std::to_string(250 + i));
            v.trace.rawVoltage.push_back("4000000");
            v.trace.rawTemperature.push_back("31000");
        }
        v.marks = { { 0.1, "prompt:begin" }, { 0.3, "prompt:end" }, { 0.3, "decode:begin" }, { 0.9, "decode:end" },
            { 1.0, "prompt:begin" }, { 1.2, "prompt:end" }, { 1.2, "decode:begin" }, { 1.9, "decode:end" } };
        computeVariantStatistics(v, r.idleWatts);
        r.variants.push_back(v);
    }
    return r;
}

} // namespace

TEST(DeviceStore, ReportRoundTripsWithEveryRawSample)
{
    mq::test::TempDir dir;
    const std::string path = dir.file("bench.h5");
    const BenchmarkReport r = syntheticReport();
    EXPECT_EQ(mq::writeDeviceBenchmark(path, r), "0001");
    EXPECT_EQ(mq::writeDeviceBenchmark(path, r), "0002");
    const auto stored = mq::readDeviceBenchmarks(path);
    ASSERT_EQ(stored.size(), 2u);
    const BenchmarkReport &b = stored[1].report;
    EXPECT_EQ(stored[1].id, "0002");
    EXPECT_EQ(b.serial, r.serial);
    EXPECT_EQ(b.deviceFacts.at("model"), "Test Phone");
    EXPECT_EQ(b.error, r.error);
    EXPECT_EQ(b.warnings, r.warnings);
    EXPECT_TRUE(b.simulated);
    EXPECT_EQ(b.power.currentUnit, "mA");
    EXPECT_EQ(b.power.dischargeSign, 1);
    EXPECT_EQ(b.idleTrace.rawCurrent, r.idleTrace.rawCurrent);
    ASSERT_EQ(b.variants.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
        const VariantResult &x = r.variants[i], &y = b.variants[i];
        EXPECT_EQ(y.name, x.name);
        EXPECT_EQ(y.trace.seconds, x.trace.seconds);
        EXPECT_EQ(y.trace.watts, x.trace.watts);
        EXPECT_EQ(y.trace.rawCurrent, x.trace.rawCurrent);
        EXPECT_EQ(y.marks.size(), x.marks.size());
        EXPECT_EQ(y.rawJson, x.rawJson);
        EXPECT_EQ(y.energyPerInferenceJ.values, x.energyPerInferenceJ.values);
        EXPECT_DOUBLE_EQ(y.energyPerInferenceJ.ciHigh, x.energyPerInferenceJ.ciHigh);
        EXPECT_DOUBLE_EQ(y.promptSeconds.median, x.promptSeconds.median);
        // Stored energies equal a fresh computation from the stored samples and marks.
        VariantResult again = y;
        computeVariantStatistics(again, b.idleWatts);
        for (size_t k = 0; k < again.energyPerInferenceJ.values.size(); ++k)
            EXPECT_NEAR(again.energyPerInferenceJ.values[k], y.energyPerInferenceJ.values[k], 1e-12);
    }
}

TEST(DeviceStore, NewFileIsARunFileAndOldReadersStillOpenIt)
{
    mq::test::TempDir dir;
    const std::string path = dir.file("bench.h5");
    mq::writeDeviceBenchmark(path, syntheticReport());
    mq::RunReader reader = mq::RunReader::open(path);
    EXPECT_EQ(reader.schemaVersion(), 1) << "adding /device does not bump the schema";
    EXPECT_TRUE(reader.train().step.empty());
}

TEST(DeviceStore, NotARunFileIsRefusedWithItsPath)
{
    mq::test::TempDir dir;
    const std::string path = dir.file("missing.h5");
    try {
        mq::readDeviceBenchmarks(path);
        FAIL();
    } catch (const std::exception &e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
    }
}
