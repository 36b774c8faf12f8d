#pragma once

// Runs the real `mq` executable (MQ_CLI, set by CMake) through a shell and captures what it prints.

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace mq::test {

struct MqRun
{
    int exitCode = -1;
    std::string out; // stdout
    std::string err; // stderr
};

// `args` is shell text appended to the executable's path.
inline MqRun runMq(const std::string &args)
{
    namespace fs = std::filesystem;
    const fs::path errFile = fs::temp_directory_path() / ("mq-cli-err-" + std::to_string(::getpid()));
    const std::string cmd = std::string(MQ_CLI) + " " + args + " 2>" + errFile.string();
    MqRun r;
    FILE *p = ::popen(cmd.c_str(), "r");
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0)
        r.out.append(buf.data(), n);
    const int status = ::pclose(p);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream e(errFile);
    r.err.assign(std::istreambuf_iterator<char>(e), {});
    fs::remove(errFile);
    return r;
}

} // namespace mq::test
