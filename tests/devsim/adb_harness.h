#pragma once

// Drives the real adb against a real mq-devsim: a private adb server per test (own
// ANDROID_ADB_SERVER_PORT and HOME, ADB_MDNS=0, no ADB_VENDOR_KEYS), a daemon on a free loopback
// port outside 5555–5585, and RAII that kills both at the end of the test.

#include <string>
#include <sys/types.h>
#include <vector>

namespace mq::test {

struct ProcessResult
{
    int exitCode = -1; // -1: killed at the timeout
    std::string out;
    std::string err;
    double seconds = 0;
};

// Runs argv with exactly `env` as its environment, feeding `input` on stdin (then EOF).
ProcessResult runProcess(const std::vector<std::string> &argv, const std::vector<std::string> &env,
    const std::string &input, double timeoutSeconds);

// A loopback port that was free a moment ago (bound to port 0 and released).
int freeLoopbackPort();

std::string adbPath(); // $ADB or /usr/bin/adb

class DevsimDaemon
{
public:
    // Starts mq-devsim --port 0 --sandbox `sandbox` `extra...` and waits for its port line.
    DevsimDaemon(const std::string &sandbox, const std::vector<std::string> &extra, const std::string &logFile);
    ~DevsimDaemon(); // SIGTERM, then SIGKILL after 5 s
    DevsimDaemon(const DevsimDaemon &) = delete;
    DevsimDaemon &operator=(const DevsimDaemon &) = delete;

    int port() const { return m_port; }
    std::string serial() const { return "127.0.0.1:" + std::to_string(m_port); }
    pid_t pid() const { return m_pid; }
    // Sends SIGTERM and waits; returns the exit status as waitpid gives it, or -1 on timeout.
    int terminate(double timeoutSeconds);
    std::string log() const;

private:
    pid_t m_pid = -1;
    int m_port = 0;
    std::string m_logFile;
};

class PrivateAdb
{
public:
    explicit PrivateAdb(const std::string &home);
    ~PrivateAdb(); // adb kill-server with the same environment
    PrivateAdb(const PrivateAdb &) = delete;
    PrivateAdb &operator=(const PrivateAdb &) = delete;

    ProcessResult run(
        const std::vector<std::string> &args, const std::string &input = {}, double timeoutSeconds = 15) const;
    // adb connect, returning its output (adb exits 0 even when it fails).
    std::string connect(const std::string &serial) const;
    const std::vector<std::string> &environment() const { return m_env; }

private:
    std::vector<std::string> m_env;
};

} // namespace mq::test
