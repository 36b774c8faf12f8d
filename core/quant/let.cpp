#include "core/quant/let.h"

#include "core/model/sites.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <ATen/core/grad_mode.h>

#include <algorithm>

namespace mq {

namespace {

constexpr double kTruncate = 1e-2; // TruncateFunction threshold, algorithm.py:27-41
constexpr double kSmoothMin = 1e-5;

const char *pairName(LetPairKind k)
{
    switch (k) {
    case LetPairKind::Qkv:
        return "qkv";
    case LetPairKind::Fc1:
        return "fc1";
    case LetPairKind::Out:
        return "out";
    case LetPairKind::Fc2:
        return "fc2";
    case LetPairKind::Qkt:
        return "qkt";
    }
    return "?";
}

at::Tensor divOpt(const at::Tensor &t, const at::Tensor &s)
{
    return t.defined() ? t / s : t;
}
at::Tensor mulOpt(const at::Tensor &t, const at::Tensor &s)
{
    return t.defined() ? t * s : t;
}

// Column j of an [out, in] weight × s_j; rows i ÷ s_i or × s_i.
at::Tensor scaleColumns(const at::Tensor &w, const at::Tensor &s)
{
    return w * s.unsqueeze(0);
}
at::Tensor divideRows(const at::Tensor &w, const at::Tensor &s)
{
    return w / s.unsqueeze(1);
}
at::Tensor multiplyRows(const at::Tensor &w, const at::Tensor &s)
{
    return w * s.unsqueeze(1);
}

} // namespace

std::vector<LetPair> letPairs(const ModelConfig &c)
{
    std::vector<LetPair> pairs
        = { { LetPairKind::Qkv, "qkv", c.hiddenSize }, { LetPairKind::Fc1, "fc1", c.hiddenSize } };
    if (c.isMultiHead())
        pairs.push_back({ LetPairKind::Out, "out", c.qDim() });
    pairs.push_back({ LetPairKind::Fc2, "fc2", c.intermediateSize });
    if (c.isMultiHead())
        pairs.push_back({ LetPairKind::Qkt, "qkt", c.qDim() });
    return pairs;
}

at::Tensor &LetScales::operator[](LetPairKind k)
{
    switch (k) {
    case LetPairKind::Qkv:
        return qkv;
    case LetPairKind::Fc1:
        return fc1;
    case LetPairKind::Out:
        return out;
    case LetPairKind::Fc2:
        return fc2;
    case LetPairKind::Qkt:
        return qkt;
    }
    return qkv;
}

const at::Tensor &LetScales::operator[](LetPairKind k) const
{
    return const_cast<LetScales &>(*this)[k];
}

LayerWeights applyLet(const ModelConfig &c, const LayerWeights &w, const LetScales &scales)
{
    const std::vector<LetPair> pairs = letPairs(c);
    for (LetPairKind k : { LetPairKind::Qkv, LetPairKind::Fc1, LetPairKind::Out, LetPairKind::Fc2, LetPairKind::Qkt }) {
        const at::Tensor &s = scales[k];
        if (!s.defined())
            continue;
        const auto it = std::find_if(pairs.begin(), pairs.end(), [k](const LetPair &p) { return p.kind == k; });
        if (it == pairs.end())
            throw Error(std::string("the LET pair ") + pairName(k) + " needs multi-head attention (this model has "
                + std::to_string(c.numHeads) + " query and " + std::to_string(c.numKvHeads) + " KV heads)");
        if (s.dim() != 1 || s.size(0) != it->size)
            throw Error(std::string("the LET scale ") + pairName(k) + " must have " + std::to_string(it->size)
                + " entries, got " + std::to_string(s.numel()) + " in " + std::to_string(s.dim()) + " dimensions");
    }

    LayerWeights t = w;
    if (const at::Tensor &s = scales.qkv; s.defined()) {
        t.attnNormW = t.attnNormW / s;
        t.attnNormB = divOpt(t.attnNormB, s);
        t.qW = scaleColumns(t.qW, s);
        t.kW = scaleColumns(t.kW, s);
        t.vW = scaleColumns(t.vW, s);
    }
    if (const at::Tensor &s = scales.fc1; s.defined()) {
        t.mlpNormW = t.mlpNormW / s;
        t.mlpNormB = divOpt(t.mlpNormB, s);
        t.gateW = scaleColumns(t.gateW, s);
        t.upW = scaleColumns(t.upW, s);
    }
    if (const at::Tensor &s = scales.out; s.defined()) {
        t.vW = divideRows(t.vW, s);
        t.vB = divOpt(t.vB, s);
        t.oW = scaleColumns(t.oW, s);
    }
    if (const at::Tensor &s = scales.fc2; s.defined()) {
        t.upW = divideRows(t.upW, s);
        t.upB = divOpt(t.upB, s);
        t.downW = scaleColumns(t.downW, s);
    }
    if (const at::Tensor &s = scales.qkt; s.defined()) {
        t.qW = divideRows(t.qW, s);
        t.qB = divOpt(t.qB, s);
        t.kW = multiplyRows(t.kW, s);
        t.kB = mulOpt(t.kB, s);
    }
    return t;
}

void truncateLetScale(at::Tensor &scale)
{
    at::NoGradGuard noGrad;
    const at::Tensor small = scale.abs() < kTruncate;
    // sign(0) = 0 would zero the scale; the reference's sign() has the same hole, but a zero
    // scale divides by zero, so 0 is treated as positive.
    const at::Tensor sign = at::where(scale < 0, -1.0, 1.0);
    scale.copy_(at::where(small, sign * kTruncate, scale));
}

at::Tensor smoothQuantScales(const at::Tensor &actMax, const std::vector<at::Tensor> &consumers, double alpha)
{
    if (consumers.empty())
        throw Error("SmoothQuant needs at least one consumer weight");
    std::vector<at::Tensor> cols;
    for (const at::Tensor &w : consumers) {
        if (w.dim() != 2 || w.size(1) != actMax.numel())
            throw Error("SmoothQuant: a consumer weight has " + std::to_string(w.dim() == 2 ? w.size(1) : -1)
                + " input columns but the activation has " + std::to_string(actMax.numel()) + " channels");
        cols.push_back(w.abs().amax(0));
    }
    const at::Tensor wMax = at::stack(cols).amax(0).clamp_min(kSmoothMin);
    return (actMax.to(wMax.scalar_type()).pow(alpha) / wMax.pow(1.0 - alpha)).clamp_min(kSmoothMin);
}

void smoothQuant(const ModelConfig &c, ModelWeights &weights, const std::map<std::string, at::Tensor> &channelAbsMax,
    double alpha, SmoothQuantVariant variant)
{
    at::NoGradGuard noGrad;
    const auto actMax = [&](int layer, ActSite site) {
        const std::string name = actSiteName(layer, site);
        const auto it = channelAbsMax.find(name);
        if (it == channelAbsMax.end())
            throw Error("SmoothQuant needs the per-channel activation maxima of " + name
                + " (collect them with an ActStatsCollector over the calibration data)");
        return it->second;
    };
    const bool out = c.isMultiHead() && variant != SmoothQuantVariant::OriginalSmoothQuant;
    const bool fc2 = variant == SmoothQuantVariant::Modified;
    for (int l = 0; l < c.numLayers; ++l) {
        LayerWeights &w = weights.layers[size_t(l)];
        // Every consumer's input columns change only through its own pair, so all scales can be
        // computed from the unsmoothed layer and applied together.
        LetScales s;
        s.qkv = smoothQuantScales(actMax(l, ActSite::AttnNormOut), { w.qW, w.kW, w.vW }, alpha);
        s.fc1 = smoothQuantScales(actMax(l, ActSite::MlpNormOut), { w.gateW, w.upW }, alpha);
        if (out)
            s.out = smoothQuantScales(actMax(l, ActSite::PvOut), { w.oW }, alpha);
        if (fc2)
            s.fc2 = smoothQuantScales(actMax(l, ActSite::DownIn), { w.downW }, alpha);
        w = applyLet(c, w, s);
    }
}

} // namespace mq
