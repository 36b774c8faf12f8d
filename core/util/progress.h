#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace mq {

// A progress bar on stderr for long CLI work. Redraws at most 10 times a second, shows the rate
// and the time left; prints nothing when stderr is not a terminal unless forced.
// Single-threaded: the thread that owns it calls update().
class ProgressBar
{
public:
    ProgressBar(std::string label, int64_t total, std::string unit = "it");
    ~ProgressBar();

    void update(int64_t done);
    void finish();

private:
    void draw(bool final);

    std::string m_label;
    std::string m_unit;
    int64_t m_total = 0;
    int64_t m_done = 0;
    bool m_enabled = false;
    bool m_finished = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_lastDraw;
};

} // namespace mq
