#pragma once

#include "core/calib/calibration_events.h"

#include <QElapsedTimer>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QTimer>

#include <cstdint>
#include <mutex>
#include <vector>

namespace mq {

// What the worker reported since the last delivery, in order: every step and every snapshot (the
// views draw one point per step and per snapshot, so nothing is dropped, only grouped), and the
// stage lines. A plain value; crosses from the worker to the GUI thread.
struct EventBatch
{
    std::vector<StepEvent> steps;
    std::vector<SnapshotEvent> snapshots;
    QStringList stages;

    bool empty() const { return steps.empty() && snapshots.empty() && stages.isEmpty(); }
};

// How a run ended, as the window shows it (a torch-free copy of the session's result).
struct RunOutcome
{
    enum class Status { Finished, Cancelled, Failed } status = Status::Failed;
    QString error; // for a person, when Failed
    std::int64_t steps = 0;
    double finalLoss = 0;
    double fpPerplexity = 0; // 0 when the run had no evaluation text
    double quantPerplexity = 0;
    std::int64_t evalTokens = 0;
    QString runPath;
};

// Carries a calibration's events from the session's worker thread to the GUI thread.
//
// The worker calls the CalibrationObserver functions (and finish()); they only append to a
// buffer under a mutex and, when no delivery is pending, post one queued call to this object's
// thread. There the buffer is handed out as one batch() signal, at most once per minimum
// interval (33 ms: ≤ 30 Hz), however fast the worker produces, so a fast run cannot flood the
// event loop with repaints; a slow run gets each event as soon as it arrives. finished() comes
// after the batch that holds the last events, so the last step is never lost.
//
// Threads: construct and connect on the GUI thread; the observer functions and finish() may be
// called from any one thread at a time. Destroy only after the worker has stopped.
class SessionBridge : public QObject, public CalibrationObserver
{
    Q_OBJECT

public:
    static constexpr int kMinIntervalMs = 33;

    explicit SessionBridge(QObject *parent = nullptr);
    ~SessionBridge() override;

    // CalibrationObserver, called on the worker thread.
    void stage(const std::string &description) override;
    void step(const StepEvent &event) override;
    void snapshot(const SnapshotEvent &event) override;
    void checkpoint(std::int64_t step, const std::map<std::string, std::vector<float>> &state,
        const std::map<std::string, std::vector<std::int64_t>> &shapes) override;
    // The run is over: delivered after everything observed before it.
    void finish(const RunOutcome &outcome);

    // Batches delivered so far (for tests and the benchmark).
    std::int64_t batchesDelivered() const { return m_delivered; }

    // Delivers what is pending now, ignoring the rate limit (GUI thread).
    void flushNow();

Q_SIGNALS:
    void batch(const mq::EventBatch &events);
    void finished(const mq::RunOutcome &outcome);

private:
    void post(); // worker side: ask the GUI thread to deliver
    void schedule(); // GUI side: deliver now or when the interval has passed
    void deliver();

    std::mutex m_mutex;
    EventBatch m_pending;
    bool m_hasOutcome = false;
    RunOutcome m_outcome;
    bool m_posted = false;

    QTimer m_timer;
    QElapsedTimer m_sinceLast;
    std::int64_t m_delivered = 0;
};

} // namespace mq

Q_DECLARE_METATYPE(mq::EventBatch)
Q_DECLARE_METATYPE(mq::RunOutcome)
