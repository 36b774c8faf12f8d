// The model executor on tiny random packages of every variant: loading and its errors, and that
// incremental decoding with the KV cache reproduces prompt encoding position by position.
#include "tiny_package.h"

#include "core/runtime/executor.h"
#include "core/runtime/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <utility>

using namespace mq;

namespace {

const ModelVariant kVariants[] = {ModelVariant::W8A8, ModelVariant::W4A8, ModelVariant::A16, ModelVariant::FP32};

std::string loadError(const std::vector<test::TinyTensor> &tensors, const std::string &skip = "")
{
    const std::vector<uint8_t> bytes = test::tinyPackageBytes(tensors, skip);
    try {
        ModelExecutor::load(Package::fromBytes(bytes.data(), bytes.size(), "bad.mqpkg"));
    } catch (const PackageError &e) {
        return e.what();
    }
    return "";
}

test::TinyTensor &find(std::vector<test::TinyTensor> &ts, const std::string &name)
{
    for (test::TinyTensor &t : ts)
        if (t.name == name)
            return t;
    throw std::runtime_error("no tensor " + name);
}

} // namespace

TEST(Executor, EveryVariantLoadsAndProducesFiniteLogits)
{
    for (ModelVariant v : kVariants) {
        auto m = ModelExecutor::load(test::tinyPackage(v));
        EXPECT_EQ(m->config().variant, v);
        const std::vector<int32_t> tokens = {1, 5, 9, 30, 2, 7};
        std::vector<float> logits;
        m->forward(tokens.data(), int(tokens.size()), logits, true);
        ASSERT_EQ(logits.size(), tokens.size() * 32u);
        float spread = 0;
        for (float x : logits) {
            ASSERT_TRUE(std::isfinite(x)) << modelVariantName(v);
            spread = std::max(spread, std::abs(x - logits[0]));
        }
        EXPECT_GT(spread, 0.0f) << modelVariantName(v) << ": logits must depend on the input";
        EXPECT_EQ(m->position(), 6);
    }
}

TEST(Executor, DecodingWithTheCacheReproducesPromptEncoding)
{
    std::vector<int32_t> tokens;
    for (int i = 0; i < 20; ++i)
        tokens.push_back((i * 11 + 3) % 32);
    for (ModelVariant v : kVariants) {
        auto m = ModelExecutor::load(test::tinyPackage(v));
        std::vector<float> prefill, step, decoded;
        m->forward(tokens.data(), int(tokens.size()), prefill, true);
        m->reset();
        // Prompt of 7, then one token at a time.
        m->forward(tokens.data(), 7, step, true);
        decoded = step;
        for (size_t t = 7; t < tokens.size(); ++t) {
            m->forward(&tokens[t], 1, step, false);
            decoded.insert(decoded.end(), step.begin(), step.end());
        }
        ASSERT_EQ(decoded.size(), prefill.size());
        double worst = 0;
        for (size_t i = 0; i < prefill.size(); ++i)
            worst = std::max(worst, double(std::abs(decoded[i] - prefill[i])));
        // Integer variants: every code is computed per position by the same integer arithmetic, so
        // the logits are identical; FP32: float sums in another order.
        const double tolerance = v == ModelVariant::FP32 ? 1e-5 : 0.0;
        EXPECT_LE(worst, tolerance) << modelVariantName(v);
        std::printf("[ decode vs prefill ] %s: max |logit difference| %.3g over %zu positions\n", modelVariantName(v),
            worst, tokens.size());
    }
}

TEST(Executor, LoaderNamesAMissingTensor)
{
    for (ModelVariant v : kVariants) {
        const auto tensors = test::tinyPackageTensors(v);
        const std::string name = v == ModelVariant::FP32 ? "layers.1.attn.k.weight" : "layers.1.attn.k.multiplier";
        const std::string err = loadError(tensors, name);
        EXPECT_NE(err.find("missing tensor " + name), std::string::npos) << err;
    }
    const std::string err = loadError(test::tinyPackageTensors(ModelVariant::W8A8), "layers.0.attn.softmax.exp_table");
    EXPECT_NE(err.find("layers.0.attn.softmax.exp_table"), std::string::npos) << err;
}

TEST(Executor, LoaderRejectsAWrongShapeNamingTheTensor)
{
    auto tensors = test::tinyPackageTensors(ModelVariant::W8A8);
    test::TinyTensor &t = find(tensors, "layers.0.mlp.up.weight"); // [24, 16] s8
    t.shape = {16, 24};
    std::string err = loadError(tensors);
    EXPECT_NE(err.find("layers.0.mlp.up.weight has shape [16, 24]"), std::string::npos) << err;
    EXPECT_NE(err.find("[24, 16]"), std::string::npos) << err;

    tensors = test::tinyPackageTensors(ModelVariant::W8A8);
    test::TinyTensor &m = find(tensors, "layers.1.mlp.down.multiplier"); // per channel: 16 values
    m.shape = {5};
    m.bytes.resize(20);
    err = loadError(tensors);
    EXPECT_NE(err.find("layers.1.mlp.down.multiplier has 5 values"), std::string::npos) << err;

    tensors = test::tinyPackageTensors(ModelVariant::W8A8);
    test::TinyTensor &table = find(tensors, "layers.0.mlp.act.table");
    table.shape = {100};
    table.bytes.resize(400);
    err = loadError(tensors);
    EXPECT_NE(err.find("layers.0.mlp.act.table has 100 entries"), std::string::npos) << err;
}

TEST(Executor, LoaderRejectsTensorsOfAnotherVariant)
{
    // A W8A8 config over W4A8 tensors: the weights are packed s4.
    auto tensors = test::tinyPackageTensors(ModelVariant::W4A8);
    const ModelPackageConfig c8 = test::tinyPackageConfig(ModelVariant::W8A8);
    find(tensors, "model.config") = test::tinyTensor("model.config", PackageDType::S32, {uint64_t(c8.toInts().size())}, c8.toInts());
    std::string err = loadError(tensors);
    EXPECT_NE(err.find("layers.0.attn.q.weight is s4"), std::string::npos) << err;
    EXPECT_NE(err.find("w8a8"), std::string::npos) << err;

    // An FP32 config over integer tensors.
    tensors = test::tinyPackageTensors(ModelVariant::W8A8);
    const ModelPackageConfig cf = test::tinyPackageConfig(ModelVariant::FP32);
    find(tensors, "model.config") = test::tinyTensor("model.config", PackageDType::S32, {uint64_t(cf.toInts().size())}, cf.toInts());
    err = loadError(tensors);
    EXPECT_NE(err.find("rope.cos has dtype s32, expected f32 for a fp32 package"), std::string::npos) << err;

    // An unknown variant number.
    tensors = test::tinyPackageTensors(ModelVariant::W8A8);
    std::vector<int32_t> ints = test::tinyPackageConfig(ModelVariant::W8A8).toInts();
    ints[1] = 9;
    find(tensors, "model.config") = test::tinyTensor("model.config", PackageDType::S32, {uint64_t(ints.size())}, ints);
    err = loadError(tensors);
    EXPECT_NE(err.find("unknown variant 9"), std::string::npos) << err;

    // Not a model package at all.
    err = loadError(tensors, "model.config");
    EXPECT_NE(err.find("not a model package"), std::string::npos) << err;
}

TEST(Executor, RejectsTokensOutsideTheVocabularyAndTheContext)
{
    auto m = ModelExecutor::load(test::tinyPackage(ModelVariant::W8A8));
    std::vector<float> logits;
    const int32_t bad = 32;
    EXPECT_THROW(m->forward(&bad, 1, logits), PackageError);
    std::vector<int32_t> many(33, 3);
    try {
        m->forward(many.data(), 33, logits);
        FAIL() << "33 positions fit a context of 32";
    } catch (const PackageError &e) {
        EXPECT_NE(std::string(e.what()).find("exceed the model's context of 32"), std::string::npos) << e.what();
    }
}

TEST(Executor, PerplexityUsesTheWindowsOfMqEval)
{
    // 40 tokens, windows of 16 scoring 15 new tokens each: targets 1..15, 16..30, 31..39 with
    // left context; every token but the first is scored exactly once.
    auto m = ModelExecutor::load(test::tinyPackage(ModelVariant::FP32));
    std::vector<int32_t> ids;
    for (int i = 0; i < 40; ++i)
        ids.push_back((i * 7 + 1) % 32);
    const RuntimePerplexity r = runtimePerplexity(*m, ids, 16);
    EXPECT_EQ(r.tokens, 39);
    EXPECT_EQ(r.windows, 3);
    EXPECT_EQ(r.argmax.size(), 39u);
    // The last window starts at 40 - 16 = 24: its logits for target 35 come from positions 24..34.
    std::vector<float> logits;
    m->reset();
    m->forward(ids.data() + 24, 16, logits, true);
    const int vocab = 32;
    const float *row = &logits[size_t(35 - 24 - 1) * vocab];
    EXPECT_EQ(r.argmax[34], int32_t(std::max_element(row, row + vocab) - row));
}

TEST(Executor, SiteObserverSeesEverySiteInForwardOrderAndCanReplaceCodes)
{
    const std::vector<int32_t> tokens = {1, 5, 9, 30, 2, 7};
    const int T = int(tokens.size());
    for (ModelVariant v : {ModelVariant::W8A8, ModelVariant::W4A8, ModelVariant::A16}) {
        auto m = ModelExecutor::load(test::tinyPackage(v));
        const ModelPackageConfig &c = m->config();
        std::vector<float> plain, observed, replaced;
        m->forward(tokens.data(), T, plain, true);

        // A watching observer: every site of every layer, in the simulation's order, with the
        // sizes of docs/sites.md; the logits are unchanged.
        std::vector<std::pair<int, RtSite>> seen;
        size_t rows = 0;
        m->setSiteObserver([&](const ModelExecutor::SiteCodes &sc) {
            if (sc.head >= 0) {
                EXPECT_EQ(sc.count, size_t(sc.row + 1 - sc.first)) << "one query row sees the keys up to itself";
                ++rows;
                if (sc.head != 0 || sc.row != 0)
                    return;
            }
            seen.emplace_back(sc.layer, sc.site);
            size_t width = 0;
            switch (sc.site) {
            case RtSite::QOut: case RtSite::QkIn: case RtSite::PvOut: width = size_t(c.qDim()); break;
            case RtSite::KOut: case RtSite::VOut: case RtSite::QkIn2: case RtSite::PvIn2: width = size_t(c.kvDim()); break;
            case RtSite::GateOut: case RtSite::ActIn2: case RtSite::ActOut: case RtSite::UpOut: case RtSite::DownIn:
                width = size_t(c.inter);
                break;
            case RtSite::QkOut: case RtSite::PvIn: width = 0; break;
            default: width = size_t(c.hidden);
            }
            if (width) {
                EXPECT_EQ(sc.count, size_t(T) * width) << rtSiteName(sc.site);
            }
        });
        m->reset();
        m->forward(tokens.data(), T, observed, true);
        EXPECT_EQ(observed, plain) << modelVariantName(v);
        const RtSite order[] = {RtSite::AttnNormIn, RtSite::AttnNormOut, RtSite::QOut, RtSite::KOut, RtSite::VOut,
            RtSite::QkIn, RtSite::QkIn2, RtSite::PvIn2, RtSite::QkOut, RtSite::PvIn, RtSite::PvOut, RtSite::OOut,
            RtSite::MlpNormIn, RtSite::MlpNormOut, RtSite::GateOut, RtSite::ActIn2, RtSite::ActOut, RtSite::UpOut,
            RtSite::DownIn, RtSite::DownOut};
        std::vector<std::pair<int, RtSite>> expected;
        for (int l = 0; l < c.layers; ++l)
            for (RtSite s : order)
                if (rtSiteExists(s, c.activation))
                    expected.emplace_back(l, s);
        EXPECT_EQ(seen, expected) << modelVariantName(v);
        EXPECT_EQ(rows, size_t(2 * c.layers * c.heads * T)) << "qk.out and pv.in, one row per head and query";

        // Replacing codes is seen downstream: the last down projection set to its zero point.
        const int32_t zDown = reinterpret_cast<const int32_t *>(
            m->package().tensor(layerTensorName(c.layers - 1, "mlp.down.out.quant")).data)[0];
        m->setSiteObserver([&](const ModelExecutor::SiteCodes &sc) {
            if (sc.layer == c.layers - 1 && sc.site == RtSite::DownOut)
                std::fill(sc.codes, sc.codes + sc.count, zDown);
        });
        m->reset();
        m->forward(tokens.data(), T, replaced, true);
        EXPECT_NE(replaced, plain) << modelVariantName(v);
        m->setSiteObserver({});
        m->reset();
        m->forward(tokens.data(), T, observed, true);
        EXPECT_EQ(observed, plain) << modelVariantName(v) << ": no observer, no effect";
    }
}

// The attention kernels work on the KV cache in chunks of 128 keys: a prompt longer than one chunk,
// then decoding across the next chunk boundaries (with and without a sliding window that starts
// inside a chunk), must give the logits of one prefill over all the tokens, and the fast (SIMD)
// path the integers of the portable scalar path at every site.
TEST(Executor, AttentionAcrossKeyChunkBoundariesMatchesPrefillAndTheScalarPath)
{
    const int total = 280, prompt = 130;
    std::vector<int32_t> tokens;
    for (int i = 0; i < total; ++i)
        tokens.push_back((i * 13 + 5) % 32);
    for (ModelVariant v : kVariants)
        for (int window : {0, 150}) {
            ModelPackageConfig c = test::tinyPackageConfig(v);
            c.maxPositions = 320;
            c.slidingWindow = window;
            const std::vector<uint8_t> bytes = test::tinyPackageBytes(test::tinyPackageTensors(c));
            struct Result
            {
                std::vector<float> logits;
                uint64_t codes = 1469598103934665603ull; // FNV-1a over every site's codes, in order
                size_t observed = 0;
            };
            // decode: a prompt of 130, then one token at a time; observe: hash every site's codes
            // (the observer also makes the MLP take its unfused path).
            auto run = [&](bool scalar, bool decode, bool observe) {
                kernels::forceScalar(scalar);
                auto m = ModelExecutor::load(Package::fromBytes(bytes.data(), bytes.size(), "chunks.mqpkg"));
                Result r;
                if (observe)
                    m->setSiteObserver([&](const ModelExecutor::SiteCodes &s) {
                        for (size_t i = 0; i < s.count; ++i)
                            r.codes = (r.codes ^ uint32_t(s.codes[i])) * 1099511628211ull;
                        r.observed += s.count;
                    });
                std::vector<float> step;
                if (!decode) {
                    m->forward(tokens.data(), total, r.logits, true);
                } else {
                    m->forward(tokens.data(), prompt, r.logits, true);
                    for (int t = prompt; t < total; ++t) {
                        m->forward(&tokens[size_t(t)], 1, step, false);
                        r.logits.insert(r.logits.end(), step.begin(), step.end());
                    }
                }
                kernels::forceScalar(false);
                return r;
            };
            auto worst = [](const std::vector<float> &a, const std::vector<float> &b) {
                EXPECT_EQ(a.size(), b.size());
                double w = 0;
                for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
                    w = std::max(w, double(std::abs(a[i] - b[i])));
                return w;
            };
            const std::string what = std::string(modelVariantName(v)) + ", window " + std::to_string(window);
            const Result prefill = run(false, false, false);
            ASSERT_EQ(prefill.logits.size(), size_t(total) * 32u);
            // Decoding: the same integers per position, so identical logits (FP32: float sums in
            // another order).
            EXPECT_LE(worst(run(false, true, false).logits, prefill.logits), v == ModelVariant::FP32 ? 1e-5 : 0.0)
                << what << ": decoding after a prompt of " << prompt;
            for (bool decode : {false, true}) {
                const Result fast = run(false, decode, true), scalar = run(true, decode, true);
                EXPECT_EQ(fast.observed, scalar.observed) << what;
                EXPECT_EQ(fast.codes, scalar.codes) << what << (decode ? ", decoding" : ", prefill")
                                                    << ": the fast path's codes differ from the scalar path's";
                if (v != ModelVariant::FP32) {
                    EXPECT_GT(fast.observed, size_t(total) * 16u) << what;
                }
                // The float ends (embedding, final norm, LM head) sum floats in another order.
                EXPECT_LE(worst(fast.logits, scalar.logits), 1e-5) << what;
            }
        }
}
