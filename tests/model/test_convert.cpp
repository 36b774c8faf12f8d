// llama2.c → Hugging Face conversion: the converted directory computes the same function
// (F32 ≤ 1e-5; F16/BF16 equal to the original with its weights rounded to that precision), in one
// file or shards; untied-classifier and version-1 llama2.c files load.
#include "test_support.h"

#include "core/model/model.h"
#include "core/safetensors/safetensors.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cstring>
#include <fstream>
#include <iterator>

using namespace mq;
namespace fs = std::filesystem;

namespace {

const std::vector<int64_t> kTokens = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315};

std::string storiesBin() { return (test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string(); }

at::Tensor logitsOf(const ModelConfig &c, const ModelWeights &w)
{
    c10::NoGradGuard g;
    return Transformer(c, w).forward(at::tensor(kTokens, at::kLong).unsqueeze(0))[0];
}

ModelWeights rounded(const ModelWeights &w, at::ScalarType t)
{
    ModelWeights r = w;
    auto round = [&](at::Tensor &x) {
        if (x.defined())
            x = x.to(t).to(at::kFloat);
    };
    round(r.embed);
    round(r.finalNormW);
    for (LayerWeights &l : r.layers)
        for (WeightSite s : {WeightSite::AttnNorm, WeightSite::Q, WeightSite::K, WeightSite::V, WeightSite::O,
                             WeightSite::MlpNorm, WeightSite::Gate, WeightSite::Up, WeightSite::Down})
            round(l.weight(s));
    r.lmHead = r.embed;
    return r;
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

} // namespace

TEST(Convert, Float32DirectoryGivesTheSameLogits)
{
    auto [c, w] = readLlama2c(storiesBin());
    const fs::path dir = test::freshDir();
    writeHuggingFace(dir.string(), c, w, "F32");
    auto [c2, w2] = readHuggingFace(dir.string());
    EXPECT_EQ(c2.numKvHeads, 4);
    EXPECT_EQ(c2.numHeads, 8);
    EXPECT_TRUE(c2.tiedEmbeddings);
    EXPECT_LE((logitsOf(c, w) - logitsOf(c2, w2)).abs().max().item<double>(), 1e-5);
}

TEST(Convert, HalfAndBFloat16KeepTheFunctionWithinTheirPrecision)
{
    auto [c, w] = readLlama2c(storiesBin());
    const at::Tensor original = logitsOf(c, w);
    for (auto [name, type, loose] : {std::tuple{"F16", at::kHalf, 2e-2}, std::tuple{"BF16", at::kBFloat16, 2e-1}}) {
        const fs::path dir = test::freshDir(std::string("-") + name);
        writeHuggingFace(dir.string(), c, w, name);
        auto [c2, w2] = readHuggingFace(dir.string());
        const at::Tensor converted = logitsOf(c2, w2);
        // Exactly the function of the rounded weights …
        EXPECT_LE((converted - logitsOf(c, rounded(w, type))).abs().max().item<double>(), 1e-5) << name;
        // … and close to the float32 original.
        EXPECT_LE((converted - original).abs().max().item<double>(), loose) << name;
        EXPECT_EQ(converted.argmax(-1).eq(original.argmax(-1)).sum().item<int64_t>(), int64_t(kTokens.size())) << name;
    }
}

TEST(Convert, ShardedDirectoryLoadsTheSame)
{
    auto [c, w] = readLlama2c(storiesBin());
    const fs::path dir = test::freshDir();
    writeHuggingFace(dir.string(), c, w, "F32", 300 * 1024); // ~1 MB of weights → 4 shards
    EXPECT_TRUE(fs::exists(dir / "model.safetensors.index.json"));
    EXPECT_FALSE(fs::exists(dir / "model.safetensors"));
    int shards = 0;
    for (const auto &e : fs::directory_iterator(dir))
        shards += e.path().extension() == ".safetensors";
    EXPECT_GE(shards, 3);
    auto [c2, w2] = readHuggingFace(dir.string());
    EXPECT_LE((logitsOf(c, w) - logitsOf(c2, w2)).abs().max().item<double>(), 1e-5);
}

TEST(Convert, UntiedLegacyClassifierIsUsed)
{
    // The legacy export marks an untied classifier with a negative vocab size and appends it.
    std::vector<char> bytes = readAll(storiesBin());
    int32_t vocab = 0;
    std::memcpy(&vocab, bytes.data() + 20, 4);
    ASSERT_EQ(vocab, 512);
    const int32_t negative = -vocab;
    std::memcpy(bytes.data() + 20, &negative, 4);
    at::Tensor wcls = at::randn({512, 64}, at::kFloat);
    const char *p = reinterpret_cast<const char *>(wcls.data_ptr<float>());
    bytes.insert(bytes.end(), p, p + wcls.numel() * 4);
    const fs::path file = test::freshDir() / "untied.bin";
    writeAll(file, bytes);

    auto [c, w] = readLlama2c(file.string());
    auto [ct, wt] = readLlama2c(storiesBin());
    EXPECT_FALSE(c.tiedEmbeddings);
    EXPECT_TRUE(at::equal(w.lmHead, wcls));
    c10::NoGradGuard g;
    Transformer untied(c, w), tied(ct, wt);
    at::Tensor in = at::tensor(kTokens, at::kLong).unsqueeze(0);
    at::Tensor hidden = tied.hiddenStates(in);
    at::Tensor normed = hidden * at::rsqrt(hidden.pow(2).mean(-1, true) + 1e-5) * wt.finalNormW;
    EXPECT_LE((untied.forward(in) - at::matmul(normed, wcls.t())).abs().max().item<double>(), 1e-4);

    // Round trip through HF keeps lm_head separate.
    const fs::path dir = test::freshDir("-hf");
    writeHuggingFace(dir.string(), c, w);
    auto [c2, w2] = readHuggingFace(dir.string());
    EXPECT_FALSE(c2.tiedEmbeddings);
    EXPECT_TRUE(at::equal(w2.lmHead, wcls));
}

TEST(Convert, Version1ExportLoadsLikeTheLegacyOne)
{
    // llama2.c export.py "version 1": 256-byte header (magic "ak42", version, 7 ints, shared flag),
    // then norms, embeddings, then wq wk wv wo w1 w2 w3 for all layers (no RoPE tables).
    const std::vector<char> legacy = readAll(storiesBin());
    const int D = 64, F = 172, L = 5, V = 512, KV = 32;
    const float *f = reinterpret_cast<const float *>(legacy.data() + 28);
    size_t off = 0;
    auto slice = [&](size_t n) {
        std::vector<float> v(f + off, f + off + n);
        off += n;
        return v;
    };
    auto emb = slice(size_t(V) * D), att = slice(size_t(L) * D), wq = slice(size_t(L) * D * D),
         wk = slice(size_t(L) * D * KV), wv = slice(size_t(L) * D * KV), wo = slice(size_t(L) * D * D),
         ffn = slice(size_t(L) * D), w1 = slice(size_t(L) * D * F), w2 = slice(size_t(L) * D * F),
         w3 = slice(size_t(L) * D * F), fin = slice(D);
    std::vector<char> out(256, 0);
    const uint32_t magic = 0x616b3432;
    const int32_t header[8] = {1, D, F, L, 8, 4, V, 512};
    std::memcpy(out.data(), &magic, 4);
    std::memcpy(out.data() + 4, header, sizeof header);
    out[36] = 1; // shared classifier
    for (const auto *v : {&att, &ffn, &fin, &emb, &wq, &wk, &wv, &wo, &w1, &w2, &w3}) {
        const char *b = reinterpret_cast<const char *>(v->data());
        out.insert(out.end(), b, b + v->size() * 4);
    }
    const fs::path file = test::freshDir() / "v1.bin";
    writeAll(file, out);
    auto [c, w] = readLlama2c(file.string());
    auto [c0, w0] = readLlama2c(storiesBin());
    EXPECT_LE((logitsOf(c, w) - logitsOf(c0, w0)).abs().max().item<double>(), 1e-6);
}
