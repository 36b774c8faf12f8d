#pragma once

// What the packed forms hold, shared by the kernel sources (kernels.cpp and the per-ISA files).
// Not part of the runtime's interface: callers use kernels.h only.

#include "core/runtime/int_ops.h"
#include "core/runtime/kernels.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

namespace mq::kernels {

// A 64-byte aligned array (a cache line, one AVX-512 register), zero-filled.
template <typename T> class AlignedBuffer
{
public:
    AlignedBuffer() = default;
    explicit AlignedBuffer(size_t n)
        : m_size(n)
    {
        if (n == 0)
            return;
        const size_t bytes = (n * sizeof(T) + 63) / 64 * 64;
        void *p = std::aligned_alloc(64, bytes);
        if (!p)
            throw std::bad_alloc();
        std::memset(p, 0, bytes);
        m_data.reset(static_cast<T *>(p));
    }
    T *data() { return m_data.get(); }
    const T *data() const { return m_data.get(); }
    size_t size() const { return m_size; }
    bool empty() const { return m_size == 0; }

private:
    struct Free
    {
        void operator()(T *p) const { std::free(p); }
    };
    std::unique_ptr<T, Free> m_data;
    size_t m_size = 0;
};

// Integer weights. Exactly one of three layouts is held:
// - `rows`: the plain [out, in] s8 rows, when no SIMD path was usable at packing time;
// - `tiles`: the dot-product layout of the x86 kernels: 16 output channels x 4 consecutive inputs
//   per 64-byte group, [ceil(out/16)][ceil(in/4)][16][4] s8, zero-padded. One 64-byte load feeds
//   one VPDPBUSD (16 channels x 4 products), or two VPDPWSSD after widening to s16.
// - `nibbles`: int4 weights on x86, [ceil(out/16)][ceil(in/8)][16][4] bytes, byte b of a channel
//   holding inputs b (low nibble) and b + 4 (high nibble) of its 8-input group, as w + 8 in [0, 15].
//   rowSums and zeroPoints64 then describe w + 8 (sum w + 8 in, zw + 8), so the zero-point
//   correction is the same formula.
struct PackedWeights::Impl
{
    int out = 0;
    int in = 0;
    bool int4 = false;
    std::vector<int32_t> zeroPoints; // 1 (per tensor) or `out` values, as given
    std::vector<int8_t> rows;
    AlignedBuffer<int8_t> tiles;
    AlignedBuffer<uint8_t> nibbles;
    int steps = 0; // ceil(in / 4): 4-input groups per 16-channel block in `tiles`
    int groups8 = 0; // ceil(in / 8): 8-input groups per 16-channel block in `nibbles`
    int blocks = 0; // ceil(out / 16)
    // Per output channel, padded to blocks * 16: sum_k W[o][k] and the zero point, for the
    // zero-point corrections (sum (a - za)(w - zw) = sum a w - zw sum a - za sum w + in za zw).
    AlignedBuffer<int64_t> rowSums;
    AlignedBuffer<int64_t> zeroPoints64;

    int32_t zeroPoint(int o) const { return zeroPoints[zeroPoints.size() == 1 ? 0 : static_cast<size_t>(o)]; }
    int8_t weight(int o, int k) const
    {
        if (!rows.empty())
            return rows[static_cast<size_t>(o) * in + k];
        if (!nibbles.empty()) {
            const uint8_t byte
                = nibbles.data()[((static_cast<size_t>(o / 16) * groups8 + k / 8) * 16 + o % 16) * 4 + k % 4];
            return static_cast<int8_t>((k % 8 < 4 ? byte & 0xF : byte >> 4) - 8);
        }
        return tiles.data()[((static_cast<size_t>(o / 16) * steps + k / 4) * 16 + o % 16) * 4 + k % 4];
    }
};

// Float weights: `rows` [out, in], or `tiles` [ceil(out/16)][in][16] (16 channels of one input per
// 64-byte row, the FMA kernel's operand).
struct PackedF32::Impl
{
    int out = 0;
    int in = 0;
    std::vector<float> rows;
    AlignedBuffer<float> tiles;
    int blocks = 0;

    float weight(int o, int k) const
    {
        if (!rows.empty())
            return rows[static_cast<size_t>(o) * in + k];
        return tiles.data()[(static_cast<size_t>(o / 16) * in + k) * 16 + o % 16];
    }
};

// Splits [0, n) into `parts` nearly equal ranges aligned to `align`; returns the begin of part i.
inline int splitPoint(int n, int parts, int i, int align)
{
    const int units = (n + align - 1) / align;
    const int begin = static_cast<int>(static_cast<long long>(units) * i / parts) * align;
    return begin < n ? begin : n;
}

#if defined(__x86_64__)
// kernels_avx512.cpp (compiled with AVX-512 VNNI flags; call only when avx512Usable()).
namespace avx512 {
bool usable();
void packTiles(PackedWeights::Impl &p, const int8_t *rows);
void packNibbles(PackedWeights::Impl &p, const int8_t *rows);
void packTiles(PackedF32::Impl &p, const float *rows);
// Products over 16-channel blocks [blockBegin, blockEnd); colTerm[o] = bias - za sum w + in za zw;
// rowSumA[r] = sum_k a[r][k].
void matmulU8(const PackedWeights::Impl &p, int rows, const uint8_t *a, const int64_t *colTerm, const int64_t *rowSumA,
    int32_t *acc, int blockBegin, int blockEnd);
void matmulS16(const PackedWeights::Impl &p, int rows, const int16_t *a, const int64_t *colTerm, const int64_t *rowSumA,
    int32_t *acc, int blockBegin, int blockEnd);
void matmulF32(
    const PackedF32::Impl &p, int rows, const float *a, const float *bias, float *y, int blockBegin, int blockEnd);
// Requantization over rows [rowBegin, rowEnd) with per-channel tables of `out` values (padded to a
// multiple of 8): multiplier, total shift (31 + rightShift, in [0, 62]) and half = 2^(shift-1) or 0.
struct RequantTables
{
    const int64_t *multiplier;
    const int64_t *shift;
    const int64_t *half;
    int32_t zeroPoint, qmin, qmax;
};
void requantize(int out, const int32_t *acc, const RequantTables &t, int32_t *dst, int rowBegin, int rowEnd);
void requantize(int out, const int32_t *acc, const RequantTables &t, uint8_t *dst, int rowBegin, int rowEnd);
void requantize(int out, const int32_t *acc, const RequantTables &t, int16_t *dst, int rowBegin, int rowEnd);
// The element-wise operators of int_ops.h (kernels.h checks their preconditions first).
void add(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const intops::AddParams &p);
void mul(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const intops::MulParams &p);
void lookup(const int32_t *in, int32_t *out, size_t n, const int32_t *table, int32_t qminIn);
void gatedActivation(const int32_t *gate, const int32_t *up, int32_t *out, size_t n, const int32_t *table,
    int32_t gateMin, const intops::MulParams *silu, const intops::MulParams &glu);
// RMSNorm rows without bias, weights within +-2^18; falls back to intops::normRow for a row whose
// shift is outside [64, 95].
void rmsNormRows(const int32_t *x, int32_t *y, int rows, const intops::NormParams &p);
int64_t softmaxRow(const int32_t *codes, int count, int32_t *out, const intops::SoftmaxParams &p);
void narrowCodes(const int32_t *src, size_t n, int32_t shift, uint8_t *dst);
void narrowCodes(const int32_t *src, size_t n, int32_t shift, int16_t *dst);
void softmaxF32(float *x, int n, float scale);
void siluMulF32(float *gate, const float *up, size_t n);
// Shift 31 + m.rightShift in [33, 95].
void requantize64(
    size_t n, const int64_t *v, FixedMultiplier m, int32_t zeroPoint, int32_t qmin, int32_t qmax, int32_t *dst);
// sums[r] = sum_k a[r][k] of a [rows, in] matrix.
void rowSums(const uint8_t *a, int rows, int in, int64_t *sums);
void rowSums(const int16_t *a, int rows, int in, int64_t *sums);
// RoPE over `heads` head vectors of one position (rotaryDim == headDim).
void ropeHeads(
    const int32_t *x, int32_t *y, int heads, const int32_t *cosRow, const int32_t *sinRow, const intops::RopeParams &p);
} // namespace avx512
#endif

} // namespace mq::kernels
