#pragma once

// The deployment simulation's side of the package parity checks (test_export.cpp on stories260K,
// test_families.cpp on a tiny checkpoint of each family): the simulation evaluated in float64,
// and the argmax of every scored position with the rolling windows of core/eval.

#include "core/export/exporter.h"
#include "core/quant/fake_quant.h"
#include "core/runtime/executor.h"
#include "core/runtime/model_package.h"
#include "core/runtime/package.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <vector>

namespace mq::test {

// The same deployment simulation evaluated in float64: the folded weights widened (exactly); every
// weight quantized with the simulation's float32 scale/offset and codes (so the codes are the
// package's) but dequantized exactly; the float end (the embedding into layer 0's attn_norm.in)
// quantized in float32 as the float32 simulation and the runtime do; every other activation site
// quantized from float64 values with the same float32 scales and offsets. Only the rounding of the
// arithmetic between the quantizers changes (2^-53 instead of 2^-24), so its disagreements with the
// float32 simulation are the float32 simulation's own noise, and the integer runtime (exact
// arithmetic between the sites) should follow it closely.
inline ModelWeights widened(const ModelWeights &w)
{
    auto d = [](const at::Tensor &t) { return t.defined() ? t.to(at::kDouble) : t; };
    ModelWeights out = w;
    out.embed = d(w.embed);
    out.finalNormW = d(w.finalNormW);
    out.finalNormB = d(w.finalNormB);
    out.lmHead = d(w.lmHead);
    for (LayerWeights &l : out.layers)
        for (at::Tensor *t : { &l.attnNormW, &l.attnNormB, &l.qW, &l.qB, &l.kW, &l.kB, &l.vW, &l.vB, &l.oW, &l.oB,
                 &l.mlpNormW, &l.mlpNormB, &l.gateW, &l.gateB, &l.upW, &l.upB, &l.downW, &l.downB })
            *t = d(*t);
    return out;
}

// The folded weights with every linear bias as an integer package holds it: int32 in the
// accumulator's grid s_in * s_w[o] (quantizeBias, halves away from zero), widened exactly. The
// deployment simulation adds the float bias; the runtime cannot, and the difference (at most half
// of s_in * s_w[o], ~1e-4 on the tiny models) moves codes of the biased sites by a step now and
// then. Evaluated on these weights, the simulation is the model as deployed.
inline ModelWeights withPackageBiases(const ModelWeights &w, const Package &pkg)
{
    ModelWeights out = w;
    for (size_t l = 0; l < out.layers.size(); ++l) {
        LayerWeights &lw = out.layers[l];
        at::Tensor *biases[] = { &lw.qB, &lw.kB, &lw.vB, &lw.oB, &lw.gateB, &lw.upB, &lw.downB };
        for (int i = 0; i < kRtLinearCount; ++i) {
            const std::string stem = layerTensorName(int(l), rtLinearName(RtLinear(i)));
            if (!biases[i]->defined() || !pkg.contains(stem + ".bias"))
                continue;
            const PackageTensor b = pkg.tensor(stem + ".bias"), ws = pkg.tensor(stem + ".weight_scale");
            const std::string in = "layers." + std::to_string(l) + "." + rtSiteName(rtLinearInput(RtLinear(i)));
            const double sIn = *reinterpret_cast<const float *>(pkg.tensor(in + ".scale").data);
            const auto *codes = reinterpret_cast<const int32_t *>(b.data);
            const auto *sw = reinterpret_cast<const float *>(ws.data);
            at::Tensor deployed = at::empty({ int64_t(b.shape[0]) }, at::kDouble);
            for (int64_t o = 0; o < deployed.size(0); ++o)
                deployed[o] = double(codes[o]) * sIn * double(sw[ws.shape[0] == 1 ? 0 : o]);
            *biases[i] = deployed;
        }
    }
    return out;
}

//
// With the package, the float end's codes are also dequantized exactly, (c - z) s in float64, as
// the runtime carries them: the float32 value is off by up to 2^-24 of itself, which on a 16-bit
// grid is up to ~0.002 of a step, enough to move a residual add's sum across a half now and then
// (measured: 2 of 2048 codes of layer 0's mlp_norm.in on the tiny gemma, whose embedding is
// scaled by sqrt(hidden)).
class Float64Sim : public SiteHook
{
public:
    Float64Sim(QuantSim &sim, const Deployment &d, const Package *package = nullptr)
        : m_sim(sim)
        , m_d(d)
        , m_package(package)
    {
    }
    at::Tensor activation(int layer, ActSite site, const at::Tensor &x) override
    {
        if (layer == 0 && site == ActSite::AttnNormIn) {
            const at::Tensor y = m_sim.activation(layer, site, x.to(at::kFloat)).to(at::kDouble);
            if (!m_package)
                return y;
            const std::string stem = std::string("layers.0.") + actSiteName(site);
            const double scale = *reinterpret_cast<const float *>(m_package->tensor(stem + ".scale").data);
            const int32_t zp = reinterpret_cast<const int32_t *>(m_package->tensor(stem + ".quant").data)[0];
            // |y / s - (c - z)| <= 2^-24 * 2^16 < 0.01: the codes come back exactly.
            const at::Tensor codes = at::round(y / scale) + double(zp);
            return (codes - double(zp)) * scale;
        }
        // Scale and offset are 0-dim float32 tensors: a float64 x keeps its precision.
        return m_sim.activation(layer, site, x);
    }
    at::Tensor weight(int layer, WeightSite site, const at::Tensor &w) override
    {
        const at::Tensor q32 = m_sim.weight(layer, site, w.to(at::kFloat)); // (code - offset) * s, rounded to float32
        const QuantSpec spec = m_d.map.weight(layer, site);
        const auto &range = m_d.weightRanges.at(weightSiteName(layer, site));
        const at::Tensor s = scaleOffsetFromMinMax(range.first, range.second, spec).scale.to(at::kDouble);
        const at::Tensor q2 = q32.dim() == 1 ? q32.unsqueeze(0).to(at::kDouble) : q32.to(at::kDouble);
        const at::Tensor exact = at::round(q2 / s) * s; // |q32 / s - (code - offset)| <= 2^-24 * 2^15
        return q32.dim() == 1 ? exact.squeeze(0) : exact;
    }

private:
    QuantSim &m_sim;
    const Deployment &m_d;
    const Package *m_package;
};

// The simulation's side of the parity check: the windows of runtimePerplexity / core/eval (seqLen
// tokens, the first maxTokens of ids), with the argmax and the top-1 minus top-2 log-probability of
// every scored position.
inline RuntimePerplexity simulate(const std::vector<int> &ids, SiteHook *hook, const Transformer &model,
    std::vector<double> &margins, int seqLen, int64_t maxTokens)
{
    c10::NoGradGuard noGrad;
    RuntimePerplexity r;
    const int64_t n = std::min<int64_t>(maxTokens, int64_t(ids.size())), step = seqLen - 1;
    int64_t next = 1;
    while (next < n) {
        const int64_t e = std::min<int64_t>(n, next + step), s = std::max<int64_t>(0, e - seqLen);
        at::Tensor input = at::empty({ 1, e - s }, at::kLong);
        for (int64_t i = s; i < e; ++i)
            input[0][i - s] = int64_t(ids[size_t(i)]);
        at::Tensor logp = at::log_softmax(model.forward(input, nullptr, hook)[0], -1);
        for (int64_t t = next; t < e; ++t) {
            r.nll -= logp[t - s - 1][ids[size_t(t)]].item<double>();
            r.argmax.push_back(int32_t(logp[t - s - 1].argmax().item<int64_t>()));
            const at::Tensor top = std::get<0>(logp[t - s - 1].topk(2));
            margins.push_back(top[0].item<double>() - top[1].item<double>());
            ++r.tokens;
        }
        next = e;
    }
    return r;
}

inline double agreementOf(const std::vector<int32_t> &a, const std::vector<int32_t> &b)
{
    size_t same = 0;
    for (size_t i = 0; i < a.size(); ++i)
        same += a[i] == b[i];
    return a.empty() ? 0.0 : double(same) / double(a.size());
}

} // namespace mq::test
