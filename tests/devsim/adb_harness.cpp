#include "adb_harness.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mq::test {

using Clock = std::chrono::steady_clock;

namespace {

std::vector<char *> cStrings(const std::vector<std::string> &v)
{
    std::vector<char *> out;
    for (const auto &s : v)
        out.push_back(const_cast<char *>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

} // namespace

ProcessResult runProcess(const std::vector<std::string> &argv, const std::vector<std::string> &env,
    const std::string &input, double timeoutSeconds)
{
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    auto av = cStrings(argv);
    auto ev = cStrings(env);
    const auto start = Clock::now();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        ::signal(SIGPIPE, SIG_DFL);
        ::execve(av[0], av.data(), ev.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    ::fcntl(in[1], F_SETFL, O_NONBLOCK);
    ProcessResult r;
    std::size_t written = 0;
    int inFd = in[1];
    if (input.empty()) {
        ::close(inFd);
        inFd = -1;
    }
    bool outOpen = true, errOpen = true;
    const auto deadline
        = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeoutSeconds));
    bool killed = false;
    char buf[65536];
    while (outOpen || errOpen || inFd >= 0) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            ::kill(pid, SIGKILL);
            killed = true;
            break;
        }
        pollfd fds[3];
        int n = 0;
        int oi = -1, ei = -1, ii = -1;
        if (outOpen) {
            oi = n;
            fds[n++] = { out[0], POLLIN, 0 };
        }
        if (errOpen) {
            ei = n;
            fds[n++] = { err[0], POLLIN, 0 };
        }
        if (inFd >= 0) {
            ii = n;
            fds[n++] = { inFd, POLLOUT, 0 };
        }
        ::poll(fds, static_cast<nfds_t>(n), static_cast<int>(std::min<long long>(left, 100)));
        if (oi >= 0 && fds[oi].revents) {
            const ssize_t k = ::read(out[0], buf, sizeof buf);
            if (k > 0)
                r.out.append(buf, static_cast<std::size_t>(k));
            else
                outOpen = false;
        }
        if (ei >= 0 && fds[ei].revents) {
            const ssize_t k = ::read(err[0], buf, sizeof buf);
            if (k > 0)
                r.err.append(buf, static_cast<std::size_t>(k));
            else
                errOpen = false;
        }
        if (ii >= 0 && fds[ii].revents) {
            const ssize_t k = ::write(inFd, input.data() + written, input.size() - written);
            if (k > 0)
                written += static_cast<std::size_t>(k);
            if (k < 0 || written == input.size()) {
                ::close(inFd);
                inFd = -1;
            }
        }
    }
    if (inFd >= 0)
        ::close(inFd);
    ::close(out[0]);
    ::close(err[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!killed)
        r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

int freeLoopbackPort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len);
    ::close(fd);
    const int port = ntohs(addr.sin_port);
    if (port >= 5555 && port <= 5585) // the adb server's emulator scan range
        return freeLoopbackPort();
    return port;
}

std::string adbPath()
{
    if (const char *a = std::getenv("ADB"))
        return a;
    return "/usr/bin/adb";
}

DevsimDaemon::DevsimDaemon(
    const std::string &sandbox, const std::vector<std::string> &extra, const std::string &logFile)
    : m_logFile(logFile)
{
    // MQ_DEVSIM_BINARY runs the same tests against another build of the daemon (a sanitizer build).
    const char *binary = std::getenv("MQ_DEVSIM_BINARY");
    std::vector<std::string> args { binary != nullptr ? binary : MQ_DEVSIM_EXE, "--port", "0", "--sandbox", sandbox,
        "--verbose" };
    args.insert(args.end(), extra.begin(), extra.end());
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe failed");
    auto av = cStrings(args);
    const int logFd = ::open(logFile.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    m_pid = ::fork();
    if (m_pid == 0) {
        ::dup2(out[1], 1);
        ::dup2(logFd, 2);
        ::execv(av[0], av.data());
        ::_exit(127);
    }
    ::close(out[1]);
    ::close(logFd);
    std::string line;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (line.find('\n') == std::string::npos && Clock::now() < deadline) {
        pollfd p { out[0], POLLIN, 0 };
        if (::poll(&p, 1, 100) <= 0)
            continue;
        char c[256];
        const ssize_t n = ::read(out[0], c, sizeof c);
        if (n <= 0)
            break;
        line.append(c, static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    const auto colon = line.rfind(':');
    if (line.rfind("listening on 127.0.0.1:", 0) != 0 || colon == std::string::npos)
        throw std::runtime_error("mq-devsim did not report its port; it said '" + line + "'; log:\n" + log());
    m_port = std::atoi(line.c_str() + colon + 1);
}

int DevsimDaemon::terminate(double timeoutSeconds)
{
    if (m_pid <= 0)
        return 0;
    ::kill(m_pid, SIGTERM);
    const auto deadline
        = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeoutSeconds));
    int status = 0;
    while (Clock::now() < deadline) {
        if (::waitpid(m_pid, &status, WNOHANG) == m_pid) {
            m_pid = -1;
            return status;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
    return -1;
}

DevsimDaemon::~DevsimDaemon()
{
    terminate(5);
}

std::string DevsimDaemon::log() const
{
    std::ifstream f(m_logFile);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

PrivateAdb::PrivateAdb(const std::string &home)
{
    m_env = { "HOME=" + home, "ANDROID_ADB_SERVER_PORT=" + std::to_string(freeLoopbackPort()), "ADB_MDNS=0",
        "PATH=/usr/bin:/bin", "TERM=dumb" };
    // The server must not pick up daemons that other tests run in the emulator range (5555–5585).
    m_env.push_back("ADB_EMU=0");
}

PrivateAdb::~PrivateAdb()
{
    run({ "kill-server" }, {}, 10);
}

ProcessResult PrivateAdb::run(
    const std::vector<std::string> &args, const std::string &input, double timeoutSeconds) const
{
    std::vector<std::string> argv { adbPath() };
    argv.insert(argv.end(), args.begin(), args.end());
    return runProcess(argv, m_env, input, timeoutSeconds);
}

std::string PrivateAdb::connect(const std::string &serial) const
{
    const ProcessResult r = run({ "connect", serial });
    return r.out + r.err;
}

} // namespace mq::test
