// Bad checkpoints get an mq::Error that names the file (and the tensor) and says what is wrong;
// never a crash. One test per case.
#include "test_support.h"
#include "tiny_models.h"

#include "core/model/model.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>

using namespace mq;
namespace fs = std::filesystem;

namespace {

std::string storiesBin() { return (test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string(); }

// The message of the mq::Error that `f` throws ("" if it throws nothing, fails on other types).
template <typename F>
std::string errorOf(F f)
{
    try {
        f();
    } catch (const mq::Error &e) {
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "threw a non-mq exception: " << e.what();
        return e.what();
    }
    ADD_FAILURE() << "no error was thrown";
    return "";
}

std::vector<char> readAll(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void writeAll(const fs::path &path, const std::vector<char> &bytes)
{
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// A tiny llama checkpoint whose tensors / config the test then damages.
fs::path tinyLlama(const std::function<void(std::map<std::string, at::Tensor> &, nlohmann::json &)> &damage)
{
    test::TinyFamily f = test::tinyFamilies().front();
    auto tensors = test::tinyTensors(f, 3);
    nlohmann::json cfg = nlohmann::json::parse(f.configJson);
    damage(tensors, cfg);
    f.configJson = cfg.dump();
    return test::writeTinyCheckpoint(test::freshDir(), f, tensors);
}

// Overwrites the safetensors header JSON of `file` (keeping the data section).
void rewriteHeader(const fs::path &file, const std::function<void(nlohmann::json &)> &edit)
{
    std::vector<char> bytes = readAll(file.string());
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    nlohmann::json h = nlohmann::json::parse(std::string(bytes.data() + 8, n));
    edit(h);
    std::string text = h.dump();
    text.resize(n, ' ');
    ASSERT_EQ(text.size(), n) << "edited header must keep its size";
    std::memcpy(bytes.data() + 8, text.data(), n);
    writeAll(file, bytes);
}

} // namespace

TEST(BadInput, TruncatedLlama2cFile)
{
    std::vector<char> bytes = readAll(storiesBin());
    bytes.resize(bytes.size() / 2);
    const fs::path file = test::freshDir() / "cut.bin";
    writeAll(file, bytes);
    const std::string msg = errorOf([&] { loadModel(file.string()); });
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
}

TEST(BadInput, NotALlama2cFile)
{
    const fs::path file = test::freshDir() / "notes.bin";
    std::ofstream(file) << "these are not the weights you are looking for, but they are long enough";
    const std::string msg = errorOf([&] { loadModel(file.string()); });
    EXPECT_NE(msg.find("not a llama2.c checkpoint"), std::string::npos) << msg;
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
}

TEST(BadInput, EmptyFile)
{
    const fs::path file = test::freshDir() / "empty.bin";
    std::ofstream{file};
    EXPECT_NE(errorOf([&] { loadModel(file.string()); }).find("too short"), std::string::npos);
}

TEST(BadInput, QuantizedLlama2cExportIsRejectedWithAHint)
{
    std::vector<char> bytes(256, 0);
    const uint32_t magic = 0x616b3432;
    const int32_t version = 2;
    std::memcpy(bytes.data(), &magic, 4);
    std::memcpy(bytes.data() + 4, &version, 4);
    const fs::path file = test::freshDir() / "q80.bin";
    writeAll(file, bytes);
    EXPECT_NE(errorOf([&] { loadModel(file.string()); }).find("version 2"), std::string::npos);
}

TEST(BadInput, MissingTensorIsNamed)
{
    const fs::path dir = tinyLlama([](auto &t, auto &) { t.erase("model.layers.1.mlp.up_proj.weight"); });
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("model.layers.1.mlp.up_proj.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lacks"), std::string::npos) << msg;
}

TEST(BadInput, MisshapenTensorIsNamed)
{
    const fs::path dir = tinyLlama([](auto &t, auto &) { t["model.layers.0.self_attn.k_proj.weight"] = at::zeros({8, 32}); });
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("model.layers.0.self_attn.k_proj.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[8, 32]"), std::string::npos) << msg;
    EXPECT_NE(msg.find("[16, 32]"), std::string::npos) << msg;
}

TEST(BadInput, ConfigThatDoesNotMatchTheWeights)
{
    const fs::path dir = tinyLlama([](auto &, auto &cfg) { cfg["hidden_size"] = 48; });
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("does not belong"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.embed_tokens.weight"), std::string::npos) << msg;
}

TEST(BadInput, UntiedConfigWithoutLmHead)
{
    const fs::path dir = tinyLlama([](auto &t, auto &) { t.erase("lm_head.weight"); });
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("lm_head.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("untied"), std::string::npos) << msg;
}

TEST(BadInput, UnknownDtype)
{
    const fs::path dir = tinyLlama([](auto &, auto &) {});
    rewriteHeader(dir / "model.safetensors", [](nlohmann::json &h) { h["model.norm.weight"]["dtype"] = "F8"; });
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("model.norm.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("F8"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

TEST(BadInput, SafetensorsOffsetsThatLie)
{
    const fs::path dir = tinyLlama([](auto &, auto &) {});
    rewriteHeader(dir / "model.safetensors", [](nlohmann::json &h) {
        auto &o = h["model.embed_tokens.weight"]["data_offsets"];
        o[1] = o[1].get<uint64_t>() + 1000000;
        o[0] = o[0].get<uint64_t>() + 1000000;
    });
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("model.embed_tokens.weight"), std::string::npos) << msg;
}

TEST(BadInput, TruncatedSafetensors)
{
    const fs::path dir = tinyLlama([](auto &, auto &) {});
    std::vector<char> bytes = readAll((dir / "model.safetensors").string());
    bytes.resize(bytes.size() - 100);
    writeAll(dir / "model.safetensors", bytes);
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
}

TEST(BadInput, MissingConfigJson)
{
    const fs::path dir = tinyLlama([](auto &, auto &) {});
    fs::remove(dir / "config.json");
    EXPECT_NE(errorOf([&] { loadModel(dir.string()); }).find("config.json"), std::string::npos);
}

TEST(BadInput, ConfigIsNotJson)
{
    const fs::path dir = tinyLlama([](auto &, auto &) {});
    std::ofstream(dir / "config.json") << "{\"model_type\": \"llama\", ";
    EXPECT_NE(errorOf([&] { loadModel(dir.string()); }).find("not valid JSON"), std::string::npos);
}

TEST(BadInput, UnsupportedModelType)
{
    const fs::path dir = tinyLlama([](auto &, auto &cfg) { cfg["model_type"] = "gpt_neox"; });
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("gpt_neox"), std::string::npos) << msg;
    EXPECT_NE(msg.find("supported"), std::string::npos) << msg;
}

TEST(BadInput, HeadsThatDoNotDivide)
{
    const fs::path dir = tinyLlama([](auto &, auto &cfg) { cfg["num_key_value_heads"] = 3; });
    EXPECT_NE(errorOf([&] { loadModel(dir.string()); }).find("num_key_value_heads"), std::string::npos);
}

TEST(BadInput, TokenizerThatDoesNotMatchTheVocabulary)
{
    // The tiny model has 50 tokens; a 512-token llama2.c tokenizer does not belong to it.
    const fs::path dir = tinyLlama([](auto &, auto &) {});
    fs::copy_file(test::sharedDir() / "models" / "stories260K" / "tok512.bin", dir / "tokenizer.bin");
    const std::string msg = errorOf([&] { loadModel(dir.string()); });
    EXPECT_NE(msg.find("tokenizer.bin"), std::string::npos) << msg;
    EXPECT_NE(msg.find("512"), std::string::npos) << msg;
    EXPECT_NE(msg.find("50"), std::string::npos) << msg;
}

TEST(BadInput, TokenIdOutsideTheVocabulary)
{
    auto [c, w] = readLlama2c(storiesBin());
    Transformer t(c, w);
    const std::string msg = errorOf([&] { t.forward(at::tensor(std::vector<int64_t>{1, 600}, at::kLong).unsqueeze(0)); });
    EXPECT_NE(msg.find("600"), std::string::npos) << msg;
}

TEST(BadInput, MissingPath)
{
    EXPECT_NE(errorOf([&] { loadModel("/nonexistent/model.bin"); }).find("no such file"), std::string::npos);
}
