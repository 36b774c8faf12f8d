#pragma once

#include "core/runtime/fixed_point.h"
#include "core/runtime/int_ops.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

// The runtime's matrix-product kernels over weights packed once at load. Every function computes
// exactly what the scalar definitions in gemm.h compute (integer results bit for bit; float
// results to rounding), only faster: the layout inside PackedWeights and the code path chosen at
// run time (portable scalar, x86 AVX2 / AVX-512 VNNI, arm64 NEON dot-product, ...) are the
// kernels' business. Nothing here assumes x86: every SIMD path sits behind a compile-time and a
// run-time check, with the portable path always available.
//
// Threads: a product may split its rows or output channels over the runtime's worker threads
// (setThreads); callers call from one thread at a time.

namespace mq::kernels {

// How many threads the products may use (1 = the calling thread only). Default: 1.
void setThreads(int threads);
int threads();

// The code path the products take on this machine, e.g. "scalar", "avx2", "avx512-vnni".
std::string pathName();
// Force the portable scalar path (tests compare the fast paths against it).
void forceScalar(bool scalar);

// Integer weights [out, in] with per-tensor (one value) or per-output-channel zero points.
class PackedWeights
{
public:
    static PackedWeights fromS8(const int8_t *w, int out, int in, std::vector<int32_t> zeroPoints);
    // `packedRows` in the gemm.h int4 layout (packInt4Rows).
    static PackedWeights fromS4(const uint8_t *packedRows, int out, int in, std::vector<int32_t> zeroPoints);

    PackedWeights();
    ~PackedWeights();
    PackedWeights(PackedWeights &&) noexcept;
    PackedWeights &operator=(PackedWeights &&) noexcept;

    int out() const;
    int in() const;
    bool isInt4() const;
    std::size_t bytes() const; // memory the packed form holds

    struct Impl;
    const Impl &impl() const { return *m_impl; }

private:
    std::unique_ptr<Impl> m_impl;
};

// acc[rows, out] = (A - aZeroPoint) (W - zW)^T + bias; A is [rows, in] row-major; bias is nullptr
// or `out` int32 values. Same results as gemmU8S8 / gemmU8S4 / gemmS16S8.
void matmul(const PackedWeights &w, int rows, const uint8_t *a, int32_t aZeroPoint, const int32_t *bias, int32_t *acc);
void matmul(const PackedWeights &w, int rows, const int16_t *a, int32_t aZeroPoint, const int32_t *bias, int32_t *acc);

// Float weights [out, in] for the FP32 reference variant.
class PackedF32
{
public:
    static PackedF32 from(const float *w, int out, int in);

    PackedF32();
    ~PackedF32();
    PackedF32(PackedF32 &&) noexcept;
    PackedF32 &operator=(PackedF32 &&) noexcept;

    int out() const;
    int in() const;

    struct Impl;
    const Impl &impl() const { return *m_impl; }

private:
    std::unique_ptr<Impl> m_impl;
};

// y[rows, out] = A W^T + bias (bias nullptr or `out` values).
void matmul(const PackedF32 &w, int rows, const float *a, const float *bias, float *y);

// Requantizes an accumulator block acc[rows, out]: dst = clamp(round(acc * M[o]) + zeroPoint, qmin,
// qmax), one rounding with halves away from zero, M = multiplier * 2^-(31 + rightShift). The same
// integers as mq::requantize (fixed_point.h) for every multiplier decomposeMultiplier makes, and
// the exact rounded product for any multiplier in [0, 2^31) with rightShift >= -31 (the tiny
// multipliers of a 64-bit decomposition, whose products round to 0, included). `multipliers` holds
// 1 (per tensor) or `out` values; qmin/qmax must fit the destination type. Throws
// std::invalid_argument for a negative multiplier or a rightShift below -31.
void requantize(int rows, int out, const int32_t *acc, const std::vector<FixedMultiplier> &multipliers,
    int32_t zeroPoint, int32_t qmin, int32_t qmax, int32_t *dst);
void requantize(int rows, int out, const int32_t *acc, const std::vector<FixedMultiplier> &multipliers,
    int32_t zeroPoint, int32_t qmin, int32_t qmax, uint8_t *dst);
void requantize(int rows, int out, const int32_t *acc, const std::vector<FixedMultiplier> &multipliers,
    int32_t zeroPoint, int32_t qmin, int32_t qmax, int16_t *dst);

// The element-wise operators of int_ops.h with the same arguments and the same integers, bit for
// bit, vectorised where the CPU allows (and split over the threads for large blocks). The fast
// paths assume what the executor guarantees: every input is a code of its site's grid (at most 16
// bits wide) and norm weights (codes minus zero point) within +-2^18; the portable path (the intops functions) takes
// any int32. Parameters outside a fast path's range (shifts, LayerNorm, biases) take the portable
// path.
void add(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const intops::AddParams &p);
void mul(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const intops::MulParams &p);
void lookup(const int32_t *in, int32_t *out, size_t n, const int32_t *table, int32_t qminIn);
// The gated MLP in one pass, without the intermediate sites: act = table[gate - gateMin], then
// with SiLU (silu non-null) act = mul(gate, act, *silu); out = mul(act, up, glu). The same codes
// as lookup and mul in turn.
void gatedActivation(const int32_t *gate, const int32_t *up, int32_t *out, size_t n, const int32_t *table,
    int32_t gateMin, const intops::MulParams *silu, const intops::MulParams &glu);
// `rows` rows of p.n codes.
void normRows(const int32_t *x, int32_t *y, int rows, const intops::NormParams &p);
// Also returns sum_j |out_j - p.zOut| (the executor's bound on the exactness of p·v in int32).
int64_t softmaxRow(const int32_t *codes, int count, int32_t *out, const intops::SoftmaxParams &p);
// dst[i] = intops::requantize64(v[i], m, zeroPoint, qmin, qmax) for 64-bit sums (|v| < 2^62).
void requantize64(
    size_t n, const int64_t *v, FixedMultiplier m, int32_t zeroPoint, int32_t qmin, int32_t qmax, int32_t *dst);
// The FP32 variant's softmax of one row, in place: x = scale x, then exp(x - max x) / sum (the sum
// in double). The fast path's exp is a polynomial within 2 ulp of std::exp, so results agree
// with the portable path to float rounding, not bit for bit.
void softmaxF32(float *x, int n, float scale);
// The FP32 variant's SiLU-gated product, in place: gate[i] = gate[i] / (1 + exp(-gate[i])) * up[i]
// (the fast path's exp as in softmaxF32).
void siluMulF32(float *gate, const float *up, size_t n);
// dst[i] = src[i] - shift, narrowed (the codes must fit the destination after the shift).
void narrowCodes(const int32_t *src, size_t n, int32_t shift, uint8_t *dst);
void narrowCodes(const int32_t *src, size_t n, int32_t shift, int16_t *dst);
// RoPE of `heads` consecutive head vectors at one position (intops::ropeHead on each).
void ropeHeads(
    const int32_t *x, int32_t *y, int heads, const int32_t *cosRow, const int32_t *sinRow, const intops::RopeParams &p);

} // namespace mq::kernels
