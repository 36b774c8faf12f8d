#pragma once

// Runs one of the built programs through a shell, as a user would, and captures what it prints
// (tests/cli, tests/packaging).

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace mq::test {

struct ProgramRun
{
    int exitCode = -1;
    std::string out; // stdout
    std::string err; // stderr
};

// `command` is shell text (program path, arguments, environment assignments before it).
inline ProgramRun runProgram(const std::string &command)
{
    namespace fs = std::filesystem;
    static int counter = 0;
    const fs::path errFile
        = fs::temp_directory_path() / ("mq-pkg-err-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    const std::string cmd = command + " 2>" + errFile.string();
    ProgramRun r;
    FILE *p = ::popen(cmd.c_str(), "r");
    if (p == nullptr)
        return r;
    std::array<char, 4096> buf {};
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

// Single quotes for the shell.
inline std::string shellQuote(const std::string &s)
{
    std::string q = "'";
    for (char c : s)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

} // namespace mq::test
