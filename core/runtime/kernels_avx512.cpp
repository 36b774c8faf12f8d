// The x86 AVX-512 kernels: VPDPBUSD for u8 x s8, VPDPWSSD (weights widened to s16 on the fly) for
// s16 x s8, FMA for f32. Compiled with AVX-512 flags (CMakeLists.txt); kernels.cpp calls these only
// after a run-time CPU check, so the library still runs on CPUs without them.
//
// Structure (the same for the three types): weights are packed in 16-channel blocks
// (kernels_internal.h); a panel of up to 4 blocks (64 output channels) stays in L2 while every
// tile of up to 6 activation rows streams over it; a tile's 6 x 64 accumulators live in 24 zmm
// registers. Threads split the panels.

#include "core/runtime/kernels_internal.h"

#include <immintrin.h>

// GCC 12's AVX-512 intrinsics start many results from a self-initialised "undefined" register,
// which -Wuninitialized reports after inlining (GCC bug 105593, fixed in GCC 13). Nothing in this
// file reads an uninitialised value of its own; the kernel tests compare every path bit for bit.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <algorithm>
#include <cstring>

namespace mq::kernels::avx512 {

namespace {

constexpr int kTileRows = 6; // activation rows per register tile
constexpr int kTileCols = 64; // int64 partial-sum tile width (4 blocks of 16 channels)
constexpr int kU8Blocks = 4; // 16-channel blocks per u8 register tile: 6 x 4 accumulators
constexpr int kS16Blocks = 2; // per s16 tile: 6 x 2 x 2 accumulators (two per block, see below)
constexpr int kF32Blocks = 4;

// Steps (4 inputs each) summed in int32 before being moved to the int64 tile. u8 x s8: one step
// adds at most 4 * 255 * 128 < 2^17 per lane, so 8192 steps stay below 2^30. s16 x s8: one step
// adds at most 2 * 2^15 * 2^7 = 2^23 per lane, so 128 steps stay below 2^30. Every partial sum is
// therefore exact, and so is the result (the corrections are added in int64).
constexpr int kU8BlockSteps = 8192;
constexpr int kS16BlockSteps = 128;
// Inputs per f32 cache block: a 64-channel panel slice of 512 inputs is 128 KiB (L2).
constexpr int kF32BlockInputs = 512;

// The all-ones zero-masking forms of the conversions: GCC 12's plain forms start from an undefined
// register and trip -Wuninitialized at -O3.
inline void addToTile(int64_t *c, __m512i sum32)
{
    const __m512i lo = _mm512_maskz_cvtepi32_epi64(0xFF, _mm512_castsi512_si256(sum32));
    const __m512i hi = _mm512_maskz_cvtepi32_epi64(0xFF, _mm512_maskz_extracti64x4_epi64(0xFF, sum32, 1));
    _mm512_store_si512(c, _mm512_add_epi64(_mm512_load_si512(c), lo));
    _mm512_store_si512(c + 8, _mm512_add_epi64(_mm512_load_si512(c + 8), hi));
}

// acc[i][j] += A[i][4s..4s+3] . W[block j][4s..4s+3] for 16 channels at once.
template <int MR, int NR>
void kernelU8(const uint8_t *a, size_t lda, const int8_t *b, size_t blockStride, int steps, int64_t *c)
{
    __m512i acc[MR][NR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j)
            acc[i][j] = _mm512_setzero_si512();
    // Every loop over the tile is unrolled (indices known at compile time) and the input tail is
    // left to the caller, so that GCC keeps the accumulators in registers.
    for (int s = 0; s < steps; ++s) {
        __m512i w[NR];
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j)
            w[j] = _mm512_load_si512(b + j * blockStride + static_cast<size_t>(s) * 64);
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
            int32_t x;
            std::memcpy(&x, a + i * lda + 4 * static_cast<size_t>(s), 4);
            const __m512i av = _mm512_set1_epi32(x);
#pragma GCC unroll 8
            for (int j = 0; j < NR; ++j)
                acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, w[j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j)
            addToTile(c + i * kTileCols + j * 16, acc[i][j]);
}

// Int4 weights stay packed: each 64-byte group holds 16 channels x 8 inputs as nibbles, the low
// nibbles of a channel's 4 bytes being inputs 0-3 and the high nibbles inputs 4-7, stored as
// unsigned w + 8 (the +8 is folded into the zero point, so no sign extension is needed). One load
// feeds two VPDPBUSD after an AND and a shift, and the weights cost half the memory traffic of s8,
// which is what decoding (one row, memory-bound) is limited by.
template <int MR, int NR>
void kernelU4(const uint8_t *a, size_t lda, const int8_t *b, size_t blockStride, int steps, int64_t *c)
{
    const __m512i low = _mm512_set1_epi8(0x0F);
    __m512i acc[MR][NR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j)
            acc[i][j] = _mm512_setzero_si512();
    for (int s = 0; s < steps; ++s) {
        // Two halves (inputs 0-3, then 4-7) so that only NR weight registers are live at a time;
        // the second load of a group hits L1.
#pragma GCC unroll 2
        for (int half = 0; half < 2; ++half) {
            __m512i w[NR];
#pragma GCC unroll 8
            for (int j = 0; j < NR; ++j) {
                const __m512i x = _mm512_load_si512(b + j * blockStride + static_cast<size_t>(s) * 64);
                w[j] = _mm512_and_si512(half ? _mm512_srli_epi16(x, 4) : x, low);
            }
#pragma GCC unroll 8
            for (int i = 0; i < MR; ++i) {
                int32_t x;
                std::memcpy(&x, a + i * lda + 8 * static_cast<size_t>(s) + 4 * half, 4);
                const __m512i av = _mm512_set1_epi32(x);
#pragma GCC unroll 8
                for (int j = 0; j < NR; ++j)
                    acc[i][j] = _mm512_dpbusd_epi32(acc[i][j], av, w[j]);
            }
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j)
            addToTile(c + i * kTileCols + j * 16, acc[i][j]);
}

// The s16 kernel reads the same s8 tiles: each 32-byte half of a 64-byte group (8 channels x 4
// inputs) is sign-extended to s16, and the activations' 4 inputs are broadcast as one qword, so
// dword 2c of the product holds channel c's inputs 0-1 and dword 2c+1 its inputs 2-3. The pair is
// added when the int32 sums move to the int64 tile.
template <int MR, int NR>
void kernelS16(const int16_t *a, size_t lda, const int8_t *b, size_t blockStride, int steps, int64_t *c)
{
    __m512i acc[MR][2 * NR];
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < 2 * NR; ++j)
            acc[i][j] = _mm512_setzero_si512();
    for (int s = 0; s < steps; ++s) {
        __m512i w[2 * NR];
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j) {
            const int8_t *g = b + j * blockStride + static_cast<size_t>(s) * 64;
            w[2 * j] = _mm512_cvtepi8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i *>(g)));
            w[2 * j + 1] = _mm512_cvtepi8_epi16(_mm256_load_si256(reinterpret_cast<const __m256i *>(g + 32)));
        }
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
            int64_t x;
            std::memcpy(&x, a + i * lda + 4 * static_cast<size_t>(s), 8);
            const __m512i av = _mm512_set1_epi64(x);
#pragma GCC unroll 8
            for (int j = 0; j < 2 * NR; ++j)
                acc[i][j] = _mm512_dpwssd_epi32(acc[i][j], av, w[j]);
        }
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < 2 * NR; ++j) {
            const __m512i x = acc[i][j];
            const __m512i pair
                = _mm512_add_epi64(_mm512_srai_epi64(_mm512_slli_epi64(x, 32), 32), _mm512_srai_epi64(x, 32));
            int64_t *t = c + i * kTileCols + j * 8;
            _mm512_store_si512(t, _mm512_add_epi64(_mm512_load_si512(t), pair));
        }
}

template <int MR, int NR>
void kernelF32(const float *a, size_t lda, const float *b, size_t blockStride, int kc, float *y, size_t ldy,
    int validCols, const float *bias, bool accumulate)
{
    __mmask16 mask[NR];
    __m512 acc[MR][NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
        const int v = std::min(16, validCols - 16 * j);
        mask[j] = static_cast<__mmask16>(v >= 16 ? 0xFFFF : (1u << v) - 1);
    }
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j)
            acc[i][j] = _mm512_setzero_ps();
    for (int k = 0; k < kc; ++k) {
        __m512 w[NR];
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j)
            w[j] = _mm512_load_ps(b + j * blockStride + static_cast<size_t>(k) * 16);
#pragma GCC unroll 8
        for (int i = 0; i < MR; ++i) {
            const __m512 av = _mm512_set1_ps(a[i * lda + k]);
#pragma GCC unroll 8
            for (int j = 0; j < NR; ++j)
                acc[i][j] = _mm512_fmadd_ps(av, w[j], acc[i][j]);
        }
    }
    // The earlier input blocks' sums (or the bias) are added after the loop, which keeps the
    // loop's register allocation free of them.
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < NR; ++j) {
            const __m512 prior = accumulate ? _mm512_maskz_loadu_ps(mask[j], y + i * ldy + 16 * j)
                : bias                      ? _mm512_maskz_loadu_ps(mask[j], bias + 16 * j)
                                            : _mm512_setzero_ps();
            _mm512_mask_storeu_ps(y + i * ldy + 16 * j, mask[j], _mm512_add_ps(acc[i][j], prior));
        }
}

// Function tables indexed [rows - 1][blocks - 1], so that row and channel tails use the same code.
using U8Fn = void (*)(const uint8_t *, size_t, const int8_t *, size_t, int, int64_t *);
using S16Fn = void (*)(const int16_t *, size_t, const int8_t *, size_t, int, int64_t *);
using F32Fn = void (*)(const float *, size_t, const float *, size_t, int, float *, size_t, int, const float *, bool);

const U8Fn kU8[kTileRows][kU8Blocks] = {
    { kernelU8<1, 1>, kernelU8<1, 2>, kernelU8<1, 3>, kernelU8<1, 4> },
    { kernelU8<2, 1>, kernelU8<2, 2>, kernelU8<2, 3>, kernelU8<2, 4> },
    { kernelU8<3, 1>, kernelU8<3, 2>, kernelU8<3, 3>, kernelU8<3, 4> },
    { kernelU8<4, 1>, kernelU8<4, 2>, kernelU8<4, 3>, kernelU8<4, 4> },
    { kernelU8<5, 1>, kernelU8<5, 2>, kernelU8<5, 3>, kernelU8<5, 4> },
    { kernelU8<6, 1>, kernelU8<6, 2>, kernelU8<6, 3>, kernelU8<6, 4> },
};
const U8Fn kU4[kTileRows][kU8Blocks] = {
    { kernelU4<1, 1>, kernelU4<1, 2>, kernelU4<1, 3>, kernelU4<1, 4> },
    { kernelU4<2, 1>, kernelU4<2, 2>, kernelU4<2, 3>, kernelU4<2, 4> },
    { kernelU4<3, 1>, kernelU4<3, 2>, kernelU4<3, 3>, kernelU4<3, 4> },
    { kernelU4<4, 1>, kernelU4<4, 2>, kernelU4<4, 3>, kernelU4<4, 4> },
    { kernelU4<5, 1>, kernelU4<5, 2>, kernelU4<5, 3>, kernelU4<5, 4> },
    { kernelU4<6, 1>, kernelU4<6, 2>, kernelU4<6, 3>, kernelU4<6, 4> },
};
const S16Fn kS16[kTileRows][kS16Blocks] = {
    { kernelS16<1, 1>, kernelS16<1, 2> },
    { kernelS16<2, 1>, kernelS16<2, 2> },
    { kernelS16<3, 1>, kernelS16<3, 2> },
    { kernelS16<4, 1>, kernelS16<4, 2> },
    { kernelS16<5, 1>, kernelS16<5, 2> },
    { kernelS16<6, 1>, kernelS16<6, 2> },
};
const F32Fn kF32[kTileRows][kF32Blocks] = {
    { kernelF32<1, 1>, kernelF32<1, 2>, kernelF32<1, 3>, kernelF32<1, 4> },
    { kernelF32<2, 1>, kernelF32<2, 2>, kernelF32<2, 3>, kernelF32<2, 4> },
    { kernelF32<3, 1>, kernelF32<3, 2>, kernelF32<3, 3>, kernelF32<3, 4> },
    { kernelF32<4, 1>, kernelF32<4, 2>, kernelF32<4, 3>, kernelF32<4, 4> },
    { kernelF32<5, 1>, kernelF32<5, 2>, kernelF32<5, 3>, kernelF32<5, 4> },
    { kernelF32<6, 1>, kernelF32<6, 2>, kernelF32<6, 3>, kernelF32<6, 4> },
};

// acc[r][o] = saturate(tile + colTerm[o] - zw[o] * rowSumA[r]) for the tile's rows and blocks.
void finalize(const PackedWeights::Impl &p, const int64_t *tile, int r0, int mr, int b0, int nb, const int64_t *colTerm,
    const int64_t *rowSumA, int32_t *acc)
{
    for (int i = 0; i < mr; ++i) {
        const int r = r0 + i;
        const __m512i sa = _mm512_set1_epi64(rowSumA[r]);
        for (int h = 0; h < 2 * nb; ++h) {
            const int o = b0 * 16 + 8 * h;
            const int valid = std::min(8, p.out - o);
            if (valid <= 0)
                break;
            __m512i v = _mm512_load_si512(tile + i * kTileCols + 8 * h);
            v = _mm512_add_epi64(v, _mm512_loadu_si512(colTerm + o));
            v = _mm512_sub_epi64(v, _mm512_mullo_epi64(_mm512_load_si512(p.zeroPoints64.data() + o), sa));
            const __m256i s = _mm512_cvtsepi64_epi32(v); // saturating, as the reference
            _mm256_mask_storeu_epi32(
                acc + static_cast<size_t>(r) * p.out + o, static_cast<__mmask8>((1u << valid) - 1), s);
        }
    }
}

// `group` inputs per 64-byte weight group (4 for s8, 8 for packed int4); `groups` per block.
template <typename Act, typename Fn, int NR>
void matmulInt(const PackedWeights::Impl &p, const int8_t *tiles, int group, int groups, int rows, const Act *a,
    const int64_t *colTerm, const int64_t *rowSumA, int32_t *acc, int blockBegin, int blockEnd,
    const Fn (&table)[kTileRows][NR], int blockGroups)
{
    const size_t lda = static_cast<size_t>(p.in);
    const size_t blockStride = static_cast<size_t>(groups) * 64;
    const int fullGroups = p.in / group, tail = p.in % group;
    alignas(64) int64_t tile[kTileRows * kTileCols];
    for (int b0 = blockBegin; b0 < blockEnd; b0 += NR) {
        const int nb = std::min(NR, blockEnd - b0);
        const int8_t *panel = tiles + static_cast<size_t>(b0) * blockStride;
        for (int r0 = 0; r0 < rows; r0 += kTileRows) {
            const int mr = std::min(kTileRows, rows - r0);
            std::memset(tile, 0, sizeof(tile));
            const Fn kernel = table[mr - 1][nb - 1];
            for (int g0 = 0; g0 < fullGroups; g0 += blockGroups)
                kernel(a + static_cast<size_t>(r0) * lda + static_cast<size_t>(group) * g0, lda,
                    panel + static_cast<size_t>(g0) * 64, blockStride, std::min(blockGroups, fullGroups - g0), tile);
            if (tail > 0) {
                // The last inputs, zero-padded to one group (the packed weights are zero there).
                Act last[kTileRows * 8] = {};
                for (int i = 0; i < mr; ++i)
                    std::memcpy(last + group * i,
                        a + static_cast<size_t>(r0 + i) * lda + static_cast<size_t>(group) * fullGroups,
                        sizeof(Act) * static_cast<size_t>(tail));
                kernel(last, static_cast<size_t>(group), panel + static_cast<size_t>(fullGroups) * 64, blockStride, 1,
                    tile);
            }
            finalize(p, tile, r0, mr, b0, nb, colTerm, rowSumA, acc);
        }
    }
}

} // namespace

void packTiles(PackedWeights::Impl &p, const int8_t *rows)
{
    p.steps = (p.in + 3) / 4;
    p.blocks = (p.out + 15) / 16;
    p.tiles = AlignedBuffer<int8_t>(static_cast<size_t>(p.blocks) * p.steps * 64);
    // Four inputs of a channel are contiguous in both layouts: copy them as one word.
    for (int o = 0; o < p.out; ++o) {
        const int8_t *row = rows + static_cast<size_t>(o) * p.in;
        int8_t *t = p.tiles.data() + (static_cast<size_t>(o / 16) * p.steps * 16 + o % 16) * 4;
        for (int g = 0; g < p.steps; ++g)
            std::memcpy(t + static_cast<size_t>(g) * 64, row + 4 * g, static_cast<size_t>(std::min(4, p.in - 4 * g)));
    }
}

void packNibbles(PackedWeights::Impl &p, const int8_t *rows)
{
    p.groups8 = (p.in + 7) / 8;
    p.blocks = (p.out + 15) / 16;
    p.nibbles = AlignedBuffer<uint8_t>(static_cast<size_t>(p.blocks) * p.groups8 * 64);
    uint8_t *t = p.nibbles.data();
    for (int o = 0; o < p.out; ++o)
        for (int k = 0; k < p.in; ++k) {
            const int u = rows[static_cast<size_t>(o) * p.in + k] + 8; // [-8, 7] -> [0, 15]
            t[((static_cast<size_t>(o / 16) * p.groups8 + k / 8) * 16 + o % 16) * 4 + k % 4]
                |= static_cast<uint8_t>(k % 8 < 4 ? u : u << 4);
        }
}

void packTiles(PackedF32::Impl &p, const float *rows)
{
    p.blocks = (p.out + 15) / 16;
    p.tiles = AlignedBuffer<float>(static_cast<size_t>(p.blocks) * p.in * 16);
    float *t = p.tiles.data();
    for (int o = 0; o < p.out; ++o)
        for (int k = 0; k < p.in; ++k)
            t[(static_cast<size_t>(o / 16) * p.in + k) * 16 + o % 16] = rows[static_cast<size_t>(o) * p.in + k];
}

void matmulU8(const PackedWeights::Impl &p, int rows, const uint8_t *a, const int64_t *colTerm, const int64_t *rowSumA,
    int32_t *acc, int blockBegin, int blockEnd)
{
    if (!p.nibbles.empty())
        matmulInt(p, reinterpret_cast<const int8_t *>(p.nibbles.data()), 8, p.groups8, rows, a, colTerm, rowSumA, acc,
            blockBegin, blockEnd, kU4, kU8BlockSteps / 2);
    else
        matmulInt(
            p, p.tiles.data(), 4, p.steps, rows, a, colTerm, rowSumA, acc, blockBegin, blockEnd, kU8, kU8BlockSteps);
}

void matmulS16(const PackedWeights::Impl &p, int rows, const int16_t *a, const int64_t *colTerm, const int64_t *rowSumA,
    int32_t *acc, int blockBegin, int blockEnd)
{
    matmulInt(
        p, p.tiles.data(), 4, p.steps, rows, a, colTerm, rowSumA, acc, blockBegin, blockEnd, kS16, kS16BlockSteps);
}

void matmulF32(
    const PackedF32::Impl &p, int rows, const float *a, const float *bias, float *y, int blockBegin, int blockEnd)
{
    const size_t lda = static_cast<size_t>(p.in);
    const size_t blockStride = static_cast<size_t>(p.in) * 16;
    const size_t ldy = static_cast<size_t>(p.out);
    for (int b0 = blockBegin; b0 < blockEnd; b0 += kF32Blocks) {
        const int nb = std::min(kF32Blocks, blockEnd - b0);
        const int validCols = std::min(nb * 16, p.out - b0 * 16);
        const float *panel = p.tiles.data() + static_cast<size_t>(b0) * blockStride;
        int k0 = 0;
        do {
            const int kc = std::min(kF32BlockInputs, p.in - k0);
            for (int r0 = 0; r0 < rows; r0 += kTileRows) {
                const int mr = std::min(kTileRows, rows - r0);
                kF32[mr - 1][nb - 1](a + static_cast<size_t>(r0) * lda + k0, lda, panel + static_cast<size_t>(k0) * 16,
                    blockStride, kc, y + static_cast<size_t>(r0) * ldy + b0 * 16, ldy, validCols,
                    bias ? bias + b0 * 16 : nullptr, k0 > 0);
            }
            k0 += kc;
        } while (k0 < p.in);
    }
}

namespace {

inline void storeCodes(int32_t *dst, __mmask8 m, __m512i v)
{
    _mm256_mask_storeu_epi32(dst, m, _mm512_cvtepi64_epi32(v));
}
inline void storeCodes(uint8_t *dst, __mmask8 m, __m512i v)
{
    _mm_mask_storeu_epi8(dst, m, _mm512_cvtepi64_epi8(v));
}
inline void storeCodes(int16_t *dst, __mmask8 m, __m512i v)
{
    _mm_mask_storeu_epi16(dst, m, _mm512_cvtepi64_epi16(v));
}

// Eight channels at a time in int64: |acc * multiplier| < 2^62, the rounding adds half of the
// divisor to the magnitude and shifts it (halves away from zero), then the zero point and the clamp;
// the clamped values fit any destination, so the narrowing stores need no saturation.
template <typename Dst>
void requantizeRows(int out, const int32_t *acc, const RequantTables &t, Dst *dst, int rowBegin, int rowEnd)
{
    const __m512i zp = _mm512_set1_epi64(t.zeroPoint), lo = _mm512_set1_epi64(t.qmin), hi = _mm512_set1_epi64(t.qmax);
    for (int r = rowBegin; r < rowEnd; ++r) {
        const int32_t *row = acc + static_cast<size_t>(r) * out;
        Dst *d = dst + static_cast<size_t>(r) * out;
        for (int o = 0; o < out; o += 8) {
            const int valid = std::min(8, out - o);
            const __mmask8 m = static_cast<__mmask8>((1u << valid) - 1);
            const __m512i x = _mm512_maskz_cvtepi32_epi64(0xFF, _mm256_maskz_loadu_epi32(m, row + o));
            const __m512i product = _mm512_mul_epi32(x, _mm512_loadu_si512(t.multiplier + o));
            const __m512i magnitude
                = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_abs_epi64(product), _mm512_loadu_si512(t.half + o)),
                    _mm512_loadu_si512(t.shift + o));
            const __mmask8 negative = _mm512_cmplt_epi64_mask(product, _mm512_setzero_si512());
            __m512i q = _mm512_mask_sub_epi64(magnitude, negative, _mm512_setzero_si512(), magnitude);
            q = _mm512_min_epi64(_mm512_max_epi64(_mm512_add_epi64(q, zp), lo), hi);
            storeCodes(d + o, m, q);
        }
    }
}

} // namespace

void requantize(int out, const int32_t *acc, const RequantTables &t, int32_t *dst, int rowBegin, int rowEnd)
{
    requantizeRows(out, acc, t, dst, rowBegin, rowEnd);
}
void requantize(int out, const int32_t *acc, const RequantTables &t, uint8_t *dst, int rowBegin, int rowEnd)
{
    requantizeRows(out, acc, t, dst, rowBegin, rowEnd);
}
void requantize(int out, const int32_t *acc, const RequantTables &t, int16_t *dst, int rowBegin, int rowEnd)
{
    requantizeRows(out, acc, t, dst, rowBegin, rowEnd);
}

} // namespace mq::kernels::avx512
