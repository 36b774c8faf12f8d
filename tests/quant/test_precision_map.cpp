// Precision-map presets against the table of mobilequant-method.md §1.3, for every site of the
// stories260K checkpoint, plus the JSON file format (docs/precision-map.md) and its errors.
#include "core/quant/precision_map.h"
#include "core/util/error.h"

#include "../model/test_support.h"
#include "core/model/model.h"

#include <gtest/gtest.h>

#include <map>

using namespace mq;

namespace {

struct Expected
{
    int bits;
    bool symmetric, perChannel;
};

// §1.3, written out per site kind (independent of the code's own tables).
const std::map<std::string, int> kActBits = {
    { "attn_norm.in", 16 },
    { "attn_norm.out", 8 },
    { "attn.q.out", 8 },
    { "attn.k.out", 8 },
    { "attn.v.out", 8 },
    { "attn.qk.in", 8 },
    { "attn.qk.in2", 8 },
    { "attn.qk.out", 16 },
    { "attn.pv.in", 16 },
    { "attn.pv.in2", 8 },
    { "attn.pv.out", 8 },
    { "attn.o.out", 16 },
    { "mlp_norm.in", 16 },
    { "mlp_norm.out", 8 },
    { "mlp.gate.out", 8 },
    { "mlp.act.in2", 8 },
    { "mlp.act.out", 8 },
    { "mlp.up.out", 8 },
    { "mlp.down.in", 8 },
    { "mlp.down.out", 16 },
};

Expected expectedWeight(WeightPreset p, const std::string &kind)
{
    if (kind == "attn_norm.weight" || kind == "mlp_norm.weight")
        return { 16, false, false };
    switch (p) {
    case WeightPreset::W8A8:
        return { 8, false, kind == "mlp.down.weight" };
    case WeightPreset::W4A8:
        return { 4, false, true };
    case WeightPreset::W4A8Sym:
        return { 4, true, true };
    }
    return { 0, false, false };
}

} // namespace

TEST(PrecisionMap, PresetsMatchThePaperForEverySiteOfStories260K)
{
    const auto [config, weights] = readLlama2c((test::sharedDir() / "models/stories260K/stories260K.bin").string());
    const auto names = allSiteNames(config.numLayers, config.act == Activation::Silu);
    ASSERT_EQ(names.size(), size_t(config.numLayers * (20 + 9) + 2));
    for (WeightPreset preset : { WeightPreset::W8A8, WeightPreset::W4A8, WeightPreset::W4A8Sym }) {
        const PrecisionMap map(preset);
        for (const std::string &name : names) {
            SCOPED_TRACE(std::string(weightPresetName(preset)) + " " + name);
            const QuantSpec got = map.site(name);
            if (name == "final_norm.in" || name == "lm_head.in") {
                EXPECT_FALSE(got.quantized());
                continue;
            }
            const std::string kind = name.substr(name.find('.', 7) + 1); // after "layers.<i>."
            Expected want {};
            if (kActBits.count(kind))
                want = { kActBits.at(kind), false, false };
            else
                want = expectedWeight(preset, kind);
            EXPECT_EQ(got.bits, want.bits);
            EXPECT_EQ(got.symmetric, want.symmetric);
            EXPECT_EQ(got.perChannel, want.perChannel);
        }
    }
}

TEST(PrecisionMap, GlobMatching)
{
    EXPECT_TRUE(globMatch("layers.*.attn.qk.out", "layers.12.attn.qk.out"));
    EXPECT_FALSE(globMatch("layers.*.attn.qk.out", "layers.12.attn.qk.in"));
    EXPECT_TRUE(globMatch("layers.1.*", "layers.1.mlp.down.weight"));
    EXPECT_FALSE(globMatch("layers.1.*", "layers.11.mlp.down.weight"));
    EXPECT_TRUE(globMatch("*.weight", "layers.0.attn.q.weight"));
    EXPECT_TRUE(globMatch("layers.0.attn.q.weight", "layers.0.attn.q.weight"));
}

TEST(PrecisionMap, OverridesApplyInOrderAndKeepUnsetFields)
{
    const PrecisionMap map = PrecisionMap::fromJson(R"({
        "preset": "W4A8",
        "overrides": [
            {"site": "layers.*.attn.qk.out", "bits": 8},
            {"site": "layers.1.*.weight", "bits": 8},
            {"site": "layers.1.mlp.down.weight", "enabled": false}
        ]})");
    EXPECT_EQ(map.basePreset(), WeightPreset::W4A8);
    EXPECT_EQ(map.site("layers.0.attn.qk.out").bits, 8);
    EXPECT_EQ(map.site("layers.7.attn.qk.out").bits, 8);
    EXPECT_EQ(map.site("layers.0.attn.pv.in").bits, 16);
    EXPECT_EQ(map.site("layers.1.attn.q.weight"), (QuantSpec { 8, false, true })); // per-channel kept
    EXPECT_EQ(map.site("layers.1.attn_norm.weight").bits, 8);
    EXPECT_FALSE(map.site("layers.1.mlp.down.weight").quantized());
    EXPECT_EQ(map.site("layers.2.mlp.down.weight"), (QuantSpec { 4, false, true }));
    EXPECT_EQ(map.weight(1, WeightSite::Q), map.site("layers.1.attn.q.weight"));
}

TEST(PrecisionMap, JsonRoundTrip)
{
    PrecisionMap map(WeightPreset::W8A8);
    map.actDefault(ActSite::ActOut) = QuantSpec { 16, false, false };
    map.weightDefault(WeightSite::Gate) = QuantSpec { kDisabledBits, true, false };
    map.overrides().push_back({ "layers.*.attn.qk.out", QuantSpecPatch { 8, std::nullopt, std::nullopt } });
    map.overrides().push_back(
        { "layers.0.mlp.down.weight", QuantSpecPatch { kDisabledBits, std::nullopt, std::nullopt } });
    map.overrides().push_back({ "layers.2.attn.v.weight", QuantSpecPatch { std::nullopt, true, true } });
    const std::string text = map.toJson();
    const PrecisionMap back = PrecisionMap::fromJson(text);
    EXPECT_TRUE(back == map) << text;
    EXPECT_EQ(back.toJson(), text);
    EXPECT_FALSE(back.site("layers.0.mlp.down.weight").quantized());
    EXPECT_EQ(back.site("layers.2.attn.v.weight"), (QuantSpec { 8, true, true }));
    EXPECT_EQ(back.site("layers.3.mlp.act.out").bits, 16);

    const auto dir = test::freshDir();
    map.save((dir / "map.json").string());
    EXPECT_TRUE(PrecisionMap::load((dir / "map.json").string()) == map);
}

TEST(PrecisionMap, BitsAboveSixteenDisableTheSite)
{
    const PrecisionMap map = PrecisionMap::fromJson(R"({"activations": {"attn.pv.in": {"bits": 32}}})");
    EXPECT_FALSE(map.site("layers.0.attn.pv.in").quantized());
    EXPECT_EQ(map.basePreset(), WeightPreset::W4A8Sym); // the default preset is the deployed one
}

namespace {

std::string errorOf(const std::string &json)
{
    try {
        PrecisionMap::fromJson(json, "my-map.json");
    } catch (const Error &e) {
        return e.what();
    }
    return "(no error)";
}

#define EXPECT_CONTAINS(text, part)                                                                                    \
    do {                                                                                                               \
        const std::string t_ = (text);                                                                                 \
        EXPECT_NE(t_.find(part), std::string::npos) << "message: " << t_;                                              \
    } while (0)

} // namespace

TEST(PrecisionMap, ErrorsNameTheProblem)
{
    EXPECT_CONTAINS(errorOf(R"({"overrides": [{"site": "layers.0.mlp.dwn.in", "bits": 8}]})"),
        ("my-map.json: overrides[0]: \"layers.0.mlp.dwn.in\" is not a site name"));
    EXPECT_CONTAINS(errorOf(R"({"overrides": [{"site": "layers.*.attn.qk.ot", "bits": 8}]})"),
        ("\"layers.*.attn.qk.ot\" matches no site"));
    EXPECT_CONTAINS(errorOf(R"({"overrides": [{"site": "final_norm.in", "bits": 8}]})"), ("is never quantized"));
    EXPECT_CONTAINS(errorOf(R"({"overrides": [{"bits": 8}]})"), ("needs a \"site\" string"));
    EXPECT_CONTAINS(errorOf(R"({"activations": {"attn.q.out": {"bits": 1}}})"),
        ("activations.attn.q.out: 1 bits is not supported"));
    EXPECT_CONTAINS(errorOf(R"({"weights": {"attn.q.weight": {"bits": "4"}}})"), ("\"bits\" must be an integer"));
    EXPECT_CONTAINS(
        errorOf(R"({"weights": {"attn.q.weight": {"bitz": 4}}})"), ("weights.attn.q.weight: unknown key \"bitz\""));
    EXPECT_CONTAINS(errorOf(R"({"weights": {"attn.q": {"bits": 4}}})"), ("unknown site kind \"attn.q\""));
    EXPECT_CONTAINS(errorOf(R"({"preset": "W3A8"})"), ("\"preset\" must be one of W8A8, W4A8, W4A8-sym"));
    EXPECT_CONTAINS(errorOf(R"({"presets": "W8A8"})"), ("unknown key \"presets\""));
    EXPECT_CONTAINS(errorOf(R"({"weights": {"attn.q.weight": {"bits": 20, "enabled": true}}})"), ("contradicts"));
    EXPECT_CONTAINS(errorOf("{not json"), ("my-map.json: not valid JSON"));
    EXPECT_CONTAINS(errorOf(R"({"version": 2})"), ("unsupported \"version\""));
    EXPECT_THROW(PrecisionMap().site("layers.0.nothing"), Error);
}
