#include "daemon.h"

#include "battery_service.h"
#include "connection.h"
#include "cpu_meter.h"
#include "log.h"
#include "sandbox.h"

#include "core/util/error.h"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <list>
#include <memory>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace mq::devsim {

namespace {

int g_signalPipe[2] = { -1, -1 };

void onSignal(int sig)
{
    const unsigned char s = static_cast<unsigned char>(sig);
    [[maybe_unused]] const auto n = ::write(g_signalPipe[1], &s, 1);
}

int listenLoopback(int port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw Error(std::string("cannot create a socket: ") + std::strerror(errno));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        const int e = errno;
        ::close(fd);
        throw Error("cannot listen on 127.0.0.1:" + std::to_string(port) + " (" + std::strerror(e)
            + "); choose another --port or 0 for a free one");
    }
    if (::listen(fd, 16) != 0) {
        const int e = errno;
        ::close(fd);
        throw Error(std::string("listen failed: ") + std::strerror(e));
    }
    return fd;
}

struct Running
{
    std::shared_ptr<Connection> connection;
    std::thread thread;
};

} // namespace

int runDaemon(const Options &options)
{
    setVerbose(options.verbose);
    Sandbox sandbox(options.sandbox);
    sandbox.populate(options.profile);
    CpuMeter meter;
    BatteryService battery(sandbox, meter, options.power, options.updateSeconds);
    DaemonContext context { options, sandbox, meter };

    if (::pipe2(g_signalPipe, O_CLOEXEC | O_NONBLOCK) != 0)
        throw Error(std::string("cannot create a pipe: ") + std::strerror(errno));
    struct sigaction sa
    {
    };
    sa.sa_handler = onSignal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    const int listener = listenLoopback(options.port);
    sockaddr_in bound {};
    socklen_t len = sizeof bound;
    ::getsockname(listener, reinterpret_cast<sockaddr *>(&bound), &len);
    const int port = ntohs(bound.sin_port);

    if (options.profile.abi != "x86_64")
        logLine("--abi " + options.profile.abi
            + ": the phone reports this ABI, but pushed programs still run on this x86_64 host");
    battery.start();
    std::printf("listening on 127.0.0.1:%d\n", port);
    std::fflush(stdout);
    logLine("simulated phone '" + options.profile.model + "' on 127.0.0.1:" + std::to_string(port) + ", sandbox "
        + sandbox.root() + (options.unauthorized ? ", --unauthorized" : "")
        + (options.dropAfterSeconds > 0 ? ", --drop-after " + std::to_string(options.dropAfterSeconds) : "")
        + (options.slowLinkKBps > 0 ? ", --slow-link " + std::to_string(options.slowLinkKBps) + " kB/s" : "")
        + (options.power.charging ? ", --charging" : "") + (options.power.odpm ? ", --odpm (simulated rails)" : ""));

    std::list<Running> running;
    int number = 0;
    for (;;) {
        pollfd fds[2] = { { listener, POLLIN, 0 }, { g_signalPipe[0], POLLIN, 0 } };
        const int r = ::poll(fds, 2, 500);
        if (r < 0 && errno != EINTR)
            break;
        if (fds[1].revents & POLLIN) {
            logLine("stopping (signal)");
            break;
        }
        for (auto it = running.begin(); it != running.end();) {
            if (it->connection->finished()) {
                it->thread.join();
                it = running.erase(it);
            } else {
                ++it;
            }
        }
        if (!(fds[0].revents & POLLIN))
            continue;
        const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        auto connection = std::make_shared<Connection>(fd, context, ++number);
        running.push_back({ connection, std::thread([connection] { connection->run(); }) });
    }
    ::close(listener);
    for (auto &r : running)
        r.connection->stop();
    for (auto &r : running)
        r.thread.join();
    running.clear();
    battery.stop();
    return 0;
}

} // namespace mq::devsim
