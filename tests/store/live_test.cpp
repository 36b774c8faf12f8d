#include "core/store/run_reader.h"
#include "core/store/run_writer.h"
#include "store_test_util.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdint>
#include <sys/wait.h>
#include <unistd.h>

namespace mq {
namespace {

using test::sampleHeader;
using test::TempDir;

double lossAt(std::int64_t step)
{
    return 2.0 / (1.0 + static_cast<double>(step));
}

void appendStep(RunWriter &writer, std::int64_t step)
{
    writer.appendStep(step, lossAt(step), 0.01 * step, { { "let", 1e-3 }, { "lwc", 1e-3 }, { "lrl", 1e-4 } });
    const float s = static_cast<float>(step);
    writer.appendRanges(step, { -s, -s, -s }, { s, s, s });
}

// A separate process plays the worker: HDF5 shares one open file between handles of the same
// process, which would hide exactly the problems these tests look for.
struct Pipe
{
    int fds[2] = { -1, -1 };
    Pipe() { EXPECT_EQ(::pipe(fds), 0); }
    ~Pipe()
    {
        for (int fd : fds)
            if (fd >= 0)
                ::close(fd);
    }
    // Closes the end this process does not use, so a dead peer reads as end-of-file.
    void closeEnd(int which)
    {
        ::close(fds[which]);
        fds[which] = -1;
    }
    void send(std::int64_t value) const { (void)!::write(fds[1], &value, sizeof value); }
    bool receive(std::int64_t &value) const { return ::read(fds[0], &value, sizeof value) == sizeof value; }
};

TEST(RunFileLive, ReaderSeesFlushedStepsThenMoreAfterRefresh)
{
    TempDir dir;
    const std::string path = dir.file("live.h5");
    Pipe toParent, toChild;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        int status = 0;
        try {
            RunWriter writer = RunWriter::create(path, sampleHeader());
            std::int64_t go = 0;
            for (std::int64_t step = 0; step < 20; ++step)
                appendStep(writer, step);
            writer.flush();
            toParent.send(20);
            toChild.receive(go);
            for (std::int64_t step = 20; step < 50; ++step)
                appendStep(writer, step);
            // The declared layout is rewritten in place, without leaving SWMR.
            writer.writeCheckpoint("latest",
                { { "let.layers.0.qkv", { { 4 }, { 1, 2, 3, 4 } } },
                    { "lwc.layers.0.q", { { 3, 2 }, { 6, 5, 4, 3, 2, 1 } } } },
                49);
            writer.flush();
            toParent.send(50);
            toChild.receive(go);
            writer.close();
        } catch (...) {
            status = 1;
        }
        ::_exit(status);
    }
    toParent.closeEnd(1);
    toChild.closeEnd(0);

    std::int64_t flushed = 0;
    ASSERT_TRUE(toParent.receive(flushed));
    ASSERT_EQ(flushed, 20);
    const RunReader reader = RunReader::open(path);
    EXPECT_TRUE(reader.live());
    TrainSeries train = reader.train();
    ASSERT_EQ(train.step.size(), 20u);
    EXPECT_EQ(train.loss[19], lossAt(19));
    EXPECT_EQ(reader.ranges().step.size(), 20u);
    EXPECT_EQ(reader.checkpoint("latest").step, -1);

    toChild.send(1);
    ASSERT_TRUE(toParent.receive(flushed));
    ASSERT_EQ(flushed, 50);
    train = reader.train();
    ASSERT_EQ(train.step.size(), 50u);
    for (std::int64_t step = 0; step < 50; ++step) {
        EXPECT_EQ(train.step[step], step);
        EXPECT_EQ(train.loss[step], lossAt(step));
        EXPECT_EQ(train.lr.at("lrl")[step], 1e-4);
    }
    const RangeSeries ranges = reader.ranges();
    ASSERT_EQ(ranges.step.size(), 50u);
    EXPECT_EQ(ranges.fmax[49 * 3 + 2], 49.f);
    const Checkpoint checkpoint = reader.checkpoint("latest");
    EXPECT_EQ(checkpoint.step, 49);
    EXPECT_EQ(checkpoint.arrays.at("lwc.layers.0.q").data, (std::vector<float> { 6, 5, 4, 3, 2, 1 }));

    toChild.send(1);
    int status = -1;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

// The GUI and the worker thread may share a process: HDF5 then shares one file object between
// the reader and the writer, so the reader follows the writer (even before a flush).
TEST(RunFileLive, ReaderInTheWritersProcessFollowsIt)
{
    TempDir dir;
    const std::string path = dir.file("same.h5");
    RunWriter writer = RunWriter::create(path, sampleHeader());
    for (std::int64_t step = 0; step < 5; ++step)
        appendStep(writer, step);
    writer.flush();
    const RunReader reader = RunReader::open(path);
    EXPECT_EQ(reader.train().step.size(), 5u);
    for (std::int64_t step = 5; step < 8; ++step)
        appendStep(writer, step);
    writer.writeEval("wikitext2", R"({"perplexity": 9})"); // leaves and re-enters SWMR
    appendStep(writer, 8);
    writer.close();
    const TrainSeries train = reader.train();
    ASSERT_EQ(train.step.size(), 9u);
    EXPECT_EQ(train.loss[8], lossAt(8));
    EXPECT_EQ(RunReader::open(path).evalNames(), (std::vector<std::string> { "wikitext2" }));
}

TEST(RunFileLive, SigkilledWriterLeavesEveryFlushedStep)
{
    TempDir dir;
    const std::string path = dir.file("killed.h5");
    Pipe toParent;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        try {
            RunWriter writer = RunWriter::create(path, sampleHeader());
            for (std::int64_t step = 0;; ++step) {
                appendStep(writer, step);
                if ((step + 1) % 10 == 0) {
                    writer.flush();
                    toParent.send(step + 1);
                }
                if (step >= 100)
                    ::usleep(2000); // the slow tail, during which the kill lands
            }
        } catch (...) {
            ::_exit(1);
        }
    }
    toParent.closeEnd(1);

    std::int64_t flushed = 0, value = 0;
    while (flushed < 150 && toParent.receive(value))
        flushed = value;
    ASSERT_GE(flushed, 150) << "the writer stopped early";
    ::usleep(7000); // land between flushes, with unflushed rows in the writer's caches
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));
    while (toParent.receive(value)) // flushes reported just before the kill
        flushed = value;

    {
        const RunReader reader = RunReader::open(path);
        const TrainSeries train = reader.train();
        ASSERT_GE(static_cast<std::int64_t>(train.step.size()), flushed);
        EXPECT_EQ(train.loss.size(), train.step.size());
        EXPECT_EQ(train.seconds.size(), train.step.size());
        for (const auto &[group, lr] : train.lr)
            EXPECT_EQ(lr.size(), train.step.size()) << group;
        for (std::size_t i = 0; i < train.step.size(); ++i) {
            ASSERT_EQ(train.step[i], static_cast<std::int64_t>(i));
            ASSERT_EQ(train.loss[i], lossAt(train.step[i]));
        }
        const RangeSeries ranges = reader.ranges();
        ASSERT_GE(static_cast<std::int64_t>(ranges.step.size()), flushed);
        ASSERT_EQ(ranges.fmin.size(), ranges.step.size() * 3);
        EXPECT_EQ(ranges.fmin[(flushed - 1) * 3], -static_cast<float>(flushed - 1));
    }

    // The killed run can be resumed: the writer reopens it and appends after the rows kept.
    // (A reader and a writer of the same file in one process would share HDF5's file object.)
    const std::size_t kept = RunReader::open(path).train().step.size();
    {
        RunWriter writer = RunWriter::openForResume(path);
        appendStep(writer, static_cast<std::int64_t>(kept));
        writer.close();
    }
    const TrainSeries train = RunReader::open(path).train();
    ASSERT_EQ(train.step.size(), kept + 1);
    EXPECT_EQ(train.step.back(), static_cast<std::int64_t>(kept));
}

} // namespace
} // namespace mq
