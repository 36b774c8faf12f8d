#pragma once

#include "core/model/model_config.h"
#include "core/model/sites.h"

#include <ATen/Tensor.h>

#include <string>
#include <vector>

namespace mq {

// One decoder layer's parameters, float32, Linear weights [out, in] as in nn.Linear. Undefined
// tensors are absent biases. The quantization engine builds transformed copies of these (LET,
// clipping) and passes them to the forward functions, so they are plain values, not modules.
struct LayerWeights
{
    at::Tensor attnNormW, attnNormB;
    at::Tensor qW, qB, kW, kB, vW, vB, oW, oB;
    at::Tensor mlpNormW, mlpNormB;
    at::Tensor gateW, gateB, upW, upB, downW, downB;

    at::Tensor &weight(WeightSite s);
    const at::Tensor &weight(WeightSite s) const;
};

struct ModelWeights
{
    at::Tensor embed; // [vocab, hidden]
    std::vector<LayerWeights> layers;
    at::Tensor finalNormW, finalNormB;
    at::Tensor lmHead; // [vocab, hidden]; the same tensor as `embed` when tied

    int64_t parameterCount(bool tied) const;
};

// A (name, tensor) view of every parameter under its Hugging Face name
// ("model.layers.0.self_attn.q_proj.weight"), with Gemma's norm offset undone. What `mq convert`
// and the result checkpoint of a calibration write.
std::vector<std::pair<std::string, at::Tensor>> hfNamedTensors(const ModelConfig &config,
                                                               const ModelWeights &weights);

// Random weights of the right shapes (normal, std 0.02 like HF's initializer; norms around 1):
// for tests and synthetic-shape benchmarks. Deterministic for a seed.
ModelWeights randomWeights(const ModelConfig &config, uint64_t seed);

} // namespace mq
