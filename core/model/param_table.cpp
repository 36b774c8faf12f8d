#include "core/model/param_table.h"

namespace mq {

std::vector<ParamRef> paramTable(const ModelConfig &c, ModelWeights &w)
{
    const int64_t H = c.hiddenSize, I = c.intermediateSize, Q = c.qDim(), KV = c.kvDim();
    const bool layerNorm = c.norm == NormKind::LayerNorm;
    std::vector<ParamRef> t;
    t.push_back({"model.embed_tokens.weight", {c.vocabSize, H}, &w.embed, false});
    for (int i = 0; i < c.numLayers; ++i) {
        LayerWeights &l = w.layers[size_t(i)];
        const std::string p = "model.layers." + std::to_string(i) + ".";
        auto linear = [&](const std::string &name, int64_t out, int64_t in, at::Tensor &W, at::Tensor &b, bool bias) {
            t.push_back({p + name + ".weight", {out, in}, &W, false});
            if (bias)
                t.push_back({p + name + ".bias", {out}, &b, false});
        };
        t.push_back({p + "input_layernorm.weight", {H}, &l.attnNormW, true});
        if (layerNorm)
            t.push_back({p + "input_layernorm.bias", {H}, &l.attnNormB, false});
        linear("self_attn.q_proj", Q, H, l.qW, l.qB, c.qkvBias);
        linear("self_attn.k_proj", KV, H, l.kW, l.kB, c.qkvBias);
        linear("self_attn.v_proj", KV, H, l.vW, l.vB, c.qkvBias);
        linear("self_attn.o_proj", H, Q, l.oW, l.oB, c.oBias);
        t.push_back({p + "post_attention_layernorm.weight", {H}, &l.mlpNormW, true});
        if (layerNorm)
            t.push_back({p + "post_attention_layernorm.bias", {H}, &l.mlpNormB, false});
        linear("mlp.gate_proj", I, H, l.gateW, l.gateB, c.mlpBias);
        linear("mlp.up_proj", I, H, l.upW, l.upB, c.mlpBias);
        linear("mlp.down_proj", H, I, l.downW, l.downB, c.mlpBias);
    }
    t.push_back({"model.norm.weight", {H}, &w.finalNormW, true});
    if (layerNorm)
        t.push_back({"model.norm.bias", {H}, &w.finalNormB, false});
    if (!c.tiedEmbeddings)
        t.push_back({"lm_head.weight", {c.vocabSize, H}, &w.lmHead, false});
    return t;
}

} // namespace mq
