#pragma once

#include "core/runtime/fixed_point.h"

#include <cstddef>
#include <cstdint>
#include <vector>

// The integer operators of the model executor between the linear layers: residual adds, 16-bit
// RMSNorm / LayerNorm, RoPE, attention scores, softmax, p·v and the gated MLP products. Each one
// follows one step of the fake-quant simulation (core/model/transformer.cpp with the sites of
// docs/sites.md): it takes the integer codes of the site(s) feeding it and produces the codes of
// the site after it, computing the real-valued result with integers only and rounding ONCE into
// the output grid (halves away from zero). The constants (multipliers, tables) are built once from
// the package's float scales when a model is loaded (the make* functions); the hot path (the other
// functions) uses no floating point. Pure functions over caller-owned buffers; any thread.
//
// Codes are held in int32 whatever the site's width (8 or 16 bits, asymmetric or symmetric).

namespace mq::intops {

// The grid of one quantization site: real = scale * (code - zeroPoint), code in [qmin, qmax].
struct QuantParams
{
    double scale = 1.0;
    int32_t zeroPoint = 0;
    int32_t qmin = 0;
    int32_t qmax = 255;
};

// round(v / 2^shift), halves away from zero; shift may be negative (a left shift, v must then fit)
// and shifts beyond 62 give 0. Exact for any int64 v.
int64_t roundShift(int64_t v, int shift);

// round(v * m), one rounding, for a 64-bit v (|v| < 2^62): the attention accumulators and the MLP
// products exceed int32. Saturates to int32.
int32_t multiplyByFixedMultiplier64(int64_t v, FixedMultiplier m);
inline int32_t clampCode(int64_t v, int32_t qmin, int32_t qmax)
{
    return static_cast<int32_t>(v < qmin ? qmin : (v > qmax ? qmax : v));
}
inline int32_t requantize64(int64_t acc, FixedMultiplier m, int32_t zeroPoint, int32_t qmin, int32_t qmax)
{
    return clampCode(int64_t(multiplyByFixedMultiplier64(acc, m)) + zeroPoint, qmin, qmax);
}

// A real multiplier that may be below 2^-32 (decomposeMultiplier's range) is flushed to 0 there;
// this one keeps such tiny multipliers as (multiplier, shift) with shift up to 62 for the 64-bit
// paths. M must be finite and in (0, 2^31).
FixedMultiplier decomposeMultiplier64(double realMultiplier);

// --- residual add: out = round((s_a (a - z_a) + s_b (b - z_b)) / s_out) + z_out ---------------

struct AddParams
{
    int64_t ma = 0, mb = 0; // s_a / s_out and s_b / s_out, both as m * 2^-shift
    int shift = 0;
    int32_t za = 0, zb = 0, zOut = 0, qmin = 0, qmax = 0;
};
AddParams makeAdd(const QuantParams &a, const QuantParams &b, const QuantParams &out);
void add(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const AddParams &p);

// --- RMSNorm / LayerNorm over one row of 16-bit codes -----------------------------------------
//
// RMSNorm: y = x / sqrt(mean(x^2) + eps) * w (+ b); LayerNorm subtracts the mean first. With
// d = code - z_x the input scale cancels except inside the epsilon, so the sum of squares, the
// mean and the reciprocal square root (normalised, integer Newton-free bit-by-bit sqrt) are
// integers; eps / s_x^2 becomes an integer constant of the same fixed point (rounded: relative
// error below 1/(2 * sum of squares), negligible unless the row is nearly zero). The output
// y * w_code * s_w / s_y (+ b / s_y) is rounded once.
struct NormParams
{
    bool layerNorm = false;
    int n = 0;
    int32_t zx = 0;
    int64_t epsTerm = 0; // RMS: round(n * eps / s_x^2); LN: round(n^2 * eps / s_x^2)
    FixedMultiplier m;   // RMS: sqrt(n) s_w / s_y; LN: s_w / s_y
    std::vector<int32_t> w; // weight codes minus their zero point
    std::vector<int64_t> bias; // round(b / s_y * 2^32), empty without a bias
    int32_t zy = 0, qmin = 0, qmax = 0;
};
NormParams makeNorm(bool layerNorm, int n, const QuantParams &x, double eps, const int32_t *weightCodes,
    int32_t weightZeroPoint, double weightScale, const float *bias, const QuantParams &y);
void normRow(const int32_t *x, int32_t *y, const NormParams &p);
// The per-row constants of normRow, given the row's denominator (RMS: sum of (x - z)^2 plus
// epsTerm): y_i = round(numerator_i * w_i * factor / 2^shift) (+ bias), factor < 2^63. For the
// vectorised kernels, which must produce normRow's integers.
struct NormRowScale
{
    uint64_t factor = 0;
    int shift = 0;
};
NormRowScale normRowScale(int64_t den, const NormParams &p);

// --- RoPE (rotate-half, as HF and the simulation) ---------------------------------------------
//
// cos / sin are Q30 integers (round(2^30 * the simulation's float32 table)), [positions, rotaryDim].
// Dimensions past rotaryDim (StableLM's partial rotary) pass through, requantized to the out site.
constexpr int kRopeFractionBits = 30;
struct RopeParams
{
    int headDim = 0, rotaryDim = 0;
    int32_t zIn = 0;
    FixedMultiplier m; // s_in / s_out * 2^-30 folded into the shift
    int32_t zOut = 0, qmin = 0, qmax = 0;
};
RopeParams makeRope(int headDim, int rotaryDim, const QuantParams &in, const QuantParams &out);
// One head vector at one position; cosRow / sinRow are that position's table rows.
void ropeHead(const int32_t *x, int32_t *y, const int32_t *cosRow, const int32_t *sinRow, const RopeParams &p);

// --- softmax from 16-bit scores to the 16-bit attn.pv.in site ---------------------------------
//
// The scores are the codes of attn.qk.out, BEFORE 1/sqrt(head_dim). With c_max the row's largest
// code, exp(s (c_j - c_max) / sqrt(d)) is a table lookup by c_max - c_j (Q30, entries rounded to
// 2^-30 absolute; the table ends where the entry rounds to 0). The row sum and the reciprocal
// are integers; p_j is formed in Q62 (exp entry × reciprocal, no intermediate rounding) and
// rounded once into the output grid. Error against the exact softmax: that of the Q30 table
// entries (2^-31 each) and of the reciprocal, below 2^-29 absolute in p before the final rounding,
// i.e. far below one step of a 16-bit grid (>= 2^-16 for ranges >= 1).
struct SoftmaxParams
{
    std::vector<uint32_t> expTable; // index: c_max - c_j
    FixedMultiplier invScale;       // 1 / s_out, applied to a Q62 probability
    int32_t zOut = 0, qmin = 0, qmax = 0;
};
// The table as the package stores it (Q30 values of exp(-k * scoreScale / sqrt(headDim))).
std::vector<int32_t> makeExpTable(double scoreScale, int headDim, int maxEntries = 65536);
SoftmaxParams makeSoftmax(const std::vector<int32_t> &expTable, const QuantParams &out);
// codes[0, count): the unmasked scores of one query row; writes count output codes.
void softmaxRow(const int32_t *codes, int count, int32_t *out, const SoftmaxParams &p);

// --- products with 64-bit sums -----------------------------------------------------------------

// out = requantize(sum_k (a_k - za)(b_k - zb)) : used for q·kᵀ rows and, through the callers,
// p·v. Kept as a plain inline helper so the executor's loops stay readable.
inline int64_t dotCentered(const int32_t *a, int32_t za, const int32_t *b, int32_t zb, int n)
{
    int64_t s = 0;
    for (int k = 0; k < n; ++k)
        s += int64_t(a[k] - za) * int64_t(b[k] - zb);
    return s;
}

// Elementwise product of two sites into a third: out = round(s_a s_b (a - za)(b - zb) / s_out) + z.
struct MulParams
{
    int32_t za = 0, zb = 0;
    FixedMultiplier m;
    int32_t zOut = 0, qmin = 0, qmax = 0;
};
MulParams makeMul(const QuantParams &a, const QuantParams &b, const QuantParams &out);
void mul(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const MulParams &p);

// out = table[code - qminIn] (the SiLU sigmoid and GELU of 8- or 16-bit inputs).
void lookup(const int32_t *in, int32_t *out, size_t n, const int32_t *table, int32_t qminIn);

} // namespace mq::intops
