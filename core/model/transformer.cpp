#include "core/model/transformer.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <cmath>

namespace mq {

void KvCache::clear()
{
    keys.clear();
    values.clear();
    length = 0;
}

RopeTables makeRopeTables(const ModelConfig &c, int64_t positions)
{
    const int rd = c.rotaryDim();
    const auto f64 = at::TensorOptions().dtype(at::kDouble);
    // inv_freq_i = θ^(-2i/rd), i < rd/2; HF duplicates the angles for the two halves.
    at::Tensor i = at::arange(0, rd, 2, f64);
    at::Tensor invFreq = at::pow(at::scalar_tensor(c.ropeTheta, f64), -i / double(rd));
    at::Tensor pos = at::arange(positions, f64) / c.ropeLinearScale;
    at::Tensor angles = at::outer(pos, invFreq);
    at::Tensor emb = at::cat({angles, angles}, -1);
    return {emb.cos().to(at::kFloat), emb.sin().to(at::kFloat)};
}

Transformer::Transformer(ModelConfig config, ModelWeights weights)
    : m_config(std::move(config))
    , m_weights(std::move(weights))
{
    m_rope = makeRopeTables(m_config, std::max(m_config.maxPositions, 1));
}

const RopeTables &Transformer::rope(int64_t positions) const
{
    // Grows on demand for contexts past max_position_embeddings (the caller decides if that is
    // meaningful). Only the thread running the forward touches it.
    if (m_rope.cos.size(0) < positions)
        m_rope = makeRopeTables(m_config, std::max<int64_t>(positions, 2 * m_rope.cos.size(0)));
    return m_rope;
}

namespace {

at::Tensor site(SiteHook *hook, int layer, ActSite s, const at::Tensor &x)
{
    return hook ? hook->activation(layer, s, x) : x;
}

at::Tensor weightAt(SiteHook *hook, int layer, WeightSite s, const at::Tensor &w)
{
    return hook ? hook->weight(layer, s, w) : w;
}

at::Tensor norm(const ModelConfig &c, const at::Tensor &x, const at::Tensor &w, const at::Tensor &b)
{
    if (c.norm == NormKind::LayerNorm)
        return at::layer_norm(x, {x.size(-1)}, w, b, c.normEps);
    at::Tensor y = x * at::rsqrt(x.pow(2).mean(-1, true) + c.normEps) * w;
    return b.defined() ? y + b : y;
}

at::Tensor rotateHalf(const at::Tensor &x)
{
    const int64_t half = x.size(-1) / 2;
    return at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// x [B, H, T, D]; cos/sin [T, rd]. Rotates the first rd dims (all of them but in StableLM).
at::Tensor applyRope(const at::Tensor &x, const at::Tensor &cos, const at::Tensor &sin, int rd)
{
    if (rd == x.size(-1))
        return x * cos + rotateHalf(x) * sin;
    at::Tensor rot = x.narrow(-1, 0, rd);
    at::Tensor pass = x.narrow(-1, rd, x.size(-1) - rd);
    return at::cat({rot * cos + rotateHalf(rot) * sin, pass}, -1);
}

} // namespace

at::Tensor Transformer::embed(const at::Tensor &tokens) const
{
    const int64_t vocab = m_weights.embed.size(0);
    if (tokens.numel() > 0) {
        const int64_t lo = tokens.min().item<int64_t>();
        const int64_t hi = tokens.max().item<int64_t>();
        if (lo < 0 || hi >= vocab)
            throw Error("token id " + std::to_string(lo < 0 ? lo : hi) + " is outside the vocabulary (0.."
                        + std::to_string(vocab - 1) + ")");
    }
    at::Tensor x = at::embedding(m_weights.embed, tokens);
    return m_config.embedScale != 1.0 ? x * m_config.embedScale : x;
}

at::Tensor Transformer::layer(int li, const LayerWeights &w, const at::Tensor &xIn, int64_t startPos,
                              KvCache *cache, SiteHook *hook) const
{
    const ModelConfig &c = m_config;
    const int64_t B = xIn.size(0), T = xIn.size(1);
    const int64_t H = c.numHeads, Hkv = c.numKvHeads, D = c.headDim, G = H / Hkv;

    at::Tensor x = site(hook, li, ActSite::AttnNormIn, xIn);
    at::Tensor h = norm(c, x, weightAt(hook, li, WeightSite::AttnNorm, w.attnNormW), w.attnNormB);
    h = site(hook, li, ActSite::AttnNormOut, h);

    at::Tensor q = site(hook, li, ActSite::QOut, at::linear(h, weightAt(hook, li, WeightSite::Q, w.qW), w.qB));
    at::Tensor k = site(hook, li, ActSite::KOut, at::linear(h, weightAt(hook, li, WeightSite::K, w.kW), w.kB));
    at::Tensor v = site(hook, li, ActSite::VOut, at::linear(h, weightAt(hook, li, WeightSite::V, w.vW), w.vB));
    q = q.view({B, T, H, D}).transpose(1, 2);
    k = k.view({B, T, Hkv, D}).transpose(1, 2);
    v = v.view({B, T, Hkv, D}).transpose(1, 2);

    const RopeTables &rt = rope(startPos + T);
    const at::Tensor cos = rt.cos.narrow(0, startPos, T), sin = rt.sin.narrow(0, startPos, T);
    q = site(hook, li, ActSite::QkIn, applyRope(q, cos, sin, c.rotaryDim()));
    k = site(hook, li, ActSite::QkIn2, applyRope(k, cos, sin, c.rotaryDim()));
    v = site(hook, li, ActSite::PvIn2, v);

    if (cache) {
        if (int(cache->keys.size()) <= li) {
            cache->keys.resize(size_t(c.numLayers));
            cache->values.resize(size_t(c.numLayers));
        }
        at::Tensor &ck = cache->keys[size_t(li)];
        at::Tensor &cv = cache->values[size_t(li)];
        ck = ck.defined() ? at::cat({ck, k}, 2) : k;
        cv = cv.defined() ? at::cat({cv, v}, 2) : v;
        k = ck;
        v = cv;
    }
    const int64_t S = k.size(2);

    // Grouped heads without copying the shared K/V: query head h reads KV head h / G, as HF's
    // repeat_kv does.
    at::Tensor qg = q.reshape({B, Hkv, G, T, D});
    at::Tensor scores = at::matmul(qg, k.unsqueeze(2).transpose(-1, -2)).reshape({B, H, T, S});
    scores = site(hook, li, ActSite::QkOut, scores) / std::sqrt(double(D));
    if (T > 1 || c.slidingWindow > 0) {
        const auto opts = at::TensorOptions().dtype(at::kLong);
        at::Tensor qi = at::arange(startPos, startPos + T, opts).unsqueeze(1);
        at::Tensor kj = at::arange(S, opts).unsqueeze(0);
        at::Tensor blocked = kj > qi;
        if (c.slidingWindow > 0)
            blocked = blocked.logical_or(qi - kj >= c.slidingWindow);
        scores = scores.masked_fill(blocked, -std::numeric_limits<float>::infinity());
    }
    at::Tensor probs = site(hook, li, ActSite::PvIn, at::softmax(scores, -1));
    at::Tensor attn = at::matmul(probs.reshape({B, Hkv, G, T, S}), v.unsqueeze(2)).reshape({B, H, T, D});
    attn = site(hook, li, ActSite::PvOut, attn.transpose(1, 2).reshape({B, T, H * D}));
    at::Tensor o = site(hook, li, ActSite::OOut, at::linear(attn, weightAt(hook, li, WeightSite::O, w.oW), w.oB));
    x = x + o;

    x = site(hook, li, ActSite::MlpNormIn, x);
    at::Tensor h2 = norm(c, x, weightAt(hook, li, WeightSite::MlpNorm, w.mlpNormW), w.mlpNormB);
    h2 = site(hook, li, ActSite::MlpNormOut, h2);
    at::Tensor g = site(hook, li, ActSite::GateOut,
                        at::linear(h2, weightAt(hook, li, WeightSite::Gate, w.gateW), w.gateB));
    at::Tensor a;
    switch (c.act) {
    case Activation::Silu: a = g * site(hook, li, ActSite::ActIn2, at::sigmoid(g)); break;
    case Activation::Gelu: a = at::gelu(g); break;
    case Activation::GeluTanh: a = at::gelu(g, "tanh"); break;
    }
    a = site(hook, li, ActSite::ActOut, a);
    at::Tensor u = site(hook, li, ActSite::UpOut, at::linear(h2, weightAt(hook, li, WeightSite::Up, w.upW), w.upB));
    at::Tensor d = site(hook, li, ActSite::DownIn, a * u);
    at::Tensor down = site(hook, li, ActSite::DownOut,
                           at::linear(d, weightAt(hook, li, WeightSite::Down, w.downW), w.downB));
    return x + down;
}

at::Tensor Transformer::head(const at::Tensor &hidden, SiteHook *hook) const
{
    at::Tensor x = hook ? hook->model(ModelSite::FinalNormIn, hidden) : hidden;
    x = norm(m_config, x, m_weights.finalNormW, m_weights.finalNormB);
    if (hook)
        x = hook->model(ModelSite::LmHeadIn, x);
    return at::linear(x, m_weights.lmHead);
}

at::Tensor Transformer::forward(const at::Tensor &tokens, KvCache *cache, SiteHook *hook) const
{
    const int64_t start = cache ? cache->length : 0;
    at::Tensor x = embed(tokens);
    for (int l = 0; l < m_config.numLayers; ++l)
        x = layer(l, m_weights.layers[size_t(l)], x, start, cache, hook);
    if (cache)
        cache->length += tokens.size(1);
    return head(x, hook);
}

at::Tensor Transformer::hiddenStates(const at::Tensor &tokens, SiteHook *hook) const
{
    at::Tensor x = embed(tokens);
    for (int l = 0; l < m_config.numLayers; ++l)
        x = layer(l, m_weights.layers[size_t(l)], x, 0, nullptr, hook);
    return x;
}

} // namespace mq
