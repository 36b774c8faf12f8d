// LET pairs and SmoothQuant (mobilequant-method.md §2): without quantization every transformation
// must leave the model's function unchanged; the reference is the untransformed model's output.
#include "quant_test_models.h"

#include "core/quant/act_stats.h"
#include "core/quant/let.h"
#include "core/util/error.h"

#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

using namespace mq;

namespace {

const std::vector<int64_t> kTokens = { 1, 7, 42, 3, 19, 19, 5, 33, 8, 21, 2, 49 };

// exp(N(0, 0.5²)): positive, spread over roughly [0.2, 5].
at::Tensor randomScale(int64_t n, at::Generator &gen)
{
    return at::exp(0.5 * at::randn({ n }, gen, at::kFloat));
}

ModelWeights transformed(const Model &m, const std::vector<LetPairKind> &kinds, uint64_t seed)
{
    at::Generator gen = at::detail::createCPUGenerator(seed);
    ModelWeights w = m.transformer->weights();
    for (LayerWeights &lw : w.layers) {
        LetScales s;
        for (const LetPair &p : letPairs(m.config()))
            if (std::find(kinds.begin(), kinds.end(), p.kind) != kinds.end())
                s[p.kind] = randomScale(p.size, gen);
        lw = applyLet(m.config(), lw, s);
    }
    return w;
}

double letError(const Model &m, const std::vector<LetPairKind> &kinds, const std::vector<int64_t> &tokens)
{
    const Transformer t(m.config(), transformed(m, kinds, 11));
    return test::relativeDiff(t.forward(test::tokenRow(tokens)), m.transformer->forward(test::tokenRow(tokens)));
}

std::vector<std::string> pairNames(const ModelConfig &c)
{
    std::vector<std::string> out;
    for (const LetPair &p : letPairs(c))
        out.push_back(p.name);
    return out;
}

} // namespace

TEST(Let, PairsDependOnTheAttentionKind)
{
    const Model llama = test::loadTiny("llama");
    const Model stablelm = test::loadTiny("stablelm");
    ASSERT_FALSE(llama.config().isMultiHead());
    ASSERT_TRUE(stablelm.config().isMultiHead());
    EXPECT_EQ(pairNames(llama.config()), (std::vector<std::string> { "qkv", "fc1", "fc2" }));
    EXPECT_EQ(pairNames(stablelm.config()), (std::vector<std::string> { "qkv", "fc1", "out", "fc2", "qkt" }));
    const ModelConfig &c = stablelm.config();
    for (const LetPair &p : letPairs(c))
        EXPECT_EQ(p.size,
            p.kind == LetPairKind::Fc2                                       ? c.intermediateSize
                : (p.kind == LetPairKind::Qkv || p.kind == LetPairKind::Fc1) ? c.hiddenSize
                                                                             : c.qDim());
}

TEST(Let, EveryExactPairKeepsTheLogitsOnGqaLlama)
{
    c10::NoGradGuard g;
    const Model m = test::loadTiny("llama");
    for (const LetPair &p : letPairs(m.config())) {
        SCOPED_TRACE(p.name);
        EXPECT_LT(letError(m, { p.kind }, kTokens), 1e-5);
    }
    EXPECT_LT(letError(m, { LetPairKind::Qkv, LetPairKind::Fc1, LetPairKind::Fc2 }, kTokens), 1e-5);
}

TEST(Let, EveryExactPairKeepsTheLogitsOnMhaStableLm)
{
    // LayerNorm with β, q/k/v biases, partial rotary: β and the v bias are scaled too.
    c10::NoGradGuard g;
    const Model m = test::loadTiny("stablelm");
    for (const LetPair &p : letPairs(m.config())) {
        if (p.kind == LetPairKind::Qkt)
            continue; // not exact through RoPE (§2.1): see the single-token test
        SCOPED_TRACE(p.name);
        EXPECT_LT(letError(m, { p.kind }, kTokens), 1e-5);
    }
    EXPECT_LT(letError(m, { LetPairKind::Qkv, LetPairKind::Fc1, LetPairKind::Out, LetPairKind::Fc2 }, kTokens), 1e-5);
}

TEST(Let, QktIsExactWhereRopeIsTheIdentity)
{
    // At position 0, cos = 1 and sin = 0: RoPE is the identity and q·kᵀ = (q/s)·(k·s)ᵀ holds.
    c10::NoGradGuard g;
    const Model m = test::loadTiny("stablelm");
    ASSERT_TRUE(m.config().qkvBias) << "the test should cover the q/k bias scaling";
    EXPECT_LT(letError(m, { LetPairKind::Qkt }, { 42 }), 1e-5);
    EXPECT_LT(letError(m, { LetPairKind::Qkv, LetPairKind::Fc1, LetPairKind::Out, LetPairKind::Fc2, LetPairKind::Qkt },
                  { 7 }),
        1e-5);
    // Over several positions it is not an equivalence (this is why the reference trains it).
    EXPECT_GT(letError(m, { LetPairKind::Qkt }, kTokens), 1e-4);
}

TEST(Let, TransformIsDifferentiableInTheScalesAndLeavesTheInputAlone)
{
    const Model m = test::loadTiny("stablelm");
    const LayerWeights &orig = m.transformer->weights().layers[0];
    const at::Tensor before = orig.qW.clone();
    LetScales s;
    for (const LetPair &p : letPairs(m.config()))
        s[p.kind] = at::full({ p.size }, 1.5f, at::kFloat).requires_grad_(true);
    const LayerWeights t = applyLet(m.config(), orig, s);
    at::Tensor x = m.transformer->embed(test::tokenRow(kTokens));
    m.transformer->layer(0, t, x, 0, nullptr, nullptr).pow(2).sum().backward();
    for (const LetPair &p : letPairs(m.config())) {
        SCOPED_TRACE(p.name);
        ASSERT_TRUE(s[p.kind].grad().defined());
        EXPECT_TRUE(at::isfinite(s[p.kind].grad()).all().item<bool>());
        EXPECT_GT(s[p.kind].grad().abs().max().item<double>(), 0.0);
    }
    EXPECT_TRUE(orig.qW.equal(before));
    // Hand check of §2.2 on one entry: q column j × s_qkv, then row i ÷ s_qkt: 1.5 / 1.5.
    EXPECT_NEAR(t.qW[1][2].item<double>(), orig.qW[1][2].item<double>(), 1e-7);
    EXPECT_NEAR(t.kW[1][2].item<double>(), orig.kW[1][2].item<double>() * 2.25, 1e-6);
    EXPECT_NEAR(t.attnNormB[3].item<double>(), orig.attnNormB[3].item<double>() / 1.5, 1e-7);
}

TEST(Let, RejectsPairsTheModelDoesNotHaveAndWrongSizes)
{
    const Model m = test::loadTiny("llama");
    const LayerWeights &w = m.transformer->weights().layers[0];
    LetScales out;
    out.out = at::ones({ m.config().qDim() });
    EXPECT_THROW(applyLet(m.config(), w, out), Error);
    LetScales bad;
    bad.fc2 = at::ones({ m.config().intermediateSize + 1 });
    EXPECT_THROW(applyLet(m.config(), w, bad), Error);
}

TEST(Let, TruncateKeepsScalesAwayFromZero)
{
    at::Tensor s = at::tensor({ 0.5f, 0.001f, -0.002f, 0.0f, -3.0f }).requires_grad_(true);
    truncateLetScale(s);
    const std::vector<float> want = { 0.5f, 0.01f, -0.01f, 0.01f, -3.0f };
    for (size_t i = 0; i < want.size(); ++i)
        EXPECT_FLOAT_EQ(s[int64_t(i)].item<float>(), want[i]);
    EXPECT_TRUE(s.requires_grad());
}

TEST(SmoothQuant, ScalesFollowTheFormula)
{
    // actMax [4, 1]; consumer column maxima [2, .5] and [8, 0] → [8, .5];
    // α = .5: s = [√4/√8, √1/√.5] = [0.70711, 1.41421].
    const at::Tensor act = at::tensor({ 4.0f, 1.0f });
    const at::Tensor w1 = at::tensor({ 2.0f, -0.5f, 1.0f, 0.25f }).reshape({ 2, 2 });
    const at::Tensor w2 = at::tensor({ -8.0f, 0.0f, 0.0f, 0.0f }).reshape({ 2, 2 });
    const at::Tensor s = smoothQuantScales(act, { w1, w2 }, 0.5);
    EXPECT_NEAR(s[0].item<double>(), std::sqrt(0.5), 1e-6);
    EXPECT_NEAR(s[1].item<double>(), std::sqrt(2.0), 1e-6);
    // A column of zeros is clamped to 1e-5 before the power: 1^.4 / (1e-5)^.6 = 1e3.
    const at::Tensor z = smoothQuantScales(at::tensor({ 1.0f }), { at::zeros({ 3, 1 }) }, 0.4);
    EXPECT_NEAR(z[0].item<double>(), 1e3, 1e-1);
}

namespace {

// max over channels / median over channels of max|x| at layers.<l>.attn_norm.out
double outlierRatio(const ActStatsCollector &stats, int layer)
{
    const at::Tensor c = stats.stats().at(actSiteName(layer, ActSite::AttnNormOut)).channelAbsMax;
    return c.max().item<double>() / c.median().item<double>();
}

ActStatsCollector collect(const Transformer &t, const std::vector<std::vector<int64_t>> &seqs)
{
    ActStatsCollector stats;
    for (const auto &s : seqs)
        t.forward(test::tokenRow(s), nullptr, &stats);
    return stats;
}

} // namespace

TEST(SmoothQuant, KeepsTheFunctionAndTamesOutlierChannelsOnStories260K)
{
    c10::NoGradGuard g;
    auto [config, weights] = readLlama2c((test::sharedDir() / "models/stories260K/stories260K.bin").string());
    const Transformer original(config, weights);
    at::Generator gen = at::detail::createCPUGenerator(1337);
    std::vector<std::vector<int64_t>> seqs;
    for (int i = 0; i < 4; ++i) {
        const at::Tensor t = at::randint(3, config.vocabSize, { 48 }, gen, at::kLong);
        seqs.emplace_back(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
    }
    const ActStatsCollector before = collect(original, seqs);

    ModelWeights smoothed = weights;
    smoothQuant(config, smoothed, before.channelAbsMax(), 0.5);
    const Transformer after(config, smoothed);
    EXPECT_FALSE(smoothed.layers[0].qW.equal(weights.layers[0].qW));
    for (const auto &s : seqs)
        EXPECT_LT(test::relativeDiff(after.forward(test::tokenRow(s)), original.forward(test::tokenRow(s))), 1e-5);

    const ActStatsCollector afterStats = collect(after, seqs);
    for (int l = 0; l < config.numLayers; ++l) {
        SCOPED_TRACE("layer " + std::to_string(l));
        EXPECT_LT(outlierRatio(afterStats, l), outlierRatio(before, l));
    }
}

TEST(SmoothQuant, NamesTheMissingStatistics)
{
    const Model m = test::loadTiny("llama");
    ModelWeights w = m.transformer->weights();
    try {
        smoothQuant(m.config(), w, {}, 0.5);
        FAIL() << "expected an error";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("layers.0.attn_norm.out"), std::string::npos) << e.what();
    }
}

TEST(SmoothQuant, KeepsTheFunctionOfAnMhaModelWithEveryVariant)
{
    // StableLM: LayerNorm β, biases, and the v→o pair that only MHA models have.
    c10::NoGradGuard g;
    const Model m = test::loadTiny("stablelm");
    const ActStatsCollector stats = collect(*m.transformer, { kTokens });
    for (SmoothQuantVariant v : { SmoothQuantVariant::Modified, SmoothQuantVariant::OriginalSmoothQuant,
             SmoothQuantVariant::OriginalOmniQuant }) {
        ModelWeights w = m.transformer->weights();
        smoothQuant(m.config(), w, stats.channelAbsMax(), 0.6, v);
        EXPECT_EQ(
            w.layers[0].oW.equal(m.transformer->weights().layers[0].oW), v == SmoothQuantVariant::OriginalSmoothQuant);
        EXPECT_EQ(w.layers[0].downW.equal(m.transformer->weights().layers[0].downW), v != SmoothQuantVariant::Modified);
        const Transformer t(m.config(), w);
        EXPECT_LT(
            test::relativeDiff(t.forward(test::tokenRow(kTokens)), m.transformer->forward(test::tokenRow(kTokens))),
            1e-5);
    }
}
