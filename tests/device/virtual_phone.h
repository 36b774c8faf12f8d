#pragma once

// A private adb server and one mq-devsim virtual phone per test, and the shared test packages.
// Each test gets its own ANDROID_ADB_SERVER_PORT and HOME, so a developer's adb server (5037) is
// never touched, and a phone on a free loopback port outside adb's 5555-5585 emulator scan.

#include "core/device/adb.h"
#include "core/device/process.h"
#include "tests/common/free_port.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mq::test {

namespace fs = std::filesystem;
using device::AdbClient;
using device::findAdb;
using device::ProcessOptions;
using device::ProcessResult;
using device::runProcess;
using device::withTimeout;

inline std::string readFile(const fs::path &p)
{
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The test packages: a16, w8a8 and w4a8 from short RTN calibrations of stories260K (no training),
// made once per build and shared by the tests (a lock file serialises parallel test processes;
// a stamp of mq's size and time redoes them after a rebuild).
struct Packages
{
    std::string a16, w8a8, w4a8;
};

inline const Packages &packages()
{
    static Packages p = [] {
        const fs::path cache = MQ_DEVICE_TEST_CACHE;
        fs::create_directories(cache);
        const int lock = ::open((cache / "lock").c_str(), O_CREAT | O_RDWR, 0644);
        ::flock(lock, LOCK_EX);
        struct stat st
        {
        };
        ::stat(MQ_CLI, &st);
        const std::string stamp = std::to_string(st.st_size) + " " + std::to_string(st.st_mtime);
        Packages out { (cache / "a16.mqpkg").string(), (cache / "w8a8.mqpkg").string(),
            (cache / "w4a8.mqpkg").string() };
        if (readFile(cache / "stamp") != stamp || !fs::exists(out.w4a8) || !fs::exists(cache / "w8a8.h5")) {
            fs::remove(cache / "stamp");
            const char *shared = std::getenv("MQ_SHARED_DIR");
            const fs::path model = fs::path(shared ? shared : "../shared") / "models/stories260K/stories260K.bin";
            // Calibration text: RTN only needs activation ranges, a few windows of stories do.
            const std::string text
                = (fs::path(shared ? shared : "../shared") / "data/tinystories/TinyStories-valid.sample30K.txt")
                      .string();
            for (const char *bits : { "w8a8", "w4a8" }) {
                const std::string run = (cache / (std::string(bits) + ".h5")).string();
                fs::remove(run);
                const ProcessResult cal = runProcess({ MQ_CLI, "calibrate", model.string(), "--method", "rtn", "--bits",
                    bits, "--calib", text, "--samples", "2", "--seqlen", "32", "--out", run });
                EXPECT_EQ(cal.exitCode, 0) << cal.err;
                const ProcessResult ex = runProcess({ MQ_CLI, "export", run, "--out",
                    (cache / (std::string(bits) + ".mqpkg")).string(), "--variant", bits });
                EXPECT_EQ(ex.exitCode, 0) << ex.err;
                if (std::string(bits) == "w8a8") {
                    const ProcessResult a16
                        = runProcess({ MQ_CLI, "export", run, "--out", out.a16, "--variant", "a16" });
                    EXPECT_EQ(a16.exitCode, 0) << a16.err;
                }
            }
            if (!::testing::Test::HasFailure()) // a half-made cache is redone next time
                std::ofstream(cache / "stamp") << stamp;
        }
        ::flock(lock, LOCK_UN);
        ::close(lock);
        return out;
    }();
    return p;
}

// A private adb server and one virtual phone.
class VirtualPhone
{
public:
    explicit VirtualPhone(const fs::path &dir, std::vector<std::string> extraArgs = {})
        : m_dir(dir)
    {
        fs::create_directories(dir / "home");
        m_env = { { "ANDROID_ADB_SERVER_PORT", std::to_string(freePort()) }, { "HOME", (dir / "home").string() },
            { "ADB_MDNS", "0" }, { "ADB_USB", "0" }, { "ADB_EMU", "0" }, { "ANDROID_SERIAL", "" } };
        m_sandbox = (dir / "phone").string();
        std::vector<std::string> argv { MQ_DEVSIM, "--sandbox", m_sandbox, "--port", "0" };
        argv.insert(argv.end(), extraArgs.begin(), extraArgs.end());
        int out[2];
        EXPECT_EQ(::pipe(out), 0);
        m_pid = ::fork();
        if (m_pid == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            const int devnull = ::open((dir / "devsim.log").c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
            ::dup2(devnull, 2);
            std::vector<char *> a;
            for (auto &s : argv)
                a.push_back(s.data());
            a.push_back(nullptr);
            ::execv(a[0], a.data());
            ::_exit(127);
        }
        ::close(out[1]);
        // "listening on 127.0.0.1:PORT" is its first line.
        std::string line;
        char c;
        while (::read(out[0], &c, 1) == 1 && c != '\n')
            line += c;
        m_stdout = out[0];
        const auto at = line.find("127.0.0.1:");
        EXPECT_NE(at, std::string::npos) << "mq-devsim said: " << line;
        m_address = at == std::string::npos ? std::string() : line.substr(at);
        while (!m_address.empty() && !std::isdigit(static_cast<unsigned char>(m_address.back())))
            m_address.pop_back();
        m_adb = std::make_unique<AdbClient>(findAdb(), m_env);
        m_adb->startServer();
    }
    ~VirtualPhone()
    {
        m_adb->run({ "kill-server" }, withTimeout(10));
        if (m_pid > 0) {
            ::kill(m_pid, SIGTERM);
            ::waitpid(m_pid, nullptr, 0);
        }
        ::close(m_stdout);
    }

    const std::string &address() const { return m_address; }
    const std::string &sandbox() const { return m_sandbox; }
    const AdbClient &adb() const { return *m_adb; }
    void connect() const { m_adb->connect(m_address); }

    // `mq ARGS` with this adb server's environment.
    ProcessResult mq(std::vector<std::string> args, double timeout = 120) const
    {
        args.insert(args.begin(), MQ_CLI);
        ProcessOptions o = withTimeout(timeout);
        o.env = m_env;
        o.env["ADB"] = m_adb->adbPath();
        return runProcess(args, o);
    }

private:
    fs::path m_dir;
    std::map<std::string, std::string> m_env;
    std::string m_sandbox, m_address;
    pid_t m_pid = -1;
    int m_stdout = -1;
    std::unique_ptr<AdbClient> m_adb;
};

} // namespace mq::test
