#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

// Runs a program from an argv list (never a shell string) with POSIX fork/exec and collects what
// it prints. Used for `adb`; Qt-free so the CLI and the tests drive adb without an event loop.

namespace mq::device {

struct ProcessOptions
{
    // Variables set (or, with an empty value, removed) on top of this process's environment.
    std::map<std::string, std::string> env;
    // 0: no limit. Past it the child is killed and ProcessResult::timedOut is set.
    double timeoutSeconds = 0;
    // Checked every 50 ms; when it turns true the child is killed and ProcessResult::cancelled set.
    const std::atomic<bool> *cancel = nullptr;
    // Run the child on a pseudo-terminal (stdout and stderr merged into ProcessResult::out): adb
    // prints push progress only to a terminal.
    bool pty = false;
    // Called with every chunk the child prints on stdout (or the terminal), on the calling thread.
    std::function<void(const std::string &chunk)> onOutput;
};

struct ProcessResult
{
    int exitCode = -1; // the child's exit status; 128 + signal when killed by one
    std::string out; // stdout (and stderr with pty)
    std::string err; // stderr
    bool timedOut = false;
    bool cancelled = false;
    bool started = false; // false when the program could not be executed at all (err says why)
};

// Options with only a time limit.
inline ProcessOptions withTimeout(double seconds)
{
    ProcessOptions o;
    o.timeoutSeconds = seconds;
    return o;
}

// Blocks until the child exits (or is killed for a timeout or cancel). Never throws for the
// child's failures: they are in the result. stdin is /dev/null.
ProcessResult runProcess(const std::vector<std::string> &argv, const ProcessOptions &options = {});

// True when `path` names an executable regular file.
bool isExecutable(const std::string &path);

} // namespace mq::device
