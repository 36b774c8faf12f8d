#pragma once

#include "connection.h"

#include <optional>
#include <string>

// The services a stream can run (SERVICES.TXT of adb 29.0.6): shell (v2 and legacy), exec, sync.
// Each run* function is a stream's worker: it blocks until the service is over and returns;
// the connection then closes the stream.

namespace mq::devsim {

struct ShellRequest
{
    bool shellProtocol = false; // "v2": framed stdout/stderr/exit, stdin with close-stdin
    bool pty = false;
    std::string term; // "TERM=…" argument, for the child's environment
    std::string command; // empty: an interactive shell
    bool exec = false; // exec: binary-safe output (no path unmapping), stderr merged
};

// "shell,v2,TERM=xterm,raw:ls", "shell:ls", "exec:ls" → the request; nullopt for other services.
std::optional<ShellRequest> parseShellService(const std::string &service);

void runShell(Stream &stream, const ShellRequest &request, const DaemonContext &context);
void runSync(Stream &stream, const DaemonContext &context);

} // namespace mq::devsim
