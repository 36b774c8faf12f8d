#include "cpu_meter.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace mq::devsim {

namespace {

struct ProcStat
{
    pid_t session = 0;
    double seconds = 0; // utime + stime + cutime + cstime
};

bool readProcStat(const char *pid, ProcStat &out)
{
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    char buf[1024];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    // The command name (field 2) may hold spaces and ')'; the fields after the last ')' are fixed.
    const char *p = std::strrchr(buf, ')');
    if (p == nullptr)
        return false;
    ++p;
    // Fields 3.. : state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
    //              utime stime cutime cstime
    long long f[15] = {};
    int field = 3;
    char *end = nullptr;
    while (*p != '\0' && field <= 17) {
        while (*p == ' ')
            ++p;
        if (field == 3) { // state: one character
            ++p;
        } else {
            f[field - 3] = std::strtoll(p, &end, 10);
            if (end == p)
                return false;
            p = end;
        }
        ++field;
    }
    if (field <= 17)
        return false;
    static const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    out.session = static_cast<pid_t>(f[6 - 3]);
    out.seconds = static_cast<double>(f[14 - 3] + f[15 - 3] + f[16 - 3] + f[17 - 3]) / tick;
    return true;
}

} // namespace

void CpuMeter::addSession(pid_t leader)
{
    std::lock_guard lock(m_mutex);
    m_sessions[leader] = false;
}

bool CpuMeter::tryReap(pid_t leader, int &status)
{
    std::lock_guard lock(m_mutex);
    struct rusage usage
    {
    };
    const pid_t r = ::wait4(leader, &status, WNOHANG, &usage);
    if (r == -1 && errno == ECHILD) { // reaped elsewhere: nothing more to learn
        status = 0;
        m_sessions.erase(leader);
        return true;
    }
    if (r != leader)
        return false;
    const double s = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
    m_reapedSeconds += s;
    auto it = m_sessions.find(leader);
    if (it != m_sessions.end())
        it->second = true;
    return true;
}

double CpuMeter::totalSeconds()
{
    std::lock_guard lock(m_mutex);
    if (m_sessions.empty())
        return m_total;
    double live = 0;
    std::set<pid_t> seen;
    if (DIR *dir = ::opendir("/proc")) {
        while (const dirent *e = ::readdir(dir)) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9')
                continue;
            ProcStat st;
            if (!readProcStat(e->d_name, st))
                continue;
            if (m_sessions.count(st.session) != 0) {
                live += st.seconds;
                seen.insert(st.session);
            }
        }
        ::closedir(dir);
    }
    const double raw = m_reapedSeconds + live;
    if (raw > m_lastRaw)
        m_total += raw - m_lastRaw;
    m_lastRaw = raw;
    // A session is forgotten once its leader was reaped and nothing of it is left; its time stays
    // in m_reapedSeconds, so the raw sum does not drop.
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
        if (it->second && seen.count(it->first) == 0)
            it = m_sessions.erase(it);
        else
            ++it;
    }
    return m_total;
}

std::size_t CpuMeter::activeSessions()
{
    std::lock_guard lock(m_mutex);
    return m_sessions.size();
}

} // namespace mq::devsim
