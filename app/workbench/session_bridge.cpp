#include "app/workbench/session_bridge.h"

namespace mq {

SessionBridge::SessionBridge(QObject *parent)
    : QObject(parent)
{
    qRegisterMetaType<mq::EventBatch>();
    qRegisterMetaType<mq::RunOutcome>();
    m_timer.setSingleShot(true);
    // A coarse timer may fire up to 5% early, which would break the ≤ 30 Hz promise.
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &SessionBridge::deliver);
}

SessionBridge::~SessionBridge() = default;

void SessionBridge::stage(const std::string &description)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_pending.stages << QString::fromStdString(description);
    }
    post();
}

void SessionBridge::step(const StepEvent &event)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_pending.steps.push_back(event);
    }
    post();
}

void SessionBridge::snapshot(const SnapshotEvent &event)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_pending.snapshots.push_back(event);
    }
    post();
}

void SessionBridge::checkpoint(std::int64_t, const std::map<std::string, std::vector<float>> &,
    const std::map<std::string, std::vector<std::int64_t>> &)
{
    // The learned parameters go to the run file (the recorder); the views do not show them.
}

void SessionBridge::finish(const RunOutcome &outcome)
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_outcome = outcome;
        m_hasOutcome = true;
    }
    post();
}

void SessionBridge::post()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_posted)
            return;
        m_posted = true;
    }
    // A functor with this object as context runs on this object's (the GUI) thread.
    QMetaObject::invokeMethod(
        this, [this] { schedule(); }, Qt::QueuedConnection);
}

void SessionBridge::schedule()
{
    if (m_timer.isActive())
        return;
    const qint64 since = m_sinceLast.isValid() ? m_sinceLast.elapsed() : kMinIntervalMs;
    if (since >= kMinIntervalMs)
        deliver();
    else
        m_timer.start(int(kMinIntervalMs - since));
}

void SessionBridge::flushNow()
{
    m_timer.stop();
    deliver();
}

void SessionBridge::deliver()
{
    EventBatch events;
    RunOutcome outcome;
    bool hasOutcome = false;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        std::swap(events, m_pending);
        hasOutcome = m_hasOutcome;
        if (hasOutcome) {
            outcome = m_outcome;
            m_hasOutcome = false;
        }
        // Anything the worker adds from now on posts again.
        m_posted = false;
    }
    if (!events.empty()) {
        m_sinceLast.start();
        ++m_delivered;
        Q_EMIT batch(events);
    }
    if (hasOutcome)
        Q_EMIT finished(outcome);
}

} // namespace mq
