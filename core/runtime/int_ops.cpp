#include "core/runtime/int_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace mq::intops {

namespace {

// GCC and Clang on x86-64 and arm64 have a 128-bit integer (one widening multiply instruction on
// both); __extension__ keeps -Wpedantic quiet about it.
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

// round(v / 2^shift), halves away from zero, for shift in [0, 126]; negative shift = left shift.
// Branch-free on the sign (the sign is data: a branch on it is mispredicted half the time).
Int128 roundShift128(Int128 v, int shift)
{
    if (shift <= 0)
        return v * (Int128(1) << (-shift));
    if (shift > 126)
        return 0;
    const Int128 neg = v >> 127; // 0 or -1
    const UInt128 magnitude = UInt128((v ^ neg) - neg);
    const auto rounded = Int128((magnitude + (UInt128(1) << (shift - 1))) >> shift);
    return (rounded ^ neg) - neg;
}

int32_t saturate32(Int128 v)
{
    if (v > std::numeric_limits<int32_t>::max())
        return std::numeric_limits<int32_t>::max();
    if (v < std::numeric_limits<int32_t>::min())
        return std::numeric_limits<int32_t>::min();
    return static_cast<int32_t>(v);
}

// floor(sqrt(v)) by the bit-by-bit method: integer only, 32 steps.
uint64_t isqrt64(uint64_t v)
{
    uint64_t result = 0;
    uint64_t bit = uint64_t(1) << 62;
    while (bit > v)
        bit >>= 2;
    while (bit != 0) {
        if (v >= result + bit) {
            v -= result + bit;
            result = (result >> 1) + bit;
        } else {
            result >>= 1;
        }
        bit >>= 2;
    }
    return result;
}

} // namespace

int64_t roundShift(int64_t v, int shift)
{
    return static_cast<int64_t>(roundShift128(Int128(v), shift));
}

FixedMultiplier decomposeMultiplier64(double realMultiplier)
{
    if (!std::isfinite(realMultiplier) || realMultiplier <= 0.0 || realMultiplier >= 2147483648.0)
        throw std::invalid_argument("fixed-point multiplier must be in (0, 2^31), got " + std::to_string(realMultiplier));
    int exponent = 0;
    const double fraction = std::frexp(realMultiplier, &exponent);
    auto q = static_cast<int64_t>(std::llround(std::ldexp(fraction, 31)));
    if (q == (int64_t(1) << 31)) {
        q /= 2;
        ++exponent;
    }
    FixedMultiplier m;
    m.multiplier = static_cast<int32_t>(q);
    m.rightShift = -exponent;
    if (m.rightShift > 94) // |v * m| < 2^93 for every v the 64-bit paths pass: the product rounds to 0
        m = FixedMultiplier {};
    return m;
}

int32_t multiplyByFixedMultiplier64(int64_t v, FixedMultiplier m)
{
    return saturate32(roundShift128(Int128(v) * m.multiplier, 31 + m.rightShift));
}

AddParams makeAdd(const QuantParams &a, const QuantParams &b, const QuantParams &out)
{
    // Both multipliers share one exponent so that the sum is rounded once; the larger one gets 31
    // significant bits, the smaller one as many as fit in the same fixed point.
    const double ra = a.scale / out.scale, rb = b.scale / out.scale;
    int exponent = 0;
    std::frexp(std::max(ra, rb), &exponent);
    AddParams p;
    p.shift = 31 - exponent;
    p.ma = std::llround(std::ldexp(ra, p.shift));
    p.mb = std::llround(std::ldexp(rb, p.shift));
    p.za = a.zeroPoint;
    p.zb = b.zeroPoint;
    p.zOut = out.zeroPoint;
    p.qmin = out.qmin;
    p.qmax = out.qmax;
    return p;
}

void add(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const AddParams &p)
{
    for (size_t i = 0; i < n; ++i) {
        const Int128 v = Int128(a[i] - p.za) * p.ma + Int128(b[i] - p.zb) * p.mb;
        out[i] = clampCode(int64_t(roundShift128(v, p.shift)) + p.zOut, p.qmin, p.qmax);
    }
}

NormParams makeNorm(bool layerNorm, int n, const QuantParams &x, double eps, const int32_t *weightCodes,
    int32_t weightZeroPoint, double weightScale, const float *bias, const QuantParams &y)
{
    NormParams p;
    p.layerNorm = layerNorm;
    p.n = n;
    p.zx = x.zeroPoint;
    const double e = eps / (x.scale * x.scale);
    p.epsTerm = std::llround(layerNorm ? double(n) * double(n) * e : double(n) * e);
    p.m = decomposeMultiplier64((layerNorm ? 1.0 : std::sqrt(double(n))) * weightScale / y.scale);
    p.w.resize(size_t(n));
    for (int i = 0; i < n; ++i)
        p.w[size_t(i)] = weightCodes[i] - weightZeroPoint;
    if (bias) {
        p.bias.resize(size_t(n));
        for (int i = 0; i < n; ++i)
            p.bias[size_t(i)] = std::llround(std::ldexp(double(bias[i]) / y.scale, 32));
    }
    p.zy = y.zeroPoint;
    p.qmin = y.qmin;
    p.qmax = y.qmax;
    return p;
}

NormRowScale normRowScale(int64_t den, const NormParams &p)
{
    // 1/sqrt(den) = rm * 2^(j - 62): den scaled by 4^j into [2^60, 2^62) has a 31-bit root.
    int j = 0;
    uint64_t dn = den > 0 ? uint64_t(den) : 0;
    uint64_t rm = 0;
    if (dn > 0) {
        while (dn < (uint64_t(1) << 60)) {
            dn <<= 2;
            ++j;
        }
        while (dn >= (uint64_t(1) << 62)) {
            dn >>= 2;
            --j;
        }
        rm = (uint64_t(1) << 62) / isqrt64(dn);
    }
    // rm <= 2^32 and the multiplier < 2^31: their product is exact in 64 bits.
    return NormRowScale {rm * uint64_t(p.m.multiplier), 62 - j + 31 + p.m.rightShift};
}

void normRow(const int32_t *x, int32_t *y, const NormParams &p)
{
    const int n = p.n;
    // Numerators N_i and the denominator Den with y_i = K * N_i / sqrt(Den) (see the header).
    int64_t den = 0;
    int64_t mu = 0, r = 0;
    if (p.layerNorm) {
        int64_t sum = 0;
        for (int i = 0; i < n; ++i)
            sum += x[i];
        // Any integer near the mean keeps the squares small; the remainder r corrects exactly.
        mu = sum >= 0 ? (sum + n / 2) / n : -((-sum + n / 2) / n);
        r = sum - int64_t(n) * mu;
        int64_t ss = 0;
        for (int i = 0; i < n; ++i) {
            const int64_t d = x[i] - mu;
            ss += d * d;
        }
        den = int64_t(n) * ss - r * r + p.epsTerm;
    } else {
        int64_t ss = 0;
        for (int i = 0; i < n; ++i) {
            const int64_t d = x[i] - p.zx;
            ss += d * d;
        }
        den = ss + p.epsTerm;
    }
    const NormRowScale scale = normRowScale(den, p);
    const int shift = scale.shift;
    const auto factor = Int128(scale.factor);
    for (int i = 0; i < n; ++i) {
        const int64_t num = p.layerNorm ? int64_t(n) * (x[i] - mu) - r : int64_t(x[i] - p.zx);
        const Int128 prod = Int128(num * p.w[size_t(i)]) * factor;
        int64_t v;
        if (p.bias.empty()) {
            v = int64_t(roundShift128(prod, shift));
        } else {
            // Bring the product to 32 fractional bits (a rounding 2^-32 of a step, below anything
            // the output can show), add the bias there and round once into the output grid.
            const Int128 fine = roundShift128(prod, shift - 32) + p.bias[size_t(i)];
            v = int64_t(roundShift128(fine, 32));
        }
        y[i] = clampCode(v + p.zy, p.qmin, p.qmax);
    }
}

RopeParams makeRope(int headDim, int rotaryDim, const QuantParams &in, const QuantParams &out)
{
    if (rotaryDim % 2 != 0 || rotaryDim > headDim)
        throw std::invalid_argument("rotary dimension " + std::to_string(rotaryDim) + " must be even and at most "
            + std::to_string(headDim));
    RopeParams p;
    p.headDim = headDim;
    p.rotaryDim = rotaryDim;
    p.zIn = in.zeroPoint;
    p.m = decomposeMultiplier64(std::ldexp(in.scale / out.scale, -kRopeFractionBits));
    p.zOut = out.zeroPoint;
    p.qmin = out.qmin;
    p.qmax = out.qmax;
    return p;
}

void ropeHead(const int32_t *x, int32_t *y, const int32_t *cosRow, const int32_t *sinRow, const RopeParams &p)
{
    const int half = p.rotaryDim / 2;
    for (int i = 0; i < half; ++i) {
        const int64_t v = int64_t(x[i] - p.zIn) * cosRow[i] - int64_t(x[i + half] - p.zIn) * sinRow[i];
        y[i] = clampCode(int64_t(multiplyByFixedMultiplier64(v, p.m)) + p.zOut, p.qmin, p.qmax);
    }
    for (int i = half; i < p.rotaryDim; ++i) {
        const int64_t v = int64_t(x[i] - p.zIn) * cosRow[i] + int64_t(x[i - half] - p.zIn) * sinRow[i];
        y[i] = clampCode(int64_t(multiplyByFixedMultiplier64(v, p.m)) + p.zOut, p.qmin, p.qmax);
    }
    for (int i = p.rotaryDim; i < p.headDim; ++i) {
        const int64_t v = int64_t(x[i] - p.zIn) * (int64_t(1) << kRopeFractionBits);
        y[i] = clampCode(int64_t(multiplyByFixedMultiplier64(v, p.m)) + p.zOut, p.qmin, p.qmax);
    }
}

std::vector<int32_t> makeExpTable(double scoreScale, int headDim, int maxEntries)
{
    const double step = scoreScale / std::sqrt(double(headDim));
    std::vector<int32_t> table;
    for (int k = 0; k < maxEntries; ++k) {
        const double v = std::ldexp(std::exp(-double(k) * step), 30);
        const auto q = static_cast<int32_t>(std::llround(v));
        if (q == 0)
            break;
        table.push_back(q);
    }
    return table;
}

SoftmaxParams makeSoftmax(const std::vector<int32_t> &expTable, const QuantParams &out)
{
    if (expTable.empty() || expTable[0] != (int32_t(1) << 30))
        throw std::invalid_argument("softmax exp table must start with 2^30 (exp(0) in Q30)");
    SoftmaxParams p;
    p.expTable.assign(expTable.begin(), expTable.end());
    p.invScale = decomposeMultiplier64(std::ldexp(1.0 / out.scale, -62));
    p.zOut = out.zeroPoint;
    p.qmin = out.qmin;
    p.qmax = out.qmax;
    return p;
}

void softmaxRow(const int32_t *codes, int count, int32_t *out, const SoftmaxParams &p)
{
    if (count <= 0)
        return;
    int32_t cmax = codes[0];
    for (int j = 1; j < count; ++j)
        cmax = std::max(cmax, codes[j]);
    const size_t len = p.expTable.size();
    uint64_t sum = 0;
    for (int j = 0; j < count; ++j) {
        const auto k = size_t(int64_t(cmax) - codes[j]);
        sum += k < len ? p.expTable[k] : 0;
    }
    // sum >= 2^30 (the maximum contributes exp(0)), so the reciprocal (Q32 of 1 / sum in Q30)
    // is at most 2^32 and e * recip <= 2^62: the probability in Q62, kept whole and rounded only
    // once, into the output grid (the requantization multiplier carries the 2^-62).
    const uint64_t recip = (uint64_t(1) << 62) / sum;
    // round(e * recip * multiplier / 2^s): recip * multiplier < 2^63 is exact, e * that < 2^94.
    const int s = 31 + p.invScale.rightShift;
    const UInt128 factor = UInt128(recip * uint64_t(p.invScale.multiplier));
    if (s < 1 || s > 126) {
        for (int j = 0; j < count; ++j) {
            const auto k = size_t(int64_t(cmax) - codes[j]);
            const uint64_t e = k < len ? p.expTable[k] : 0;
            out[j] = requantize64(int64_t(e * recip), p.invScale, p.zOut, p.qmin, p.qmax);
        }
        return;
    }
    const UInt128 half = UInt128(1) << (s - 1);
    const UInt128 limit = UInt128(std::numeric_limits<int32_t>::max());
    for (int j = 0; j < count; ++j) {
        const auto k = size_t(int64_t(cmax) - codes[j]);
        const uint64_t e = k < len ? p.expTable[k] : 0;
        const UInt128 q = (e * factor + half) >> s;
        out[j] = clampCode(int64_t(q < limit ? q : limit) + p.zOut, p.qmin, p.qmax);
    }
}

MulParams makeMul(const QuantParams &a, const QuantParams &b, const QuantParams &out)
{
    MulParams p;
    p.za = a.zeroPoint;
    p.zb = b.zeroPoint;
    p.m = decomposeMultiplier64(a.scale * b.scale / out.scale);
    p.zOut = out.zeroPoint;
    p.qmin = out.qmin;
    p.qmax = out.qmax;
    return p;
}

void mul(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const MulParams &p)
{
    for (size_t i = 0; i < n; ++i)
        out[i] = requantize64(int64_t(a[i] - p.za) * int64_t(b[i] - p.zb), p.m, p.zOut, p.qmin, p.qmax);
}

void lookup(const int32_t *in, int32_t *out, size_t n, const int32_t *table, int32_t qminIn)
{
    for (size_t i = 0; i < n; ++i)
        out[i] = table[in[i] - qminIn];
}

} // namespace mq::intops
