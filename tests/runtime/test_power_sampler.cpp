#include "core/runtime/power_sampler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <unistd.h>

namespace mq {
namespace {

namespace fs = std::filesystem;

// A scratch folder per test, removed afterwards.
class PowerSamplerTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        dir = fs::temp_directory_path()
            / ("mq_power_sampler_" + std::to_string(::getpid()) + "_"
                + ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir);
    }
    void TearDown() override { fs::remove_all(dir); }

    // Writes through a temporary file and a rename, as sysfs presents a whole value at a time.
    void write(const fs::path &p, const std::string &text)
    {
        const fs::path tmp = p.string() + ".tmp";
        {
            std::ofstream out(tmp);
            out << text;
        }
        fs::rename(tmp, p);
    }

    fs::path dir;
};

TEST_F(PowerSamplerTest, SamplesChangingFilesAndRecordsMarks)
{
    const fs::path current = dir / "current_now", temp = dir / "temp";
    write(current, "0\n");
    write(temp, "  41000\n");
    PowerSampler sampler({ current.string(), temp.string() }, 200.0);
    EXPECT_EQ(sampler.files().size(), 2u);
    EXPECT_DOUBLE_EQ(sampler.hz(), 200.0);

    std::atomic<bool> done { false };
    sampler.start();
    sampler.mark("prompt:begin");
    std::thread writer([&] {
        for (int i = 1; i <= 30; ++i) {
            write(current, std::to_string(-1000 * i) + "\n");
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        done = true;
    });
    writer.join();
    sampler.mark("prompt:end");
    sampler.stop();

    const std::vector<PowerSample> samples = sampler.samples();
    // 300 ms at 200 Hz is ~60 samples; a loaded machine may skip some ticks, never add any.
    EXPECT_GE(samples.size(), 10u);
    EXPECT_LE(samples.size(), 80u);
    std::set<std::string> seen;
    double last = -1;
    for (const PowerSample &s : samples) {
        ASSERT_EQ(s.values.size(), 2u);
        EXPECT_EQ(s.values[1], "41000"); // trimmed
        EXPECT_FALSE(s.values[0].empty());
        EXPECT_GT(s.seconds, last);
        last = s.seconds;
        seen.insert(s.values[0]);
    }
    EXPECT_GE(seen.size(), 3u) << "the sampler should see the file change while it runs";
    EXPECT_EQ(sampler.readErrors(), 0u);

    const std::vector<PhaseMark> marks = sampler.marks();
    ASSERT_EQ(marks.size(), 2u);
    EXPECT_EQ(marks[0].name, "prompt:begin");
    EXPECT_EQ(marks[1].name, "prompt:end");
    EXPECT_GE(marks[0].seconds, 0.0);
    EXPECT_GE(marks[1].seconds - marks[0].seconds, 0.25);
    EXPECT_LE(marks[1].seconds, last + 0.5);
}

TEST_F(PowerSamplerTest, MissingFileGivesEmptyValueAndErrorCount)
{
    const fs::path present = dir / "voltage_now";
    write(present, "3850000");
    PowerSampler sampler({ (dir / "no_such_file").string(), present.string() }, 100.0);
    sampler.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    sampler.stop();
    const std::vector<PowerSample> samples = sampler.samples();
    ASSERT_GE(samples.size(), 2u);
    for (const PowerSample &s : samples) {
        ASSERT_EQ(s.values.size(), 2u);
        EXPECT_TRUE(s.values[0].empty());
        EXPECT_EQ(s.values[1], "3850000");
    }
    EXPECT_EQ(sampler.readErrors(), samples.size());
}

TEST_F(PowerSamplerTest, StopIsIdempotentAndRestartClears)
{
    const fs::path f = dir / "value";
    write(f, "1");
    PowerSampler sampler({ f.string() }, 500.0);
    sampler.stop(); // before start: nothing to do
    sampler.start();
    sampler.mark("a");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sampler.stop();
    sampler.stop();
    EXPECT_FALSE(sampler.samples().empty());
    sampler.start();
    sampler.stop();
    EXPECT_TRUE(sampler.marks().empty());
    EXPECT_GE(sampler.samples().size(), 1u); // the first sample is taken at start
}

TEST(PowerSampler, RejectsBadRate)
{
    EXPECT_THROW(PowerSampler({}, 0.0), std::invalid_argument);
    EXPECT_THROW(PowerSampler({}, -5.0), std::invalid_argument);
}

TEST(PowerSampler, DestructorStopsARunningSampler)
{
    PowerSampler sampler({ "/proc/self/stat" }, 1000.0);
    sampler.start();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
} // must join without hanging

} // namespace
} // namespace mq
