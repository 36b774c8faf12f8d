#include "log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace mq::devsim {

namespace {
std::atomic<bool> g_verbose { false };
std::mutex g_mutex;
const auto g_start = std::chrono::steady_clock::now();
} // namespace

void setVerbose(bool v)
{
    g_verbose = v;
}

bool verbose()
{
    return g_verbose;
}

void logLine(const std::string &line)
{
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
    std::lock_guard lock(g_mutex);
    std::fprintf(stderr, "mq-devsim [%8.3f] %s\n", t, line.c_str());
    std::fflush(stderr);
}

void logVerbose(const std::string &line)
{
    if (g_verbose)
        logLine(line);
}

} // namespace mq::devsim
