#include "core/store/run_reader.h"
#include "core/store/run_writer.h"
#include "core/util/error.h"
#include "store_test_util.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>

namespace mq {
namespace {

using test::sampleHeader;
using test::TempDir;

// Values a step writes are functions of the step, so a reader can check any row on its own.
double lossAt(std::int64_t step)
{
    return 1.0 / (1.0 + static_cast<double>(step));
}

TEST(RunFileRoundTrip, HeaderComesBackAsWritten)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    const RunHeader header = sampleHeader();
    RunWriter::create(path, header).close();

    const RunReader reader = RunReader::open(path);
    EXPECT_EQ(reader.schemaVersion(), 1);
    const RunHeader &read = reader.header();
    EXPECT_EQ(nlohmann::json::parse(read.configJson), nlohmann::json::parse(header.configJson));
    EXPECT_EQ(nlohmann::json::parse(read.precisionMapJson), nlohmann::json::parse(header.precisionMapJson));
    EXPECT_EQ(read.model.path, header.model.path);
    EXPECT_EQ(read.model.contentHash, header.model.contentHash);
    EXPECT_EQ(read.model.architecture, header.model.architecture);
    EXPECT_EQ(read.lossUnits, "mse");
    EXPECT_EQ(read.lrGroups, (std::vector<std::string> { "let", "lrl", "lwc" })); // sorted by name
    EXPECT_EQ(read.sites, header.sites); // order kept: it is the column order of /ranges
    ASSERT_EQ(read.vectorGroups.size(), 2u);
    EXPECT_EQ(read.vectorGroups[0].name, "clipping");
    EXPECT_EQ(read.vectorGroups[1].name, "scales");
    EXPECT_EQ(read.vectorGroups[1].series[0].name, "layers.0.qkv");
    EXPECT_EQ(read.vectorGroups[1].series[0].channels, 4u);
    ASSERT_EQ(read.histograms.size(), 1u);
    EXPECT_EQ(read.histograms[0].bins, 4u);
    ASSERT_EQ(read.checkpoints.size(), 1u);
    EXPECT_EQ(read.checkpoints[0].arrays[1].shape, (std::vector<std::size_t> { 3, 2 }));
    EXPECT_EQ(reader.checkpoint("latest").step, -1); // declared, never written
    EXPECT_TRUE(reader.train().step.empty());
}

TEST(RunFileRoundTrip, EveryKindOfRecord)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    {
        RunWriter writer = RunWriter::create(path, sampleHeader());
        for (std::int64_t step = 0; step < 2500; ++step) // more than one chunk
            writer.appendStep(
                step, lossAt(step), 0.5 * step, { { "let", 1e-3 }, { "lwc", 2e-3 }, { "lrl", 1e-4 * step } });
        writer.appendRanges(0, { -1.f, -2.f, -3.f }, { 1.f, 2.f, 3.f });
        writer.appendRanges(100, { -1.5f, -2.5f, -3.5f }, { 1.5f, 2.5f, 3.5f });
        writer.appendVectors("scales", 100, { { "layers.0.qkv", { 1, 2, 3, 4 } }, { "layers.0.up", { 5, 6 } } });
        writer.appendVectors(
            "scales", 200, { { "layers.0.qkv", { 1.5, 2.5, 3.5, 4.5 } }, { "layers.0.up", { 7, 8 } } });
        writer.appendVectors("clipping", 100,
            { { "layers.0.attn.q.weight", { 0.9f, 0.8f, 0.7f } }, { "layers.0.mlp.down.weight", { 0.95f } } });
        writer.appendHistogram("layers.0.mlp.down.in", 50, { -2, -1, 0, 1, 2 }, { 1, 10, 12, 3 });
        writer.writeCheckpoint("latest",
            { { "let.layers.0.qkv", { { 4 }, { 1, 2, 3, 4 } } },
                { "lwc.layers.0.q", { { 3, 2 }, { 1, 2, 3, 4, 5, 6 } } } },
            2499);
        writer.writeCheckpoint("extra", { { "lrl.fmin", { { 2 }, { -1, -2 } } } }, 7); // undeclared: created on demand
        writer.writeEval("wikitext2", R"({"perplexity": 12.5, "tokens": 4096, "split": "test"})");
        writer.appendStep(
            2500, lossAt(2500), 1250.0, { { "let", 1e-3 }, { "lwc", 2e-3 }, { "lrl", 0.25 } }); // still appends
        writer.close();
    }

    const RunReader reader = RunReader::open(path);
    const TrainSeries train = reader.train();
    ASSERT_EQ(train.step.size(), 2501u);
    ASSERT_EQ(train.loss.size(), 2501u);
    ASSERT_EQ(train.seconds.size(), 2501u);
    for (std::int64_t step = 0; step <= 2500; ++step) {
        ASSERT_EQ(train.step[step], step);
        ASSERT_EQ(train.loss[step], lossAt(step)); // float64 on disk: exact
        ASSERT_EQ(train.seconds[step], 0.5 * step);
    }
    EXPECT_EQ(train.lr.at("let")[7], 1e-3);
    EXPECT_EQ(train.lr.at("lrl")[2499], 1e-4 * 2499);
    EXPECT_EQ(train.lr.at("lrl")[2500], 0.25);

    const RangeSeries ranges = reader.ranges();
    EXPECT_EQ(ranges.step, (std::vector<std::int64_t> { 0, 100 }));
    EXPECT_EQ(ranges.sites, 3u);
    EXPECT_EQ(ranges.fmin, (std::vector<float> { -1, -2, -3, -1.5f, -2.5f, -3.5f }));
    EXPECT_EQ(ranges.fmax, (std::vector<float> { 1, 2, 3, 1.5f, 2.5f, 3.5f }));

    const VectorSeries scales = reader.vectors("scales");
    EXPECT_EQ(scales.step, (std::vector<std::int64_t> { 100, 200 }));
    EXPECT_EQ(scales.series.at("layers.0.qkv").rows, 2u);
    EXPECT_EQ(scales.series.at("layers.0.qkv").cols, 4u);
    EXPECT_EQ(scales.series.at("layers.0.qkv").values, (std::vector<float> { 1, 2, 3, 4, 1.5, 2.5, 3.5, 4.5 }));
    EXPECT_EQ(scales.series.at("layers.0.up").values, (std::vector<float> { 5, 6, 7, 8 }));
    const VectorSeries clipping = reader.vectors("clipping");
    EXPECT_EQ(clipping.series.at("layers.0.attn.q.weight").values, (std::vector<float> { 0.9f, 0.8f, 0.7f }));
    EXPECT_EQ(clipping.series.at("layers.0.mlp.down.weight").values, (std::vector<float> { 0.95f }));

    const HistogramSeries histogram = reader.histogram("layers.0.mlp.down.in");
    EXPECT_EQ(histogram.step, (std::vector<std::int64_t> { 50 }));
    EXPECT_EQ(histogram.bins, 4u);
    EXPECT_EQ(histogram.edges, (std::vector<float> { -2, -1, 0, 1, 2 }));
    EXPECT_EQ(histogram.counts, (std::vector<std::uint64_t> { 1, 10, 12, 3 }));

    EXPECT_EQ(reader.checkpointNames(), (std::vector<std::string> { "extra", "latest" }));
    const Checkpoint latest = reader.checkpoint("latest");
    EXPECT_EQ(latest.step, 2499);
    EXPECT_EQ(latest.arrays.at("let.layers.0.qkv").data, (std::vector<float> { 1, 2, 3, 4 }));
    EXPECT_EQ(latest.arrays.at("lwc.layers.0.q").shape, (std::vector<std::size_t> { 3, 2 }));
    EXPECT_EQ(latest.arrays.at("lwc.layers.0.q").data, (std::vector<float> { 1, 2, 3, 4, 5, 6 }));
    const Checkpoint extra = reader.checkpoint("extra");
    EXPECT_EQ(extra.step, 7);
    EXPECT_EQ(extra.arrays.at("lrl.fmin").data, (std::vector<float> { -1, -2 }));

    EXPECT_EQ(reader.evalNames(), (std::vector<std::string> { "wikitext2" }));
    const auto eval = nlohmann::json::parse(reader.eval("wikitext2"));
    EXPECT_EQ(eval.at("perplexity").get<double>(), 12.5);
    EXPECT_EQ(eval.at("split").get<std::string>(), "test");
}

TEST(RunFileRoundTrip, CheckpointIsOverwrittenByTheLatest)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    {
        RunWriter writer = RunWriter::create(path, sampleHeader());
        writer.writeCheckpoint("latest",
            { { "let.layers.0.qkv", { { 4 }, { 1, 1, 1, 1 } } },
                { "lwc.layers.0.q", { { 3, 2 }, { 0, 0, 0, 0, 0, 0 } } } },
            10);
        writer.writeCheckpoint("latest",
            { { "let.layers.0.qkv", { { 4 }, { 2, 2, 2, 2 } } },
                { "lwc.layers.0.q", { { 3, 2 }, { 1, 1, 1, 1, 1, 1 } } } },
            20);
        // A different layout replaces the old one entirely.
        writer.writeCheckpoint("latest", { { "only", { { 2 }, { 9, 9 } } } }, 30);
    }
    const Checkpoint latest = RunReader::open(path).checkpoint("latest");
    EXPECT_EQ(latest.step, 30);
    ASSERT_EQ(latest.arrays.size(), 1u);
    EXPECT_EQ(latest.arrays.at("only").data, (std::vector<float> { 9, 9 }));
}

TEST(RunFileRoundTrip, EvalIsReplacedAndKeepsOtherNames)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    {
        RunWriter writer = RunWriter::create(path, sampleHeader());
        writer.writeEval("wikitext2", R"({"perplexity": 20})");
        writer.writeEval("wikitext2", R"({"perplexity": 15})");
        writer.writeEval("c4", R"({"perplexity": 30})");
    }
    const RunReader reader = RunReader::open(path);
    EXPECT_EQ(reader.evalNames(), (std::vector<std::string> { "c4", "wikitext2" }));
    EXPECT_EQ(nlohmann::json::parse(reader.eval("wikitext2")).at("perplexity"), 15);
}

TEST(RunFileRoundTrip, ResumeAppendsAfterWhatIsThere)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    {
        RunWriter writer = RunWriter::create(path, sampleHeader());
        for (std::int64_t step = 0; step < 30; ++step)
            writer.appendStep(step, lossAt(step), step, { { "let", 0 }, { "lwc", 0 }, { "lrl", 0 } });
    }
    {
        // Resuming from the checkpoint of step 19 drops the rows recorded after it.
        RunWriter writer = RunWriter::openForResume(path, 19);
        EXPECT_EQ(writer.header().sites, sampleHeader().sites);
        for (std::int64_t step = 20; step < 25; ++step)
            writer.appendStep(step, lossAt(step), step, { { "let", 0 }, { "lwc", 0 }, { "lrl", 0 } });
    }
    const TrainSeries train = RunReader::open(path).train();
    ASSERT_EQ(train.step.size(), 25u);
    for (std::int64_t step = 0; step < 25; ++step)
        EXPECT_EQ(train.step[step], step);
}

TEST(RunFileRoundTrip, MinimalHeaderWithoutSitesOrGroups)
{
    TempDir dir;
    const std::string path = dir.file("minimal.h5");
    {
        RunWriter writer = RunWriter::create(path, RunHeader {});
        writer.appendStep(0, 0.5, 0.1, {});
        writer.appendRanges(0, {}, {});
    }
    const RunReader reader = RunReader::open(path);
    EXPECT_EQ(reader.train().loss, (std::vector<double> { 0.5 }));
    const RangeSeries ranges = reader.ranges();
    EXPECT_EQ(ranges.step, (std::vector<std::int64_t> { 0 }));
    EXPECT_EQ(ranges.sites, 0u);
    EXPECT_TRUE(reader.checkpointNames().empty());
}

TEST(RunFileRoundTrip, RejectsCallsThatDoNotMatchTheHeader)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    RunWriter writer = RunWriter::create(path, sampleHeader());
    EXPECT_THROW(writer.appendStep(0, 1, 0, { { "let", 0 } }), Error);
    EXPECT_THROW(writer.appendStep(0, 1, 0, { { "let", 0 }, { "lwc", 0 }, { "lrl", 0 }, { "other", 0 } }), Error);
    EXPECT_THROW(writer.appendRanges(0, { 1 }, { 2 }), Error);
    EXPECT_THROW(writer.appendVectors("scales", 0, { { "layers.0.qkv", { 1, 2, 3, 4 } } }), Error);
    EXPECT_THROW(writer.appendVectors("unknown", 0, {}), Error);
    EXPECT_THROW(writer.appendHistogram("layers.0.mlp.down.in", 0, { 0, 1 }, { 1 }), Error);
    EXPECT_THROW(writer.writeCheckpoint("latest", { { "a", { { 2, 2 }, { 1, 2, 3 } } } }, 0), Error);
    EXPECT_THROW(writer.writeEval("bad", "not json"), Error);
    writer.close();
    // None of the rejected calls left a partial row behind.
    const RunReader reader = RunReader::open(path);
    EXPECT_TRUE(reader.train().step.empty());
    EXPECT_TRUE(reader.ranges().step.empty());
}

TEST(RunFileRoundTrip, RefusesToOverwriteUnlessAsked)
{
    TempDir dir;
    const std::string path = dir.file("run.h5");
    RunWriter::create(path, sampleHeader()).close();
    try {
        RunWriter::create(path, sampleHeader());
        FAIL() << "expected mq::Error";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
    }
    RunHeader header = sampleHeader();
    header.sites = { "only.site" };
    RunWriter::create(path, header, RunWriter::IfExists::Overwrite).close();
    EXPECT_EQ(RunReader::open(path).header().sites, header.sites);
}

} // namespace
} // namespace mq
