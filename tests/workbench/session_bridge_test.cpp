// SessionBridge: events from a worker thread reach the GUI thread grouped, at most ~30 times a
// second however fast they come, in order, and none is lost (the last one in particular).
#include "app/workbench/session_bridge.h"
#include "workbench_test_util.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTest>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using namespace mq;

namespace {

struct Received
{
    std::vector<std::int64_t> steps;
    std::vector<std::int64_t> snapshots;
    std::vector<qint64> batchTimesMs;
    qint64 finishedAtMs = -1;
    std::int64_t batchesBeforeFinish = -1;
    RunOutcome outcome;
};

void connectRecorder(SessionBridge &bridge, Received &r, QElapsedTimer &clock)
{
    QObject::connect(&bridge, &SessionBridge::batch, &bridge, [&](const EventBatch &b) {
        r.batchTimesMs.push_back(clock.elapsed());
        for (const StepEvent &e : b.steps)
            r.steps.push_back(e.step);
        for (const SnapshotEvent &e : b.snapshots)
            r.snapshots.push_back(e.step);
    });
    QObject::connect(&bridge, &SessionBridge::finished, &bridge, [&](const RunOutcome &o) {
        r.finishedAtMs = clock.elapsed();
        r.batchesBeforeFinish = std::int64_t(r.batchTimesMs.size());
        r.outcome = o;
    });
}

} // namespace

TEST(SessionBridge, FastWorkerIsCoalescedToAtMost30HzAndLosesNothing)
{
    SessionBridge bridge;
    Received r;
    QElapsedTimer clock;
    clock.start();
    connectRecorder(bridge, r, clock);

    // ~20 000 steps per second for 1.5 s, a snapshot every 10 steps: far faster than any screen.
    constexpr std::int64_t kSteps = 30000;
    std::thread worker([&bridge] {
        for (std::int64_t s = 1; s <= kSteps; ++s) {
            StepEvent e;
            e.step = s;
            e.total = kSteps;
            e.loss = 1.0 / double(s);
            bridge.step(e);
            if (s % 10 == 0) {
                SnapshotEvent snap;
                snap.step = s;
                bridge.snapshot(snap);
            }
            if (s % 20 == 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        RunOutcome o;
        o.status = RunOutcome::Status::Finished;
        o.steps = kSteps;
        bridge.finish(o);
    });
    ASSERT_TRUE(test::waitUntil([&] { return r.finishedAtMs >= 0; }, 30000));
    worker.join();

    ASSERT_EQ(r.steps.size(), std::size_t(kSteps)) << "every step arrives";
    for (std::size_t i = 0; i < r.steps.size(); ++i)
        ASSERT_EQ(r.steps[i], std::int64_t(i + 1)) << "in order";
    EXPECT_EQ(r.snapshots.size(), std::size_t(kSteps / 10));
    EXPECT_EQ(r.steps.back(), kSteps) << "the last step is delivered";
    EXPECT_EQ(r.outcome.steps, kSteps);
    EXPECT_EQ(r.batchesBeforeFinish, std::int64_t(r.batchTimesMs.size())) << "finished() comes after the last batch";

    ASSERT_GE(r.batchTimesMs.size(), 3u);
    // Rate: at most one batch per 33 ms. QElapsedTimer counts whole milliseconds, so allow 1 ms.
    for (std::size_t i = 1; i < r.batchTimesMs.size(); ++i)
        EXPECT_GE(r.batchTimesMs[i] - r.batchTimesMs[i - 1], SessionBridge::kMinIntervalMs - 1) << "batch " << i;
    const double seconds = double(r.batchTimesMs.back() - r.batchTimesMs.front()) / 1000.0;
    const double rate = double(r.batchTimesMs.size() - 1) / seconds;
    EXPECT_LE(rate, 30.5) << r.batchTimesMs.size() << " batches in " << seconds << " s";
    // …and not much slower either: the worker ran for ≥ 1.5 s, so a 30 Hz bridge delivers many.
    EXPECT_GE(r.batchTimesMs.size(), 20u);
}

TEST(SessionBridge, SlowWorkerGetsEachEventPromptly)
{
    SessionBridge bridge;
    Received r;
    QElapsedTimer clock;
    clock.start();
    connectRecorder(bridge, r, clock);

    std::vector<qint64> sentAt;
    std::atomic<bool> done { false };
    std::thread worker([&] {
        for (int s = 1; s <= 5; ++s) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            sentAt.push_back(clock.elapsed());
            StepEvent e;
            e.step = s;
            bridge.step(e);
        }
        done = true;
    });
    ASSERT_TRUE(test::waitUntil([&] { return r.steps.size() == 5u; }, 10000));
    worker.join();
    ASSERT_EQ(r.batchTimesMs.size(), 5u) << "events 200 ms apart are not held back to group them";
    for (std::size_t i = 0; i < 5; ++i)
        // One 33 ms interval at most, plus scheduling on a busy machine.
        EXPECT_LT(r.batchTimesMs[i] - sentAt[i], 100) << "step " << i + 1 << " waited in the bridge";
}

TEST(SessionBridge, FinishWithoutEventsStillArrives)
{
    SessionBridge bridge;
    QSignalSpy finished(&bridge, &SessionBridge::finished);
    QSignalSpy batches(&bridge, &SessionBridge::batch);
    std::thread worker([&] {
        RunOutcome o;
        o.status = RunOutcome::Status::Failed;
        o.error = QStringLiteral("/nowhere/model.bin: no such file");
        bridge.finish(o);
    });
    worker.join();
    ASSERT_TRUE(test::waitUntil([&] { return finished.count() == 1; }, 10000));
    EXPECT_EQ(batches.count(), 0);
    const auto o = finished.at(0).at(0).value<RunOutcome>();
    EXPECT_EQ(o.status, RunOutcome::Status::Failed);
    EXPECT_EQ(o.error, QStringLiteral("/nowhere/model.bin: no such file"));
}
