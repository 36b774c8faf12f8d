// The statistics collector against a direct min / max over the very tensors the forward produced
// (recorded by a separate hook on an identical forward).
#include "quant_test_models.h"

#include "core/quant/act_stats.h"
#include "core/util/error.h"

#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>

using namespace mq;

namespace {

class Recorder : public SiteHook
{
public:
    at::Tensor activation(int layer, ActSite s, const at::Tensor &x) override
    {
        tensors[actSiteName(layer, s)].push_back(x.detach().clone());
        return x;
    }
    at::Tensor model(ModelSite s, const at::Tensor &x) override
    {
        tensors[modelSiteName(s)].push_back(x.detach().clone());
        return x;
    }
    std::map<std::string, std::vector<at::Tensor>> tensors;
};

const std::vector<std::vector<int64_t>> kSequences = { { 1, 7, 42, 3, 19, 19, 5, 33 }, { 2, 11, 4, 48, 30, 9 } };

} // namespace

TEST(ActStats, EqualDirectMinMaxOverTheRecordedTensors)
{
    c10::NoGradGuard g;
    const Model m = test::loadTiny("llama");
    const auto wanted = [](const std::string &n) { return n.rfind("layers.1.", 0) == 0 || n == "final_norm.in"; };
    ActStatsCollector stats(wanted);
    Recorder rec;
    for (const auto &seq : kSequences) {
        const at::Tensor a = m.transformer->forward(test::tokenRow(seq), nullptr, &stats);
        const at::Tensor b = m.transformer->forward(test::tokenRow(seq), nullptr, &rec);
        EXPECT_TRUE(a.equal(b)) << "observing must not change the output";
    }
    size_t checked = 0;
    for (const auto &[name, list] : rec.tensors) {
        if (!wanted(name)) {
            EXPECT_EQ(stats.stats().count(name), 0u) << name;
            continue;
        }
        SCOPED_TRACE(name);
        ASSERT_EQ(stats.stats().count(name), 1u);
        const SiteStats &s = stats.stats().at(name);
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        const int64_t channels = list.front().size(-1);
        std::vector<double> chan(size_t(channels), 0.0);
        for (const at::Tensor &t : list) {
            const at::Tensor flat = t.reshape({ -1 }).to(at::kDouble);
            const double *p = flat.data_ptr<double>();
            for (int64_t i = 0; i < flat.numel(); ++i) {
                lo = std::min(lo, p[i]);
                hi = std::max(hi, p[i]);
                if (t.size(-1) == channels)
                    chan[size_t(i % channels)] = std::max(chan[size_t(i % channels)], std::abs(p[i]));
            }
        }
        EXPECT_EQ(s.calls, int64_t(list.size()));
        EXPECT_FLOAT_EQ(float(s.min), float(lo));
        EXPECT_FLOAT_EQ(float(s.max), float(hi));
        const bool scores = name == "layers.1.attn.qk.out" || name == "layers.1.attn.pv.in";
        if (scores) {
            EXPECT_FALSE(s.channelAbsMax.defined()) << "the last dim of attention scores is a position, not a channel";
        } else {
            ASSERT_TRUE(s.channelAbsMax.defined());
            ASSERT_EQ(s.channelAbsMax.numel(), channels);
            for (int64_t c = 0; c < channels; ++c)
                EXPECT_FLOAT_EQ(s.channelAbsMax[c].item<float>(), float(chan[size_t(c)])) << "channel " << c;
        }
        ++checked;
    }
    EXPECT_EQ(checked, size_t(20 + 1)); // layer 1's SiLU sites + final_norm.in
    EXPECT_EQ(stats.channelAbsMax().count("layers.1.mlp.down.in"), 1u);
}

TEST(ActStats, InitialRanges)
{
    c10::NoGradGuard g;
    const Model m = test::loadTiny("llama");
    ActStatsCollector stats;
    m.transformer->forward(test::tokenRow(kSequences[0]), nullptr, &stats);
    // The sigmoid inside SiLU starts at [0, 1] whatever was seen (§3.2).
    EXPECT_EQ(stats.initialRange("layers.0.mlp.act.in2"), std::make_pair(0.0, 1.0));
    const SiteStats &s = stats.stats().at("layers.0.mlp.down.in");
    EXPECT_EQ(stats.initialRange("layers.0.mlp.down.in"), std::make_pair(s.min, s.max));
    EXPECT_LT(s.min, s.max);
    stats.clear();
    EXPECT_THROW(stats.initialRange("layers.0.mlp.down.in"), Error);
}
