#include "core/device/process.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace mq::device {

namespace {

std::vector<std::string> mergedEnvironment(const std::map<std::string, std::string> &changes)
{
    std::map<std::string, std::string> env;
    for (char **e = environ; e && *e; ++e) {
        const std::string kv = *e;
        const auto eq = kv.find('=');
        if (eq != std::string::npos)
            env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (const auto &[k, v] : changes) {
        if (v.empty())
            env.erase(k);
        else
            env[k] = v;
    }
    std::vector<std::string> out;
    out.reserve(env.size());
    for (const auto &[k, v] : env)
        out.push_back(k + "=" + v);
    return out;
}

void killGroup(pid_t pid, int sig)
{
    // The child leads its own process group (setsid/setpgid), so helpers it started go too.
    if (::kill(-pid, sig) != 0)
        ::kill(pid, sig);
}

} // namespace

bool isExecutable(const std::string &path)
{
    struct stat st
    {
    };
    return !path.empty() && ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

ProcessResult runProcess(const std::vector<std::string> &argv, const ProcessOptions &options)
{
    ProcessResult result;
    if (argv.empty()) {
        result.err = "no program given";
        return result;
    }
    const std::vector<std::string> envStrings = mergedEnvironment(options.env);
    std::vector<char *> cargv, cenv;
    for (const auto &a : argv)
        cargv.push_back(const_cast<char *>(a.c_str()));
    cargv.push_back(nullptr);
    for (const auto &e : envStrings)
        cenv.push_back(const_cast<char *>(e.c_str()));
    cenv.push_back(nullptr);

    // A pipe that reports exec failure: closed on a successful exec (O_CLOEXEC), written otherwise.
    int execPipe[2];
    if (::pipe2(execPipe, O_CLOEXEC) != 0) {
        result.err = std::string("pipe: ") + std::strerror(errno);
        return result;
    }
    int outFd = -1, errFd = -1;
    pid_t pid = -1;
    if (options.pty) {
        int master = -1;
        struct winsize ws
        {
        };
        ws.ws_row = 24;
        ws.ws_col = 200; // wide, so adb does not elide the file name in its progress line
        pid = ::forkpty(&master, nullptr, nullptr, &ws);
        if (pid == 0) {
            ::close(execPipe[0]);
            const int devnull = ::open("/dev/null", O_RDONLY);
            if (devnull >= 0)
                ::dup2(devnull, 0);
            ::execve(cargv[0], cargv.data(), cenv.data());
            const int e = errno;
            (void)!::write(execPipe[1], &e, sizeof e);
            ::_exit(127);
        }
        outFd = master;
    } else {
        int outPipe[2], errPipe[2];
        if (::pipe2(outPipe, O_CLOEXEC) != 0 || ::pipe2(errPipe, O_CLOEXEC) != 0) {
            result.err = std::string("pipe: ") + std::strerror(errno);
            return result;
        }
        pid = ::fork();
        if (pid == 0) {
            ::setpgid(0, 0);
            ::close(execPipe[0]);
            const int devnull = ::open("/dev/null", O_RDONLY);
            if (devnull >= 0)
                ::dup2(devnull, 0);
            ::dup2(outPipe[1], 1);
            ::dup2(errPipe[1], 2);
            ::execve(cargv[0], cargv.data(), cenv.data());
            const int e = errno;
            (void)!::write(execPipe[1], &e, sizeof e);
            ::_exit(127);
        }
        ::close(outPipe[1]);
        ::close(errPipe[1]);
        outFd = outPipe[0];
        errFd = errPipe[0];
    }
    ::close(execPipe[1]);
    if (pid < 0) {
        result.err = std::string("fork: ") + std::strerror(errno);
        ::close(execPipe[0]);
        if (outFd >= 0)
            ::close(outFd);
        if (errFd >= 0)
            ::close(errFd);
        return result;
    }
    int execErrno = 0;
    if (::read(execPipe[0], &execErrno, sizeof execErrno) == sizeof execErrno) {
        ::close(execPipe[0]);
        ::waitpid(pid, nullptr, 0);
        if (outFd >= 0)
            ::close(outFd);
        if (errFd >= 0)
            ::close(errFd);
        result.err = "cannot run " + argv[0] + ": " + std::strerror(execErrno);
        return result;
    }
    ::close(execPipe[0]);
    result.started = true;

    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    bool killed = false;
    char buf[8192];
    while (outFd >= 0 || errFd >= 0) {
        pollfd fds[2];
        int n = 0;
        if (outFd >= 0)
            fds[n++] = { outFd, POLLIN, 0 };
        if (errFd >= 0)
            fds[n++] = { errFd, POLLIN, 0 };
        const int ready = ::poll(fds, nfds_t(n), 50);
        if (ready < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n && ready > 0; ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            const bool isOut = fds[i].fd == outFd;
            if (got <= 0) {
                // EIO on a pty master means the child side closed.
                ::close(fds[i].fd);
                (isOut ? outFd : errFd) = -1;
                continue;
            }
            const std::string chunk(buf, size_t(got));
            if (isOut) {
                result.out += chunk;
                if (options.onOutput)
                    options.onOutput(chunk);
            } else {
                result.err += chunk;
            }
        }
        if (!killed) {
            const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
            if (options.timeoutSeconds > 0 && elapsed > options.timeoutSeconds)
                result.timedOut = true;
            if (options.cancel && options.cancel->load())
                result.cancelled = true;
            if (result.timedOut || result.cancelled) {
                killGroup(pid, SIGTERM);
                killed = true;
                // Give it a moment to close its streams, then make sure.
                for (int i = 0; i < 20; ++i) {
                    if (::waitpid(pid, nullptr, WNOHANG) != 0)
                        break;
                    ::usleep(10000);
                }
                killGroup(pid, SIGKILL);
            }
        }
    }
    int status = 0;
    if (::waitpid(pid, &status, 0) == pid) {
        if (WIFEXITED(status))
            result.exitCode = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
            result.exitCode = 128 + WTERMSIG(status);
    } else if (killed) {
        result.exitCode = 128 + SIGKILL;
    }
    return result;
}

} // namespace mq::device
