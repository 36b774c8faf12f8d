// QuantSim: the quantizing hook, folding and the deployment view, on stories260K.
#include "../model/test_support.h"

#include "core/calib/calib_data.h"
#include "core/calib/quant_sim.h"
#include "core/quant/act_stats.h"
#include "core/quant/fake_quant.h"
#include "core/model/model.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

using namespace mq;

namespace {

struct Fixture
{
    ModelConfig config;
    ModelWeights weights;
    at::Tensor samples;
    SiteRanges ranges;
};

Fixture stories(int samples = 4, int seqLen = 64)
{
    auto [c, w] = readLlama2c((test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string());
    Fixture f{c, w, {}, {}};
    std::vector<int> ids;
    for (int i = 0; i < 2000; ++i)
        ids.push_back(3 + (i * 7919) % 500);
    f.samples = sampleWindows(ids, samples, seqLen, 1);
    c10::NoGradGuard g;
    ActStatsCollector stats;
    Transformer t(c, w);
    t.forward(f.samples, nullptr, &stats);
    for (int l = 0; l < c.numLayers; ++l)
        for (int s = 0; s < kActSiteCount; ++s)
            f.ranges[actSiteName(l, ActSite(s))] = stats.initialRange(actSiteName(l, ActSite(s)));
    return f;
}

double maxDiff(const at::Tensor &a, const at::Tensor &b) { return (a - b).abs().max().item<double>(); }

} // namespace

TEST(QuantSim, DisabledIsTheFloatModel)
{
    Fixture f = stories();
    c10::NoGradGuard g;
    Transformer t(f.config, f.weights);
    QuantSim sim(f.config, PrecisionMap(WeightPreset::W8A8), f.ranges, QuantSimOptions{});
    sim.setEnabled(false);
    EXPECT_LT(maxDiff(sim.logits(t, f.weights, f.samples), t.forward(f.samples)), 1e-5);
    sim.setEnabled(true);
    EXPECT_GT(maxDiff(sim.logits(t, f.weights, f.samples), t.forward(f.samples)), 1e-3);
}

TEST(QuantSim, QuantizesEachSiteWithItsOwnRangeAndGrid)
{
    Fixture f = stories();
    QuantSim sim(f.config, PrecisionMap(WeightPreset::W8A8), f.ranges, QuantSimOptions{false, false, false});
    // An 8-bit site: 256 levels between fmin and fmax, values outside clipped.
    const auto [lo, hi] = f.ranges.at("layers.2.mlp.down.in");
    at::Tensor x = at::linspace(lo - 1.0, hi + 1.0, 10000);
    at::Tensor y = sim.activation(2, ActSite::DownIn, x);
    EXPECT_LE(std::get<0>(at::_unique(y)).size(0), 256);
    const double step = (hi - lo) / 255.0;
    EXPECT_NEAR(y.min().item<double>(), lo, step);
    EXPECT_NEAR(y.max().item<double>(), hi, step);
    // A 16-bit site keeps far more levels.
    const auto [lo16, hi16] = f.ranges.at("layers.2.mlp.down.out");
    at::Tensor z = sim.activation(2, ActSite::DownOut, at::linspace(lo16, hi16, 100000));
    EXPECT_GT(std::get<0>(at::_unique(z)).size(0), 20000);
    // The final norm and LM head are never quantized.
    at::Tensor h = at::randn({3, 64});
    EXPECT_TRUE(at::equal(sim.model(ModelSite::LmHeadIn, h), h));
}

TEST(QuantSim, FoldingReproducesTheTrainedFunction)
{
    Fixture f = stories();
    Transformer t(f.config, f.weights);
    // LET + LWC trained a little (LRL off, so offsets stay the integers deployment uses).
    QuantSim sim(f.config, PrecisionMap(WeightPreset::W4A8), f.ranges, QuantSimOptions{true, true, false});
    {
        c10::NoGradGuard g;
        for (at::Tensor p : sim.letParameters())
            p.mul_(at::exp(0.1 * at::randn(p.sizes())));
        for (at::Tensor p : sim.lwcParameters())
            p.add_(at::randn(p.sizes()));
    }
    c10::NoGradGuard g;
    at::Tensor trained = sim.logits(t, f.weights, f.samples);
    const QuantSim::WeightRanges ranges = sim.weightRanges(f.weights);
    const ModelWeights folded = sim.fold(f.weights);
    QuantSim deployed(f.config, PrecisionMap(WeightPreset::W4A8), sim.activationRanges(), QuantSimOptions{false, false, false});
    deployed.setFixedWeightRanges(ranges);
    Transformer foldedModel(f.config, folded);
    at::Tensor again = foldedModel.forward(f.samples, nullptr, &deployed);
    EXPECT_LT(maxDiff(trained, again), 1e-4 * trained.abs().max().item<double>());
    // Re-deriving weight ranges from the folded min/max (the reference's re-import) is close but
    // not exact: all-positive norm weights keep a minimum above the learned lower bound.
    QuantSim minMax(f.config, PrecisionMap(WeightPreset::W4A8), sim.activationRanges(), QuantSimOptions{false, false, false});
    at::Tensor rederived = foldedModel.forward(f.samples, nullptr, &minMax);
    EXPECT_GT(maxDiff(trained, rederived), maxDiff(trained, again));
    // And the folded float model alone is the smoothed function (LET exact) with clipped weights:
    // it differs from the original only through clipping.
    EXPECT_GT(maxDiff(foldedModel.forward(f.samples), t.forward(f.samples)), 0.0);
}

TEST(QuantSim, GradientsReachEveryParameterGroup)
{
    Fixture f = stories(2, 32);
    Transformer t(f.config, f.weights);
    QuantSim sim(f.config, PrecisionMap(WeightPreset::W8A8), f.ranges, QuantSimOptions{});
    at::Tensor loss = (sim.hiddenStates(t, f.weights, f.samples) - t.hiddenStates(f.samples).detach()).pow(2).mean();
    loss.backward();
    auto anyGrad = [](const std::vector<at::Tensor> &ps) {
        int withGrad = 0;
        for (const at::Tensor &p : ps)
            withGrad += p.grad().defined() && p.grad().abs().sum().item<double>() > 0;
        return withGrad;
    };
    EXPECT_GT(anyGrad(sim.letParameters()), int(sim.letParameters().size()) / 2);
    EXPECT_GT(anyGrad(sim.lwcParameters()), int(sim.lwcParameters().size()) / 2);
    EXPECT_GT(anyGrad(sim.lrlParameters()), int(sim.lrlParameters().size()) / 2);
}

TEST(QuantSim, StateDictRoundTrips)
{
    Fixture f = stories(2, 32);
    QuantSim a(f.config, PrecisionMap(WeightPreset::W8A8), f.ranges, QuantSimOptions{});
    {
        c10::NoGradGuard g;
        for (at::Tensor p : a.letParameters())
            p.add_(0.01 * at::randn(p.sizes()));
    }
    QuantSim b(f.config, PrecisionMap(WeightPreset::W8A8), f.ranges, QuantSimOptions{});
    b.loadStateDict(a.stateDict());
    for (auto &[k, v] : a.stateDict())
        EXPECT_TRUE(at::equal(v, b.stateDict().at(k))) << k;
}

TEST(QuantSim, MissingRangeIsNamed)
{
    Fixture f = stories(2, 32);
    f.ranges.erase("layers.1.attn.qk.out");
    try {
        QuantSim sim(f.config, PrecisionMap(WeightPreset::W8A8), f.ranges, QuantSimOptions{});
        FAIL() << "expected an error";
    } catch (const Error &e) {
        EXPECT_NE(std::string(e.what()).find("layers.1.attn.qk.out"), std::string::npos);
    }
}
