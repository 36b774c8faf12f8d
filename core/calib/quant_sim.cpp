#include "core/calib/quant_sim.h"

#include "core/quant/fake_quant.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

namespace mq {

namespace {

int64_t weightRows(const ModelConfig &c, WeightSite s)
{
    switch (s) {
    case WeightSite::Q: return c.qDim();
    case WeightSite::K:
    case WeightSite::V: return c.kvDim();
    case WeightSite::O:
    case WeightSite::Down: return c.hiddenSize;
    case WeightSite::Gate:
    case WeightSite::Up: return c.intermediateSize;
    default: return 1; // norm weights: one pair of factors
    }
}

at::Tensor leaf(at::Tensor t, bool trainable)
{
    t = t.detach().clone().to(at::kFloat);
    t.set_requires_grad(trainable);
    return t;
}

const char *pairName(LetPairKind k)
{
    switch (k) {
    case LetPairKind::Qkv: return "qkv";
    case LetPairKind::Fc1: return "fc1";
    case LetPairKind::Out: return "out";
    case LetPairKind::Fc2: return "fc2";
    case LetPairKind::Qkt: return "qkt";
    }
    return "?";
}

} // namespace

QuantSim::QuantSim(const ModelConfig &config, PrecisionMap map, const SiteRanges &ranges, QuantSimOptions options)
    : m_config(config)
    , m_map(std::move(map))
    , m_options(options)
{
    const bool silu = config.act == Activation::Silu;
    m_layers.resize(size_t(config.numLayers));
    for (int l = 0; l < config.numLayers; ++l) {
        Layer &L = m_layers[size_t(l)];
        if (options.let)
            for (const LetPair &p : letPairs(config))
                L.let[p.kind] = leaf(at::ones({p.size}), true);
        for (int s = 0; s < kActSiteCount; ++s) {
            ActQuant &q = L.act[size_t(s)];
            q.spec = m_map.activation(l, ActSite(s));
            if (!q.spec.quantized() || !actSiteExists(ActSite(s), silu))
                continue;
            const std::string name = actSiteName(l, ActSite(s));
            auto it = ranges.find(name);
            if (it == ranges.end())
                throw Error("no calibration range for site " + name + "; collect activation statistics first");
            ScaleOffset so = scaleOffsetFromMinMax(at::scalar_tensor(it->second.first, at::kDouble),
                                                   at::scalar_tensor(it->second.second, at::kDouble), q.spec);
            q.scale = leaf(so.scale, options.lrl);
            q.offset = leaf(so.offset, options.lrl);
            m_actNames.push_back(name);
        }
        for (int s = 0; s < kWeightSiteCount; ++s) {
            WeightQuant &q = L.weight[size_t(s)];
            q.spec = m_map.weight(l, WeightSite(s));
            if (!q.spec.quantized() || !options.lwc)
                continue;
            const int64_t rows = q.spec.perChannel ? weightRows(config, WeightSite(s)) : 1;
            q.fUp = leaf(at::full({rows, 1}, options.lwcInit), true);
            q.fLow = leaf(at::full({rows, 1}, options.lwcInit), true);
        }
    }
}

LayerWeights QuantSim::transformedLayer(int layer, const LayerWeights &base)
{
    if (!m_options.let)
        return base;
    LetScales &scales = m_layers[size_t(layer)].let;
    for (const LetPair &p : letPairs(m_config))
        truncateLetScale(scales[p.kind]);
    return applyLet(m_config, base, scales);
}

at::Tensor QuantSim::layerForward(const Transformer &model, int layer, const LayerWeights &base, const at::Tensor &x)
{
    if (!m_enabled)
        return model.layer(layer, base, x, 0, nullptr, nullptr);
    return model.layer(layer, transformedLayer(layer, base), x, 0, nullptr, this);
}

at::Tensor QuantSim::hiddenStates(const Transformer &model, const ModelWeights &base, const at::Tensor &tokens)
{
    at::Tensor x = model.embed(tokens);
    for (int l = 0; l < m_config.numLayers; ++l)
        x = layerForward(model, l, base.layers[size_t(l)], x);
    return x;
}

at::Tensor QuantSim::logits(const Transformer &model, const ModelWeights &base, const at::Tensor &tokens)
{
    return model.head(hiddenStates(model, base, tokens), nullptr);
}

at::Tensor QuantSim::activation(int layer, ActSite site, const at::Tensor &x)
{
    const ActQuant &q = m_layers[size_t(layer)].act[size_t(site)];
    if (!m_enabled || !q.scale.defined())
        return x;
    return fakeQuant(x, q.scale, q.offset, q.spec.qmin(), q.spec.qmax());
}

std::pair<at::Tensor, at::Tensor> QuantSim::rangeOf(const WeightQuant &q, const at::Tensor &w2) const
{
    at::Tensor mn, mx;
    if (q.spec.perChannel) {
        mn = std::get<0>(w2.min(1, true));
        mx = std::get<0>(w2.max(1, true));
    } else {
        mn = w2.min().reshape({1, 1});
        mx = w2.max().reshape({1, 1});
    }
    if (q.fUp.defined()) {
        // LWC (§4): the range shrunk by σ(f), recomputed on every forward so that the factors get
        // gradients through the scale.
        mn = at::sigmoid(q.fLow) * mn;
        mx = at::sigmoid(q.fUp) * mx;
    }
    return {mn, mx};
}

at::Tensor QuantSim::quantizeWeight(const WeightQuant &q, const at::Tensor &w) const
{
    if (!q.spec.quantized())
        return w;
    const at::Tensor w2 = w.dim() == 1 ? w.unsqueeze(0) : w;
    auto [mn, mx] = rangeOf(q, w2);
    ScaleOffset so = scaleOffsetFromMinMax(mn, mx, q.spec);
    at::Tensor out = fakeQuant(w2, so.scale, so.offset, q.spec.qmin(), q.spec.qmax());
    return w.dim() == 1 ? out.squeeze(0) : out;
}

QuantSim::WeightRanges QuantSim::weightRanges(const ModelWeights &base)
{
    c10::NoGradGuard noGrad;
    WeightRanges out;
    for (int l = 0; l < m_config.numLayers; ++l) {
        const LayerWeights lw = transformedLayer(l, base.layers[size_t(l)]);
        for (int s = 0; s < kWeightSiteCount; ++s) {
            const WeightQuant &q = m_layers[size_t(l)].weight[size_t(s)];
            if (!q.spec.quantized())
                continue;
            const at::Tensor &w = lw.weight(WeightSite(s));
            auto r = rangeOf(q, w.dim() == 1 ? w.unsqueeze(0) : w);
            out[weightSiteName(l, WeightSite(s))] = {r.first.detach().clone(), r.second.detach().clone()};
        }
    }
    return out;
}

at::Tensor QuantSim::weight(int layer, WeightSite site, const at::Tensor &w)
{
    if (!m_enabled)
        return w;
    const WeightQuant &q = m_layers[size_t(layer)].weight[size_t(site)];
    if (!m_fixedWeightRanges.empty() && q.spec.quantized()) {
        auto it = m_fixedWeightRanges.find(weightSiteName(layer, site));
        if (it != m_fixedWeightRanges.end()) {
            const at::Tensor w2 = w.dim() == 1 ? w.unsqueeze(0) : w;
            ScaleOffset so = scaleOffsetFromMinMax(it->second.first, it->second.second, q.spec);
            at::Tensor out = fakeQuant(w2, so.scale, so.offset, q.spec.qmin(), q.spec.qmax());
            return w.dim() == 1 ? out.squeeze(0) : out;
        }
    }
    return quantizeWeight(q, w);
}

std::vector<at::Tensor> QuantSim::letParameters(int layer) const
{
    std::vector<at::Tensor> out;
    for (int l = 0; l < m_config.numLayers; ++l)
        if (layer < 0 || l == layer)
            for (const LetPair &p : letPairs(m_config))
                if (m_layers[size_t(l)].let[p.kind].defined())
                    out.push_back(m_layers[size_t(l)].let[p.kind]);
    return out;
}

std::vector<at::Tensor> QuantSim::lwcParameters(int layer) const
{
    std::vector<at::Tensor> out;
    for (int l = 0; l < m_config.numLayers; ++l)
        if (layer < 0 || l == layer)
            for (const WeightQuant &q : m_layers[size_t(l)].weight)
                if (q.fUp.defined()) {
                    out.push_back(q.fUp);
                    out.push_back(q.fLow);
                }
    return out;
}

std::vector<at::Tensor> QuantSim::lrlParameters(int layer) const
{
    std::vector<at::Tensor> out;
    if (!m_options.lrl)
        return out;
    for (int l = 0; l < m_config.numLayers; ++l)
        if (layer < 0 || l == layer)
            for (const ActQuant &q : m_layers[size_t(l)].act)
                if (q.scale.defined()) {
                    out.push_back(q.scale);
                    out.push_back(q.offset);
                }
    return out;
}

ModelWeights QuantSim::fold(const ModelWeights &base)
{
    c10::NoGradGuard noGrad;
    ModelWeights out = base;
    for (int l = 0; l < m_config.numLayers; ++l) {
        LayerWeights lw = transformedLayer(l, base.layers[size_t(l)]);
        for (int s = 0; s < kWeightSiteCount; ++s) {
            const WeightQuant &q = m_layers[size_t(l)].weight[size_t(s)];
            at::Tensor &w = lw.weight(WeightSite(s));
            if (q.fUp.defined() && q.spec.quantized()) {
                // The learned clip made permanent (§2.3), at the bounds the quantizer really uses:
                // (qmin − o)·s and (qmax − o)·s. These are wider than σ(f)·min/max when the scale
                // hits its 1e-5 floor (16-bit norm weights with a range under 0.66), and clipping
                // at σ(f)·max there — as the reference does — would change the trained function.
                const at::Tensor w2 = w.dim() == 1 ? w.unsqueeze(0) : w;
                auto [mn, mx] = rangeOf(q, w2);
                ScaleOffset so = scaleOffsetFromMinMax(mn, mx, q.spec);
                at::Tensor lo = (double(q.spec.qmin()) - so.offset) * so.scale;
                at::Tensor hi = (double(q.spec.qmax()) - so.offset) * so.scale;
                at::Tensor clipped = at::max(at::min(w2, hi), lo);
                w = w.dim() == 1 ? clipped.squeeze(0) : clipped;
            }
            w = w.detach().clone();
        }
        for (at::Tensor *b : {&lw.attnNormB, &lw.qB, &lw.kB, &lw.vB, &lw.oB, &lw.mlpNormB, &lw.gateB, &lw.upB, &lw.downB})
            if (b->defined())
                *b = b->detach().clone();
        out.layers[size_t(l)] = lw;
    }
    return out;
}

SiteRanges QuantSim::activationRanges() const
{
    SiteRanges out;
    for (int l = 0; l < m_config.numLayers; ++l)
        for (int s = 0; s < kActSiteCount; ++s) {
            const ActQuant &q = m_layers[size_t(l)].act[size_t(s)];
            if (!q.scale.defined())
                continue;
            const double sc = q.scale.item<double>(), off = q.offset.item<double>();
            // fmin = (qmin − o)·s, fmax = (qmax − o)·s: §3.1 for asymmetric (qmin 0).
            out[actSiteName(l, ActSite(s))] = {(double(q.spec.qmin()) - off) * sc, (double(q.spec.qmax()) - off) * sc};
        }
    return out;
}

std::map<std::string, at::Tensor> QuantSim::letScales() const
{
    std::map<std::string, at::Tensor> out;
    for (int l = 0; l < m_config.numLayers; ++l)
        for (const LetPair &p : letPairs(m_config))
            if (m_layers[size_t(l)].let[p.kind].defined())
                out["layers." + std::to_string(l) + "." + pairName(p.kind)] = m_layers[size_t(l)].let[p.kind].detach();
    return out;
}

std::map<std::string, std::pair<at::Tensor, at::Tensor>> QuantSim::clippingFactors() const
{
    std::map<std::string, std::pair<at::Tensor, at::Tensor>> out;
    for (int l = 0; l < m_config.numLayers; ++l)
        for (int s = 0; s < kWeightSiteCount; ++s) {
            const WeightQuant &q = m_layers[size_t(l)].weight[size_t(s)];
            if (q.fUp.defined())
                out[weightSiteName(l, WeightSite(s))] = {q.fUp.detach(), q.fLow.detach()};
        }
    return out;
}

std::map<std::string, at::Tensor> QuantSim::stateDict() const
{
    std::map<std::string, at::Tensor> out;
    for (auto &[name, t] : letScales())
        out["let:" + name] = t.clone();
    for (auto &[name, f] : clippingFactors()) {
        out["lwc:" + name + ":up"] = f.first.clone();
        out["lwc:" + name + ":low"] = f.second.clone();
    }
    for (int l = 0; l < m_config.numLayers; ++l)
        for (int s = 0; s < kActSiteCount; ++s) {
            const ActQuant &q = m_layers[size_t(l)].act[size_t(s)];
            if (q.scale.defined()) {
                out["act:" + actSiteName(l, ActSite(s)) + ":scale"] = q.scale.detach().clone();
                out["act:" + actSiteName(l, ActSite(s)) + ":offset"] = q.offset.detach().clone();
            }
        }
    return out;
}

void QuantSim::loadStateDict(const std::map<std::string, at::Tensor> &state)
{
    c10::NoGradGuard noGrad;
    auto copyInto = [&](const std::string &key, at::Tensor &dst) {
        auto it = state.find(key);
        if (it == state.end())
            throw Error("the checkpoint lacks " + key);
        if (it->second.numel() != dst.numel())
            throw Error("checkpoint entry " + key + " has " + std::to_string(it->second.numel()) + " values, expected "
                        + std::to_string(dst.numel()));
        dst.copy_(it->second.reshape(dst.sizes()));
    };
    for (int l = 0; l < m_config.numLayers; ++l) {
        Layer &L = m_layers[size_t(l)];
        for (const LetPair &p : letPairs(m_config))
            if (L.let[p.kind].defined())
                copyInto("let:layers." + std::to_string(l) + "." + pairName(p.kind), L.let[p.kind]);
        for (int s = 0; s < kWeightSiteCount; ++s) {
            WeightQuant &q = L.weight[size_t(s)];
            if (q.fUp.defined()) {
                copyInto("lwc:" + weightSiteName(l, WeightSite(s)) + ":up", q.fUp);
                copyInto("lwc:" + weightSiteName(l, WeightSite(s)) + ":low", q.fLow);
            }
        }
        for (int s = 0; s < kActSiteCount; ++s) {
            ActQuant &q = L.act[size_t(s)];
            if (q.scale.defined()) {
                copyInto("act:" + actSiteName(l, ActSite(s)) + ":scale", q.scale);
                copyInto("act:" + actSiteName(l, ActSite(s)) + ":offset", q.offset);
            }
        }
    }
}

std::string QuantSim::firstNonFiniteParameter() const
{
    for (auto &[name, t] : stateDict())
        if (!at::isfinite(t).all().item<bool>())
            return name;
    return {};
}

} // namespace mq
