// The mq-run executable as a user (or the benchmark scripts) calls it, on tiny random packages.
#include "../runtime/tiny_package.h"

#include "core/runtime/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace mq;
namespace fs = std::filesystem;

namespace {

struct Result
{
    int status = -1;
    std::string out;
};

// Runs mq-run with `args`; stdout captured, stderr merged when `merge`.
Result run(const std::string &args, bool merge = false)
{
    const std::string cmd = std::string(MQ_RUN_BINARY) + " " + args + (merge ? " 2>&1" : " 2>/dev/null");
    Result r;
    FILE *p = popen(cmd.c_str(), "r");
    if (!p)
        return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        r.out.append(buf, n);
    r.status = pclose(p);
    return r;
}

fs::path writePackage(ModelVariant v)
{
    const fs::path dir = fs::temp_directory_path() / "mq-tests" / ("MqRun-" + std::to_string(getpid())); // ctest runs tests in parallel
    fs::create_directories(dir);
    const fs::path path = dir / (std::string("tiny-") + modelVariantName(v) + ".mqpkg");
    const std::vector<uint8_t> bytes = test::tinyPackageBytes(test::tinyPackageTensors(v));
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(bytes.data()), std::streamsize(bytes.size()));
    return path;
}

} // namespace

TEST(MqRun, HelpAndVersion)
{
    const Result v = run("--version");
    EXPECT_EQ(v.status, 0);
    EXPECT_NE(v.out.find("mq-run"), std::string::npos);
    for (const char *cmd : {"generate", "eval", "bench", "info"}) {
        const Result h = run(std::string(cmd) + " --help");
        EXPECT_EQ(h.status, 0) << cmd;
        EXPECT_NE(h.out.find("usage: mq-run " + std::string(cmd)), std::string::npos) << h.out;
    }
    EXPECT_NE(run("bench --help").out.find("--power-files"), std::string::npos);
}

TEST(MqRun, InfoDescribesThePackage)
{
    const Result r = run("info " + writePackage(ModelVariant::W4A8).string() + " --tensors");
    ASSERT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("variant      w4a8"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("2 layers, hidden 16"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("layers.1.mlp.down.weight"), std::string::npos) << r.out;
}

TEST(MqRun, EvalOfTokenIdsMatchesTheLibrary)
{
    const fs::path pkg = writePackage(ModelVariant::W8A8);
    const fs::path ids = pkg.parent_path() / "ids.txt";
    std::vector<int32_t> v;
    {
        std::ofstream out(ids);
        for (int i = 0; i < 50; ++i) {
            v.push_back((i * 5 + 1) % 32);
            out << v.back() << (i % 10 == 9 ? "\n" : " ");
        }
    }
    const Result r = run("eval " + pkg.string() + " --data " + ids.string() + " --ids --seq-len 16 --json");
    ASSERT_EQ(r.status, 0) << r.out;
    auto m = ModelExecutor::open(pkg.string());
    const RuntimePerplexity ref = runtimePerplexity(*m, v, 16);
    char expect[64];
    std::snprintf(expect, sizeof expect, "\"token_perplexity\": %.9g", ref.perplexity());
    EXPECT_NE(r.out.find(expect), std::string::npos) << r.out << "\nexpected " << expect;
    EXPECT_NE(r.out.find("\"tokens\": 49"), std::string::npos) << r.out;
}

TEST(MqRun, BenchReportsLatenciesAndPowerSamples)
{
    const fs::path pkg = writePackage(ModelVariant::A16);
    const fs::path power = pkg.parent_path() / "current_now";
    std::ofstream(power) << "-123456\n";
    const Result r = run("bench " + pkg.string() + " --prompt-tokens 12 --decode-tokens 4 --warmup 1 --repeats 3 --json "
        "--power-files " + power.string() + "," + (pkg.parent_path() / "missing").string() + " --power-hz 200");
    ASSERT_EQ(r.status, 0) << r.out;
    for (const char *key : {"\"prompt_seconds\": {\"median\"", "\"p10\"", "\"p90\"", "\"mean\"",
             "\"decode_seconds_per_token\"", "\"prompt_tokens_per_second\"", "\"decode_tokens_per_second\"",
             "\"peak_rss_bytes\"", "\"samples\": [", "\"values\": [\"-123456\", \"\"]", "\"name\": \"prompt:begin\"",
             "\"name\": \"decode:end\"", "\"read_errors\""})
        EXPECT_NE(r.out.find(key), std::string::npos) << key << "\n" << r.out;
    // 3 measured repeats: 3 prompt:begin marks.
    size_t marks = 0;
    for (size_t pos = 0; (pos = r.out.find("prompt:begin", pos)) != std::string::npos; ++pos)
        ++marks;
    EXPECT_EQ(marks, 3u);
}

TEST(MqRun, BenchProfileTimesEveryOperationInTheTableAndTheJson)
{
    const fs::path pkg = writePackage(ModelVariant::W8A8);
    const Result r = run("bench " + pkg.string() + " --prompt-tokens 20 --decode-tokens 3 --warmup 1 --repeats 2 --json "
        "--profile", true);
    ASSERT_EQ(r.status, 0) << r.out;
    // The table on stderr: one row per operation, then "other" and the measured total.
    for (const char *row : {"operation", "norms", "linear products", "linear requantization", "softmax",
             "attention q·k", "attention p·v", "activation, gate·up", "residual adds", "other", "total (measured)"})
        EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
    // The JSON: seconds per prompt pass and per decoded token, by operation.
    const size_t profile = r.out.find("\"profile\": {");
    ASSERT_NE(profile, std::string::npos) << r.out;
    for (const char *key : {"\"prompt\": {", "\"decode\": {", "\"linear_products\": ", "\"softmax\": ",
             "\"attention_scores\": ", "\"other\": ", "\"total\": "})
        EXPECT_NE(r.out.find(key, profile), std::string::npos) << key << "\n" << r.out;
    // The products were timed: a positive time in the prompt's section.
    const size_t products = r.out.find("\"linear_products\": ", profile);
    ASSERT_NE(products, std::string::npos);
    EXPECT_GT(std::stod(r.out.substr(products + std::string("\"linear_products\": ").size())), 0.0) << r.out;
    EXPECT_NE(r.out.find("\"prompt_cpu_seconds\": {\"median\""), std::string::npos) << r.out;
}

TEST(MqRun, GenerateFromTokenIdsIsGreedy)
{
    const fs::path pkg = writePackage(ModelVariant::FP32);
    const Result r = run("generate " + pkg.string() + " --prompt-ids 1,5,9 --tokens 5");
    ASSERT_EQ(r.status, 0) << r.out;
    // The library's greedy continuation, token by token.
    auto m = ModelExecutor::open(pkg.string());
    std::vector<int32_t> ids = {1, 5, 9};
    std::vector<float> logits;
    m->forward(ids.data(), 3, logits, false);
    std::string expect;
    for (int i = 0; i < 5; ++i) {
        int32_t next = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
        if (next == 2)
            break;
        expect += std::to_string(next) + " ";
        m->forward(&next, 1, logits, false);
    }
    EXPECT_NE(r.out.find(expect), std::string::npos) << r.out << " vs " << expect;
}

TEST(MqRun, BadInputGivesAClearError)
{
    Result r = run("info /nonexistent/model.mqpkg", true);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.out.find("mq-run info: error:"), std::string::npos) << r.out;
    r = run("bench " + writePackage(ModelVariant::W8A8).string() + " --prompt-tokens 30 --decode-tokens 10", true);
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.out.find("exceed the model's context of 32"), std::string::npos) << r.out;
    r = run("eval " + writePackage(ModelVariant::W8A8).string() + " --frobnicate", true);
    EXPECT_NE(r.out.find("unknown option --frobnicate"), std::string::npos) << r.out;
}
