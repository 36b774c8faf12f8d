// The calibration Session as the GUI drives it: a worker thread, pause/resume/cancel from another
// thread, events to a listener, everything in the run file.
#include "../model/test_support.h"

#include "core/calib/session.h"
#include "core/store/run_reader.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

using namespace mq;
namespace fs = std::filesystem;

namespace {

class Listener : public SessionListener
{
public:
    void stage(const std::string &) override {}
    void step(const StepEvent &e) override
    {
        steps.store(e.step);
        std::lock_guard<std::mutex> lock(mutex);
        lrGroups = e.learningRates.size();
        eta = e.etaSeconds;
    }
    void snapshot(const SnapshotEvent &e) override
    {
        std::lock_guard<std::mutex> lock(mutex);
        snapshots.push_back(e.step);
        histogramSites = e.histograms.size();
    }
    void checkpoint(int64_t, const std::map<std::string, std::vector<float>> &,
                    const std::map<std::string, std::vector<int64_t>> &) override
    {
    }
    void finished(const SessionResult &r) override { status = int(r.status); }

    std::atomic<int64_t> steps{0};
    std::atomic<int> status{-1};
    std::mutex mutex;
    std::vector<int64_t> snapshots;
    size_t histogramSites = 0;
    size_t lrGroups = 0;
    double eta = -1;
};

SessionConfig config(const fs::path &dir, int epochs)
{
    std::ifstream in(test::sharedDir() / "data" / "tinystories" / "TinyStories-valid.sample30K.txt");
    std::ofstream out(dir / "calib.txt");
    std::string line;
    for (int i = 0; i < 6 && std::getline(in, line); ++i)
        out << line << "\n";
    SessionConfig c;
    c.modelPath = (test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string();
    c.method = "mobilequant";
    c.calibPath = (dir / "calib.txt").string();
    c.samples = 4;
    c.seqLen = 64;
    c.train.epochs = epochs;
    c.snapshotEvery = 5;
    c.checkpointEvery = 5;
    c.threads = 1;
    c.watchSites = {"layers.0.mlp.down.in", "layers.4.attn.qk.out"};
    c.runPath = (dir / "run.h5").string();
    return c;
}

template <typename Pred>
bool waitFor(Pred pred, std::chrono::seconds limit = std::chrono::seconds(60))
{
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
}

} // namespace

TEST(Session, PauseHoldsTheWorkerAndResumeFinishesTheRun)
{
    const fs::path dir = test::freshDir();
    Listener listener;
    Session session(config(dir, 10), &listener);
    session.start();
    ASSERT_TRUE(waitFor([&] { return listener.steps.load() >= 3; }));
    session.pause();
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // let the current step end
    const int64_t heldAt = listener.steps.load();
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    EXPECT_EQ(listener.steps.load(), heldAt) << "no step runs while paused";
    session.resume();
    const SessionResult r = session.wait();
    EXPECT_EQ(r.status, SessionResult::Status::Finished) << r.error;
    EXPECT_EQ(r.steps, 40);
    EXPECT_EQ(listener.status.load(), int(SessionResult::Status::Finished));
    EXPECT_EQ(listener.lrGroups, 3u); // let, lwc, lrl
    EXPECT_GE(listener.eta, 0.0);
    EXPECT_EQ(listener.histogramSites, 2u);

    RunReader file = RunReader::open(config(dir, 10).runPath);
    EXPECT_EQ(file.train().step.size(), 40u);
    EXPECT_EQ(file.ranges().step.size(), listener.snapshots.size());
    EXPECT_EQ(file.histogram("layers.0.mlp.down.in").step.size(), listener.snapshots.size());
    EXPECT_EQ(file.checkpoint("learned").step, 40);
}

TEST(Session, CancelStopsWithinOneStepAndKeepsTheFile)
{
    const fs::path dir = test::freshDir();
    Listener listener;
    Session session(config(dir, 50), &listener);
    session.start();
    ASSERT_TRUE(waitFor([&] { return listener.steps.load() >= 12; }));
    session.cancel();
    const int64_t atCancel = listener.steps.load();
    const SessionResult r = session.wait();
    EXPECT_EQ(r.status, SessionResult::Status::Cancelled);
    EXPECT_LE(listener.steps.load(), atCancel + 1) << "at most the step in flight finishes";
    RunReader file = RunReader::open(config(dir, 50).runPath);
    EXPECT_GE(file.checkpoint("learned").step, 10);
}

TEST(Session, ErrorsBecomeResultsNotCrashes)
{
    const fs::path dir = test::freshDir();
    SessionConfig c = config(dir, 1);
    c.calibPath = (dir / "missing.txt").string();
    Listener listener;
    Session session(c, &listener);
    session.start();
    const SessionResult r = session.wait();
    EXPECT_EQ(r.status, SessionResult::Status::Failed);
    EXPECT_NE(r.error.find("missing.txt"), std::string::npos) << r.error;
    EXPECT_EQ(listener.status.load(), int(SessionResult::Status::Failed));
}
