#include "options.h"
#include "services.h"

#include "core/util/error.h"

#include <gtest/gtest.h>

using namespace mq::devsim;

TEST(DevsimOptions, ParsesEveryFlag)
{
    const Options o = parseOptions({ "--port", "0", "--sandbox", "/tmp/x", "--serial", "S1", "--model", "Pixel Sim",
        "--sdk", "33", "--abi", "x86_64", "--unauthorized", "--drop-after", "2.5", "--slow-link", "200", "--charging",
        "--battery-capacity-mah", "5000", "--current-sign", "positive", "--current-unit", "mA", "--verbose" });
    EXPECT_EQ(o.sandbox, "/tmp/x");
    EXPECT_EQ(o.profile.serial, "S1");
    EXPECT_EQ(o.profile.model, "Pixel Sim");
    EXPECT_EQ(o.profile.sdk, 33);
    EXPECT_TRUE(o.unauthorized);
    EXPECT_DOUBLE_EQ(o.dropAfterSeconds, 2.5);
    EXPECT_DOUBLE_EQ(o.slowLinkKBps, 200);
    EXPECT_TRUE(o.power.charging);
    EXPECT_DOUBLE_EQ(o.power.capacityMah, 5000);
    EXPECT_EQ(o.power.dischargeSign, 1);
    EXPECT_EQ(o.power.currentUnit, CurrentUnit::MilliAmps);
    EXPECT_TRUE(o.verbose);
}

TEST(DevsimOptions, BadInputSaysWhatIsWrong)
{
    auto message = [](std::vector<std::string> args) {
        try {
            parseOptions(args);
        } catch (const mq::Error &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(message({ "--port", "0" }).find("--sandbox DIR is required"), std::string::npos);
    EXPECT_NE(message({ "--sandbox", "x", "--port", "70000" }).find("--port expects a number"), std::string::npos);
    EXPECT_NE(message({ "--sandbox", "x", "--current-unit", "A" }).find("'uA' or 'mA'"), std::string::npos);
    EXPECT_NE(
        message({ "--sandbox", "x", "--abi", "mips" }).find("expected one of x86_64, arm64-v8a"), std::string::npos);
    EXPECT_EQ(parseOptions({ "--sandbox", "x", "--abi", "arm64-v8a" }).profile.abi, "arm64-v8a");
    EXPECT_EQ(
        parseOptions({ "--sandbox", "x", "--abi", "arm64-v8a" }).profile.properties().at("ro.product.cpu.abilist"),
        "arm64-v8a,armeabi-v7a,armeabi");
    EXPECT_NE(message({ "--sandbox", "x", "--frobnicate" }).find("unknown option '--frobnicate'"), std::string::npos);
    EXPECT_NE(message({ "--sandbox" }).find("needs a value"), std::string::npos);
}

TEST(DevsimOptions, VersionAndOdpmNeedNoMore)
{
    EXPECT_TRUE(parseOptions({ "--version" }).version); // no --sandbox needed to print the version
    EXPECT_FALSE(parseOptions({ "--sandbox", "x" }).power.odpm);
    EXPECT_TRUE(parseOptions({ "--sandbox", "x", "--odpm" }).power.odpm);
    EXPECT_NE(usageText().find("--odpm"), std::string::npos);
    EXPECT_NE(usageText().find("--version"), std::string::npos);
}

TEST(DevsimOptions, BannerFollowsAdbGrammarAndSaysSimulated)
{
    DeviceProfile p;
    p.model = "A:B;C=D,E (simulated)";
    const std::string b = p.banner({ "shell_v2", "cmd" });
    EXPECT_EQ(b,
        "device:MQSIM0001:ro.product.name=mq_devsim;ro.product.model=A_B_C_D_E (simulated);ro.product.device=devsim;"
        "features=shell_v2,cmd");
    EXPECT_NE(DeviceProfile().model.find("simulated"), std::string::npos);
    const auto props = DeviceProfile().properties();
    EXPECT_EQ(props.at("ro.build.version.sdk"), "34");
    EXPECT_EQ(props.at("ro.build.version.release"), "14");
    EXPECT_EQ(props.at("ro.product.cpu.abi"), "x86_64");
    for (const char *key : { "ro.product.model", "ro.product.manufacturer", "ro.soc.model" })
        EXPECT_EQ(props.count(key), 1u) << key;
}

TEST(DevsimOptions, ShellServiceArgumentsAsAdb29SendsThem)
{
    auto v2 = parseShellService("shell,v2,TERM=xterm-256color,raw:echo hi");
    ASSERT_TRUE(v2);
    EXPECT_TRUE(v2->shellProtocol);
    EXPECT_FALSE(v2->pty);
    EXPECT_EQ(v2->term, "xterm-256color");
    EXPECT_EQ(v2->command, "echo hi");

    auto interactive = parseShellService("shell,v2,pty:");
    ASSERT_TRUE(interactive);
    EXPECT_TRUE(interactive->pty);
    EXPECT_TRUE(interactive->command.empty());

    auto legacy = parseShellService("shell:ls -l a:b");
    ASSERT_TRUE(legacy);
    EXPECT_FALSE(legacy->shellProtocol);
    EXPECT_FALSE(legacy->pty); // a command without arguments runs raw, as in adbd
    EXPECT_EQ(legacy->command, "ls -l a:b");

    auto exec = parseShellService("exec:cat /x");
    ASSERT_TRUE(exec);
    EXPECT_FALSE(exec->shellProtocol);
    EXPECT_EQ(exec->command, "cat /x");

    EXPECT_FALSE(parseShellService("sync:"));
    EXPECT_FALSE(parseShellService("shellx:ls"));
    EXPECT_FALSE(parseShellService("reboot:"));
}
