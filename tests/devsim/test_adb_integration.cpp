// The real Debian adb (29.0.6) against the real mq-devsim. Each test has its own sandbox, daemon
// and private adb server.

#include "adb_harness.h"

#include "tests/common/temp_dir.h"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace mq::test;
namespace fs = std::filesystem;

namespace {

std::string readFile(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

void writeFile(const std::string &path, const std::string &data, mode_t mode)
{
    std::ofstream(path, std::ios::binary) << data;
    ::chmod(path.c_str(), mode);
}

std::string randomBytes(std::size_t n, unsigned seed)
{
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; i += 8) {
        const std::uint64_t v = rng();
        for (std::size_t j = 0; j < 8 && i + j < n; ++j)
            s[i + j] = static_cast<char>((v >> (8 * j)) & 0xff);
    }
    return s;
}

bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

// One test's world: a temp folder, a daemon with `extra` flags, a private adb server, connected.
struct Phone
{
    explicit Phone(const std::vector<std::string> &extra = {}, bool expectConnected = true)
        : daemon((tmp.path() / "sandbox").string(), extra, tmp.file("devsim.log"))
        , adb((fs::create_directories(tmp.path() / "home"), tmp.file("home")))
    {
        connectOutput = adb.connect(daemon.serial());
        if (expectConnected) {
            EXPECT_TRUE(contains(connectOutput, "connected to " + daemon.serial())) << connectOutput << daemon.log();
        }
    }

    ProcessResult shell(const std::string &command, const std::string &input = {}, double timeout = 15) const
    {
        return adb.run({ "-s", daemon.serial(), "shell", command }, input, timeout);
    }
    ProcessResult adbRun(std::vector<std::string> args, double timeout = 15) const
    {
        args.insert(args.begin(), { "-s", daemon.serial() });
        return adb.run(args, {}, timeout);
    }
    std::string sandbox() const { return fs::canonical(tmp.path() / "sandbox").string(); }
    long long sysfs(const std::string &rel) const { return std::stoll(readFile(sandbox() + "/" + rel)); }

    TempDir tmp;
    DevsimDaemon daemon;
    PrivateAdb adb;
    std::string connectOutput;
};

} // namespace

TEST(DevsimAdb, ConnectsAsDeviceWithModelAndProperties)
{
    Phone phone;
    const auto devices = phone.adb.run({ "devices", "-l" });
    EXPECT_TRUE(contains(devices.out, phone.daemon.serial())) << devices.out;
    // adb shows non-alphanumerics of banner values as '_'.
    EXPECT_TRUE(contains(devices.out, "device product:mq_devsim model:MQ_Virtual_Phone__simulated_ device:devsim"))
        << devices.out;
    EXPECT_EQ(phone.shell("getprop ro.product.model").out, "MQ Virtual Phone (simulated)\n");
    EXPECT_EQ(phone.shell("getprop ro.product.cpu.abi").out, "x86_64\n");
    EXPECT_EQ(phone.shell("getprop ro.build.version.sdk").out, "34\n");
    EXPECT_EQ(phone.shell("getprop ro.build.version.release").out, "14\n");
    EXPECT_TRUE(contains(phone.shell("getprop ro.soc.model").out, "simulated"));
    EXPECT_EQ(phone.shell("getprop no.such.property").out, "\n"); // as Android's getprop
    const auto state = phone.adbRun({ "get-state" });
    EXPECT_EQ(state.out, "device\n");
}

TEST(DevsimAdb, ShellEchoExitCodesStderrAndStdin)
{
    Phone phone;
    auto hi = phone.shell("echo hi");
    EXPECT_EQ(hi.exitCode, 0);
    EXPECT_EQ(hi.out, "hi\n");
    EXPECT_EQ(phone.shell("exit 3").exitCode, 3);
    // Killed by a signal: adbd's 128+signal convention (SIGKILL → 137).
    EXPECT_EQ(phone.shell("kill -9 $$").exitCode, 137);
    auto both = phone.shell("echo out; echo err >&2; exit 1");
    EXPECT_EQ(both.out, "out\n");
    EXPECT_EQ(both.err, "err\n");
    EXPECT_EQ(both.exitCode, 1);
    auto cat = phone.shell("cat", "data\nmore data\n");
    EXPECT_EQ(cat.out, "data\nmore data\n");
    EXPECT_EQ(cat.exitCode, 0);
    // stdin larger than one packet, counted on the phone.
    const std::string big(300000, 'x');
    EXPECT_EQ(phone.shell("wc -c", big).out, "300000\n");
    // Output larger than one packet.
    EXPECT_EQ(phone.shell("head -c 1000000 /dev/zero | tr '\\0' y").out, std::string(1000000, 'y'));
}

TEST(DevsimAdb, LegacyShellExecOutAndPty)
{
    Phone phone;
    auto legacy = phone.adbRun({ "shell", "-x", "echo legacy; exit 5" });
    EXPECT_EQ(legacy.out, "legacy\n");
    EXPECT_EQ(legacy.exitCode, 0); // the v1 protocol has no exit code: adb reports 0
    auto exec = phone.adbRun({ "exec-out", "printf 'a\\nb'" });
    EXPECT_EQ(exec.out, "a\nb");
    auto pty = phone.adbRun({ "shell", "-tt", "echo pty" });
    EXPECT_EQ(pty.out, "pty\r\n"); // a terminal turns \n into \r\n
    EXPECT_EQ(pty.exitCode, 0);
    auto reboot = phone.adbRun({ "reboot" });
    EXPECT_TRUE(contains(reboot.out + reboot.err, "does not implement the 'reboot:' service"))
        << reboot.out << reboot.err;
}

TEST(DevsimAdb, PushPullRoundTripOfFiveMegabytesKeepsBytesAndPermissions)
{
    Phone phone;
    const std::string data = randomBytes(5'000'000, 42);
    const std::string local = phone.tmp.file("random.bin");
    writeFile(local, data, 0750);
    auto push = phone.adbRun({ "push", local, "/data/local/tmp/rt/random.bin" });
    ASSERT_EQ(push.exitCode, 0) << push.out << push.err;
    const std::string onPhone = phone.sandbox() + "/data/local/tmp/rt/random.bin";
    EXPECT_EQ(readFile(onPhone), data);
    struct stat st
    {
    };
    ASSERT_EQ(::stat(onPhone.c_str(), &st), 0);
    // adbd copies the user's bits to group and other: 0750 → 0777.
    EXPECT_EQ(st.st_mode & 0777, 0777u);
    EXPECT_EQ(phone.shell("stat -c %a /data/local/tmp/rt/random.bin").out, "777\n");

    writeFile(local + ".ro", "read only", 0640);
    ASSERT_EQ(phone.adbRun({ "push", local + ".ro", "/data/local/tmp/rt/" }).exitCode, 0);
    EXPECT_EQ(phone.shell("stat -c %a /data/local/tmp/rt/random.bin.ro").out, "666\n");

    const std::string back = phone.tmp.file("back.bin");
    auto pull = phone.adbRun({ "pull", "/data/local/tmp/rt/random.bin", back });
    ASSERT_EQ(pull.exitCode, 0) << pull.out << pull.err;
    EXPECT_EQ(readFile(back), data);
    std::cout << "[ measured ] 5 MB through the real adb: push " << push.seconds << " s, pull " << pull.seconds
              << " s (process wall time; adb said: " << push.out.substr(0, push.out.find('\n')) << " | "
              << pull.out.substr(0, pull.out.find('\n')) << ")\n";

    auto ls = phone.shell("ls /data/local/tmp/rt");
    EXPECT_EQ(ls.out, "random.bin\nrandom.bin.ro\n");
    auto adbLs = phone.adbRun({ "ls", "/data/local/tmp/rt" });
    EXPECT_TRUE(contains(adbLs.out, "random.bin")) << adbLs.out;
    // A pull of a folder lists it (LIS2) and receives every file.
    ASSERT_EQ(phone.adbRun({ "pull", "/data/local/tmp/rt", phone.tmp.file("dir") }).exitCode, 0);
    EXPECT_EQ(readFile(phone.tmp.file("dir/random.bin")), data);
    // Missing files fail with the errno text.
    auto missing = phone.adbRun({ "pull", "/data/local/tmp/nope", back });
    EXPECT_NE(missing.exitCode, 0);
    // adb 29 prints sync errors on stdout when it is not a terminal.
    EXPECT_TRUE(contains(missing.out + missing.err, "No such file or directory")) << missing.out << missing.err;
}

TEST(DevsimAdb, RunsAPushedExecutableWithDevicePaths)
{
    Phone phone;
    ASSERT_EQ(phone.adbRun({ "push", "/bin/cat", "/data/local/tmp/bin/mycat" }).exitCode, 0);
    const std::string text = "read through a device path\n";
    writeFile(phone.tmp.file("note.txt"), text, 0644);
    ASSERT_EQ(phone.adbRun({ "push", phone.tmp.file("note.txt"), "/data/local/tmp/note.txt" }).exitCode, 0);
    auto run = phone.shell("/data/local/tmp/bin/mycat /data/local/tmp/note.txt");
    EXPECT_EQ(run.exitCode, 0) << run.err;
    EXPECT_EQ(run.out, text);
    auto cd = phone.shell("cd /data/local/tmp && ./bin/mycat note.txt && pwd");
    // The program runs in the host folder, and shell output shows it as the device path.
    EXPECT_EQ(cd.out, text + "/data/local/tmp\n");
    EXPECT_EQ(phone.shell("echo $MQ_DEVSIM_ROOT").out, "/\n");
    // exec: output is byte-exact (binary-safe), so there the host folder shows.
    EXPECT_EQ(phone.adbRun({ "exec-out", "echo $MQ_DEVSIM_ROOT" }).out, phone.sandbox() + "\n");
    EXPECT_EQ(phone.shell("/data/local/tmp/bin/mycat /sys/class/power_supply/battery/status").out, "Discharging\n");
    EXPECT_EQ(phone.shell("/data/local/tmp/bin/missing").exitCode, 127);
}

TEST(DevsimAdb, BatteryEnergyFollowsTheCpuTimeOfThePhonesProcesses)
{
    Phone phone;
    const std::string bat = "sys/class/power_supply/battery/";
    // Idle: nothing runs on the phone, so P = P_idle (0.55 W); checked from the files' own
    // voltage and current (µA, negative while discharging: the default convention).
    const long long idleCurrent = phone.sysfs(bat + "current_now");
    const long long idleVoltage = phone.sysfs(bat + "voltage_now");
    const long long idleTemp = phone.sysfs("sys/class/thermal/thermal_zone0/temp");
    EXPECT_LT(idleCurrent, 0);
    const double idleWatts = -double(idleCurrent) * 1e-6 * double(idleVoltage) * 1e-6;
    EXPECT_NEAR(idleWatts, 0.55, 0.55 * 0.01);
    EXPECT_EQ(std::stoll(phone.shell("cat /sys/class/power_supply/battery/current_now").out), idleCurrent);

    // Burn for 2.5 s; the loop reports its own CPU time (`times`), an independent measurement.
    std::atomic<bool> done { false };
    ProcessResult burn;
    std::thread t([&] {
        burn = phone.shell("timeout 2.5 sh -c 'trap \"times; exit 0\" TERM; while :; do :; done'");
        done = true;
    });
    // E_extra = ∫ (V·|I| − P_idle) dt from the files, until the 0.25 s smoothing has decayed.
    using Clock = std::chrono::steady_clock;
    double extraJoules = 0;
    long long peakTemp = idleTemp;
    const auto start = Clock::now();
    auto last = start;
    std::optional<Clock::time_point> doneAt;
    while ((!doneAt || Clock::now() < *doneAt + std::chrono::milliseconds(1500))
        && Clock::now() - start < std::chrono::seconds(20)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const auto now = Clock::now();
        const double watts
            = -double(phone.sysfs(bat + "current_now")) * 1e-6 * double(phone.sysfs(bat + "voltage_now")) * 1e-6;
        extraJoules += (watts - idleWatts) * std::chrono::duration<double>(now - last).count();
        last = now;
        peakTemp = std::max(peakTemp, phone.sysfs("sys/class/thermal/thermal_zone0/temp"));
        if (done && !doneAt)
            doneAt = now;
    }
    t.join();
    // dash's `times`: "<user>m<s>s <sys>m<s>s" for the shell itself on the first line.
    double um = 0, us = 0, sm = 0, ss = 0;
    ASSERT_EQ(std::sscanf(burn.out.c_str(), "%lfm%lfs %lfm%lfs", &um, &us, &sm, &ss), 4) << burn.out << burn.err;
    const double cpuSeconds = um * 60 + us + sm * 60 + ss;
    ASSERT_GT(cpuSeconds, 0.3) << "the loop got almost no CPU; the comparison would say nothing";
    // The model is linear in CPU time, so the extra energy is k · CPU-seconds (k = 1.6 W). The
    // tolerance covers the 10 ms tick, the 50 ms update period and this loop's 20 ms sampling.
    EXPECT_NEAR(extraJoules, 1.6 * cpuSeconds, 0.15 * 1.6 * cpuSeconds) << "CPU " << cpuSeconds << " s";
    EXPECT_GT(peakTemp - idleTemp, 100) << "idle " << idleTemp << " m°C, peak " << peakTemp;
    std::cout << "[ measured ] idle " << idleCurrent << " uA at " << idleVoltage << " uV; burn used " << cpuSeconds
              << " CPU-s, simulated extra energy " << extraJoules << " J (k*CPU = " << 1.6 * cpuSeconds
              << " J); thermal_zone0 " << idleTemp << " -> " << peakTemp << " m°C (simulated)\n";
}

TEST(DevsimAdb, ChargingAndCurrentConventionsAreConfigurable)
{
    {
        Phone phone({ "--charging" });
        EXPECT_EQ(phone.shell("cat /sys/class/power_supply/battery/status").out, "Charging\n");
        EXPECT_GT(std::stoll(phone.shell("cat /sys/class/power_supply/battery/current_now").out), 0);
        EXPECT_TRUE(contains(phone.shell("dumpsys battery").out, "USB powered: true"));
    }
    {
        Phone phone({ "--current-sign", "positive", "--current-unit", "mA" });
        const long long ma = std::stoll(phone.shell("cat /sys/class/power_supply/battery/current_now").out);
        const long long uv = std::stoll(phone.shell("cat /sys/class/power_supply/battery/voltage_now").out);
        // 0.55 W idle at ~4.2 V is ~130 mA, positive while discharging in this convention
        // (rounded to whole mA, hence the tolerance).
        EXPECT_NEAR(double(ma) * 1e-3 * double(uv) * 1e-6, 0.55, 0.01);
    }
}

TEST(DevsimAdb, OdpmRailsThroughDumpsysOnlyWithTheOption)
{
    const std::string command = "dumpsys android.hardware.power.stats.IPowerStats/default";
    {
        Phone phone;
        const auto r = phone.shell(command);
        EXPECT_TRUE(contains(r.out, "Can't find service")) << r.out; // as on a phone without ODPM
    }
    Phone phone({ "--odpm" });
    const auto first = phone.shell(command);
    ASSERT_EQ(first.exitCode, 0) << first.err;
    EXPECT_TRUE(contains(first.out, "PowerStats HAL 2.0 energy meter")) << first.out;
    EXPECT_TRUE(contains(first.out, "SIMULATED")) << first.out;
    EXPECT_TRUE(contains(first.out, "[S2M_VDD_CPUCL2]:CPU(BIG)")) << first.out;
    EXPECT_TRUE(contains(first.out, "[S1M_VDD_MIF]:DDR")) << first.out;
    // The counters are cumulative: the total rises by about P_idle (0.55 W) per second at idle.
    auto total = [](const std::string &text) {
        double sum = 0;
        std::istringstream in(text);
        std::string line;
        while (std::getline(in, line)) {
            const auto mws = line.find(" mWs");
            if (mws != std::string::npos)
                sum += std::stod(line.substr(line.rfind(' ', mws - 1) + 1));
        }
        return sum * 1e-3;
    };
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const auto second = phone.shell(command);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double watts = (total(second.out) - total(first.out)) / seconds;
    // adb round trips and the shell's own CPU time add a little; 20 % covers them.
    EXPECT_NEAR(watts, 0.55, 0.11) << first.out << second.out;
}

TEST(DevsimAdb, UnauthorizedDeviceIsReportedByAdb)
{
    Phone phone({ "--unauthorized" }, false);
    EXPECT_TRUE(contains(phone.connectOutput, "failed to authenticate")) << phone.connectOutput;
    const auto devices = phone.adb.run({ "devices" });
    EXPECT_TRUE(contains(devices.out, phone.daemon.serial() + "\tunauthorized")) << devices.out;
    const auto shell = phone.shell("echo hi");
    EXPECT_NE(shell.exitCode, 0);
    EXPECT_TRUE(contains(shell.err, "unauthorized")) << shell.err;
    EXPECT_EQ(shell.out, "");
}

TEST(DevsimAdb, DropAfterCutsALongShellAndAPush)
{
    Phone phone({ "--drop-after", "2", "--slow-link", "500" });
    auto cut = phone.shell("echo start; sleep 8; echo end", {}, 20);
    EXPECT_EQ(cut.out, "start\n");
    EXPECT_LT(cut.seconds, 6) << "the connection should have been dropped after 2 s";
    // adb 29 ends `adb shell` without an exit packet silently with status 0 when the transport
    // dies (documented in docs/devsim.md): the device layer has to notice the missing output.
    EXPECT_TRUE(contains(phone.daemon.log(), "dropping it")) << phone.daemon.log();
    const auto devices = phone.adb.run({ "devices" });
    EXPECT_FALSE(contains(devices.out, phone.daemon.serial() + "\tdevice")) << devices.out;

    // A fresh connection gets a fresh 2 s; a 5 MB push at 500 kB/s cannot finish in it.
    phone.adb.run({ "disconnect", phone.daemon.serial() });
    ASSERT_TRUE(contains(phone.adb.connect(phone.daemon.serial()), "connected to"));
    writeFile(phone.tmp.file("big.bin"), randomBytes(5'000'000, 7), 0644);
    auto push = phone.adbRun({ "push", phone.tmp.file("big.bin"), "/data/local/tmp/big.bin" }, 20);
    EXPECT_NE(push.exitCode, 0);
    EXPECT_TRUE(contains(push.out + push.err, "error")) << push.out << push.err;
    // The daemon removes the partial file as it tears the connection down, which may finish just
    // after adb has given up.
    const std::string partial = phone.sandbox() + "/data/local/tmp/big.bin";
    for (int i = 0; i < 60 && fs::exists(partial); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(fs::exists(partial)) << "a partial push is removed";
}

TEST(DevsimAdb, SlowLinkThrottlesAPush)
{
    Phone phone({ "--slow-link", "200" });
    writeFile(phone.tmp.file("f.bin"), randomBytes(200'000, 3), 0644);
    auto push = phone.adbRun({ "push", phone.tmp.file("f.bin"), "/data/local/tmp/f.bin" });
    ASSERT_EQ(push.exitCode, 0) << push.err;
    // 200 kB at 200 kB/s: at least ~1 s (lower bound only; a loaded machine is only slower).
    EXPECT_GE(push.seconds, 0.9);
    EXPECT_EQ(readFile(phone.sandbox() + "/data/local/tmp/f.bin"), readFile(phone.tmp.file("f.bin")));
}

TEST(DevsimAdb, PathEscapesAreRefused)
{
    Phone phone;
    const std::string f = phone.tmp.file("f.txt");
    writeFile(f, "payload", 0644);
    auto up = phone.adbRun({ "push", f, "/data/../../etc/mq_devsim_escape" });
    EXPECT_NE(up.exitCode, 0);
    EXPECT_FALSE(fs::exists("/etc/mq_devsim_escape"));
    auto down = phone.adbRun({ "pull", "/etc/passwd", phone.tmp.file("passwd") });
    EXPECT_NE(down.exitCode, 0);
    EXPECT_FALSE(fs::exists(phone.tmp.file("passwd")));
    auto dotdot = phone.adbRun({ "pull", "/data/../../../etc/passwd", phone.tmp.file("passwd") });
    EXPECT_NE(dotdot.exitCode, 0);
    EXPECT_FALSE(fs::exists(phone.tmp.file("passwd")));
    auto system = phone.adbRun({ "push", f, "/system/bin/x" });
    EXPECT_NE(system.exitCode, 0);
    EXPECT_TRUE(contains(system.out + system.err, "Permission denied")) << system.out << system.err;

    // A symlink inside the sandbox that points outside is not followed by sync.
    fs::create_directories(phone.tmp.path() / "outside");
    writeFile(phone.tmp.file("outside/secret"), "secret", 0644);
    fs::create_directory_symlink(phone.tmp.path() / "outside", phone.sandbox() + "/data/local/tmp/link");
    auto viaLink = phone.adbRun({ "pull", "/data/local/tmp/link/secret", phone.tmp.file("secret") });
    EXPECT_NE(viaLink.exitCode, 0);
    EXPECT_FALSE(fs::exists(phone.tmp.file("secret")));
    auto intoLink = phone.adbRun({ "push", f, "/data/local/tmp/link/planted" });
    EXPECT_NE(intoLink.exitCode, 0);
    EXPECT_FALSE(fs::exists(phone.tmp.file("outside/planted")));
}

TEST(DevsimAdb, ConcurrentAndManySequentialStreams)
{
    Phone phone;
    std::vector<std::thread> threads;
    std::vector<ProcessResult> results(4);
    for (int i = 0; i < 4; ++i)
        threads.emplace_back([&, i] { results[i] = phone.shell("sleep 1; echo " + std::to_string(i)); });
    // A pull while the shells run.
    writeFile(phone.tmp.file("c.bin"), randomBytes(1'000'000, 11), 0644);
    ASSERT_EQ(phone.adbRun({ "push", phone.tmp.file("c.bin"), "/data/local/tmp/c.bin" }).exitCode, 0);
    for (auto &t : threads)
        t.join();
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(results[i].out, std::to_string(i) + "\n");
    for (int i = 0; i < 30; ++i)
        ASSERT_EQ(phone.shell("echo " + std::to_string(i)).out, std::to_string(i) + "\n");
}

TEST(DevsimAdb, MalformedPacketClosesOnlyThatConnection)
{
    Phone phone;
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(phone.daemon.port()));
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr), 0);
    const char garbage[24] = "NOT AN ADB PACKET AT AL";
    ASSERT_EQ(::send(fd, garbage, sizeof garbage, 0), 24);
    char c;
    timeval tv { 5, 0 };
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_EQ(::recv(fd, &c, 1, 0), 0) << "the daemon closes a connection that sends a malformed packet";
    ::close(fd);
    EXPECT_TRUE(contains(phone.daemon.log(), "malformed packet")) << phone.daemon.log();
    EXPECT_EQ(phone.shell("echo still here").out, "still here\n");
}

TEST(DevsimAdb, SigtermEndsTheDaemonAndItsProcesses)
{
    Phone phone;
    std::thread t([&] { phone.shell("echo $$ > /data/local/tmp/pid; sleep 30", {}, 20); });
    const std::string pidFile = phone.sandbox() + "/data/local/tmp/pid";
    for (int i = 0; i < 100 && readFile(pidFile).empty(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const pid_t child = std::atoi(readFile(pidFile).c_str());
    ASSERT_GT(child, 0);
    const int status = phone.daemon.terminate(5);
    t.join();
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_NE(::kill(child, 0), 0) << "the phone's shell was hung up";
}
