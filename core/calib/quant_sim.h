#pragma once

#include "core/model/transformer.h"
#include "core/quant/let.h"
#include "core/quant/precision_map.h"

#include <ATen/Tensor.h>

#include <array>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mq {

// Which learned parts a simulation carries (mobilequant-method.md §2–4).
struct QuantSimOptions
{
    bool let = true; // learned equivalent transforms on every consecutive linear pair
    bool lwc = true; // learned weight clipping, σ(f) bounds with f = 4 at start
    bool lrl = true; // learned activation ranges (scale and offset of every activation quantizer)
    double lwcInit = 4.0;
};

using SiteRanges = std::map<std::string, std::pair<double, double>>; // site → (fmin, fmax)

// The fake-quantized model's state: per layer the LET scale vectors, the LWC factors of every
// quantized weight and the (scale, offset) of every quantized activation site, as LibTorch leaf
// tensors the optimiser trains. It is also the SiteHook that applies them in the forward pass.
// Owned and used by one thread (the calibration worker or the CLI's main thread).
class QuantSim : public SiteHook
{
public:
    // `ranges` are the initial activation ranges (ActStatsCollector::initialRange) of every
    // quantized activation site; a missing one is an mq::Error naming it.
    QuantSim(const ModelConfig &config, PrecisionMap map, const SiteRanges &ranges, QuantSimOptions options);

    const ModelConfig &config() const { return m_config; }
    const PrecisionMap &precisionMap() const { return m_map; }
    const QuantSimOptions &options() const { return m_options; }

    // Quantization on/off (off = the float function, for FP targets with the same code path).
    void setEnabled(bool enabled) { m_enabled = enabled; }
    bool enabled() const { return m_enabled; }

    // The layer's weights with its LET scales applied (truncated first, §2.2); differentiable
    // w.r.t. the scales. Without LET, `base` itself.
    LayerWeights transformedLayer(int layer, const LayerWeights &base);

    // Runs decoder layer `layer` of `model` (weights from `base`) through the simulation.
    at::Tensor layerForward(const Transformer &model, int layer, const LayerWeights &base, const at::Tensor &x);
    // All decoder layers: embeddings → last decoder layer output (the end-to-end target).
    at::Tensor hiddenStates(const Transformer &model, const ModelWeights &base, const at::Tensor &tokens);
    // Full quantized model → logits (the LM head and final norm stay float, §1.2).
    at::Tensor logits(const Transformer &model, const ModelWeights &base, const at::Tensor &tokens);

    // Trainable tensors by group, for one layer or (layer = -1) all layers.
    std::vector<at::Tensor> letParameters(int layer = -1) const;
    std::vector<at::Tensor> lwcParameters(int layer = -1) const;
    std::vector<at::Tensor> lrlParameters(int layer = -1) const;

    // LET folded into the weights and the learned clipping made permanent (§2.3); no gradient.
    // The result, quantized with plain min/max weight ranges, reproduces the trained function.
    ModelWeights fold(const ModelWeights &base);

    // The range every quantized weight is quantized with: σ(f_low)·min and σ(f_up)·max of the
    // LET-transformed weight (per row or per tensor), or plain min/max without LWC. Deployment
    // stores these explicitly: re-deriving them from the folded weights' min/max (what the
    // reference does) differs wherever a tensor is all-positive or all-negative, e.g. RMSNorm
    // weights, because clipping cannot move a minimum that is already above σ·min.
    using WeightRanges = std::map<std::string, std::pair<at::Tensor, at::Tensor>>;
    WeightRanges weightRanges(const ModelWeights &base);
    // Quantize weights with these fixed ranges instead (the deployment view of a folded model).
    void setFixedWeightRanges(WeightRanges ranges) { m_fixedWeightRanges = std::move(ranges); }

    // (fmin, fmax) of every quantized activation site from its current (scale, offset) (§3.4).
    SiteRanges activationRanges() const;
    // Site names of the quantized activation sites, in a fixed order (run-file column order).
    const std::vector<std::string> &activationSiteNames() const { return m_actNames; }
    // LET scale vectors by "layers.<i>.<pair>" and LWC upper/lower factors by weight site name.
    std::map<std::string, at::Tensor> letScales() const;
    std::map<std::string, std::pair<at::Tensor, at::Tensor>> clippingFactors() const;

    // Every learned tensor by a stable name ("let:layers.0.qkv", "lwc:<weight site>:up",
    // "act:<site>:scale"), usable as-is as a run-file array name; and back.
    std::map<std::string, at::Tensor> stateDict() const;
    void loadStateDict(const std::map<std::string, at::Tensor> &state);

    // A NaN/inf check of the learned parameters: the name of the first bad one, or "".
    std::string firstNonFiniteParameter() const;

    // SiteHook
    at::Tensor activation(int layer, ActSite site, const at::Tensor &x) override;
    at::Tensor weight(int layer, WeightSite site, const at::Tensor &w) override;

private:
    struct ActQuant
    {
        QuantSpec spec;
        at::Tensor scale, offset; // 0-dim
    };
    struct WeightQuant
    {
        QuantSpec spec;
        at::Tensor fUp, fLow; // [1] or [out, 1]; undefined without LWC
    };
    struct Layer
    {
        LetScales let;
        std::array<ActQuant, kActSiteCount> act;
        std::array<WeightQuant, kWeightSiteCount> weight;
    };

    at::Tensor quantizeWeight(const WeightQuant &q, const at::Tensor &w) const;
    std::pair<at::Tensor, at::Tensor> rangeOf(const WeightQuant &q, const at::Tensor &w2) const;

    ModelConfig m_config;
    PrecisionMap m_map;
    QuantSimOptions m_options;
    std::vector<Layer> m_layers;
    std::vector<std::string> m_actNames;
    bool m_enabled = true;
    WeightRanges m_fixedWeightRanges;
};

} // namespace mq
