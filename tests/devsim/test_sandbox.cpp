#include "sandbox.h"

#include "core/util/error.h"
#include "tests/common/temp_dir.h"

#include <cerrno>
#include <filesystem>
#include <gtest/gtest.h>
#include <unistd.h>

using namespace mq::devsim;
namespace fs = std::filesystem;

TEST(DevsimSandbox, NormalizeRefusesGoingAboveRoot)
{
    EXPECT_EQ(Sandbox::normalize("/data/local/tmp"), "/data/local/tmp");
    EXPECT_EQ(Sandbox::normalize("/data/./local//tmp/"), "/data/local/tmp");
    EXPECT_EQ(Sandbox::normalize("/data/x/../local"), "/data/local");
    EXPECT_EQ(Sandbox::normalize("relative/x"), "/relative/x");
    EXPECT_EQ(Sandbox::normalize("/"), "/");
    EXPECT_EQ(Sandbox::normalize("/data/.."), "/");
    EXPECT_FALSE(Sandbox::normalize("/data/../../etc/x"));
    EXPECT_FALSE(Sandbox::normalize("/.."));
    EXPECT_FALSE(Sandbox::normalize(".."));
}

TEST(DevsimSandbox, RewritesDeviceRootsAtWordStartsOnly)
{
    const std::string r = "/sb";
    auto rw = [&](const std::string &c) { return Sandbox::rewriteCommand(c, r); };
    EXPECT_EQ(rw("cat /data/local/tmp/x"), "cat /sb/data/local/tmp/x");
    EXPECT_EQ(rw("/data/local/tmp/mq/h/mq-run bench --out /sdcard/r.json"),
        "/sb/data/local/tmp/mq/h/mq-run bench --out /sb/sdcard/r.json");
    EXPECT_EQ(rw("cd /data/local/tmp && ./x"), "cd /sb/data/local/tmp && ./x");
    EXPECT_EQ(rw("X=/data/y ./run"), "X=/sb/data/y ./run");
    EXPECT_EQ(rw("--files /sys/a,/sys/b"), "--files /sb/sys/a,/sb/sys/b");
    EXPECT_EQ(rw("cat '/sdcard/f' \"/storage/emulated/0\""), "cat '/sb/sdcard/f' \"/sb/storage/emulated/0\"");
    EXPECT_EQ(rw("cat /proc/cpuinfo"), "cat /sb/proc/cpuinfo");
    EXPECT_EQ(rw("ls /system"), "ls /sb/system");
    // Not device roots, or not at a word start: left alone.
    EXPECT_EQ(rw("cat /proc/self/stat"), "cat /proc/self/stat");
    EXPECT_EQ(rw("ls /database /systemd /sysfoo"), "ls /database /systemd /sysfoo");
    EXPECT_EQ(rw("ls a/data /"), "ls a/data /");
    EXPECT_EQ(rw("echo /tmp/x"), "echo /tmp/x");
}

TEST(DevsimSandbox, ResolveStaysInsideAndWritesOnlyWhereAndroidAllows)
{
    mq::test::TempDir tmp;
    const std::string root = (tmp.path() / "phone").string();
    Sandbox sb(root);
    sb.populate(DeviceProfile());
    const std::string real = sb.root();
    fs::create_directories(tmp.path() / "outside");
    ASSERT_EQ(::symlink((tmp.path() / "outside").c_str(), (real + "/data/local/tmp/esc").c_str()), 0);

    auto ok = sb.resolve("/data/local/tmp", Sandbox::Access::Read);
    EXPECT_EQ(ok.error, 0);
    EXPECT_EQ(ok.hostPath, real + "/data/local/tmp");

    EXPECT_EQ(sb.resolve("/data/../../etc/passwd", Sandbox::Access::Read).error, EACCES);
    EXPECT_EQ(sb.resolve("/etc/passwd", Sandbox::Access::Read).error, ENOENT); // the phone has no /etc
    EXPECT_EQ(sb.resolve("/data/local/tmp/esc", Sandbox::Access::Read).error, EACCES);
    EXPECT_EQ(sb.resolve("/data/local/tmp/esc/x", Sandbox::Access::Read).error, ENOENT);
    EXPECT_EQ(sb.resolve("/data/local/tmp/esc/x", Sandbox::Access::NoFollow).error, EACCES);
    // lstat of the link itself is fine: it is inside.
    EXPECT_EQ(sb.resolve("/data/local/tmp/esc", Sandbox::Access::NoFollow).error, 0);

    EXPECT_EQ(sb.resolve("/data/local/tmp/esc/new", Sandbox::Access::Write).error, EACCES);
    EXPECT_EQ(sb.resolve("/data/local/tmp/esc/a/b", Sandbox::Access::Write).error, EACCES);
    EXPECT_FALSE(fs::exists(tmp.path() / "outside" / "a"));
    EXPECT_EQ(sb.resolve("/system/bin/evil", Sandbox::Access::Write).error, EACCES);
    EXPECT_EQ(sb.resolve("/sys/class/power_supply/battery/current_now", Sandbox::Access::Write).error, EACCES);
    EXPECT_EQ(sb.resolve("/data/x", Sandbox::Access::Write).error, EACCES);

    auto deep = sb.resolve("/data/local/tmp/mq/abc/pkg.bin", Sandbox::Access::Write);
    EXPECT_EQ(deep.error, 0);
    EXPECT_EQ(deep.hostPath, real + "/data/local/tmp/mq/abc/pkg.bin");
    EXPECT_TRUE(fs::is_directory(real + "/data/local/tmp/mq/abc")); // parents made, as adbd does

    auto sdcard = sb.resolve("/storage/emulated/0/Download/f", Sandbox::Access::Write);
    EXPECT_EQ(sdcard.error, 0);
    EXPECT_EQ(sdcard.hostPath, real + "/sdcard/Download/f");
}

TEST(DevsimSandbox, PopulateWritesPropertiesAndTools)
{
    mq::test::TempDir tmp;
    Sandbox sb(tmp.file("phone"));
    sb.populate(DeviceProfile());
    for (const char *f :
        { "/proc/cpuinfo", "/system/build.prop", "/system/bin/getprop", "/system/bin/cmd", "/system/bin/dumpsys" })
        EXPECT_TRUE(fs::exists(sb.root() + f)) << f;
    EXPECT_TRUE(fs::is_directory(sb.root() + "/data/local/tmp"));
    EXPECT_TRUE(fs::is_directory(sb.root() + "/storage/emulated/0"));
    EXPECT_EQ(fs::file_size(sb.root() + "/proc/cpuinfo") > 0, true);
}

TEST(DevsimSandbox, RefusesARootThatNeedsQuoting)
{
    mq::test::TempDir tmp;
    EXPECT_THROW(Sandbox(tmp.file("my phone")), mq::Error);
    EXPECT_THROW(Sandbox(tmp.file("a$b")), mq::Error);
}

TEST(DevsimSandbox, OutputUnmapperShowsDevicePathsWhateverTheSplits)
{
    const std::string root = "/tmp/sb";
    const std::string text = "/tmp/sb/data/local/tmp/x\n/tmp/sb\n/tmp/sbx /tmp/s /tmp/sb/sys\n/tmp/sb";
    const std::string expected = "/data/local/tmp/x\n/\n/tmp/sbx /tmp/s /sys\n/";
    for (std::size_t step = 1; step <= text.size(); ++step) {
        Sandbox::OutputUnmapper u(root);
        std::string out;
        for (std::size_t i = 0; i < text.size(); i += step)
            out += u.feed(text.substr(i, step));
        out += u.flush();
        EXPECT_EQ(out, expected) << "split every " << step << " bytes";
    }
}
