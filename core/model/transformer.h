#pragma once

#include "core/model/model_config.h"
#include "core/model/sites.h"
#include "core/model/weights.h"

#include <ATen/Tensor.h>

#include <vector>

namespace mq {

// A probe on the quantization sites. The forward pass calls it with every tensor at a site and
// continues with what it returns: return the argument to observe, a fake-quantized copy to
// simulate quantization. Called on the thread that runs the forward; tensors are float32.
class SiteHook
{
public:
    virtual ~SiteHook() = default;
    virtual at::Tensor activation(int layer, ActSite site, const at::Tensor &x) = 0;
    virtual at::Tensor weight(int layer, WeightSite site, const at::Tensor &w) { return w; }
    virtual at::Tensor model(ModelSite site, const at::Tensor &x) { return x; }
};

// Keys and values of past positions, per layer [batch, kv_heads, past, head_dim], as they came out
// of the QkIn2 / PvIn2 sites (so a quantizing hook fills it with quantized values).
struct KvCache
{
    std::vector<at::Tensor> keys;
    std::vector<at::Tensor> values;
    int64_t length = 0;
    void clear();
};

// Precomputed rotary tables (cos, sin) [positions, rotary_dim], computed in double then stored
// as float32 so positions far into the context keep their precision.
struct RopeTables
{
    at::Tensor cos, sin;
};
RopeTables makeRopeTables(const ModelConfig &config, int64_t positions);

// The forward pass, split so that block-wise calibration can run one layer at a time.
// Shapes: tokens [B, T] int64; hidden states [B, T, hidden]. `startPos` is the position of the
// first token (= cache length when decoding). Any hook / cache argument may be null.
class Transformer
{
public:
    Transformer(ModelConfig config, ModelWeights weights);

    const ModelConfig &config() const { return m_config; }
    const ModelWeights &weights() const { return m_weights; }
    ModelWeights &weights() { return m_weights; }

    at::Tensor embed(const at::Tensor &tokens) const;
    at::Tensor layer(int index, const LayerWeights &w, const at::Tensor &x, int64_t startPos,
                     KvCache *cache, SiteHook *hook) const;
    at::Tensor head(const at::Tensor &hidden, SiteHook *hook) const; // final norm + LM head → logits

    // tokens → logits [B, T, vocab]; with a cache, appends to it (incremental decoding).
    at::Tensor forward(const at::Tensor &tokens, KvCache *cache = nullptr, SiteHook *hook = nullptr) const;
    // tokens → last decoder layer output [B, T, hidden] (the end-to-end calibration target).
    at::Tensor hiddenStates(const at::Tensor &tokens, SiteHook *hook = nullptr) const;

private:
    const RopeTables &rope(int64_t positions) const;

    ModelConfig m_config;
    ModelWeights m_weights;
    mutable RopeTables m_rope;
};

} // namespace mq
