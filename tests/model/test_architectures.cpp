// Each supported family, as a tiny random HF checkpoint written here, against an independent
// float64 forward pass, plus the invariants that catch real bugs: causal masking, KV-cache
// decoding = full forward, GQA/MQA head sharing, partial rotary, tied vs untied heads, sites.
#include "test_support.h"
#include "tiny_models.h"

#include "core/model/model.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>

using namespace mq;
using test::TinyFamily;

namespace {

at::Tensor row(const std::vector<int64_t> &v) { return at::tensor(v, at::kLong).unsqueeze(0); }

const std::vector<int64_t> kTokens = {1, 7, 42, 3, 19, 19, 5, 33, 8, 21, 2, 49};

struct Loaded
{
    TinyFamily family;
    std::map<std::string, at::Tensor> tensors;
    Model model;
};

Loaded load(const TinyFamily &f, uint64_t seed = 7)
{
    Loaded l{f, test::tinyTensors(f, seed), {}};
    const auto dir = test::writeTinyCheckpoint(test::freshDir("-" + f.name), f, l.tensors);
    l.model = loadModel(dir.string());
    return l;
}

class Family : public ::testing::TestWithParam<TinyFamily>
{
};

std::string familyName(const ::testing::TestParamInfo<TinyFamily> &info) { return info.param.name; }

// Records every activation site it sees (and optionally keeps the tensors).
class Recorder : public SiteHook
{
public:
    at::Tensor activation(int layer, ActSite s, const at::Tensor &x) override
    {
        names.push_back(actSiteName(layer, s));
        tensors[names.back()] = x.detach().clone();
        return x;
    }
    std::vector<std::string> names;
    std::map<std::string, at::Tensor> tensors;
};

} // namespace

TEST_P(Family, MatchesIndependentFloat64Forward)
{
    c10::NoGradGuard g;
    Loaded l = load(GetParam());
    EXPECT_EQ(archName(l.model.config().arch), GetParam().name);
    at::Tensor ours = l.model.transformer->forward(row(kTokens))[0].to(at::kDouble);
    at::Tensor ref = test::referenceLogits(l.family, l.tensors, kTokens);
    const double scale = ref.abs().max().item<double>();
    EXPECT_GT(scale, 0.5) << "the test model should produce non-trivial logits";
    EXPECT_LT((ours - ref).abs().max().item<double>(), 1e-4 * std::max(1.0, scale));
}

TEST_P(Family, KvCacheDecodingEqualsFullForward)
{
    c10::NoGradGuard g;
    Loaded l = load(GetParam());
    const Transformer &t = *l.model.transformer;
    at::Tensor full = t.forward(row(kTokens))[0];
    KvCache cache;
    std::vector<at::Tensor> parts = {t.forward(row({kTokens.begin(), kTokens.begin() + 5}), &cache)[0]};
    for (size_t i = 5; i < kTokens.size(); ++i)
        parts.push_back(t.forward(row({kTokens[i]}), &cache)[0]);
    EXPECT_EQ(cache.length, int64_t(kTokens.size()));
    const double scale = full.abs().max().item<double>();
    EXPECT_LT((at::cat(parts, 0) - full).abs().max().item<double>(), 1e-5 * std::max(1.0, scale));
}

TEST_P(Family, CausalMaskHidesTheFuture)
{
    c10::NoGradGuard g;
    Loaded l = load(GetParam());
    std::vector<int64_t> changed = kTokens;
    changed[6] = 44;
    at::Tensor a = l.model.transformer->forward(row(kTokens))[0];
    at::Tensor b = l.model.transformer->forward(row(changed))[0];
    EXPECT_LT((a.narrow(0, 0, 6) - b.narrow(0, 0, 6)).abs().max().item<double>(), 1e-6);
    EXPECT_GT((a.narrow(0, 6, 1) - b.narrow(0, 6, 1)).abs().max().item<double>(), 1e-4);
}

TEST_P(Family, EverySiteIsVisitedOncePerLayer)
{
    c10::NoGradGuard g;
    Loaded l = load(GetParam());
    Recorder rec;
    l.model.transformer->forward(row(kTokens), nullptr, &rec);
    std::vector<std::string> expected;
    const bool silu = l.model.config().act == Activation::Silu;
    for (const std::string &n : allSiteNames(l.model.config().numLayers, silu))
        if (auto p = parseSiteName(n); p && p->act)
            expected.push_back(n);
    std::sort(expected.begin(), expected.end());
    std::vector<std::string> seen = rec.names;
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, expected);
    EXPECT_EQ(silu, GetParam().name != "gemma");
    // A hook's replacement is what the model continues with.
    struct Zero : SiteHook
    {
        at::Tensor activation(int layer, ActSite s, const at::Tensor &x) override
        {
            return layer == 1 && s == ActSite::DownOut ? at::zeros_like(x) : x;
        }
    } zero;
    at::Tensor base = l.model.transformer->forward(row(kTokens))[0];
    at::Tensor zeroed = l.model.transformer->forward(row(kTokens), nullptr, &zero)[0];
    EXPECT_GT((base - zeroed).abs().max().item<double>(), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Architectures, Family, ::testing::ValuesIn(test::tinyFamilies()), familyName);

TEST(Architectures, GroupedQueryHeadsShareTheirKvHead)
{
    c10::NoGradGuard g;
    for (const TinyFamily &f : test::tinyFamilies()) {
        if (f.name != "llama" && f.name != "gemma")
            continue;
        Loaded l = load(f);
        Recorder before, after;
        l.model.transformer->forward(row(kTokens), nullptr, &before);
        // Perturb the rows of the last KV head in layer 0's k_proj.
        LayerWeights &w = l.model.transformer->weights().layers[0];
        const int64_t D = f.headDim;
        w.kW.narrow(0, int64_t(f.kvHeads - 1) * D, D).add_(0.5);
        l.model.transformer->forward(row(kTokens), nullptr, &after);
        at::Tensor s0 = before.tensors["layers.0.attn.qk.out"][0], s1 = after.tensors["layers.0.attn.qk.out"][0];
        const int group = f.heads / f.kvHeads;
        for (int h = 0; h < f.heads; ++h) {
            const double diff = (s0[h] - s1[h]).abs().max().item<double>();
            if (h / group == f.kvHeads - 1)
                EXPECT_GT(diff, 1e-3) << f.name << " head " << h << " reads the perturbed KV head";
            else
                EXPECT_EQ(diff, 0.0) << f.name << " head " << h << " must not read KV head " << f.kvHeads - 1;
        }
    }
}

TEST(Architectures, PartialRotaryTouchesOnlyTheRotaryDims)
{
    c10::NoGradGuard g;
    const TinyFamily f = test::tinyFamilies().back();
    ASSERT_EQ(f.name, "stablelm");
    Loaded l = load(f);
    EXPECT_EQ(l.model.config().rotaryDim(), 4);
    Recorder rec;
    l.model.transformer->forward(row(kTokens), nullptr, &rec);
    // q before RoPE as [B, H, T, D] vs q after RoPE.
    at::Tensor before = rec.tensors["layers.0.attn.q.out"].view({1, int64_t(kTokens.size()), f.heads, f.headDim}).transpose(1, 2);
    at::Tensor after = rec.tensors["layers.0.attn.qk.in"];
    const int64_t rd = f.rotary;
    EXPECT_TRUE(at::equal(before.narrow(-1, rd, f.headDim - rd), after.narrow(-1, rd, f.headDim - rd)));
    EXPECT_GT((before.narrow(-1, 0, rd) - after.narrow(-1, 0, rd)).abs().max().item<double>(), 1e-3);
    // Position 0 has angle 0: nothing rotates there.
    EXPECT_LT((before.select(2, 0) - after.select(2, 0)).abs().max().item<double>(), 1e-6);
}

TEST(Architectures, TiedAndUntiedHeads)
{
    c10::NoGradGuard g;
    for (const TinyFamily &f : test::tinyFamilies()) {
        Loaded l = load(f);
        const ModelWeights &w = l.model.transformer->weights();
        EXPECT_EQ(l.model.config().tiedEmbeddings, f.tied) << f.name;
        if (f.tied) {
            EXPECT_TRUE(w.lmHead.is_same(w.embed)) << f.name;
        } else {
            EXPECT_FALSE(w.lmHead.is_same(w.embed)) << f.name;
            EXPECT_TRUE(at::equal(w.lmHead, l.tensors.at("lm_head.weight"))) << f.name;
        }
    }
}

TEST(Architectures, SavedCheckpointReloadsAsTheSameFunction)
{
    c10::NoGradGuard g;
    for (const TinyFamily &f : test::tinyFamilies()) {
        Loaded l = load(f);
        const auto dir = test::freshDir("-" + f.name + "-resaved");
        writeHuggingFace(dir.string(), l.model.config(), l.model.transformer->weights(), "F32");
        Model again = loadModel(dir.string());
        at::Tensor a = l.model.transformer->forward(row(kTokens))[0];
        at::Tensor b = again.transformer->forward(row(kTokens))[0];
        EXPECT_LT((a - b).abs().max().item<double>(), 1e-6) << f.name;
        EXPECT_EQ(again.config().arch, l.model.config().arch);
        EXPECT_EQ(again.config().rotaryDim(), l.model.config().rotaryDim());
    }
}
