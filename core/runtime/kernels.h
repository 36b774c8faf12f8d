#pragma once

#include "core/runtime/fixed_point.h"

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

} // namespace mq::kernels
