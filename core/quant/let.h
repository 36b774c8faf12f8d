#pragma once

#include "core/model/model_config.h"
#include "core/model/weights.h"

#include <ATen/Tensor.h>

#include <map>
#include <string>
#include <vector>

namespace mq {

// The learnable equivalent transformations of a decoder layer (mobilequant-method.md §2.1): a
// per-channel scale s divides the producer's output channels and multiplies the consumer's input
// columns, Y = XW = (X S⁻¹)(S W).
enum class LetPairKind {
    Qkv, // attention norm (γ, β) → q, k, v columns; size hidden
    Fc1, // MLP norm → gate, up columns; size hidden
    Out, // v rows → o columns; size heads·head_dim; MHA only (numKvHeads == numHeads)
    Fc2, // up rows → down columns; size intermediate
    Qkt, // q rows ÷ s, k rows × s; size heads·head_dim; MHA only. Not exact through RoPE.
};

struct LetPair
{
    LetPairKind kind;
    const char *name; // "qkv", "fc1", "out", "fc2", "qkt" (the reference's <name>_smooth_scale)
    int64_t size; // length of the scale vector
};

// The pairs that exist for a layer of this model, in the order of §2.2.
std::vector<LetPair> letPairs(const ModelConfig &config);

// One scale vector per pair; an undefined tensor leaves that pair out.
struct LetScales
{
    at::Tensor qkv, fc1, out, fc2, qkt;

    at::Tensor &operator[](LetPairKind k);
    const at::Tensor &operator[](LetPairKind k) const;
};

// A transformed copy of `w` (§2.2, shifts δ = 0): differentiable w.r.t. the scales, so it can be
// recomputed at every training step before weight fake-quant. `w` is not modified. Throws
// mq::Error for a pair the model does not have (out/qkt on GQA) or a scale of the wrong size.
LayerWeights applyLet(const ModelConfig &config, const LayerWeights &w, const LetScales &scales);

// §2.2 step 1, in place and without gradient: s ← sign(s)·0.01 where |s| < 0.01.
void truncateLetScale(at::Tensor &scale);

// SmoothQuant's factor (§2.4): s_j = clamp(actMax_j^α / max(max_consumers max_i |W_ij|, 1e-5)^(1−α),
// min 1e-5), with `consumers` the [out, in] weights that read channel j as input column j.
at::Tensor smoothQuantScales(const at::Tensor &actMax, const std::vector<at::Tensor> &consumers, double alpha);

enum class SmoothQuantVariant {
    Modified, // norm→qkv, norm→gate/up, v→o (MHA only), up→down (the reference default)
    OriginalSmoothQuant, // only the two norm→linear pairs
    OriginalOmniQuant, // keeps v→o, drops up→down
};

// Smooths `weights` in place (the FP function is unchanged). `channelAbsMax` holds per-channel
// max|x| of the unsmoothed model by site name (ActStatsCollector::channelAbsMax): the inputs
// layers.<i>.attn_norm.out, mlp_norm.out, attn.pv.out (MHA) and mlp.down.in. Throws mq::Error
// naming a missing site. α is 0.5 for TinyLlama/Gemma and 0.6 for StableLM-2 in the reference.
void smoothQuant(const ModelConfig &config, ModelWeights &weights,
    const std::map<std::string, at::Tensor> &channelAbsMax, double alpha = 0.5,
    SmoothQuantVariant variant = SmoothQuantVariant::Modified);

} // namespace mq
