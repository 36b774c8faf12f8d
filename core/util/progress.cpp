#include "core/util/progress.h"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace mq {

ProgressBar::ProgressBar(std::string label, int64_t total, std::string unit)
    : m_label(std::move(label))
    , m_unit(std::move(unit))
    , m_total(total)
    , m_start(std::chrono::steady_clock::now())
{
    const char *force = std::getenv("MQ_PROGRESS");
    m_enabled = force ? std::string(force) != "0" : isatty(STDERR_FILENO) != 0;
}

ProgressBar::~ProgressBar()
{
    finish();
}

void ProgressBar::update(int64_t done)
{
    m_done = done;
    const auto now = std::chrono::steady_clock::now();
    if (now - m_lastDraw >= std::chrono::milliseconds(100)) {
        m_lastDraw = now;
        draw(false);
    }
}

void ProgressBar::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    draw(true);
}

void ProgressBar::draw(bool final)
{
    if (!m_enabled)
        return;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    const double rate = secs > 0 ? double(m_done) / secs : 0.0;
    const double frac = m_total > 0 ? double(m_done) / double(m_total) : 0.0;
    constexpr int width = 30;
    const int filled = int(frac * width);
    std::string bar(size_t(filled), '#');
    bar.resize(width, '.');
    const double eta = rate > 0 && m_total > m_done ? double(m_total - m_done) / rate : 0.0;
    std::fprintf(stderr, "\r%s [%s] %lld/%lld %s  %.1f %s/s  %s %.0fs ", m_label.c_str(), bar.c_str(),
                 static_cast<long long>(m_done), static_cast<long long>(m_total), m_unit.c_str(), rate,
                 m_unit.c_str(), final ? "took" : "eta", final ? secs : eta);
    if (final)
        std::fputc('\n', stderr);
    std::fflush(stderr);
}

} // namespace mq
