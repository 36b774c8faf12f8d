#pragma once

#include <map>
#include <mutex>
#include <sys/resource.h>
#include <sys/types.h>

// CPU time used by the processes the daemon runs. Every command runs as the leader of a session
// of its own (setsid), so "the phone's processes" are the processes whose session id is one of
// those leaders', found by scanning /proc/<pid>/stat. For each one utime+stime+cutime+cstime is
// summed (cutime/cstime bring in descendants that already exited and were reaped inside the
// session); a leader's final total comes from wait4()'s rusage when it is reaped. The running sum
// is made monotonic: a drop (an orphan reaped outside the session) is not counted. Known error: a
// child reaped by its parent between the two reads of one scan is counted twice (a few ms per
// event, only for fork-heavy loops); the last ≤ one period of an orphan's time is lost.
//
// Thread-safe. Resolution: the kernel's clock tick (10 ms with CLK_TCK = 100).

namespace mq::devsim {

class CpuMeter
{
public:
    void addSession(pid_t leader);
    // wait4(leader, WNOHANG) under the meter's lock, so that a scan never sees the leader gone
    // before its rusage is added (which would count its time twice). True when it was reaped;
    // `status` is wait4's.
    bool tryReap(pid_t leader, int &status);

    // CPU-seconds used by all of the phone's processes since the meter was created.
    double totalSeconds();

    // How many sessions still have live processes (for tests and logs).
    std::size_t activeSessions();

private:
    std::mutex m_mutex;
    std::map<pid_t, bool> m_sessions; // leader pid -> leader already reaped
    double m_reapedSeconds = 0;
    double m_lastRaw = 0;
    double m_total = 0;
};

} // namespace mq::devsim
