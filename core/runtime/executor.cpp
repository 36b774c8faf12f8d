#include "core/runtime/executor.h"

#include "core/runtime/fixed_point.h"
#include "core/runtime/int_ops.h"
#include "core/runtime/kernels.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <type_traits>

namespace mq {

namespace {

using Clock = std::chrono::steady_clock;

// Adds the time from construction to stop() (or destruction) to one category of the profile;
// nothing when profiling is off (a null profile).
class ProfileScope
{
public:
    ProfileScope(ExecutorProfile *profile, ProfileOp op)
        : m_profile(profile)
        , m_op(op)
    {
        if (m_profile)
            m_start = Clock::now();
    }
    ~ProfileScope() { stop(); }
    ProfileScope(const ProfileScope &) = delete;
    ProfileScope &operator=(const ProfileScope &) = delete;
    void stop()
    {
        if (!m_profile)
            return;
        m_profile->seconds[size_t(m_op)] += std::chrono::duration<double>(Clock::now() - m_start).count();
        ++m_profile->calls[size_t(m_op)];
        m_profile = nullptr;
    }

private:
    ExecutorProfile *m_profile;
    ProfileOp m_op;
    Clock::time_point m_start;
};

[[noreturn]] void fail(const Package &p, const std::string &what)
{
    throw PackageError(p.sourceName() + ": " + what);
}

template <typename T>
std::vector<T> readVector(const Package &p, const std::string &name)
{
    const PackageTensor t = p.tensor(name);
    std::vector<T> v(t.size / sizeof(T));
    if (!v.empty())
        std::memcpy(v.data(), t.data, v.size() * sizeof(T));
    return v;
}

const float *floatData(const Package &p, const std::string &name)
{
    return reinterpret_cast<const float *>(p.tensor(name).data);
}

// y = norm(x) * w (+ b) in float, the simulation's formulas (HF semantics).
void floatNorm(const float *x, float *y, int n, bool layerNorm, float eps, const float *w, const float *b)
{
    if (layerNorm) {
        double mean = 0;
        for (int i = 0; i < n; ++i)
            mean += x[i];
        mean /= n;
        double var = 0;
        for (int i = 0; i < n; ++i)
            var += (x[i] - mean) * (x[i] - mean);
        var /= n;
        const double r = 1.0 / std::sqrt(var + double(eps));
        for (int i = 0; i < n; ++i)
            y[i] = float((x[i] - mean) * r) * w[i] + (b ? b[i] : 0.0f);
    } else {
        double ss = 0;
        for (int i = 0; i < n; ++i)
            ss += double(x[i]) * x[i];
        const float r = float(1.0 / std::sqrt(ss / n + double(eps)));
        for (int i = 0; i < n; ++i)
            y[i] = x[i] * r * w[i] + (b ? b[i] : 0.0f);
    }
}

float activation(int kind, float x)
{
    switch (kind) {
    case 0: return x / (1.0f + std::exp(-x));
    case 1: return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f));
    default: {
        const float k = 0.79788456080286536f; // sqrt(2/pi)
        return 0.5f * x * (1.0f + std::tanh(k * (x + 0.044715f * x * x * x)));
    }
    }
}

// dst[i] += src[i]: groups of 16 (a fixed trip count, which GCC vectorises at -O2), then the tail.
template <typename T, typename S> void addInto(T *dst, const S *src, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t k = 0; k < 16; ++k)
            dst[i + k] += src[i + k];
    for (; i < n; ++i)
        dst[i] += src[i];
}

// The attention mask of the simulation: key j is visible from query position i when j <= i and,
// with a sliding window w, i - j < w.
int firstVisible(const ModelPackageConfig &c, int pos)
{
    return c.slidingWindow > 0 ? std::max(0, pos - c.slidingWindow + 1) : 0;
}

// ---------------------------------------------------------------------------------------------
// FP32

class FloatExecutor : public ModelExecutor
{
public:
    FloatExecutor(Package package, ModelPackageConfig config)
        : ModelExecutor(std::move(package), std::move(config))
    {
        const ModelPackageConfig &c = m_config;
        const Package &p = m_package;
        m_layers.resize(size_t(c.layers));
        for (int l = 0; l < c.layers; ++l) {
            Layer &L = m_layers[size_t(l)];
            L.attnNormW = readVector<float>(p, layerTensorName(l, "attn_norm.weight"));
            L.mlpNormW = readVector<float>(p, layerTensorName(l, "mlp_norm.weight"));
            if (c.normBias) {
                L.attnNormB = readVector<float>(p, layerTensorName(l, "attn_norm.bias"));
                L.mlpNormB = readVector<float>(p, layerTensorName(l, "mlp_norm.bias"));
            }
            for (int i = 0; i < kRtLinearCount; ++i) {
                const RtLinear lin = RtLinear(i);
                const std::string n = rtLinearName(lin);
                L.w[size_t(i)] = kernels::PackedF32::from(floatData(p, layerTensorName(l, n + ".weight")),
                    rtLinearOut(c, lin), rtLinearIn(c, lin));
                if (rtLinearHasBias(c, lin))
                    L.b[size_t(i)] = readVector<float>(p, layerTensorName(l, n + ".bias"));
            }
        }
        m_cos = floatData(p, "rope.cos");
        m_sin = floatData(p, "rope.sin");
        m_embed = floatData(p, "embed.weight");
        clearCache();
    }

    size_t weightBytes() const override
    {
        const ModelPackageConfig &c = m_config;
        size_t n = 0;
        for (int i = 0; i < kRtLinearCount; ++i)
            n += size_t(rtLinearOut(c, RtLinear(i))) * size_t(rtLinearIn(c, RtLinear(i))) * 4;
        return n * size_t(c.layers);
    }

protected:
    void clearCache() override
    {
        m_k.assign(size_t(m_config.layers), {});
        m_v.assign(size_t(m_config.layers), {});
        m_kPacks.clear();
        m_vPacks.clear();
        m_kPacks.resize(size_t(m_config.layers));
        m_vPacks.resize(size_t(m_config.layers));
        m_packedKeys.assign(size_t(m_config.layers), 0);
    }

    void decoderLayers(const int32_t *tokens, int T, std::vector<float> &x) override
    {
        const ModelPackageConfig &c = m_config;
        const int H = c.hidden, D = c.headDim, rd = c.rotaryDim;
        const int P = m_position;
        ExecutorProfile *prof = m_profile.get();
        ProfileScope embedScope(prof, ProfileOp::Embedding);
        x.assign(size_t(T) * H, 0.0f);
        for (int t = 0; t < T; ++t)
            for (int i = 0; i < H; ++i)
                x[size_t(t) * H + i] = m_embed[size_t(tokens[t]) * H + i] * c.embedScale;
        embedScope.stop();
        // Scratch kept between calls, as in the integer executor (every element is written first).
        std::vector<float> &h = m_h, &q = m_q, &k = m_kNew, &v = m_vNew, &attn = m_attn, &o = m_o, &g = m_g, &u = m_u;
        h.resize(size_t(T) * H);
        q.resize(size_t(T) * c.qDim());
        k.resize(size_t(T) * c.kvDim());
        v.resize(size_t(T) * c.kvDim());
        attn.resize(size_t(T) * c.qDim());
        o.resize(size_t(T) * H);
        g.resize(size_t(T) * c.inter);
        u.resize(size_t(T) * c.inter);
        auto linear = [&](const Layer &L, RtLinear lin, const float *in, float *out) {
            const auto i = size_t(lin);
            ProfileScope scope(prof, ProfileOp::LinearProduct);
            kernels::matmul(L.w[i], T, in, L.b[i].empty() ? nullptr : L.b[i].data(), out);
        };
        for (int l = 0; l < c.layers; ++l) {
            const Layer &L = m_layers[size_t(l)];
            {
                ProfileScope scope(prof, ProfileOp::Norm);
                for (int t = 0; t < T; ++t)
                    floatNorm(&x[size_t(t) * H], &h[size_t(t) * H], H, c.layerNorm, c.normEps, L.attnNormW.data(),
                        L.attnNormB.empty() ? nullptr : L.attnNormB.data());
            }
            linear(L, RtLinear::Q, h.data(), q.data());
            linear(L, RtLinear::K, h.data(), k.data());
            linear(L, RtLinear::V, h.data(), v.data());
            ProfileScope ropeScope(prof, ProfileOp::Rope);
            for (int t = 0; t < T; ++t) {
                const float *cs = m_cos + size_t(P + t) * rd, *sn = m_sin + size_t(P + t) * rd;
                auto rope = [&](float *vec) {
                    std::vector<float> tmp(vec, vec + rd);
                    const int half = rd / 2;
                    for (int i = 0; i < rd; ++i) {
                        const float rot = i < half ? -tmp[size_t(i + half)] : tmp[size_t(i - half)];
                        vec[i] = tmp[size_t(i)] * cs[i] + rot * sn[i];
                    }
                };
                for (int hh = 0; hh < c.heads; ++hh)
                    rope(&q[size_t(t) * c.qDim() + size_t(hh) * D]);
                for (int hh = 0; hh < c.kvHeads; ++hh)
                    rope(&k[size_t(t) * c.kvDim() + size_t(hh) * D]);
            }
            ropeScope.stop();
            std::vector<float> &ck = m_k[size_t(l)], &cv = m_v[size_t(l)];
            {
                ProfileScope scope(prof, ProfileOp::Convert);
                ck.insert(ck.end(), k.begin(), k.end());
                cv.insert(cv.end(), v.begin(), v.end());
            }
            attention(l, T, q, attn);
            linear(L, RtLinear::O, attn.data(), o.data());
            {
                ProfileScope scope(prof, ProfileOp::Residual);
                for (size_t i = 0; i < x.size(); ++i)
                    x[i] += o[i];
            }
            {
                ProfileScope scope(prof, ProfileOp::Norm);
                for (int t = 0; t < T; ++t)
                    floatNorm(&x[size_t(t) * H], &h[size_t(t) * H], H, c.layerNorm, c.normEps, L.mlpNormW.data(),
                        L.mlpNormB.empty() ? nullptr : L.mlpNormB.data());
            }
            linear(L, RtLinear::Gate, h.data(), g.data());
            linear(L, RtLinear::Up, h.data(), u.data());
            {
                ProfileScope scope(prof, ProfileOp::Mlp);
                if (c.activation == 0) {
                    kernels::siluMulF32(g.data(), u.data(), g.size());
                } else {
                    for (size_t i = 0; i < g.size(); ++i)
                        g[i] = activation(c.activation, g[i]) * u[i];
                }
            }
            linear(L, RtLinear::Down, g.data(), o.data());
            {
                ProfileScope scope(prof, ProfileOp::Residual);
                for (size_t i = 0; i < x.size(); ++i)
                    x[i] += o[i];
            }
        }
    }

private:
    // As the integer variants (IntExecutor::attentionKernels), so that the comparison is fair:
    // the cache packed for the f32 kernel kChunk keys at a time (K as [keys, head_dim], V
    // transposed), q·kᵀ per head and block of queries over the visible chunks only, softmax per
    // row (invisible keys get probability 0), p·v through the kernel.
    static constexpr int kChunk = 128;
    static int chunkKeys(int chunk, int keys) { return std::min(kChunk, keys - chunk * kChunk); }

    void attention(int l, int T, const std::vector<float> &q, std::vector<float> &out)
    {
        const ModelPackageConfig &c = m_config;
        const int D = c.headDim, G = c.heads / c.kvHeads, P = m_position, S = P + T, qDim = c.qDim(),
                  kvDim = c.kvDim();
        const std::vector<float> &ck = m_k[size_t(l)], &cv = m_v[size_t(l)];
        std::vector<std::vector<kernels::PackedF32>> &kPacks = m_kPacks[size_t(l)], &vPacks = m_vPacks[size_t(l)];
        const int chunks = (S + kChunk - 1) / kChunk, firstStale = m_packedKeys[size_t(l)] / kChunk;
        ExecutorProfile *prof = m_profile.get();
        ProfileScope packScope(prof, ProfileOp::KvPack);
        kPacks.resize(size_t(c.kvHeads));
        vPacks.resize(size_t(c.kvHeads));
        std::vector<float> buf;
        for (int g = 0; g < c.kvHeads; ++g) {
            kPacks[size_t(g)].resize(size_t(chunks));
            vPacks[size_t(g)].resize(size_t(chunks));
            for (int ch = firstStale; ch < chunks; ++ch) {
                const int s0 = ch * kChunk, n = chunkKeys(ch, S);
                buf.resize(size_t(n) * size_t(D));
                for (int j = 0; j < n; ++j)
                    std::copy_n(&ck[size_t(s0 + j) * size_t(kvDim) + size_t(g) * size_t(D)], D, &buf[size_t(j) * size_t(D)]);
                kPacks[size_t(g)][size_t(ch)] = kernels::PackedF32::from(buf.data(), n, D);
                for (int j = 0; j < n; ++j)
                    for (int d = 0; d < D; ++d)
                        buf[size_t(d) * size_t(n) + size_t(j)] = cv[size_t(s0 + j) * size_t(kvDim) + size_t(g) * size_t(D) + size_t(d)];
                vPacks[size_t(g)][size_t(ch)] = kernels::PackedF32::from(buf.data(), D, n);
            }
        }
        m_packedKeys[size_t(l)] = S;
        packScope.stop();
        const float inv = float(1.0 / std::sqrt(double(D)));
        std::vector<float> qa(size_t(kChunk) * size_t(D)), sc, acc, pv(size_t(kChunk) * size_t(D));
        for (int h = 0; h < c.heads; ++h) {
            const int g = h / G;
            for (int t0 = 0; t0 < T; t0 += kChunk) {
                const int rows = std::min(kChunk, T - t0);
                const int cLo = firstVisible(c, P + t0) / kChunk, cHi = (P + t0 + rows - 1) / kChunk;
                const size_t region = size_t(kChunk) * size_t(rows), blocks = size_t(cHi - cLo + 1);
                for (int r = 0; r < rows; ++r)
                    std::copy_n(&q[size_t(t0 + r) * size_t(qDim) + size_t(h) * size_t(D)], D, &qa[size_t(r) * size_t(D)]);
                sc.resize(region * blocks);
                ProfileScope scoreScope(prof, ProfileOp::AttnScores);
                for (int ch = cLo; ch <= cHi; ++ch)
                    kernels::matmul(kPacks[size_t(g)][size_t(ch)], rows, qa.data(), nullptr, &sc[region * size_t(ch - cLo)]);
                scoreScope.stop();
                ProfileScope softmaxScope(prof, ProfileOp::Softmax);
                for (int r = 0; r < rows; ++r) {
                    // The visible keys [lo, pos] of row r, gathered from the chunk blocks; the
                    // others get probability 0.
                    const int pos = P + t0 + r, lo = firstVisible(c, pos);
                    std::vector<float> &vis = m_row;
                    vis.resize(size_t(pos - lo + 1));
                    auto runs = [&](auto &&f) {
                        for (int ch = cLo; ch <= cHi; ++ch) {
                            const int n = chunkKeys(ch, S), first = ch * kChunk;
                            const int a = std::clamp(lo - first, 0, n), b = std::clamp(pos + 1 - first, a, n);
                            f(&sc[region * size_t(ch - cLo) + size_t(r) * size_t(n)], n, a, b, first + a - lo);
                        }
                    };
                    runs([&](float *row, int, int a, int b, int at) {
                        if (b > a)
                            std::copy(row + a, row + b, vis.data() + at);
                    });
                    kernels::softmaxF32(vis.data(), int(vis.size()), inv);
                    runs([&](float *row, int n, int a, int b, int at) {
                        std::fill(row, row + a, 0.0f);
                        if (b > a)
                            std::copy(vis.data() + at, vis.data() + at + (b - a), row + a);
                        std::fill(row + b, row + n, 0.0f);
                    });
                }
                softmaxScope.stop();
                ProfileScope valueScope(prof, ProfileOp::AttnValues);
                std::fill(pv.begin(), pv.end(), 0.0f);
                acc.resize(size_t(rows) * size_t(D));
                for (int ch = cLo; ch <= cHi; ++ch) {
                    kernels::matmul(vPacks[size_t(g)][size_t(ch)], rows, &sc[region * size_t(ch - cLo)], nullptr, acc.data());
                    addInto(pv.data(), acc.data(), acc.size());
                }
                for (int r = 0; r < rows; ++r)
                    std::copy_n(&pv[size_t(r) * size_t(D)], D, &out[size_t(t0 + r) * size_t(qDim) + size_t(h) * size_t(D)]);
            }
        }
    }

    struct Layer
    {
        std::vector<float> attnNormW, attnNormB, mlpNormW, mlpNormB;
        std::array<kernels::PackedF32, kRtLinearCount> w;
        std::array<std::vector<float>, kRtLinearCount> b;
    };
    std::vector<Layer> m_layers;
    const float *m_cos = nullptr, *m_sin = nullptr, *m_embed = nullptr;
    std::vector<std::vector<float>> m_k, m_v;
    std::vector<float> m_h, m_q, m_kNew, m_vNew, m_attn, m_o, m_g, m_u, m_row;
    // Per layer: the cache packed for the kernel, per kv head and chunk of keys.
    std::vector<std::vector<std::vector<kernels::PackedF32>>> m_kPacks, m_vPacks;
    std::vector<int> m_packedKeys;
};

// ---------------------------------------------------------------------------------------------
// Integer variants

using intops::QuantParams;

// How a site's codes enter an integer matrix product: u8 as they are, or int16 after subtracting
// `shift` (qmin + 32768), which moves a 16-bit asymmetric grid [0, 65535] onto int16 unchanged in
// its differences.
struct Narrow
{
    bool u8 = true;
    int32_t shift = 0;
};

Narrow narrowOf(const QuantParams &q) { return q.qmin >= 0 && q.qmax <= 255 ? Narrow {true, 0} : Narrow {false, q.qmin + 32768}; }

class IntExecutor : public ModelExecutor
{
public:
    IntExecutor(Package package, ModelPackageConfig config)
        : ModelExecutor(std::move(package), std::move(config))
    {
        const ModelPackageConfig &c = m_config;
        const Package &p = m_package;
        m_layers.resize(size_t(c.layers));
        for (int l = 0; l < c.layers; ++l)
            loadLayer(l);
        // Every layer's residual add goes into the next layer's attn_norm.in grid.
        for (int l = 0; l + 1 < c.layers; ++l) {
            Layer &L = m_layers[size_t(l)];
            L.addMlp = intops::makeAdd(L.site(RtSite::MlpNormIn), L.site(RtSite::DownOut),
                m_layers[size_t(l + 1)].site(RtSite::AttnNormIn));
        }
        m_cos = readVector<int32_t>(p, "rope.cos");
        m_sin = readVector<int32_t>(p, "rope.sin");
        m_embed = floatData(p, "embed.weight");
        m_inScale = readVector<float>(p, layerTensorName(0, "attn_norm.in.scale"))[0];
        clearCache();
    }

    size_t weightBytes() const override
    {
        size_t n = 0;
        for (const Layer &L : m_layers)
            for (const kernels::PackedWeights &w : L.w)
                n += w.bytes();
        return n;
    }

protected:
    struct Layer
    {
        std::array<QuantParams, kRtSiteCount> sites;
        const QuantParams &site(RtSite s) const { return sites[size_t(s)]; }
        std::array<kernels::PackedWeights, kRtLinearCount> w;
        std::array<std::vector<int32_t>, kRtLinearCount> bias;
        std::array<std::vector<FixedMultiplier>, kRtLinearCount> mult;
        intops::NormParams attnNorm, mlpNorm;
        intops::RopeParams ropeQ, ropeK;
        FixedMultiplier vToPv, qkMult, pvMult;
        intops::SoftmaxParams softmax;
        std::vector<int32_t> actTable;
        intops::MulParams siluMul, gluMul;
        intops::AddParams addAttn, addMlp;
        // KV cache: codes of attn.qk.in2 and attn.pv.in2 per position, [position][kv_dim], u8
        // (8-bit sites) or int16 (16-bit, shifted as for the products).
        Narrow kNarrow, vNarrow;
        std::vector<uint8_t> k8, v8;
        std::vector<int16_t> k16, v16;
        // The 8-bit cache packed for the kernels (attentionKernels), per kv head and chunk of keys.
        bool kernelAttention = false;
        std::vector<std::vector<kernels::PackedWeights>> kPacks, vPacks;
        // A 16-bit cache is packed as two s8 halves, code = 256 hi + lo: kPacks / vPacks hold the
        // high bytes, these the low ones (as lo - 128 with zero point -128).
        std::vector<std::vector<kernels::PackedWeights>> kPacksLo, vPacksLo;
        int packedKeys = 0;
    };

    void loadLayer(int l)
    {
        const ModelPackageConfig &c = m_config;
        const Package &p = m_package;
        Layer &L = m_layers[size_t(l)];
        auto name = [&](const std::string &suffix) { return layerTensorName(l, suffix); };
        for (int s = 0; s < kRtSiteCount; ++s) {
            if (!rtSiteExists(RtSite(s), c.activation))
                continue;
            const std::string site = rtSiteName(RtSite(s));
            const float scale = readVector<float>(p, name(site + ".scale"))[0];
            const std::vector<int32_t> q = readVector<int32_t>(p, name(site + ".quant"));
            if (!(scale > 0.0f) || !std::isfinite(scale))
                fail(p, "tensor " + name(site + ".scale") + " must be a positive finite scale");
            if (q[1] >= q[2] || q[1] < -32768 || q[2] > 65535 || int64_t(q[2]) - q[1] > 65535)
                fail(p, "tensor " + name(site + ".quant") + " holds the grid [" + std::to_string(q[1]) + ", "
                        + std::to_string(q[2]) + "]; the runtime supports grids of at most 16 bits");
            L.sites[size_t(s)] = QuantParams {double(scale), q[0], q[1], q[2]};
        }
        for (int i = 0; i < kRtLinearCount; ++i)
            loadLinear(l, RtLinear(i));
        auto norm = [&](const std::string &n, RtSite in, RtSite out) {
            const std::vector<int32_t> w = readVector<int32_t>(p, name(n + ".weight"));
            const float ws = readVector<float>(p, name(n + ".weight_scale"))[0];
            const int32_t wz = readVector<int32_t>(p, name(n + ".weight_zero_point"))[0];
            std::vector<float> b;
            if (c.normBias)
                b = readVector<float>(p, name(n + ".bias"));
            return intops::makeNorm(c.layerNorm, c.hidden, L.site(in), c.normEps, w.data(), wz, ws,
                b.empty() ? nullptr : b.data(), L.site(out));
        };
        L.attnNorm = norm("attn_norm", RtSite::AttnNormIn, RtSite::AttnNormOut);
        L.mlpNorm = norm("mlp_norm", RtSite::MlpNormIn, RtSite::MlpNormOut);
        L.ropeQ = intops::makeRope(c.headDim, c.rotaryDim, L.site(RtSite::QOut), L.site(RtSite::QkIn));
        L.ropeK = intops::makeRope(c.headDim, c.rotaryDim, L.site(RtSite::KOut), L.site(RtSite::QkIn2));
        L.vToPv = intops::decomposeMultiplier64(L.site(RtSite::VOut).scale / L.site(RtSite::PvIn2).scale);
        L.qkMult = intops::decomposeMultiplier64(
            L.site(RtSite::QkIn).scale * L.site(RtSite::QkIn2).scale / L.site(RtSite::QkOut).scale);
        L.pvMult = intops::decomposeMultiplier64(
            L.site(RtSite::PvIn).scale * L.site(RtSite::PvIn2).scale / L.site(RtSite::PvOut).scale);
        const std::vector<int32_t> expTable = readVector<int32_t>(p, name("attn.softmax.exp_table"));
        if (expTable.empty() || expTable[0] != (1 << 30))
            fail(p, "tensor " + name("attn.softmax.exp_table") + " must start with 2^30 (exp(0) in Q30)");
        L.softmax = intops::makeSoftmax(expTable, L.site(RtSite::PvIn));
        L.actTable = readVector<int32_t>(p, name("mlp.act.table"));
        const QuantParams &gate = L.site(RtSite::GateOut);
        if (int64_t(L.actTable.size()) != int64_t(gate.qmax) - gate.qmin + 1)
            fail(p, "tensor " + name("mlp.act.table") + " has " + std::to_string(L.actTable.size())
                    + " entries, the grid of mlp.gate.out needs " + std::to_string(int64_t(gate.qmax) - gate.qmin + 1));
        const QuantParams &tableOut = L.site(c.activation == 0 ? RtSite::ActIn2 : RtSite::ActOut);
        for (int32_t v : L.actTable)
            if (v < tableOut.qmin || v > tableOut.qmax)
                fail(p, "tensor " + name("mlp.act.table") + " holds a code outside the grid of its output site");
        if (c.activation == 0)
            L.siluMul = intops::makeMul(gate, L.site(RtSite::ActIn2), L.site(RtSite::ActOut));
        L.gluMul = intops::makeMul(L.site(RtSite::ActOut), L.site(RtSite::UpOut), L.site(RtSite::DownIn));
        L.addAttn = intops::makeAdd(L.site(RtSite::AttnNormIn), L.site(RtSite::OOut), L.site(RtSite::MlpNormIn));
        L.kNarrow = narrowOf(L.site(RtSite::QkIn2));
        L.vNarrow = narrowOf(L.site(RtSite::PvIn2));
        // The kernels' q·k sums are int32: with 8-bit K they are exact when D max|q - z_q| max|k - z_k|
        // < 2^31 (always for 8-bit q; a 16-bit q with head_dim 128 may not be).
        auto maxAbs = [](const QuantParams &s) {
            return std::max(std::abs(int64_t(s.qmin) - s.zeroPoint), std::abs(int64_t(s.qmax) - s.zeroPoint));
        };
        // A 16-bit cache (A16) goes through the kernels as its two bytes (each product's int32 sum is
        // exact when D max|q - z_q| 255 < 2^31), for caches with their zero point at 0 after the shift.
        const bool cache16 = !L.kNarrow.u8 && !L.vNarrow.u8
            && L.site(RtSite::QkIn2).zeroPoint == L.kNarrow.shift && L.site(RtSite::PvIn2).zeroPoint == L.vNarrow.shift
            && int64_t(c.headDim) * maxAbs(L.site(RtSite::QkIn)) * 255 < (int64_t(1) << 31);
        L.kernelAttention = cache16
            || (L.kNarrow.u8 && L.vNarrow.u8
                && int64_t(c.headDim) * maxAbs(L.site(RtSite::QkIn)) * maxAbs(L.site(RtSite::QkIn2)) < (int64_t(1) << 31));
    }

    void loadLinear(int l, RtLinear lin)
    {
        const ModelPackageConfig &c = m_config;
        const Package &p = m_package;
        Layer &L = m_layers[size_t(l)];
        const std::string n = layerTensorName(l, rtLinearName(lin));
        const int out = rtLinearOut(c, lin), in = rtLinearIn(c, lin);
        const std::vector<int32_t> zp = readVector<int32_t>(p, n + ".weight_zero_point");
        const std::vector<int32_t> mult = readVector<int32_t>(p, n + ".multiplier");
        const std::vector<int32_t> shift = readVector<int32_t>(p, n + ".shift");
        const std::vector<float> scale = readVector<float>(p, n + ".weight_scale");
        auto perChannelOrOne = [&](size_t size, const std::string &what) {
            if (size != 1 && size != size_t(out))
                fail(p, "tensor " + n + what + " has " + std::to_string(size) + " values; it needs 1 (per tensor) or "
                        + std::to_string(out) + " (per output channel)");
        };
        perChannelOrOne(zp.size(), ".weight_zero_point");
        perChannelOrOne(mult.size(), ".multiplier");
        perChannelOrOne(scale.size(), ".weight_scale");
        if (shift.size() != mult.size())
            fail(p, "tensor " + n + ".shift has " + std::to_string(shift.size()) + " values, " + n + ".multiplier "
                    + std::to_string(mult.size()));
        const PackageTensor w = p.tensor(n + ".weight");
        const bool int4 = w.dtype == PackageDType::S4Packed;
        if ((c.variant == ModelVariant::W4A8) != int4)
            fail(p, "tensor " + n + ".weight is " + packageDTypeName(w.dtype) + " but the package is "
                    + modelVariantName(c.variant) + " (W4A8 stores packed s4 weights, the others s8)");
        L.w[size_t(lin)] = int4 ? kernels::PackedWeights::fromS4(w.data, out, in, zp)
                                : kernels::PackedWeights::fromS8(reinterpret_cast<const int8_t *>(w.data), out, in, zp);
        L.mult[size_t(lin)].resize(mult.size());
        for (size_t i = 0; i < mult.size(); ++i) {
            if (mult[i] < 0 || shift[i] < -31 || shift[i] > 31 || (mult[i] != 0 && mult[i] < (1 << 30)))
                fail(p, "tensor " + n + ".multiplier / .shift entry " + std::to_string(i)
                        + " is not a normalised Q31 multiplier with a shift in [-31, 31]");
            L.mult[size_t(lin)][i] = FixedMultiplier {mult[i], int(shift[i])};
        }
        if (rtLinearHasBias(c, lin))
            L.bias[size_t(lin)] = readVector<int32_t>(p, n + ".bias");
        const Narrow nIn = narrowOf(L.site(rtLinearInput(lin)));
        if (c.variant == ModelVariant::A16 ? nIn.u8 : !nIn.u8)
            fail(p, std::string("the grid of ") + rtSiteName(rtLinearInput(lin)) + " in layer " + std::to_string(l)
                    + " does not match a " + modelVariantName(c.variant) + " package's linear inputs");
    }

    void clearCache() override
    {
        for (Layer &L : m_layers) {
            L.k8.clear();
            L.v8.clear();
            L.k16.clear();
            L.v16.clear();
            L.kPacks.clear();
            L.vPacks.clear();
            L.kPacksLo.clear();
            L.vPacksLo.clear();
            L.packedKeys = 0;
        }
    }

    // The inspection hook (ModelExecutor::setSiteObserver) for a whole-tensor site.
    void observe(int l, RtSite site, std::vector<int32_t> &codes)
    {
        if (m_observer)
            m_observer(SiteCodes {l, site, -1, -1, 0, codes.data(), codes.size()});
    }

    // acc = (codes - z) W^T + bias, then requantized into `out`'s grid. `narrowed`: the previous call
    // had the same input (q/k/v, gate/up), whose narrowed codes are still in m_u8 / m_s16.
    void linear(const Layer &L, RtLinear lin, int T, const std::vector<int32_t> &in, std::vector<int32_t> &out,
        bool narrowed = false)
    {
        const QuantParams &qi = L.site(rtLinearInput(lin));
        const QuantParams &qo = L.site(rtLinearOutput(lin));
        const kernels::PackedWeights &w = L.w[size_t(lin)];
        const int outDim = w.out();
        const size_t n = size_t(T) * size_t(w.in());
        m_acc.resize(size_t(T) * size_t(outDim));
        const int32_t *bias = L.bias[size_t(lin)].empty() ? nullptr : L.bias[size_t(lin)].data();
        const Narrow nr = narrowOf(qi);
        ExecutorProfile *prof = m_profile.get();
        ProfileScope convertScope(prof, ProfileOp::Convert);
        if (nr.u8) {
            m_u8.resize(n);
            if (!narrowed)
                kernels::narrowCodes(in.data(), n, 0, m_u8.data());
            convertScope.stop();
            ProfileScope scope(prof, ProfileOp::LinearProduct);
            kernels::matmul(w, T, m_u8.data(), qi.zeroPoint, bias, m_acc.data());
        } else {
            m_s16.resize(n);
            if (!narrowed)
                kernels::narrowCodes(in.data(), n, nr.shift, m_s16.data());
            convertScope.stop();
            ProfileScope scope(prof, ProfileOp::LinearProduct);
            kernels::matmul(w, T, m_s16.data(), qi.zeroPoint - nr.shift, bias, m_acc.data());
        }
        ProfileScope requantScope(prof, ProfileOp::LinearRequant);
        out.resize(m_acc.size());
        // The block requantization gives requantize64's integers (normalised Q31 multipliers).
        kernels::requantize(T, outDim, m_acc.data(), L.mult[size_t(lin)], qo.zeroPoint, qo.qmin, qo.qmax, out.data());
    }

    // Keys per chunk of the packed KV cache and query rows per block of the attention products.
    static constexpr int kChunk = 128;
    static int chunkKeys(int chunk, int keys) { return std::min(kChunk, keys - chunk * kChunk); }

    // Packs the 8-bit cache of every kv head as kernel weights, kChunk keys at a time: K as
    // [keys, head_dim] and V transposed, [head_dim, keys], both as s8 = code - 128 with the zero
    // point moved likewise (exact). Full chunks never change, so only the last partial chunk and
    // the new ones are packed again.
    void updatePacks(Layer &L, int keys)
    {
        const ModelPackageConfig &c = m_config;
        const int D = c.headDim, kvDim = c.kvDim();
        const int chunks = (keys + kChunk - 1) / kChunk, firstStale = L.packedKeys / kChunk;
        const int32_t zk = L.site(RtSite::QkIn2).zeroPoint - 128, zv = L.site(RtSite::PvIn2).zeroPoint - 128;
        ProfileScope scope(m_profile.get(), ProfileOp::KvPack);
        L.kPacks.resize(size_t(c.kvHeads));
        L.vPacks.resize(size_t(c.kvHeads));
        std::vector<int8_t> &buf = m_packBuf;
        if (!L.kNarrow.u8) {
            updatePacks16(L, keys);
            return;
        }
        for (int g = 0; g < c.kvHeads; ++g) {
            std::vector<kernels::PackedWeights> &kp = L.kPacks[size_t(g)], &vp = L.vPacks[size_t(g)];
            kp.resize(size_t(chunks));
            vp.resize(size_t(chunks));
            for (int ch = firstStale; ch < chunks; ++ch) {
                const int s0 = ch * kChunk, n = chunkKeys(ch, keys);
                buf.resize(size_t(n) * size_t(D));
                for (int j = 0; j < n; ++j) {
                    const uint8_t *src = &L.k8[size_t(s0 + j) * size_t(kvDim) + size_t(g) * size_t(D)];
                    for (int d = 0; d < D; ++d)
                        buf[size_t(j) * size_t(D) + size_t(d)] = int8_t(int(src[d]) - 128);
                }
                kp[size_t(ch)] = kernels::PackedWeights::fromS8(buf.data(), n, D, {zk});
                for (int j = 0; j < n; ++j) {
                    const uint8_t *src = &L.v8[size_t(s0 + j) * size_t(kvDim) + size_t(g) * size_t(D)];
                    for (int d = 0; d < D; ++d)
                        buf[size_t(d) * size_t(n) + size_t(j)] = int8_t(int(src[d]) - 128);
                }
                vp[size_t(ch)] = kernels::PackedWeights::fromS8(buf.data(), D, n, {zv});
            }
        }
        L.packedKeys = keys;
    }

    // The 16-bit cache as two s8 matrices per chunk: hi = code >> 8 (zero point 0) and lo = the low
    // byte - 128 (zero point -128), so that sum a (code - 0) = 256 sum a hi + sum a (lo + 128).
    void updatePacks16(Layer &L, int keys)
    {
        const ModelPackageConfig &c = m_config;
        const int D = c.headDim, kvDim = c.kvDim();
        const int chunks = (keys + kChunk - 1) / kChunk, firstStale = L.packedKeys / kChunk;
        L.kPacksLo.resize(size_t(c.kvHeads));
        L.vPacksLo.resize(size_t(c.kvHeads));
        std::vector<int8_t> &hi = m_packBuf, &lo = m_packBufLo;
        for (int g = 0; g < c.kvHeads; ++g) {
            std::vector<kernels::PackedWeights> &kp = L.kPacks[size_t(g)], &vp = L.vPacks[size_t(g)],
                                                &kl = L.kPacksLo[size_t(g)], &vl = L.vPacksLo[size_t(g)];
            kp.resize(size_t(chunks));
            vp.resize(size_t(chunks));
            kl.resize(size_t(chunks));
            vl.resize(size_t(chunks));
            for (int ch = firstStale; ch < chunks; ++ch) {
                const int s0 = ch * kChunk, n = chunkKeys(ch, keys);
                hi.resize(size_t(n) * size_t(D));
                lo.resize(hi.size());
                auto split = [&](int16_t code, size_t at) {
                    hi[at] = int8_t(code >> 8);
                    lo[at] = int8_t((code & 255) - 128);
                };
                for (int j = 0; j < n; ++j)
                    for (int d = 0; d < D; ++d)
                        split(L.k16[size_t(s0 + j) * size_t(kvDim) + size_t(g) * size_t(D) + size_t(d)],
                            size_t(j) * size_t(D) + size_t(d));
                kp[size_t(ch)] = kernels::PackedWeights::fromS8(hi.data(), n, D, {0});
                kl[size_t(ch)] = kernels::PackedWeights::fromS8(lo.data(), n, D, {-128});
                for (int j = 0; j < n; ++j)
                    for (int d = 0; d < D; ++d)
                        split(L.v16[size_t(s0 + j) * size_t(kvDim) + size_t(g) * size_t(D) + size_t(d)],
                            size_t(d) * size_t(n) + size_t(j));
                vp[size_t(ch)] = kernels::PackedWeights::fromS8(hi.data(), D, n, {0});
                vl[size_t(ch)] = kernels::PackedWeights::fromS8(lo.data(), D, n, {-128});
            }
        }
        L.packedKeys = keys;
    }

    // Attention through the kernels (8-bit K and V): per head and block of kChunk queries,
    // q·kᵀ against the key chunks the block can see (the causal mask and a sliding window skip the
    // others), requantized as a block into attn.qk.out; softmax per row as before; then p·v as the
    // probabilities (a u8 or s16 matrix, invisible keys at the zero point) times Vᵀ. The int32
    // sums are exact: loadLayer checks the q·k bound, and each row's p·v bound is checked
    // (sum |p - z_p| * max |v - z_v| < 2^31) with the 64-bit loop for a row that could overflow.
    template <typename QA, typename PA>
    void attentionKernels(int l, Layer &L, int T, const std::vector<int32_t> &q, std::vector<int32_t> &out)
    {
        const ModelPackageConfig &c = m_config;
        const int D = c.headDim, G = c.heads / c.kvHeads, P = m_position, S = P + T, qDim = c.qDim();
        updatePacks(L, S);
        const QuantParams &qi = L.site(RtSite::QkIn), &qo = L.site(RtSite::QkOut), &pi = L.site(RtSite::PvIn),
                          &po = L.site(RtSite::PvOut), &v2 = L.site(RtSite::PvIn2);
        const Narrow qn = narrowOf(qi), pn = narrowOf(pi);
        const int32_t zq = qi.zeroPoint - qn.shift, zp = pi.zeroPoint - pn.shift;
        const bool split = !L.kNarrow.u8; // a 16-bit cache as two byte halves (updatePacks16)
        const int64_t maxV = split ? 255
                                   : std::max(std::abs(int64_t(v2.qmin) - v2.zeroPoint), std::abs(int64_t(v2.qmax) - v2.zeroPoint));
        const std::vector<FixedMultiplier> qkMult {L.qkMult}, pvMult {L.pvMult};
        std::vector<QA> qa(size_t(kChunk) * size_t(D));
        std::vector<PA> &pa = probabilityBlock<PA>();
        std::vector<int32_t> &acc = m_acc, &accLo = m_accLo, &sc = m_scoreBlock, &accPv = m_pvBlock, &res = m_pvOut;
        std::vector<int64_t> &wide = m_wide, &widePv = m_widePv;
        std::vector<char> rowOk(static_cast<size_t>(kChunk));
        ExecutorProfile *prof = m_profile.get();
        for (int h = 0; h < c.heads; ++h) {
            const int g = h / G;
            const std::vector<kernels::PackedWeights> &kp = L.kPacks[size_t(g)], &vp = L.vPacks[size_t(g)];
            for (int t0 = 0; t0 < T; t0 += kChunk) {
                const int rows = std::min(kChunk, T - t0);
                const int cLo = firstVisible(c, P + t0) / kChunk, cHi = (P + t0 + rows - 1) / kChunk;
                const size_t region = size_t(kChunk) * size_t(rows), blocks = size_t(cHi - cLo + 1);
                for (int r = 0; r < rows; ++r)
                    kernels::narrowCodes(&q[size_t(t0 + r) * size_t(qDim) + size_t(h) * size_t(D)], size_t(D), qn.shift,
                        &qa[size_t(r) * size_t(D)]);
                ProfileScope scoreScope(prof, ProfileOp::AttnScores);
                sc.resize(region * blocks);
                pa.resize(region * blocks); // the softmax loop writes every entry of every row
                for (int ch = cLo; ch <= cHi; ++ch) {
                    const int n = chunkKeys(ch, S);
                    acc.resize(size_t(rows) * size_t(n));
                    kernels::matmul(kp[size_t(ch)], rows, qa.data(), zq, nullptr, acc.data());
                    if (!split) {
                        kernels::requantize(rows, n, acc.data(), qkMult, qo.zeroPoint, qo.qmin, qo.qmax,
                            &sc[region * size_t(ch - cLo)]);
                        continue;
                    }
                    accLo.resize(acc.size());
                    kernels::matmul(L.kPacksLo[size_t(g)][size_t(ch)], rows, qa.data(), zq, nullptr, accLo.data());
                    wide.resize(acc.size());
                    for (size_t i = 0; i < acc.size(); ++i)
                        wide[i] = 256 * int64_t(acc[i]) + accLo[i];
                    kernels::requantize64(wide.size(), wide.data(), L.qkMult, qo.zeroPoint, qo.qmin, qo.qmax,
                        &sc[region * size_t(ch - cLo)]);
                }
                scoreScope.stop();
                ProfileScope softmaxScope(prof, ProfileOp::Softmax);
                for (int r = 0; r < rows; ++r) {
                    const int t = t0 + r, pos = P + t, lo = firstVisible(c, pos);
                    m_scores.resize(size_t(pos - lo + 1));
                    m_probs.resize(m_scores.size());
                    // Row r's visible keys [lo, pos] lie in chunks lo / kChunk .. pos / kChunk, each
                    // a contiguous run of that chunk's block.
                    auto visibleRuns = [&](auto &&f) {
                        for (int ch = lo / kChunk; ch <= pos / kChunk; ++ch) {
                            const int n = chunkKeys(ch, S), j0 = std::max(lo, ch * kChunk),
                                      j1 = std::min(pos, ch * kChunk + n - 1);
                            f(region * size_t(ch - cLo) + size_t(r) * size_t(n) + size_t(j0 - ch * kChunk),
                                size_t(j0 - lo), size_t(j1 - j0 + 1));
                        }
                    };
                    visibleRuns([&](size_t block, size_t row, size_t len) {
                        std::copy_n(&sc[block], len, &m_scores[row]);
                    });
                    if (m_observer)
                        m_observer(SiteCodes {l, RtSite::QkOut, h, t, lo, m_scores.data(), m_scores.size()});
                    int64_t sumAbs
                        = kernels::softmaxRow(m_scores.data(), int(m_scores.size()), m_probs.data(), L.softmax);
                    if (m_observer) {
                        m_observer(SiteCodes {l, RtSite::PvIn, h, t, lo, m_probs.data(), m_probs.size()});
                        sumAbs = 0; // the observer may have changed the codes
                        for (int32_t p : m_probs)
                            sumAbs += std::abs(int64_t(p) - pi.zeroPoint);
                    }
                    rowOk[size_t(r)] = sumAbs * maxV < (int64_t(1) << 31);
                    if (!rowOk[size_t(r)]) {
                        int32_t *o = &out[size_t(t) * size_t(qDim) + size_t(h) * size_t(D)];
                        if (split)
                            pvRow(L, m_probs.data(), L.v16.data(), L.vNarrow.shift, g * D, lo, pos, o);
                        else
                            pvRow(L, m_probs.data(), L.v8.data(), 0, g * D, lo, pos, o);
                        continue;
                    }
                    // Row r of every chunk block: the visible keys' probabilities, the zero point
                    // (probability 0 after the shift) elsewhere.
                    for (int ch = cLo; ch <= cHi; ++ch) {
                        const int n = chunkKeys(ch, S), first = ch * kChunk;
                        const int a = std::clamp(lo - first, 0, n), b = std::clamp(pos + 1 - first, a, n);
                        PA *dst = &pa[region * size_t(ch - cLo) + size_t(r) * size_t(n)];
                        std::fill(dst, dst + a, PA(zp));
                        if (b > a)
                            kernels::narrowCodes(&m_probs[size_t(first + a - lo)], size_t(b - a), pn.shift, dst + a);
                        std::fill(dst + b, dst + n, PA(zp));
                    }
                }
                softmaxScope.stop();
                ProfileScope valueScope(prof, ProfileOp::AttnValues);
                res.resize(size_t(rows) * size_t(D));
                if (!split) {
                    accPv.assign(size_t(rows) * size_t(D), 0);
                    for (int ch = cLo; ch <= cHi; ++ch) {
                        acc.resize(size_t(rows) * size_t(D));
                        kernels::matmul(vp[size_t(ch)], rows, &pa[region * size_t(ch - cLo)], zp, nullptr, acc.data());
                        addInto(accPv.data(), acc.data(), acc.size());
                    }
                    kernels::requantize(rows, D, accPv.data(), pvMult, po.zeroPoint, po.qmin, po.qmax, res.data());
                } else {
                    widePv.assign(size_t(rows) * size_t(D), 0);
                    for (int ch = cLo; ch <= cHi; ++ch) {
                        acc.resize(size_t(rows) * size_t(D));
                        accLo.resize(acc.size());
                        kernels::matmul(vp[size_t(ch)], rows, &pa[region * size_t(ch - cLo)], zp, nullptr, acc.data());
                        kernels::matmul(L.vPacksLo[size_t(g)][size_t(ch)], rows, &pa[region * size_t(ch - cLo)], zp,
                            nullptr, accLo.data());
                        for (size_t i = 0; i < acc.size(); ++i)
                            widePv[i] += 256 * int64_t(acc[i]) + accLo[i];
                    }
                    kernels::requantize64(widePv.size(), widePv.data(), L.pvMult, po.zeroPoint, po.qmin, po.qmax, res.data());
                }
                for (int r = 0; r < rows; ++r)
                    if (rowOk[size_t(r)])
                        std::copy_n(&res[size_t(r) * size_t(D)], D,
                            &out[size_t(t0 + r) * size_t(qDim) + size_t(h) * size_t(D)]);
            }
        }
    }

    template <typename K>
    void scoreRow(const Layer &L, const int32_t *q, const K *keys, int32_t kShift, int kvOffset, int lo, int hi,
        int32_t *scores) const
    {
        const ModelPackageConfig &c = m_config;
        const int D = c.headDim;
        const int32_t zq = L.site(RtSite::QkIn).zeroPoint, zk = L.site(RtSite::QkIn2).zeroPoint - kShift;
        const QuantParams &qo = L.site(RtSite::QkOut);
        for (int s = lo; s <= hi; ++s) {
            const K *k = keys + size_t(s) * size_t(c.kvDim()) + size_t(kvOffset);
            int64_t acc = 0;
            for (int d = 0; d < D; ++d)
                acc += int64_t(q[d] - zq) * int64_t(int32_t(k[d]) - zk);
            scores[s - lo] = intops::requantize64(acc, L.qkMult, qo.zeroPoint, qo.qmin, qo.qmax);
        }
    }

    template <typename V>
    void pvRow(const Layer &L, const int32_t *probs, const V *values, int32_t vShift, int kvOffset, int lo, int hi,
        int32_t *out)
    {
        const ModelPackageConfig &c = m_config;
        const int D = c.headDim;
        const int32_t zp = L.site(RtSite::PvIn).zeroPoint, zv = L.site(RtSite::PvIn2).zeroPoint - vShift;
        const QuantParams &qo = L.site(RtSite::PvOut);
        m_acc64.assign(size_t(D), 0);
        for (int s = lo; s <= hi; ++s) {
            const int64_t pr = probs[s - lo] - zp;
            if (pr == 0)
                continue;
            const V *v = values + size_t(s) * size_t(c.kvDim()) + size_t(kvOffset);
            for (int d = 0; d < D; ++d)
                m_acc64[size_t(d)] += pr * int64_t(int32_t(v[d]) - zv);
        }
        for (int d = 0; d < D; ++d)
            out[d] = intops::requantize64(m_acc64[size_t(d)], L.pvMult, qo.zeroPoint, qo.qmin, qo.qmax);
    }

    void attention(int l, Layer &L, int T, const std::vector<int32_t> &q, std::vector<int32_t> &out)
    {
        const ModelPackageConfig &c = m_config;
        const int D = c.headDim, G = c.heads / c.kvHeads, P = m_position;
        out.resize(size_t(T) * size_t(c.qDim())); // every (token, head) slice is written below
        if (L.kernelAttention) {
            const bool q8 = narrowOf(L.site(RtSite::QkIn)).u8, p8 = narrowOf(L.site(RtSite::PvIn)).u8;
            if (q8 && p8)
                attentionKernels<uint8_t, uint8_t>(l, L, T, q, out);
            else if (q8)
                attentionKernels<uint8_t, int16_t>(l, L, T, q, out);
            else if (p8)
                attentionKernels<int16_t, uint8_t>(l, L, T, q, out);
            else
                attentionKernels<int16_t, int16_t>(l, L, T, q, out);
            return;
        }
        ExecutorProfile *prof = m_profile.get();
        for (int h = 0; h < c.heads; ++h) {
            const int kvOffset = (h / G) * D;
            for (int t = 0; t < T; ++t) {
                const int pos = P + t, lo = firstVisible(c, pos);
                const int32_t *qv = &q[size_t(t) * size_t(c.qDim()) + size_t(h) * D];
                m_scores.resize(size_t(pos - lo + 1));
                m_probs.resize(m_scores.size());
                ProfileScope scoreScope(prof, ProfileOp::AttnScores);
                if (L.kNarrow.u8)
                    scoreRow(L, qv, L.k8.data(), 0, kvOffset, lo, pos, m_scores.data());
                else
                    scoreRow(L, qv, L.k16.data(), L.kNarrow.shift, kvOffset, lo, pos, m_scores.data());
                scoreScope.stop();
                if (m_observer)
                    m_observer(SiteCodes {l, RtSite::QkOut, h, t, lo, m_scores.data(), m_scores.size()});
                {
                    ProfileScope scope(prof, ProfileOp::Softmax);
                    kernels::softmaxRow(m_scores.data(), int(m_scores.size()), m_probs.data(), L.softmax);
                }
                if (m_observer)
                    m_observer(SiteCodes {l, RtSite::PvIn, h, t, lo, m_probs.data(), m_probs.size()});
                ProfileScope valueScope(prof, ProfileOp::AttnValues);
                int32_t *o = &out[size_t(t) * size_t(c.qDim()) + size_t(h) * D];
                if (L.vNarrow.u8)
                    pvRow(L, m_probs.data(), L.v8.data(), 0, kvOffset, lo, pos, o);
                else
                    pvRow(L, m_probs.data(), L.v16.data(), L.vNarrow.shift, kvOffset, lo, pos, o);
            }
        }
    }

    static void appendCache(const Narrow &nr, const std::vector<int32_t> &codes, std::vector<uint8_t> &c8,
        std::vector<int16_t> &c16)
    {
        if (nr.u8) {
            c8.resize(c8.size() + codes.size());
            kernels::narrowCodes(codes.data(), codes.size(), 0, c8.data() + c8.size() - codes.size());
        } else {
            c16.resize(c16.size() + codes.size());
            kernels::narrowCodes(codes.data(), codes.size(), nr.shift, c16.data() + c16.size() - codes.size());
        }
    }

    void decoderLayers(const int32_t *tokens, int T, std::vector<float> &hidden) override
    {
        const ModelPackageConfig &c = m_config;
        const int H = c.hidden, rd = c.rotaryDim, P = m_position;
        const size_t TH = size_t(T) * size_t(H);
        // The float end: embedding lookup, quantized into layer 0's attn_norm.in grid as the
        // simulation does (float32 division, round half to even).
        std::vector<int32_t> &x = m_x;
        ExecutorProfile *prof = m_profile.get();
        x.resize(TH);
        {
            ProfileScope scope(prof, ProfileOp::Embedding);
            const QuantParams &in = m_layers[0].site(RtSite::AttnNormIn);
            for (int t = 0; t < T; ++t)
                for (int i = 0; i < H; ++i) {
                    const float e = m_embed[size_t(tokens[t]) * H + i] * c.embedScale;
                    const float code = std::nearbyint(e / m_inScale) + float(in.zeroPoint);
                    x[size_t(t) * H + i] = intops::clampCode(int64_t(code), in.qmin, in.qmax);
                }
        }
        // Scratch buffers kept between calls (resizing to the same size costs nothing; every
        // element is written before it is read).
        Scratch &sb = m_scratch;
        std::vector<int32_t> &h = sb.h, &q = sb.q, &k = sb.k, &v = sb.v, &qr = sb.qr, &kr = sb.kr, &vr = sb.vr,
                             &attn = sb.attn, &o = sb.o, &x2 = sb.x2, &g = sb.g, &u = sb.u, &a = sb.a, &sig = sb.sig,
                             &dIn = sb.dIn, &down = sb.down;
        h.resize(TH);
        x2.resize(TH);
        qr.resize(size_t(T) * size_t(c.qDim()));
        kr.resize(size_t(T) * size_t(c.kvDim()));
        vr.resize(size_t(T) * size_t(c.kvDim()));
        a.resize(size_t(T) * size_t(c.inter));
        sig.resize(size_t(T) * size_t(c.inter));
        dIn.resize(size_t(T) * size_t(c.inter));
        for (int l = 0; l < c.layers; ++l) {
            Layer &L = m_layers[size_t(l)];
            observe(l, RtSite::AttnNormIn, x);
            {
                ProfileScope scope(prof, ProfileOp::Norm);
                kernels::normRows(x.data(), h.data(), T, L.attnNorm);
            }
            observe(l, RtSite::AttnNormOut, h);
            linear(L, RtLinear::Q, T, h, q);
            observe(l, RtSite::QOut, q);
            linear(L, RtLinear::K, T, h, k, true);
            observe(l, RtSite::KOut, k);
            linear(L, RtLinear::V, T, h, v, true);
            observe(l, RtSite::VOut, v);
            ProfileScope ropeScope(prof, ProfileOp::Rope);
            for (int t = 0; t < T; ++t) {
                const int32_t *cs = &m_cos[size_t(P + t) * rd], *sn = &m_sin[size_t(P + t) * rd];
                const size_t qOff = size_t(t) * size_t(c.qDim()), kOff = size_t(t) * size_t(c.kvDim());
                kernels::ropeHeads(&q[qOff], &qr[qOff], c.heads, cs, sn, L.ropeQ);
                kernels::ropeHeads(&k[kOff], &kr[kOff], c.kvHeads, cs, sn, L.ropeK);
            }
            const QuantParams &vo = L.site(RtSite::VOut), &pv2 = L.site(RtSite::PvIn2);
            for (size_t i = 0; i < v.size(); ++i)
                vr[i] = intops::requantize64(int64_t(v[i]) - vo.zeroPoint, L.vToPv, pv2.zeroPoint, pv2.qmin, pv2.qmax);
            ropeScope.stop();
            observe(l, RtSite::QkIn, qr);
            observe(l, RtSite::QkIn2, kr);
            observe(l, RtSite::PvIn2, vr);
            {
                ProfileScope scope(prof, ProfileOp::Convert);
                appendCache(L.kNarrow, kr, L.k8, L.k16);
                appendCache(L.vNarrow, vr, L.v8, L.v16);
            }
            attention(l, L, T, qr, attn);
            observe(l, RtSite::PvOut, attn);
            linear(L, RtLinear::O, T, attn, o);
            observe(l, RtSite::OOut, o);
            {
                ProfileScope scope(prof, ProfileOp::Residual);
                kernels::add(x.data(), o.data(), x2.data(), TH, L.addAttn);
            }
            observe(l, RtSite::MlpNormIn, x2);
            {
                ProfileScope scope(prof, ProfileOp::Norm);
                kernels::normRows(x2.data(), h.data(), T, L.mlpNorm);
            }
            observe(l, RtSite::MlpNormOut, h);
            const int32_t gateMin = L.site(RtSite::GateOut).qmin;
            if (!m_observer) {
                // Without an observer nobody reads act.in2 and act.out: one fused pass.
                linear(L, RtLinear::Gate, T, h, g);
                linear(L, RtLinear::Up, T, h, u, true);
                ProfileScope scope(prof, ProfileOp::Mlp);
                kernels::gatedActivation(g.data(), u.data(), dIn.data(), g.size(), L.actTable.data(), gateMin,
                    c.activation == 0 ? &L.siluMul : nullptr, L.gluMul);
            } else {
                linear(L, RtLinear::Gate, T, h, g);
                observe(l, RtSite::GateOut, g);
                ProfileScope actScope(prof, ProfileOp::Mlp);
                if (c.activation == 0) {
                    kernels::lookup(g.data(), sig.data(), g.size(), L.actTable.data(), gateMin);
                    observe(l, RtSite::ActIn2, sig);
                    kernels::mul(g.data(), sig.data(), a.data(), g.size(), L.siluMul);
                } else {
                    kernels::lookup(g.data(), a.data(), g.size(), L.actTable.data(), gateMin);
                }
                actScope.stop();
                observe(l, RtSite::ActOut, a);
                linear(L, RtLinear::Up, T, h, u);
                observe(l, RtSite::UpOut, u);
                {
                    ProfileScope scope(prof, ProfileOp::Mlp);
                    kernels::mul(a.data(), u.data(), dIn.data(), g.size(), L.gluMul);
                }
            }
            observe(l, RtSite::DownIn, dIn);
            linear(L, RtLinear::Down, T, dIn, down);
            observe(l, RtSite::DownOut, down);
            ProfileScope residualScope(prof, ProfileOp::Residual);
            if (l + 1 < c.layers) {
                kernels::add(x2.data(), down.data(), x.data(), TH, L.addMlp);
            } else {
                // The other float end: the last residual add is the final norm's (float) input.
                const QuantParams &qa = L.site(RtSite::MlpNormIn), &qb = L.site(RtSite::DownOut);
                hidden.resize(TH);
                for (size_t i = 0; i < TH; ++i)
                    hidden[i] = float(x2[i] - qa.zeroPoint) * float(qa.scale)
                        + float(down[i] - qb.zeroPoint) * float(qb.scale);
            }
        }
    }

    std::vector<Layer> m_layers;
    std::vector<int32_t> m_cos, m_sin;
    const float *m_embed = nullptr;
    float m_inScale = 1.0f;
    // Scratch buffers, reused between calls.
    struct Scratch
    {
        std::vector<int32_t> h, q, k, v, qr, kr, vr, attn, o, x2, g, u, a, sig, dIn, down;
    };
    Scratch m_scratch;
    std::vector<int32_t> m_x, m_acc, m_scores, m_probs, m_scoreBlock, m_pvBlock, m_pvOut;
    std::vector<int8_t> m_packBuf, m_packBufLo;
    std::vector<int32_t> m_accLo;
    std::vector<int64_t> m_wide, m_widePv;
    std::vector<int64_t> m_acc64;
    std::vector<uint8_t> m_u8, m_probsU8;
    std::vector<int16_t> m_s16, m_probsS16;
    template <typename PA> std::vector<PA> &probabilityBlock()
    {
        if constexpr (std::is_same_v<PA, uint8_t>)
            return m_probsU8;
        else
            return m_probsS16;
    }
};

} // namespace

// ---------------------------------------------------------------------------------------------

struct ModelExecutor::Head
{
    const float *embed = nullptr;
    std::vector<float> normW, normB;
    kernels::PackedF32 lmHead;
};

ModelExecutor::ModelExecutor(Package package, ModelPackageConfig config)
    : m_package(std::move(package))
    , m_config(std::move(config))
{
    const Package &p = m_package;
    m_head = std::make_shared<Head>();
    m_head->normW = readVector<float>(p, "final_norm.weight");
    if (m_config.normBias)
        m_head->normB = readVector<float>(p, "final_norm.bias");
    m_head->lmHead = kernels::PackedF32::from(
        floatData(p, m_config.tiedEmbeddings ? "embed.weight" : "lm_head.weight"), m_config.vocab, m_config.hidden);
}

std::unique_ptr<ModelExecutor> ModelExecutor::load(Package package)
{
    const ModelPackageConfig config = readModelConfig(package);
    validateModelPackage(package, config);
    if (config.integer())
        return std::make_unique<IntExecutor>(std::move(package), config);
    return std::make_unique<FloatExecutor>(std::move(package), config);
}

std::unique_ptr<ModelExecutor> ModelExecutor::open(const std::string &path) { return load(Package::open(path)); }

void ModelExecutor::reset()
{
    clearCache();
    m_position = 0;
}

void ModelExecutor::forward(const int32_t *tokens, int count, std::vector<float> &logits, bool allRows)
{
    const ModelPackageConfig &c = m_config;
    if (count <= 0)
        throw PackageError("forward needs at least one token");
    if (m_position + count > c.maxPositions)
        throw PackageError(m_package.sourceName() + ": " + std::to_string(m_position + count)
            + " positions exceed the model's context of " + std::to_string(c.maxPositions)
            + " (use shorter windows or reset the cache)");
    for (int t = 0; t < count; ++t)
        if (tokens[t] < 0 || tokens[t] >= c.vocab)
            throw PackageError("token id " + std::to_string(tokens[t]) + " is outside the vocabulary (0.."
                + std::to_string(c.vocab - 1) + ")");
    std::vector<float> &hidden = m_hidden;
    decoderLayers(tokens, count, hidden);
    m_position += count;
    ProfileScope headScope(m_profile.get(), ProfileOp::Head);
    const int H = c.hidden;
    const int first = allRows ? 0 : count - 1, rows = count - first;
    std::vector<float> &normed = m_normed;
    normed.resize(size_t(rows) * H);
    for (int t = 0; t < rows; ++t)
        floatNorm(&hidden[size_t(first + t) * H], &normed[size_t(t) * H], H, c.layerNorm, c.normEps,
            m_head->normW.data(), m_head->normB.empty() ? nullptr : m_head->normB.data());
    logits.resize(size_t(rows) * size_t(c.vocab));
    kernels::matmul(m_head->lmHead, rows, normed.data(), nullptr, logits.data());
}

void ModelExecutor::setProfiling(bool on)
{
    if (!on)
        m_profile.reset();
    else if (!m_profile)
        m_profile = std::make_unique<ExecutorProfile>();
}

const char *profileOpName(ProfileOp op)
{
    static const char *const names[kProfileOpCount] = {"embedding", "norms", "linear products",
        "linear requantization", "code conversion", "rope", "kv cache packing", "attention q·k", "softmax",
        "attention p·v", "activation, gate·up", "residual adds", "final norm + lm head"};
    return names[size_t(op)];
}

const char *profileOpKey(ProfileOp op)
{
    static const char *const keys[kProfileOpCount] = {"embedding", "norms", "linear_products",
        "linear_requantization", "code_conversion", "rope", "kv_cache_packing", "attention_scores", "softmax",
        "attention_values", "activation_gate_up", "residual_adds", "final_norm_lm_head"};
    return keys[size_t(op)];
}

double ExecutorProfile::total() const
{
    double t = 0;
    for (double s : seconds)
        t += s;
    return t;
}

ExecutorProfile &ExecutorProfile::operator+=(const ExecutorProfile &o)
{
    for (size_t i = 0; i < seconds.size(); ++i) {
        seconds[i] += o.seconds[i];
        calls[i] += o.calls[i];
    }
    return *this;
}

double RuntimePerplexity::perplexity() const { return tokens ? std::exp(nll / double(tokens)) : 0.0; }

RuntimePerplexity runtimePerplexity(
    ModelExecutor &model, const std::vector<int32_t> &ids, int seqLen, int stride, int64_t maxTokens)
{
    if (seqLen < 2)
        throw PackageError("the window length must be at least 2 tokens");
    const auto start = std::chrono::steady_clock::now();
    const int64_t n = maxTokens > 0 ? std::min<int64_t>(maxTokens, int64_t(ids.size())) : int64_t(ids.size());
    const int64_t step = std::min<int64_t>(stride > 0 ? stride : seqLen, seqLen - 1);
    const int vocab = model.config().vocab;
    RuntimePerplexity r;
    std::vector<float> logits;
    int64_t next = 1;
    while (next < n) {
        const int64_t e = std::min<int64_t>(n, next + step);
        const int64_t s = std::max<int64_t>(0, e - seqLen);
        model.reset();
        model.forward(ids.data() + s, int(e - s), logits, true);
        for (int64_t target = next; target < e; ++target) {
            const float *row = &logits[size_t(target - s - 1) * size_t(vocab)];
            const float mx = *std::max_element(row, row + vocab);
            double sum = 0;
            for (int i = 0; i < vocab; ++i)
                sum += std::exp(double(row[i]) - mx);
            r.nll -= double(row[ids[size_t(target)]]) - mx - std::log(sum);
            r.argmax.push_back(int32_t(std::max_element(row, row + vocab) - row));
            ++r.tokens;
        }
        ++r.windows;
        next = e;
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

} // namespace mq
