#include "core/model/weights.h"

#include "core/model/param_table.h"

#include <ATen/ATen.h>

namespace mq {

at::Tensor &LayerWeights::weight(WeightSite s)
{
    switch (s) {
    case WeightSite::AttnNorm: return attnNormW;
    case WeightSite::Q: return qW;
    case WeightSite::K: return kW;
    case WeightSite::V: return vW;
    case WeightSite::O: return oW;
    case WeightSite::MlpNorm: return mlpNormW;
    case WeightSite::Gate: return gateW;
    case WeightSite::Up: return upW;
    case WeightSite::Down: return downW;
    case WeightSite::Count: break;
    }
    return qW;
}

const at::Tensor &LayerWeights::weight(WeightSite s) const
{
    return const_cast<LayerWeights *>(this)->weight(s);
}

int64_t ModelWeights::parameterCount(bool tied) const
{
    int64_t n = embed.numel() + finalNormW.numel() + (finalNormB.defined() ? finalNormB.numel() : 0);
    if (!tied)
        n += lmHead.numel();
    for (const LayerWeights &l : layers)
        for (const at::Tensor *t : {&l.attnNormW, &l.attnNormB, &l.qW, &l.qB, &l.kW, &l.kB, &l.vW, &l.vB, &l.oW,
                                    &l.oB, &l.mlpNormW, &l.mlpNormB, &l.gateW, &l.gateB, &l.upW, &l.upB,
                                    &l.downW, &l.downB})
            if (t->defined())
                n += t->numel();
    return n;
}

std::vector<std::pair<std::string, at::Tensor>> hfNamedTensors(const ModelConfig &config,
                                                               const ModelWeights &weights)
{
    std::vector<std::pair<std::string, at::Tensor>> out;
    for (const ParamRef &p : paramTable(config, const_cast<ModelWeights &>(weights))) {
        at::Tensor t = *p.tensor;
        if (p.isNormWeight && config.normPlusOne)
            t = t - 1.0f;
        out.emplace_back(p.name, t.contiguous());
    }
    return out;
}

ModelWeights randomWeights(const ModelConfig &config, uint64_t seed)
{
    at::Generator gen = at::detail::createCPUGenerator(seed);
    ModelWeights w;
    w.layers.resize(size_t(config.numLayers));
    for (const ParamRef &p : paramTable(config, w)) {
        if (p.isNormWeight)
            *p.tensor = 1.0f + 0.1f * at::randn(p.shape, gen, at::kFloat);
        else
            *p.tensor = 0.02f * at::randn(p.shape, gen, at::kFloat);
    }
    if (config.tiedEmbeddings)
        w.lmHead = w.embed;
    return w;
}

} // namespace mq
