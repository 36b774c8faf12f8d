// End-to-end runs of the `mq` command line on the real models in ../shared.
#include "../model/test_support.h"
#include "run_mq.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sys/wait.h>

namespace fs = std::filesystem;
using mq::test::freshDir;
using mq::test::sharedDir;
using mq::test::MqRun;
using mq::test::runMq;

namespace {

std::string stories() { return (sharedDir() / "models" / "stories260K" / "stories260K.bin").string(); }

nlohmann::json reference()
{
    std::ifstream in(sharedDir() / "reference" / "stories260K.json");
    return nlohmann::json::parse(in);
}

} // namespace

TEST(Cli, InfoDescribesStories260K)
{
    MqRun r = runMq("info " + stories() + " --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["architecture"], "llama");
    EXPECT_EQ(j["layers"], 5);
    EXPECT_EQ(j["kv_heads"], 4);
    EXPECT_EQ(j["attention_heads"], 8);
    EXPECT_EQ(j["vocab_size"], 512);
    // dim 64, hidden 172, 5 layers, tied: 512·64 + 5·(64·64·2 + 64·32·2 + 3·64·172 + 2·64) + 64
    EXPECT_EQ(j["parameters"], 512 * 64 + 5 * (64 * 64 * 2 + 64 * 32 * 2 + 3 * 64 * 172 + 2 * 64) + 64);
    EXPECT_EQ(j["sites"].size(), 5u * (20 + 9) + 2);
    EXPECT_NE(std::find(j["sites"].begin(), j["sites"].end(), "layers.3.mlp.down.in"), j["sites"].end());
}

TEST(Cli, LogitsMatchTheReferenceAtTheBosStep)
{
    MqRun r = runMq("logits " + stories() + " --tokens 1 --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    const auto &row = j["logits"][0];
    for (const auto &pair : reference()["bos_step_top5"])
        EXPECT_NEAR(row[pair[0].get<int>()].get<double>(), pair[1].get<double>(), 1e-4);
}

TEST(Cli, ConvertedModelGivesTheSameLogits)
{
    const fs::path dir = freshDir() / "hf";
    MqRun c = runMq("convert " + stories() + " --out " + dir.string());
    ASSERT_EQ(c.exitCode, 0) << c.err;
    EXPECT_TRUE(fs::exists(dir / "config.json"));
    EXPECT_TRUE(fs::exists(dir / "model.safetensors"));
    EXPECT_TRUE(fs::exists(dir / "tokenizer.model"));
    const std::string tokens = "1,403,407,261,378,432,383";
    auto a = nlohmann::json::parse(runMq("logits " + stories() + " --tokens " + tokens + " --all-positions").out);
    auto b = nlohmann::json::parse(runMq("logits " + dir.string() + " --tokens " + tokens + " --all-positions").out);
    ASSERT_EQ(a["logits"].size(), 7u);
    double worst = 0;
    for (size_t p = 0; p < 7; ++p)
        for (size_t v = 0; v < 512; ++v)
            worst = std::max(worst, std::abs(a["logits"][p][v].get<double>() - b["logits"][p][v].get<double>()));
    EXPECT_LE(worst, 1e-5);
}

TEST(Cli, GreedyGenerationReproducesTheReferenceText)
{
    MqRun r = runMq("generate " + stories() + " --prompt \"\" --max-tokens 96 --greedy --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    const auto ref = reference();
    std::vector<int> all = j["prompt_tokens"].get<std::vector<int>>();
    for (int t : j["tokens"])
        all.push_back(t);
    EXPECT_EQ(all, ref["greedy_tokens_from_BOS"].get<std::vector<int>>());
    EXPECT_EQ(j["text"], ref["greedy_text"]);
}

TEST(Cli, AidreamsLoadsAndGeneratesText)
{
    const std::string model = (sharedDir() / "models" / "aidreams260K" / "aidreams260K.bin").string();
    MqRun info = runMq("info " + model + " --json");
    ASSERT_EQ(info.exitCode, 0) << info.err;
    auto j = nlohmann::json::parse(info.out);
    EXPECT_EQ(j["kv_heads"], j["attention_heads"]); // MHA
    EXPECT_NE(j["tokenizer"].get<std::string>().find("tok512_aidreams.bin"), std::string::npos);
    MqRun r = runMq("generate " + model + " --prompt \"Once upon a time\" --max-tokens 40 --greedy --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto g = nlohmann::json::parse(r.out);
    EXPECT_GE(g["tokens"].size(), 10u);
    const std::string text = g["text"];
    EXPECT_EQ(text.rfind("Once upon a time", 0), 0u) << text;
    EXPECT_GT(text.size(), std::string("Once upon a time").size() + 20) << text;
}

TEST(Cli, EvalTextPerplexityIsSane)
{
    // First 2,000 tokens of the in-domain TinyStories sample: a 260K-parameter story model reaches
    // a perplexity well below 20 there (the reference sample's mean NLL is 0.39 nats).
    const std::string data = (sharedDir() / "data" / "tinystories" / "TinyStories-valid.sample30K.txt").string();
    MqRun r = runMq("eval " + stories() + " --task text --data " + data + " --seqlen 256 --max-tokens 2000 --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["tokens"], 1999);
    EXPECT_GT(j["token_perplexity"].get<double>(), 1.5);
    EXPECT_LT(j["token_perplexity"].get<double>(), 20.0);
}

TEST(Cli, LambadaScoresTheLastWord)
{
    // Two examples whose answers are known from the reference greedy text: after "a little girl
    // named" stories260K continues " Lily"; a made-up name cannot be the greedy continuation.
    const fs::path data = freshDir() / "lambada.jsonl";
    std::ofstream(data) << R"({"text": "Once upon a time, there was a little girl named Lily"})" << "\n"
                        << R"({"text": "Once upon a time, there was a little girl named Zqxvbr"})" << "\n";
    MqRun r = runMq("eval " + stories() + " --task lambada --data " + data.string() + " --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["examples"], 2);
    EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), 0.5);
}

TEST(Cli, EvalTextMatchesTheReferenceSampleNll)
{
    // The reference sample is one window starting at BOS: token perplexity = exp(mean NLL).
    const fs::path data = freshDir() / "sample.txt";
    std::ofstream(data) << reference()["sample_text"].get<std::string>();
    MqRun r = runMq("eval " + stories() + " --task text --data " + data.string() + " --seqlen 256 --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["tokens"].get<size_t>() + 1, reference()["sample_tokens"].size());
    EXPECT_NEAR(j["nll_per_token"].get<double>(), reference()["sample_mean_nll_nats"].get<double>(), 1e-4);
}

TEST(Cli, ErrorsAreWordsAndExitCodes)
{
    MqRun missing = runMq("info /nonexistent/model.bin");
    EXPECT_EQ(missing.exitCode, 1);
    EXPECT_NE(missing.err.find("/nonexistent/model.bin: no such file"), std::string::npos) << missing.err;
    MqRun unknown = runMq("frobnicate");
    EXPECT_EQ(unknown.exitCode, 2);
    EXPECT_NE(unknown.err.find("unknown command"), std::string::npos);
    MqRun badOpt = runMq("info " + stories() + " --nope");
    EXPECT_EQ(badOpt.exitCode, 1);
    EXPECT_NE(badOpt.err.find("unknown option --nope"), std::string::npos) << badOpt.err;
    MqRun badTask = runMq("eval " + stories() + " --task glue --data x");
    EXPECT_NE(badTask.err.find("--task must be"), std::string::npos) << badTask.err;
}

TEST(Cli, EveryCommandHasHelp)
{
    for (const char *cmd : {"info", "generate", "logits", "eval", "convert", "calibrate", "runs", "synth"}) {
        MqRun r = runMq(std::string(cmd) + " --help");
        EXPECT_EQ(r.exitCode, 0) << cmd;
        EXPECT_NE(r.out.find("usage: mq " + std::string(cmd)), std::string::npos) << cmd << ": " << r.out;
    }
}

TEST(Cli, SynthWritesALabelledRandomModelOfRealShapes)
{
    const fs::path dir = freshDir() / "tinyllama";
    MqRun w = runMq("synth --shape tinyllama-1.1b --layers 1 --dtype BF16 --out " + dir.string());
    ASSERT_EQ(w.exitCode, 0) << w.err;
    EXPECT_TRUE(fs::exists(dir / "README.txt"));
    MqRun r = runMq("info " + dir.string() + " --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = nlohmann::json::parse(r.out);
    EXPECT_NE(j["synthetic"].get<std::string>().find("random weights"), std::string::npos);
    EXPECT_EQ(j["hidden_size"], 2048);
    EXPECT_EQ(j["intermediate_size"], 5632);
    EXPECT_EQ(j["attention_heads"], 32);
    EXPECT_EQ(j["kv_heads"], 4);
    EXPECT_EQ(j["head_dim"], 64);
    EXPECT_EQ(j["vocab_size"], 32000);
    // Untied embeddings and head, one layer: 2·32000·2048 + q,o 2048² each + k,v 256·2048 each +
    // 3·2048·5632 + 2 norms·2048 + final norm 2048.
    const int64_t expected = 2LL * 32000 * 2048 + 2LL * 2048 * 2048 + 2LL * 256 * 2048 + 3LL * 2048 * 5632 + 3LL * 2048;
    EXPECT_EQ(j["parameters"].get<int64_t>(), expected);
    MqRun text = runMq("info " + dir.string());
    EXPECT_NE(text.out.find("WARNING        random weights"), std::string::npos) << text.out;
    MqRun logits = runMq("logits " + dir.string() + " --tokens 1,2,3");
    EXPECT_EQ(logits.exitCode, 0) << logits.err;
    fs::remove_all(dir);
    MqRun bad = runMq("synth --shape llama-70b --out " + dir.string());
    EXPECT_NE(bad.err.find("unknown --shape 'llama-70b'"), std::string::npos) << bad.err;
}
