// The float model against an independent float64 forward pass of stories260K
// (../shared/reference/stories260K.json): greedy ids from BOS, BOS-step top-5 logits, sample NLL.
#include "test_support.h"

#include "core/model/model.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace mq;

namespace {

nlohmann::json reference()
{
    std::ifstream in(test::sharedDir() / "reference" / "stories260K.json");
    return nlohmann::json::parse(in);
}

std::pair<ModelConfig, ModelWeights> stories()
{
    return readLlama2c((test::sharedDir() / "models" / "stories260K" / "stories260K.bin").string());
}

at::Tensor ids(const std::vector<int64_t> &v) { return at::tensor(v, at::kLong).unsqueeze(0); }

} // namespace

TEST(Reference, BosStepTop5LogitsWithin1e4)
{
    c10::NoGradGuard g;
    auto [c, w] = stories();
    Transformer t(c, w);
    at::Tensor logits = t.forward(ids({1}))[0][0];
    for (const auto &pair : reference()["bos_step_top5"]) {
        const int64_t id = pair[0].get<int64_t>();
        const double want = pair[1].get<double>();
        EXPECT_NEAR(logits[id].item<double>(), want, 1e-4) << "token " << id;
    }
    at::Tensor top = std::get<1>(logits.topk(5));
    EXPECT_EQ(top[0].item<int64_t>(), reference()["bos_step_top5"][0][0].get<int64_t>());
}

TEST(Reference, GreedyTokensFromBosMatchWithKvCache)
{
    c10::NoGradGuard g;
    auto [c, w] = stories();
    Transformer t(c, w);
    const std::vector<int64_t> want = reference()["greedy_tokens_from_BOS"].get<std::vector<int64_t>>();
    std::vector<int64_t> got = {1};
    KvCache cache;
    at::Tensor input = ids({1});
    while (got.size() < want.size()) {
        at::Tensor logits = t.forward(input, &cache)[0][-1];
        got.push_back(logits.argmax().item<int64_t>());
        input = ids({got.back()});
    }
    EXPECT_EQ(got, want);
}

TEST(Reference, SampleMeanNllWithin1e4)
{
    c10::NoGradGuard g;
    auto [c, w] = stories();
    Transformer t(c, w);
    const auto ref = reference();
    const std::vector<int64_t> toks = ref["sample_tokens"].get<std::vector<int64_t>>();
    at::Tensor input = ids(toks);
    at::Tensor logp = at::log_softmax(t.forward(input)[0].to(at::kDouble), -1);
    double nll = 0;
    for (size_t i = 0; i + 1 < toks.size(); ++i)
        nll -= logp[int64_t(i)][toks[i + 1]].item<double>();
    nll /= double(toks.size() - 1);
    EXPECT_NEAR(nll, ref["sample_mean_nll_nats"].get<double>(), 1e-4);
}
