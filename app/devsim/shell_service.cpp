#include "log.h"
#include "services.h"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace mq::devsim {

namespace {

using Clock = std::chrono::steady_clock;

struct Child
{
    pid_t pid = -1;
    int in = -1; // we write the child's stdin here (the pty master for a pty)
    int out = -1; // the child's stdout (the pty master for a pty)
    int err = -1; // the child's stderr; -1 when merged into out
};

void closeFd(int &fd)
{
    if (fd >= 0)
        ::close(fd);
    fd = -1;
}

void setNonBlocking(int fd)
{
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

std::vector<std::string> childEnvironment(const ShellRequest &request, const Sandbox &sandbox)
{
    const std::string &root = sandbox.root();
    std::vector<std::string> env {
        "PATH=" + root + "/system/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME=" + root,
        "TMPDIR=" + root + "/data/local/tmp",
        "MQ_DEVSIM_ROOT=" + root,
        "MQ_DEVSIM=1",
        "PS1=devsim:$ ",
    };
    if (!request.term.empty())
        env.push_back("TERM=" + request.term);
    // What a program built here may need to start at all (build-tree libraries, sanitizers).
    for (const char *name : { "LD_LIBRARY_PATH", "ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS" })
        if (const char *v = std::getenv(name))
            env.push_back(std::string(name) + "=" + v);
    return env;
}

// fork + exec of /bin/sh as the leader of a new session, in the sandbox root. Everything the child
// needs is prepared before fork(): between fork and exec it may only make async-signal-safe calls.
Child spawn(const ShellRequest &request, const Sandbox &sandbox, std::string &error)
{
    Child c;
    std::vector<std::string> args { "/bin/sh" };
    if (!request.command.empty()) {
        args.push_back("-c");
        args.push_back(sandbox.rewriteCommand(request.command));
    }
    const std::vector<std::string> envStrings = childEnvironment(request, sandbox);
    std::vector<char *> argv, envp;
    for (const auto &a : args)
        argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    for (const auto &e : envStrings)
        envp.push_back(const_cast<char *>(e.c_str()));
    envp.push_back(nullptr);
    const std::string cwd = sandbox.root();

    int inPipe[2] = { -1, -1 }, outPipe[2] = { -1, -1 }, errPipe[2] = { -1, -1 };
    int master = -1;
    char slaveName[128] = {};
    if (request.pty) {
        master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0
            || ::ptsname_r(master, slaveName, sizeof slaveName) != 0) {
            error = std::string("cannot allocate a pty: ") + std::strerror(errno);
            if (master >= 0)
                ::close(master);
            return c;
        }
    } else {
        const bool merged = !request.shellProtocol;
        if (::pipe2(inPipe, O_CLOEXEC) != 0 || ::pipe2(outPipe, O_CLOEXEC) != 0
            || (!merged && ::pipe2(errPipe, O_CLOEXEC) != 0)) {
            error = std::string("cannot create pipes: ") + std::strerror(errno);
            for (int fd : { inPipe[0], inPipe[1], outPipe[0], outPipe[1], errPipe[0], errPipe[1] })
                if (fd >= 0)
                    ::close(fd);
            return c;
        }
    }

    const pid_t pid = ::fork();
    if (pid < 0) {
        error = std::string("fork failed: ") + std::strerror(errno);
        for (int fd : { inPipe[0], inPipe[1], outPipe[0], outPipe[1], errPipe[0], errPipe[1], master })
            if (fd >= 0)
                ::close(fd);
        return c;
    }
    if (pid == 0) {
        ::setsid();
        if (request.pty) {
            const int slave = ::open(slaveName, O_RDWR);
            if (slave < 0)
                ::_exit(126);
            ::ioctl(slave, TIOCSCTTY, 0);
            ::dup2(slave, 0);
            ::dup2(slave, 1);
            ::dup2(slave, 2);
        } else {
            ::dup2(inPipe[0], 0);
            ::dup2(outPipe[1], 1);
            ::dup2(errPipe[1] >= 0 ? errPipe[1] : outPipe[1], 2);
        }
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::signal(SIGPIPE, SIG_DFL);
        if (::chdir(cwd.c_str()) != 0)
            ::_exit(126);
#ifdef SYS_close_range
        ::syscall(SYS_close_range, 3u, ~0u, 0u);
#endif
        ::execve(argv[0], argv.data(), envp.data());
        static const char msg[] = "mq-devsim: cannot run /bin/sh\n";
        [[maybe_unused]] const auto n = ::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    c.pid = pid;
    if (request.pty) {
        c.in = master;
        c.out = master;
    } else {
        ::close(inPipe[0]);
        ::close(outPipe[1]);
        if (errPipe[1] >= 0)
            ::close(errPipe[1]);
        c.in = inPipe[1];
        c.out = outPipe[0];
        c.err = errPipe[0];
    }
    for (int fd : { c.in, c.out, c.err })
        if (fd >= 0)
            setNonBlocking(fd);
    if (!request.pty) {
        ::fcntl(c.out, F_SETPIPE_SZ, 256 * 1024); // best effort: a bigger pipe, fewer round trips
        if (c.err >= 0)
            ::fcntl(c.err, F_SETPIPE_SZ, 256 * 1024);
    }
    return c;
}

int exitCodeOf(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status); // adbd reports 0x80|signal, e.g. 137 for SIGKILL
    return 1;
}

// The host went away: hang up the whole session as adbd does, then make sure it is gone.
int killAndReap(pid_t pid, CpuMeter &meter)
{
    ::kill(-pid, SIGHUP);
    ::kill(pid, SIGHUP);
    int status = 0;
    const auto deadline = Clock::now() + std::chrono::milliseconds(500);
    while (!meter.tryReap(pid, status)) {
        if (Clock::now() > deadline) {
            ::kill(-pid, SIGKILL);
            ::kill(pid, SIGKILL);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return status;
}

void applyWindowSize(int fd, const std::string &text)
{
    // "<rows>x<cols>,<xpixels>x<ypixels>"
    unsigned rows = 0, cols = 0, xp = 0, yp = 0;
    if (std::sscanf(text.c_str(), "%ux%u,%ux%u", &rows, &cols, &xp, &yp) >= 2) {
        winsize ws {};
        ws.ws_row = static_cast<unsigned short>(rows);
        ws.ws_col = static_cast<unsigned short>(cols);
        ws.ws_xpixel = static_cast<unsigned short>(xp);
        ws.ws_ypixel = static_cast<unsigned short>(yp);
        ::ioctl(fd, TIOCSWINSZ, &ws);
    }
}

} // namespace

std::optional<ShellRequest> parseShellService(const std::string &service)
{
    ShellRequest r;
    if (service.rfind("exec:", 0) == 0) {
        r.command = service.substr(5);
        r.exec = true;
        return r;
    }
    if (service.rfind("shell", 0) != 0 || service.size() < 6 || (service[5] != ':' && service[5] != ','))
        return std::nullopt;
    const auto colon = service.find(':');
    if (colon == std::string::npos)
        return std::nullopt;
    r.command = service.substr(colon + 1);
    int type = -1; // -1: default (pty without a command, raw with one), 0 raw, 1 pty
    std::size_t i = 6;
    while (i < colon) {
        std::size_t j = service.find(',', i);
        if (j == std::string::npos || j > colon)
            j = colon;
        const std::string arg = service.substr(i, j - i);
        if (arg == "v2")
            r.shellProtocol = true;
        else if (arg == "raw")
            type = 0;
        else if (arg == "pty")
            type = 1;
        else if (arg.rfind("TERM=", 0) == 0)
            r.term = arg.substr(5);
        i = j + 1;
    }
    r.pty = type == 1 || (type == -1 && r.command.empty());
    return r;
}

void runShell(Stream &stream, const ShellRequest &request, const DaemonContext &context)
{
    std::string error;
    Child child = spawn(request, context.sandbox, error);
    if (child.pid < 0) {
        logLine("shell: " + error);
        if (request.shellProtocol) {
            stream.send(encodeShellPacket(ShellId::Stderr, "mq-devsim: " + error + "\n"));
            stream.send(encodeShellPacket(ShellId::Exit, std::string(1, char(1))));
        } else {
            stream.send("mq-devsim: " + error + "\n");
        }
        return;
    }
    context.meter.addSession(child.pid);
    logVerbose("shell: pid " + std::to_string(child.pid) + (request.pty ? " (pty)" : "") + ": " + request.command);

    ShellPacketParser parser;
    std::string pendingStdin;
    bool closeStdinRequested = false;
    bool outEof = false;
    bool errEof = child.err < 0;
    bool reaped = false;
    int status = 0;
    auto quietSince = Clock::now();
    // One WRTE per round trip carries up to the negotiated maximum (256 KiB): with 64 KiB pipes
    // and packets, `adb shell cat big` ran at ~24 MB/s here, limited by round trips.
    const std::size_t chunk = stream.maxPayload();
    std::string buffer(chunk, '\0');
    // exec: carries binary output (exec-out) and is left byte-exact; shell output shows device paths.
    const bool unmap = !request.exec;
    Sandbox::OutputUnmapper outMap(context.sandbox.root()), errMap(context.sandbox.root());
    auto wrap = [&](ShellId id, const std::string &data) {
        return request.shellProtocol ? encodeShellPacket(id, data) : data;
    };

    for (;;) {
        if (stream.isClosed()) {
            // The adb client went away (or the connection did): no one reads the output any more.
            if (!reaped) {
                status = killAndReap(child.pid, context.meter);
                reaped = true;
            }
            logVerbose("shell: pid " + std::to_string(child.pid) + " ended because the stream was closed");
            break;
        }
        const bool sendable = stream.canSend();
        pollfd fds[4];
        int n = 0;
        fds[n++] = { stream.wakeFd(), POLLIN, 0 };
        const int outIndex = (sendable && !outEof) ? n : -1;
        if (outIndex >= 0)
            fds[n++] = { child.out, POLLIN, 0 };
        const int errIndex = (sendable && !errEof) ? n : -1;
        if (errIndex >= 0)
            fds[n++] = { child.err, POLLIN, 0 };
        if (!pendingStdin.empty() && child.in >= 0)
            fds[n++] = { child.in, POLLOUT, 0 };
        const int timeout = (outEof && errEof) || reaped ? 5 : 50;
        ::poll(fds, static_cast<nfds_t>(n), timeout);
        stream.clearWake();

        // Host → child.
        if (pendingStdin.empty()) {
            while (auto input = stream.tryTakeInput()) {
                if (!request.shellProtocol) {
                    pendingStdin += *input;
                    continue;
                }
                parser.feed(*input);
                while (auto packet = parser.next()) {
                    if (packet->id == ShellId::Stdin)
                        pendingStdin += packet->data;
                    else if (packet->id == ShellId::CloseStdin)
                        closeStdinRequested = true;
                    else if (packet->id == ShellId::WindowSize && request.pty)
                        applyWindowSize(child.out, packet->data);
                }
                if (parser.malformed()) {
                    logLine("shell: malformed shell-protocol packet from the host; ending the stream");
                    stream.remoteClosed();
                }
                if (!pendingStdin.empty())
                    break;
            }
        }
        if (!pendingStdin.empty() && child.in >= 0) {
            const ssize_t w = ::write(child.in, pendingStdin.data(), pendingStdin.size());
            if (w > 0)
                pendingStdin.erase(0, static_cast<std::size_t>(w));
            else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                pendingStdin.clear(); // the child closed its stdin
                if (!request.pty)
                    closeFd(child.in);
            }
        }
        if (closeStdinRequested && pendingStdin.empty() && !request.pty && child.in >= 0)
            closeFd(child.in);

        // Child → host: stdout and stderr of one turn go out in one WRTE.
        bool gotData = false;
        if (sendable) {
            std::string payload;
            auto drain = [&](int fd, bool &eof, ShellId id, Sandbox::OutputUnmapper &map) {
                // Room for the packet header and for a root held back by the unmapper.
                const std::size_t reserve = 5 + context.sandbox.root().size();
                if (eof || payload.size() + reserve + 1 > chunk)
                    return;
                const std::size_t room = chunk - payload.size() - reserve;
                const ssize_t r = ::read(fd, buffer.data(), room);
                std::string data;
                if (r > 0) {
                    data.assign(buffer.data(), static_cast<std::size_t>(r));
                    if (unmap)
                        data = map.feed(data);
                    gotData = true;
                } else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    eof = true; // EIO on a pty master once the last slave is closed
                    data = map.flush();
                }
                if (!data.empty())
                    payload += wrap(id, data);
            };
            drain(child.out, outEof, ShellId::Stdout, outMap);
            if (child.err >= 0)
                drain(child.err, errEof, ShellId::Stderr, errMap);
            if (!payload.empty())
                stream.trySend(payload);
        }
        if (gotData)
            quietSince = Clock::now();

        if (!reaped && context.meter.tryReap(child.pid, status)) {
            reaped = true;
            quietSince = Clock::now();
        }
        if (reaped && outEof && errEof)
            break;
        // A background process that inherited stdout would keep the pipe open for ever; after the
        // command itself exited, 250 ms without output ends the stream.
        if (reaped && sendable && !gotData && Clock::now() - quietSince > std::chrono::milliseconds(250))
            break;
    }
    if (child.in == child.out)
        child.in = -1; // one pty master
    closeFd(child.in);
    closeFd(child.out);
    closeFd(child.err);
    if (!stream.isClosed()) {
        // What the unmappers still hold when the stream ends before EOF (a background process
        // kept the pipe open).
        std::string rest;
        const std::string outRest = outMap.flush(), errRest = errMap.flush();
        if (!outRest.empty())
            rest += wrap(ShellId::Stdout, outRest);
        if (!errRest.empty())
            rest += wrap(ShellId::Stderr, errRest);
        if (!rest.empty())
            stream.send(rest);
    }
    if (!stream.isClosed() && request.shellProtocol)
        stream.send(encodeShellPacket(ShellId::Exit, std::string(1, static_cast<char>(exitCodeOf(status)))));
    logVerbose("shell: pid " + std::to_string(child.pid) + " exited with " + std::to_string(exitCodeOf(status)));
}

} // namespace mq::devsim
