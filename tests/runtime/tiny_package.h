#pragma once

// A tiny, random but valid model package of each variant, built with the runtime alone (no
// LibTorch), for the executor's and mq-run's tests: 2 llama-style layers of width 16, 4 heads on
// 2 KV heads, vocab 32. Grids are chosen as an exporter would (8-bit asymmetric sites, 16-bit
// residual stream and softmax; everything 16-bit symmetric in A16), tables and multipliers are
// derived from them, so every code path of the executor runs on plausible values.

#include "core/runtime/fixed_point.h"
#include "core/runtime/gemm.h"
#include "core/runtime/int_ops.h"
#include "core/runtime/model_package.h"
#include "core/runtime/package.h"

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace mq::test {

struct TinyTensor
{
    std::string name;
    PackageDType dtype;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> bytes;
};

inline ModelPackageConfig tinyPackageConfig(ModelVariant v)
{
    ModelPackageConfig c;
    c.variant = v;
    c.hidden = 16;
    c.inter = 24;
    c.layers = 2;
    c.heads = 4;
    c.kvHeads = 2;
    c.headDim = 4;
    c.vocab = 32;
    c.maxPositions = 32;
    c.rotaryDim = 4;
    c.bosId = 1;
    c.eosId = 2;
    return c;
}

template <typename T>
TinyTensor tinyTensor(const std::string &name, PackageDType dtype, std::vector<uint64_t> shape, const std::vector<T> &v)
{
    TinyTensor t {name, dtype, std::move(shape), std::vector<uint8_t>(v.size() * sizeof(T))};
    if (!v.empty())
        std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
    return t;
}

// Any shape (tests with more positions, the runtime benchmark's TinyLlama widths): `c` gives the
// widths, c.variant the variant.
inline std::vector<TinyTensor> tinyPackageTensors(const ModelPackageConfig &c, uint64_t seed = 7)
{
    using D = PackageDType;
    const ModelVariant variant = c.variant;
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    auto randn = [&](size_t n, float sd) {
        std::vector<float> v(n);
        for (float &x : v)
            x = sd * normal(rng);
        return v;
    };
    std::vector<TinyTensor> out;
    const uint64_t H = uint64_t(c.hidden), V = uint64_t(c.vocab), P = uint64_t(c.maxPositions), R = uint64_t(c.rotaryDim);
    out.push_back(tinyTensor("model.config", D::S32, {uint64_t(c.toInts().size())}, c.toInts()));
    out.push_back(tinyTensor("model.config_f32", D::F32, {2}, c.toFloats()));
    out.push_back(tinyTensor("embed.weight", D::F32, {V, H}, randn(V * H, 1.0f)));
    out.push_back(tinyTensor("final_norm.weight", D::F32, {H}, std::vector<float>(H, 1.0f)));
    out.push_back(tinyTensor("lm_head.weight", D::F32, {V, H}, randn(V * H, 0.3f)));
    std::vector<double> cosd(P * R), sind(P * R);
    for (uint64_t p = 0; p < P; ++p)
        for (uint64_t i = 0; i < R; ++i) {
            const double angle = double(p) * std::pow(10000.0, -double(2 * (i % (R / 2))) / double(R));
            cosd[p * R + i] = std::cos(angle);
            sind[p * R + i] = std::sin(angle);
        }
    if (c.integer()) {
        std::vector<int32_t> cq(P * R), sq(P * R);
        for (size_t i = 0; i < cq.size(); ++i) {
            cq[i] = int32_t(std::llround(std::ldexp(double(float(cosd[i])), 30)));
            sq[i] = int32_t(std::llround(std::ldexp(double(float(sind[i])), 30)));
        }
        out.push_back(tinyTensor("rope.cos", D::S32, {P, R}, cq));
        out.push_back(tinyTensor("rope.sin", D::S32, {P, R}, sq));
    } else {
        out.push_back(tinyTensor("rope.cos", D::F32, {P, R}, std::vector<float>(cosd.begin(), cosd.end())));
        out.push_back(tinyTensor("rope.sin", D::F32, {P, R}, std::vector<float>(sind.begin(), sind.end())));
    }
    for (int l = 0; l < c.layers; ++l) {
        auto name = [&](const std::string &s) { return layerTensorName(l, s); };
        if (!c.integer()) {
            for (const char *n : {"attn_norm", "mlp_norm"})
                out.push_back(tinyTensor(name(std::string(n) + ".weight"), D::F32, {H}, std::vector<float>(H, 1.0f)));
            for (int i = 0; i < kRtLinearCount; ++i) {
                const auto o = uint64_t(rtLinearOut(c, RtLinear(i))), in = uint64_t(rtLinearIn(c, RtLinear(i)));
                out.push_back(tinyTensor(name(std::string(rtLinearName(RtLinear(i))) + ".weight"), D::F32, {o, in},
                    randn(o * in, 1.0f / std::sqrt(float(in)))));
            }
            continue;
        }
        // Site grids: real = scale * (code - zero point).
        std::vector<intops::QuantParams> sites(kRtSiteCount);
        for (int s = 0; s < kRtSiteCount; ++s) {
            const RtSite site = RtSite(s);
            const bool wide = site == RtSite::AttnNormIn || site == RtSite::QkOut || site == RtSite::PvIn
                || site == RtSite::OOut || site == RtSite::MlpNormIn || site == RtSite::DownOut;
            double range = site == RtSite::QkOut ? 24.0 : 8.0;
            const bool positive = site == RtSite::PvIn || site == RtSite::ActIn2;
            if (positive)
                range = 1.0;
            if (variant == ModelVariant::A16)
                sites[size_t(s)] = {range / 32767.0, 0, -32768, 32767};
            else if (wide)
                sites[size_t(s)] = {range / 65535.0 * (positive ? 1 : 2), positive ? 0 : 32768, 0, 65535};
            else
                sites[size_t(s)] = {range / 255.0 * (positive ? 1 : 2), positive ? 0 : 128, 0, 255};
            const std::string sn = rtSiteName(site);
            const float scale = float(sites[size_t(s)].scale);
            sites[size_t(s)].scale = double(scale);
            out.push_back(tinyTensor(name(sn + ".scale"), D::F32, {}, std::vector<float> {scale}));
            out.push_back(tinyTensor(name(sn + ".quant"), D::S32, {3},
                std::vector<int32_t> {sites[size_t(s)].zeroPoint, sites[size_t(s)].qmin, sites[size_t(s)].qmax}));
        }
        std::uniform_int_distribution<int> normCode(30000, 36000);
        for (const char *n : {"attn_norm", "mlp_norm"}) {
            std::vector<int32_t> codes(H);
            for (int32_t &q : codes)
                q = normCode(rng);
            out.push_back(tinyTensor(name(std::string(n) + ".weight"), D::S32, {H}, codes));
            out.push_back(tinyTensor(name(std::string(n) + ".weight_scale"), D::F32, {1}, std::vector<float> {1.0f / 32768.0f}));
            out.push_back(tinyTensor(name(std::string(n) + ".weight_zero_point"), D::S32, {1}, std::vector<int32_t> {0}));
        }
        const bool int4 = variant == ModelVariant::W4A8;
        std::uniform_int_distribution<int> wcode(int4 ? -8 : -127, int4 ? 7 : 127);
        for (int i = 0; i < kRtLinearCount; ++i) {
            const RtLinear lin = RtLinear(i);
            const int o = rtLinearOut(c, lin), in = rtLinearIn(c, lin);
            const std::string stem = name(rtLinearName(lin));
            std::vector<int8_t> w(size_t(o) * size_t(in));
            for (int8_t &x : w)
                x = int8_t(wcode(rng));
            if (int4)
                out.push_back(tinyTensor(stem + ".weight", D::S4Packed, {uint64_t(o), uint64_t(in)}, packInt4Rows(w.data(), o, in)));
            else
                out.push_back(tinyTensor(stem + ".weight", D::S8, {uint64_t(o), uint64_t(in)}, w));
            // Weight scale so that a row's output spans about the output site's range.
            const double sIn = sites[size_t(rtLinearInput(lin))].scale, sOut = sites[size_t(rtLinearOutput(lin))].scale;
            const double inRange = (sites[size_t(rtLinearInput(lin))].qmax - sites[size_t(rtLinearInput(lin))].qmin) * sIn;
            const double outRange = (sites[size_t(rtLinearOutput(lin))].qmax - sites[size_t(rtLinearOutput(lin))].qmin) * sOut;
            std::vector<float> ws(static_cast<size_t>(o));
            std::vector<int32_t> zp(static_cast<size_t>(o)), mult(static_cast<size_t>(o)), shift(static_cast<size_t>(o));
            for (int r = 0; r < o; ++r) {
                ws[size_t(r)] = float(outRange / (inRange * std::sqrt(double(in)) * (int4 ? 4.0 : 64.0)) * (1.0 + 0.1 * (r % 3)));
                zp[size_t(r)] = r % 3 - 1;
                const FixedMultiplier m = decomposeMultiplier(sIn * double(ws[size_t(r)]) / sOut);
                mult[size_t(r)] = m.multiplier;
                shift[size_t(r)] = m.rightShift;
            }
            out.push_back(tinyTensor(stem + ".weight_scale", D::F32, {uint64_t(o)}, ws));
            out.push_back(tinyTensor(stem + ".weight_zero_point", D::S32, {uint64_t(o)}, zp));
            out.push_back(tinyTensor(stem + ".multiplier", D::S32, {uint64_t(o)}, mult));
            out.push_back(tinyTensor(stem + ".shift", D::S32, {uint64_t(o)}, shift));
        }
        const std::vector<int32_t> expTable = intops::makeExpTable(sites[size_t(RtSite::QkOut)].scale, c.headDim);
        out.push_back(tinyTensor(name("attn.softmax.exp_table"), D::S32, {uint64_t(expTable.size())}, expTable));
        const intops::QuantParams &g = sites[size_t(RtSite::GateOut)], &sg = sites[size_t(RtSite::ActIn2)];
        std::vector<int32_t> table;
        for (int64_t code = g.qmin; code <= g.qmax; ++code) {
            const double x = g.scale * double(code - g.zeroPoint);
            const double sig = 1.0 / (1.0 + std::exp(-x));
            table.push_back(intops::clampCode(std::llround(sig / sg.scale) + sg.zeroPoint, sg.qmin, sg.qmax));
        }
        out.push_back(tinyTensor(name("mlp.act.table"), D::S32, {uint64_t(table.size())}, table));
    }
    return out;
}

inline std::vector<TinyTensor> tinyPackageTensors(ModelVariant variant, uint64_t seed = 7)
{
    return tinyPackageTensors(tinyPackageConfig(variant), seed);
}

// Serialises tensors into a package, leaving out `skip` (for the loader's error tests).
inline std::vector<uint8_t> tinyPackageBytes(const std::vector<TinyTensor> &tensors, const std::string &skip = "")
{
    PackageWriter w;
    w.setMetadata("{\"format\": \"mq-model-package\", \"test\": true}");
    for (const TinyTensor &t : tensors)
        if (t.name != skip)
            w.addTensor(t.name, t.dtype, t.shape, t.bytes);
    return w.serialize();
}

inline Package tinyPackage(ModelVariant v, uint64_t seed = 7)
{
    const std::vector<uint8_t> bytes = tinyPackageBytes(tinyPackageTensors(v, seed));
    return Package::fromBytes(bytes.data(), bytes.size(), std::string("tiny-") + modelVariantName(v) + ".mqpkg");
}

} // namespace mq::test
