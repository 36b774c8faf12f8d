// mq-run on the virtual phone, as the device layer will drive it: push the runner and a package
// to /data/local/tmp/mq/<hash>/, run `mq-run bench` through `adb shell` with device paths for the
// package and the battery files, read the JSON from stdout.

#include "adb_harness.h"

#include "tests/common/temp_dir.h"
#include "tests/runtime/tiny_package.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>

using namespace mq::test;
namespace fs = std::filesystem;

TEST(DevsimMqRun, BenchRunsOnThePhoneAndSamplesTheSimulatedBattery)
{
    TempDir tmp;
    DevsimDaemon daemon((tmp.path() / "sandbox").string(), {}, tmp.file("devsim.log"));
    fs::create_directories(tmp.path() / "home");
    PrivateAdb adb(tmp.file("home"));
    ASSERT_NE(adb.connect(daemon.serial()).find("connected to"), std::string::npos);
    const std::string serial = daemon.serial();

    const std::vector<uint8_t> bytes = tinyPackageBytes(tinyPackageTensors(mq::ModelVariant::W8A8));
    std::ofstream(tmp.file("tiny.mqpkg"), std::ios::binary)
        .write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
    const std::string dir = "/data/local/tmp/mq/0123abcd";
    ASSERT_EQ(adb.run({ "-s", serial, "push", MQ_RUN_EXE, dir + "/mq-run" }).exitCode, 0);
    ASSERT_EQ(adb.run({ "-s", serial, "push", tmp.file("tiny.mqpkg"), dir + "/tiny.mqpkg" }).exitCode, 0);

    const std::string bat = "/sys/class/power_supply/battery/";
    const auto r = adb.run({ "-s", serial, "shell",
        dir + "/mq-run bench " + dir + "/tiny.mqpkg --prompt-tokens 12 --decode-tokens 4 --warmup 1 --repeats 3 --json"
            + " --power-files " + bat + "current_now," + bat + "voltage_now,/sys/class/thermal/thermal_zone0/temp"
            + " --power-hz 50" });
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    // The report shows device paths (shell output is mapped back), and every file was readable.
    EXPECT_NE(r.out.find("\"" + dir + "/tiny.mqpkg\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"" + bat + "current_now\""), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("\"read_errors\": 0"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(daemon.serial()), std::string::npos);
    EXPECT_EQ(r.out.find(fs::canonical(tmp.path()).string()), std::string::npos)
        << "no host path leaks into the report";
}
