#pragma once

// A free loopback TCP port for a test's private server (a private adb server, a virtual phone):
// the kernel picks it, and ports in adb's emulator scan range 5555-5585 are skipped, so a test's
// phone never shows up in a developer's `adb devices` by accident. 0 when none was found.

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace mq::test {

inline int freePort()
{
    for (int attempt = 0; attempt < 20; ++attempt) {
        const int s = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a {};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::bind(s, reinterpret_cast<sockaddr *>(&a), sizeof a);
        socklen_t len = sizeof a;
        ::getsockname(s, reinterpret_cast<sockaddr *>(&a), &len);
        const int port = ntohs(a.sin_port);
        ::close(s);
        if (port < 5555 || port > 5585)
            return port;
    }
    return 0;
}

} // namespace mq::test
