// Parsers of adb's output and of battery readings, fed text captured from adb 29.0.6 and from
// phones as the vendor reports in docs/device-benchmarking.md describe them.

#include "core/device/adb.h"
#include "core/device/power.h"
#include "core/device/process.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mq::device;

TEST(AdbParsers, DevicesListWithEveryState)
{
    // `adb devices -l` as adb 29.0.6 prints it (spaces with -l), plus the states phones show.
    const std::string text
        = "* daemon not running; starting now at tcp:5037\n"
          "* daemon started successfully\n"
          "List of devices attached\n"
          "R58M123ABC             device usb:1-1 product:beyond1lteeea model:SM_G973F device:beyond1 transport_id:4\n"
          "127.0.0.1:40465        unauthorized transport_id:3\n"
          "127.0.0.1:40953        offline product:mq_devsim model:MQ_Virtual_Phone__simulated_ device:devsim "
          "transport_id:2\n"
          "0123456789ABCDEF       no permissions (user in plugdev group; are your udev rules wrong?); see "
          "[http://developer.android.com/tools/device.html] usb:1-2 transport_id:5\n"
          "emulator-5554          device product:sdk_gphone64_x86_64 model:sdk_gphone64_x86_64 device:emu64xa "
          "transport_id:1\n"
          "\n";
    const auto list = parseDevicesList(text);
    ASSERT_EQ(list.size(), 5u);
    // Sorted by serial.
    EXPECT_EQ(list[0].serial, "0123456789ABCDEF");
    EXPECT_EQ(list[0].state, "no permissions");
    EXPECT_NE(list[0].detail.find("plugdev"), std::string::npos);
    EXPECT_EQ(list[0].qualifiers.at("usb"), "1-2");
    EXPECT_EQ(list[1].serial, "127.0.0.1:40465");
    EXPECT_EQ(list[1].state, "unauthorized");
    EXPECT_EQ(list[1].qualifiers.at("transport_id"), "3");
    EXPECT_EQ(list[2].state, "offline");
    EXPECT_EQ(list[2].qualifiers.at("model"), "MQ_Virtual_Phone__simulated_");
    EXPECT_EQ(list[3].serial, "R58M123ABC");
    EXPECT_EQ(list[3].state, "device");
    EXPECT_EQ(list[3].qualifiers.at("device"), "beyond1");
    EXPECT_EQ(list[4].serial, "emulator-5554");

    // Without -l: serial TAB state.
    const auto plain = parseDevicesList("List of devices attached\nABC\tdevice\nDEF\tunauthorized\n\n");
    ASSERT_EQ(plain.size(), 2u);
    EXPECT_EQ(plain[1].state, "unauthorized");
    EXPECT_TRUE(parseDevicesList("List of devices attached\n\n").empty());
}

TEST(AdbParsers, StateAdviceTellsWhatToDo)
{
    EXPECT_EQ(stateAdvice("X", "device"), "");
    const std::string u = stateAdvice("X", "unauthorized");
    EXPECT_NE(u.find("accept"), std::string::npos);
    EXPECT_NE(u.find("prompt on it"), std::string::npos);
    EXPECT_NE(stateAdvice("X", "offline").find("reconnect"), std::string::npos);
    EXPECT_NE(stateAdvice("X", "no permissions", "plugdev").find("udev"), std::string::npos);
}

TEST(AdbParsers, Getprop)
{
    const std::string text = "[ro.product.model]: [Pixel 8]\n"
                             "[ro.product.cpu.abi]: [arm64-v8a]\n"
                             "[ro.build.version.release]: [14]\n"
                             "[persist.sys.multi]: [first line\n"
                             "second line]\n"
                             "[empty.value]: []\n"
                             "garbage line\n";
    const auto p = parseGetprop(text);
    EXPECT_EQ(p.at("ro.product.model"), "Pixel 8");
    EXPECT_EQ(p.at("ro.product.cpu.abi"), "arm64-v8a");
    EXPECT_EQ(p.at("ro.build.version.release"), "14");
    EXPECT_EQ(p.at("persist.sys.multi"), "first line\nsecond line");
    EXPECT_EQ(p.at("empty.value"), "");
    EXPECT_EQ(p.size(), 5u);
}

TEST(AdbParsers, ShellQuotingSurvivesARealShell)
{
    // The reference is /bin/sh itself: printf prints each quoted word back unchanged.
    for (const std::string w : { "plain", "with space", "it's", "$HOME `id` \"q\"", "a\\b", "", "semi;colon&amp|" }) {
        const ProcessResult r = runProcess({ "/bin/sh", "-c", "printf %s " + shellQuote(w) });
        ASSERT_EQ(r.exitCode, 0) << w;
        EXPECT_EQ(r.out, w);
    }
    EXPECT_EQ(shellJoin({ "a", "b c" }), "a 'b c'");
}

TEST(AdbParsers, PushProgressFromTerminalOutput)
{
    // What adb push prints on a terminal (captured under a pty from adb 29.0.6).
    const std::string text = "\r[  2%] /data/local/tmp/x/g.bin\x1b[K\r[ 17%] /data/local/tmp/x/g.bin\x1b[K\r[100%] "
                             "/data/local/tmp/x/g.bin\x1b[K";
    EXPECT_EQ(parsePushPercent(text), 100);
    EXPECT_EQ(parsePushPercent("\r[ 17%] /data/x"), 17);
    EXPECT_FALSE(parsePushPercent("f.bin: 1 file pushed, 0 skipped.").has_value());
}

TEST(AdbParsers, FindAdbHonoursAnExplicitPathAndExplainsFailure)
{
    EXPECT_EQ(findAdb("/bin/sh"), "/bin/sh");
    try {
        findAdb("/nonexistent/adb");
        FAIL() << "no error for a missing explicit adb";
    } catch (const std::exception &e) {
        EXPECT_NE(std::string(e.what()).find("/nonexistent/adb"), std::string::npos);
    }
}

TEST(ProcessRunner, ExitCodesTimeoutAndMissingProgram)
{
    EXPECT_EQ(runProcess({ "/bin/sh", "-c", "exit 7" }).exitCode, 7);
    const ProcessResult both = runProcess({ "/bin/sh", "-c", "echo out; echo err >&2" });
    EXPECT_EQ(both.out, "out\n");
    EXPECT_EQ(both.err, "err\n");
    const ProcessResult slow = runProcess({ "/bin/sleep", "10" }, withTimeout(0.3));
    EXPECT_TRUE(slow.timedOut);
    const ProcessResult missing = runProcess({ "/nonexistent/program" });
    EXPECT_FALSE(missing.started);
    EXPECT_NE(missing.err.find("/nonexistent/program"), std::string::npos);
}

// Readings as phones report them: (raw current, raw voltage) under a ~1–2 W load.
struct PowerCase
{
    const char *what;
    std::vector<std::string> current, voltage;
    std::string status;
    double scale;
    int sign;
};

TEST(PowerNormalization, UnitAndSignPerVendorConvention)
{
    const std::vector<PowerCase> cases {
        // Kernel ABI / BatteryManager: µA, negative while discharging (Pixel 3a, the virtual phone).
        { "uA negative", { "-420000", "-380000", "-450000" }, { "3950000", "3948000", "3951000" }, "Discharging", 1e-6,
            -1 },
        // Many Qualcomm phones (Mi A1): µA, positive while discharging.
        { "uA positive", { "420000", "380000", "450000" }, { "3950000", "3948000", "3951000" }, "Discharging", 1e-6,
            1 },
        // Huawei P8 Lite 2017: mA, negative.
        { "mA negative", { "-420", "-380", "-450" }, { "3950000", "3948000", "3951000" }, "Discharging", 1e-3, -1 },
        // Samsung: mA, positive, and voltage in mV.
        { "mA positive, mV", { "420", "380", "450" }, { "3950", "3948", "3951" }, "Not charging", 1e-3, 1 },
    };
    for (const auto &c : cases) {
        std::vector<std::string> warnings;
        const PowerNormalization n = detectNormalization(c.current, c.voltage, c.status, warnings);
        EXPECT_DOUBLE_EQ(n.currentScaleToAmps, c.scale) << c.what;
        EXPECT_EQ(n.dischargeSign, c.sign) << c.what;
        EXPECT_FALSE(n.charging) << c.what;
        EXPECT_TRUE(warnings.empty()) << c.what << ": " << (warnings.empty() ? "" : warnings[0]);
        EXPECT_FALSE(n.rule.empty());
        // 420 mA at 3.95 V drawn = 1.659 W, whatever the convention.
        const double w = toWatts(n, c.current[0], c.voltage[0]);
        EXPECT_NEAR(w, 0.420 * 3.950, 1e-9) << c.what;
    }
}

TEST(PowerNormalization, ChargingIsDetectedAndWarned)
{
    std::vector<std::string> warnings;
    const PowerNormalization n
        = detectNormalization({ "900000", "910000" }, { "4300000", "4301000" }, "Charging", warnings);
    EXPECT_TRUE(n.charging);
    ASSERT_FALSE(warnings.empty());
    EXPECT_NE(warnings[0].find("charging"), std::string::npos);
    EXPECT_NE(warnings[0].find("unplug"), std::string::npos);
}

TEST(PowerNormalization, UnreadableAndImplausibleReadings)
{
    std::vector<std::string> warnings;
    const PowerNormalization none = detectNormalization({ "", "x" }, { "3900000" }, "Discharging", warnings);
    EXPECT_EQ(none.source, "none");
    EXPECT_FALSE(warnings.empty());
    EXPECT_TRUE(std::isnan(toWatts(none, "abc", "3900000")));

    // 5 units at 3.9 V: neither µA (20 µW) nor mA (20 mW) is a phone's draw: magnitude rule, warned.
    warnings.clear();
    const PowerNormalization guess
        = detectNormalization({ "-5", "-5" }, { "3900000", "3900000" }, "Discharging", warnings);
    EXPECT_EQ(guess.currentUnit, "mA");
    EXPECT_FALSE(warnings.empty());
}

TEST(PowerNormalization, TemperaturesAndNumbers)
{
    EXPECT_DOUBLE_EQ(toCelsius("41500"), 41.5); // thermal zone, m°C
    EXPECT_DOUBLE_EQ(toCelsius("315"), 31.5); // battery temp, 0.1 °C
    EXPECT_DOUBLE_EQ(toCelsius("38"), 38.0);
    EXPECT_TRUE(std::isnan(toCelsius("")));
    EXPECT_DOUBLE_EQ(parseNumber(" -136521\n"), -136521.0);
    EXPECT_TRUE(std::isnan(parseNumber("12abc")));
}

TEST(PowerNormalization, OdpmEnergyMeter)
{
    const std::string text = "============= PowerStats HAL 2.0 energy consumers ==============\n"
                             "  CPU_BIG : 100 mWs\n"
                             "============= PowerStats HAL 2.0 energy meter ==============\n"
                             "Elapsed time: 1234 ms\n"
                             "            Channel    Cumulative Energy (Delta)\n"
                             "  [S4M_VDD_CPUCL0]:CPU(LITTLE)    123456.78 mWs (   1234.56)\n"
                             "  [S3M_VDD_CPUCL1]:CPU(MID)    2000.5 mWs (   10.0)\n"
                             "========== End of PowerStats HAL 2.0 energy meter ==========\n";
    const auto rails = parseOdpmEnergy(text);
    ASSERT_EQ(rails.size(), 2u);
    EXPECT_NEAR(rails.at("S4M_VDD_CPUCL0"), 123.45678, 1e-9);
    EXPECT_NEAR(rails.at("S3M_VDD_CPUCL1"), 2.0005, 1e-12);
    EXPECT_TRUE(parseOdpmEnergy("Can't find service").empty());
}
