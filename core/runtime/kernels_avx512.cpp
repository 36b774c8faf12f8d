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
#include <cmath>
#include <cstdlib>
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

// Masked stores are much slower than plain ones on AMD cores, so whole groups store plainly and
// only a row's tail uses the mask (likewise for the loads below).
inline void storeCodes(int32_t *dst, __mmask8 m, __m512i v)
{
    if (m == 0xFF)
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst), _mm512_cvtepi64_epi32(v));
    else
        _mm256_mask_storeu_epi32(dst, m, _mm512_cvtepi64_epi32(v));
}
inline void storeCodes(uint8_t *dst, __mmask8 m, __m512i v)
{
    if (m == 0xFF)
        _mm_storel_epi64(reinterpret_cast<__m128i *>(dst), _mm512_cvtepi64_epi8(v));
    else
        _mm_mask_storeu_epi8(dst, m, _mm512_cvtepi64_epi8(v));
}
inline void storeCodes(int16_t *dst, __mmask8 m, __m512i v)
{
    if (m == 0xFF)
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst), _mm512_cvtepi64_epi16(v));
    else
        _mm_mask_storeu_epi16(dst, m, _mm512_cvtepi64_epi16(v));
}
inline __m256i loadCodes(const int32_t *src, __mmask8 m)
{
    return m == 0xFF ? _mm256_loadu_si256(reinterpret_cast<const __m256i *>(src)) : _mm256_maskz_loadu_epi32(m, src);
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
            const __m512i x = _mm512_cvtepi32_epi64(loadCodes(row + o, m));
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

// ---------------------------------------------------------------------------------------------
// Element-wise operators of int_ops.h, eight codes per instruction in 64-bit lanes. Each computes the
// scalar definition's exact integer; the inputs are codes of grids of at most 16 bits (kernels.h).

namespace {

inline __mmask8 tailMask8(size_t left)
{
    return left >= 8 ? __mmask8(0xFF) : static_cast<__mmask8>((1u << left) - 1);
}
inline __m512i load8(const int32_t *p, __mmask8 m)
{
    return _mm512_cvtepi32_epi64(loadCodes(p, m));
}
inline void store8(int32_t *p, __mmask8 m, __m512i v)
{
    storeCodes(p, m, v);
}
inline __m512i load16(const int32_t *p, __mmask16 m)
{
    return m == 0xFFFF ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi32(m, p);
}
inline void store16(int32_t *p, __mmask16 m, __m512i v)
{
    if (m == 0xFFFF)
        _mm512_storeu_si512(p, v);
    else
        _mm512_mask_storeu_epi32(p, m, v);
}
inline __m512 load16(const float *p, __mmask16 m)
{
    return m == 0xFFFF ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(m, p);
}
inline void store16(float *p, __mmask16 m, __m512 v)
{
    if (m == 0xFFFF)
        _mm512_storeu_ps(p, v);
    else
        _mm512_mask_storeu_ps(p, m, v);
}
inline __m512i negateWhere(__m512i magnitude, __mmask8 negative)
{
    return _mm512_mask_sub_epi64(magnitude, negative, _mm512_setzero_si512(), magnitude);
}
inline __m512i clampLanes(__m512i v, __m512i lo, __m512i hi)
{
    return _mm512_min_epi64(_mm512_max_epi64(v, lo), hi);
}

// round((hi * 2^32 + lo) / 2^s) for s in [33, 95], halves up, of a non-negative value given as
// hi < 2^63 and lo < 2^64 (two 32 x 32 -> 64 partial products): adding 2^(s-1) and dividing by 2^s
// is (hi + floor(lo / 2^32) + 2^(s-33)) / 2^(s-32), floored, because the half is a multiple of 2^32.
// hi + 2^32 + 2^62 < 2^64 for the callers' hi < 2^63 - 2^32.
inline __m512i roundWide(__m512i hi, __m512i lo, __m512i highHalf, __m512i shiftMinus32)
{
    return _mm512_srlv_epi64(_mm512_add_epi64(_mm512_add_epi64(hi, _mm512_srli_epi64(lo, 32)), highHalf), shiftMinus32);
}

struct WideConstants
{
    __m512i highHalf, shiftMinus32;
    explicit WideConstants(int shift)
        : highHalf(_mm512_set1_epi64(int64_t(1) << (shift - 33)))
        , shiftMinus32(_mm512_set1_epi64(shift - 32))
    {
    }
};

} // namespace

void add(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const intops::AddParams &p)
{
    const __m512i za = _mm512_set1_epi64(p.za), zb = _mm512_set1_epi64(p.zb), ma = _mm512_set1_epi64(p.ma),
                  mb = _mm512_set1_epi64(p.mb), half = _mm512_set1_epi64(int64_t(1) << (p.shift - 1)),
                  shift = _mm512_set1_epi64(p.shift), zo = _mm512_set1_epi64(p.zOut), lo = _mm512_set1_epi64(p.qmin),
                  hi = _mm512_set1_epi64(p.qmax);
    for (size_t i = 0; i < n; i += 8) {
        const __mmask8 m = tailMask8(n - i);
        // |a - za| * ma < 2^16 * 2^32: the sum is exact in 64 bits.
        const __m512i v = _mm512_add_epi64(_mm512_mullo_epi64(_mm512_sub_epi64(load8(a + i, m), za), ma),
            _mm512_mullo_epi64(_mm512_sub_epi64(load8(b + i, m), zb), mb));
        const __m512i magnitude = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_abs_epi64(v), half), shift);
        const __m512i q = negateWhere(magnitude, _mm512_cmplt_epi64_mask(v, _mm512_setzero_si512()));
        store8(out + i, m, clampLanes(_mm512_add_epi64(q, zo), lo, hi));
    }
}

namespace {

// intops::mul's integers for eight lanes of codes (64-bit lanes holding int32 codes).
struct MulLanes
{
    __m512i za, zb, mult, half, shift, zo, lo, hi;
    explicit MulLanes(const intops::MulParams &p)
        : za(_mm512_set1_epi64(p.za))
        , zb(_mm512_set1_epi64(p.zb))
        , mult(_mm512_set1_epi64(p.m.multiplier))
        , half(_mm512_set1_epi64(int64_t(1) << (30 + p.m.rightShift)))
        , shift(_mm512_set1_epi64(31 + p.m.rightShift))
        , zo(_mm512_set1_epi64(p.zOut))
        , lo(_mm512_set1_epi64(p.qmin))
        , hi(_mm512_set1_epi64(p.qmax))
    {
    }
    __m512i operator()(__m512i a, __m512i b) const
    {
        // Two 16-bit differences: |v| < 2^32, so |v| * multiplier < 2^63.
        const __m512i v = _mm512_mul_epi32(_mm512_sub_epi64(a, za), _mm512_sub_epi64(b, zb));
        const __m512i magnitude
            = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epu32(_mm512_abs_epi64(v), mult), half), shift);
        const __m512i q = negateWhere(magnitude, _mm512_cmplt_epi64_mask(v, _mm512_setzero_si512()));
        return clampLanes(_mm512_add_epi64(q, zo), lo, hi);
    }
};

} // namespace

void gatedActivation(const int32_t *gate, const int32_t *up, int32_t *out, size_t n, const int32_t *table,
    int32_t gateMin, const intops::MulParams *silu, const intops::MulParams &glu)
{
    const MulLanes gluLanes(glu);
    const MulLanes siluLanes(silu ? *silu : glu);
    const __m256i offset = _mm256_set1_epi32(gateMin);
    for (size_t i = 0; i < n; i += 8) {
        const __mmask8 m = tailMask8(n - i);
        const __m256i g = loadCodes(gate + i, m);
        const __m512i t = _mm512_cvtepi32_epi64(
            _mm256_mmask_i32gather_epi32(_mm256_setzero_si256(), m, _mm256_sub_epi32(g, offset), table, 4));
        const __m512i act = silu ? siluLanes(_mm512_cvtepi32_epi64(g), t) : t;
        store8(out + i, m, gluLanes(act, load8(up + i, m)));
    }
}

void mul(const int32_t *a, const int32_t *b, int32_t *out, size_t n, const intops::MulParams &p)
{
    const int shift = 31 + p.m.rightShift;
    const __m512i za = _mm512_set1_epi64(p.za), zb = _mm512_set1_epi64(p.zb), mult = _mm512_set1_epi64(p.m.multiplier),
                  half = _mm512_set1_epi64(int64_t(1) << (shift - 1)), sh = _mm512_set1_epi64(shift),
                  zo = _mm512_set1_epi64(p.zOut), lo = _mm512_set1_epi64(p.qmin), hi = _mm512_set1_epi64(p.qmax);
    for (size_t i = 0; i < n; i += 8) {
        const __mmask8 m = tailMask8(n - i);
        // Two 16-bit differences: |v| < 2^32, so |v| * multiplier < 2^63.
        const __m512i v
            = _mm512_mul_epi32(_mm512_sub_epi64(load8(a + i, m), za), _mm512_sub_epi64(load8(b + i, m), zb));
        const __m512i magnitude
            = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_mul_epu32(_mm512_abs_epi64(v), mult), half), sh);
        const __m512i q = negateWhere(magnitude, _mm512_cmplt_epi64_mask(v, _mm512_setzero_si512()));
        store8(out + i, m, clampLanes(_mm512_add_epi64(q, zo), lo, hi));
    }
}

void lookup(const int32_t *in, int32_t *out, size_t n, const int32_t *table, int32_t qminIn)
{
    const __m512i offset = _mm512_set1_epi32(qminIn);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
        const __m512i index = _mm512_sub_epi32(load16(in + i, m), offset);
        store16(out + i, m, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, index, table, 4));
    }
}

void rmsNormRows(const int32_t *x, int32_t *y, int rows, const intops::NormParams &p)
{
    const size_t n = static_cast<size_t>(p.n);
    const __m512i zx = _mm512_set1_epi64(p.zx), zy = _mm512_set1_epi64(p.zy), lo = _mm512_set1_epi64(p.qmin),
                  hi = _mm512_set1_epi64(p.qmax), low32 = _mm512_set1_epi64(0xFFFFFFFFLL);
    for (int r = 0; r < rows; ++r) {
        const int32_t *xr = x + static_cast<size_t>(r) * n;
        int32_t *yr = y + static_cast<size_t>(r) * n;
        __m512i squares = _mm512_setzero_si512();
        for (size_t i = 0; i < n; i += 8) {
            const __mmask8 m = tailMask8(n - i);
            const __m512i d = _mm512_maskz_sub_epi64(m, load8(xr + i, m), zx);
            squares = _mm512_add_epi64(squares, _mm512_mul_epi32(d, d));
        }
        const intops::NormRowScale scale = intops::normRowScale(_mm512_reduce_add_epi64(squares) + p.epsTerm, p);
        if (scale.shift < 64 || scale.shift > 95) {
            intops::normRow(xr, yr, p);
            continue;
        }
        const __m512i factorHi = _mm512_set1_epi64(int64_t(scale.factor >> 32)),
                      factorLo = _mm512_and_si512(_mm512_set1_epi64(int64_t(scale.factor)), low32),
                      highHalf = _mm512_set1_epi64(int64_t(1) << (scale.shift - 33)),
                      shiftMinus64 = _mm512_set1_epi64(scale.shift - 64);
        for (size_t i = 0; i < n; i += 8) {
            const __mmask8 m = tailMask8(n - i);
            // a = |(x - z) * w| < 2^34 (16-bit codes, |w| < 2^18) times the factor f < 2^63, both as
            // 32-bit limbs: a f = p3 2^64 + p2 2^32 + p1. Adding 2^(s-1) (a multiple of 2^32) and
            // dividing by 2^s, s in [64, 95], is (p3 + (p2 + p1 / 2^32 + 2^(s-33)) / 2^32) / 2^(s-64),
            // floored at each step; p2 + 2^32 + 2^62 < 2^64.
            const __m512i num = _mm512_mul_epi32(_mm512_sub_epi64(load8(xr + i, m), zx), load8(p.w.data() + i, m));
            const __m512i magnitude = _mm512_abs_epi64(num), high = _mm512_srli_epi64(magnitude, 32);
            const __m512i p1 = _mm512_mul_epu32(magnitude, factorLo);
            const __m512i p2
                = _mm512_add_epi64(_mm512_mul_epu32(magnitude, factorHi), _mm512_mul_epu32(high, factorLo));
            const __m512i p3 = _mm512_mul_epu32(high, factorHi);
            const __m512i mid = _mm512_add_epi64(_mm512_add_epi64(p2, _mm512_srli_epi64(p1, 32)), highHalf);
            const __m512i rounded = _mm512_srlv_epi64(_mm512_add_epi64(p3, _mm512_srli_epi64(mid, 32)), shiftMinus64);
            const __m512i q = negateWhere(rounded, _mm512_cmplt_epi64_mask(num, _mm512_setzero_si512()));
            store8(yr + i, m, clampLanes(_mm512_add_epi64(q, zy), lo, hi));
        }
    }
}

int64_t softmaxRow(const int32_t *codes, int count, int32_t *out, const intops::SoftmaxParams &p)
{
    if (count <= 0)
        return 0;
    const size_t n = static_cast<size_t>(count);
    auto mask16
        = [&](size_t i) { return n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1); };
    __m512i best = _mm512_set1_epi32(INT32_MIN);
    for (size_t i = 0; i < n; i += 16)
        best = _mm512_mask_max_epi32(best, mask16(i), best, load16(codes + i, mask16(i)));
    const int32_t cmax = _mm512_reduce_max_epi32(best);
    const __m512i vmax = _mm512_set1_epi32(cmax), len = _mm512_set1_epi32(static_cast<int32_t>(p.expTable.size()));
    const auto *table = reinterpret_cast<const int32_t *>(p.expTable.data());
    // exp(s (c_j - c_max) / sqrt(d)) in Q30 by table, 0 past its end (as intops::softmaxRow).
    auto expOf = [&](size_t i) {
        const __mmask16 m = mask16(i);
        const __m512i k = _mm512_sub_epi32(vmax, load16(codes + i, m));
        return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m & _mm512_cmplt_epu32_mask(k, len), k, table, 4);
    };
    // The exp entries wait in `out` for the reciprocal of their sum (one gather per code).
    __m512i sum = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i += 16) {
        const __m512i e = expOf(i);
        store16(out + i, mask16(i), e);
        sum = _mm512_add_epi64(sum, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(e)));
        sum = _mm512_add_epi64(sum, _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(e, 1)));
    }
    const auto total = static_cast<uint64_t>(_mm512_reduce_add_epi64(sum));
    const uint64_t recip = (uint64_t(1) << 62) / total;
    const int shift = 31 + p.invScale.rightShift;
    if (shift < 33 || shift > 95) {
        intops::softmaxRow(codes, count, out, p);
        int64_t sumAbs = 0;
        for (int j = 0; j < count; ++j)
            sumAbs += std::abs(int64_t(out[j]) - p.zOut);
        return sumAbs;
    }
    // e * recip * multiplier: recip * multiplier < 2^63 and e < 2^31, as the scalar path.
    const uint64_t factor = recip * uint64_t(p.invScale.multiplier);
    const WideConstants wide(shift);
    const __m512i factorHi = _mm512_set1_epi64(int64_t(factor >> 32)),
                  factorLo = _mm512_set1_epi64(int64_t(factor & 0xFFFFFFFFu)), zo = _mm512_set1_epi64(p.zOut),
                  lo = _mm512_set1_epi64(p.qmin), hi = _mm512_set1_epi64(p.qmax),
                  int32Max = _mm512_set1_epi64(INT32_MAX);
    __m512i sumAbs = _mm512_setzero_si512();
    for (size_t i = 0; i < n; i += 16) {
        const __m512i e = load16(out + i, mask16(i));
        for (int part = 0; part < 2; ++part) {
            const size_t at = i + size_t(part) * 8;
            if (at >= n)
                break;
            const __m512i e64
                = _mm512_cvtepu32_epi64(part ? _mm512_extracti64x4_epi64(e, 1) : _mm512_castsi512_si256(e));
            const __m512i rounded = roundWide(
                _mm512_mul_epu32(e64, factorHi), _mm512_mul_epu32(e64, factorLo), wide.highHalf, wide.shiftMinus32);
            const __mmask8 m = tailMask8(n - at);
            const __m512i q = clampLanes(_mm512_add_epi64(_mm512_min_epu64(rounded, int32Max), zo), lo, hi);
            store8(out + at, m, q);
            sumAbs = _mm512_mask_add_epi64(sumAbs, m, sumAbs, _mm512_abs_epi64(_mm512_sub_epi64(q, zo)));
        }
    }
    return _mm512_reduce_add_epi64(sumAbs);
}

namespace {

inline void storeNarrow(uint8_t *dst, __mmask16 m, __m512i v)
{
    if (m == 0xFFFF)
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst), _mm512_cvtepi32_epi8(v));
    else
        _mm_mask_storeu_epi8(dst, m, _mm512_cvtepi32_epi8(v));
}
inline void storeNarrow(int16_t *dst, __mmask16 m, __m512i v)
{
    if (m == 0xFFFF)
        _mm256_storeu_si256(reinterpret_cast<__m256i *>(dst), _mm512_cvtepi32_epi16(v));
    else
        _mm256_mask_storeu_epi16(dst, m, _mm512_cvtepi32_epi16(v));
}

template <typename Dst> void narrowAny(const int32_t *src, size_t n, int32_t shift, Dst *dst)
{
    const __m512i s = _mm512_set1_epi32(shift);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
        storeNarrow(dst + i, m, _mm512_sub_epi32(load16(src + i, m), s));
    }
}

} // namespace

void narrowCodes(const int32_t *src, size_t n, int32_t shift, uint8_t *dst)
{
    narrowAny(src, n, shift, dst);
}
void narrowCodes(const int32_t *src, size_t n, int32_t shift, int16_t *dst)
{
    narrowAny(src, n, shift, dst);
}

void ropeHeads(
    const int32_t *x, int32_t *y, int heads, const int32_t *cosRow, const int32_t *sinRow, const intops::RopeParams &p)
{
    const int half = p.rotaryDim / 2, shift = 31 + p.m.rightShift;
    const WideConstants wide(shift);
    const __m512i z = _mm512_set1_epi64(p.zIn), mult = _mm512_set1_epi64(p.m.multiplier),
                  zo = _mm512_set1_epi64(p.zOut), lo = _mm512_set1_epi64(p.qmin), hi = _mm512_set1_epi64(p.qmax);
    // |v| < 2^47: its high limb times the multiplier < 2^46, so roundWide's sum cannot overflow.
    auto finish = [&](__m512i v) {
        const __m512i magnitude = _mm512_abs_epi64(v);
        const __m512i rounded = roundWide(_mm512_mul_epu32(_mm512_srli_epi64(magnitude, 32), mult),
            _mm512_mul_epu32(magnitude, mult), wide.highHalf, wide.shiftMinus32);
        const __m512i q = negateWhere(rounded, _mm512_cmplt_epi64_mask(v, _mm512_setzero_si512()));
        return clampLanes(_mm512_add_epi64(q, zo), lo, hi);
    };
    for (int h = 0; h < heads; ++h) {
        const int32_t *xh = x + static_cast<size_t>(h) * size_t(p.headDim);
        int32_t *yh = y + static_cast<size_t>(h) * size_t(p.headDim);
        for (int i = 0; i < half; i += 8) {
            const __mmask8 m = tailMask8(size_t(half - i));
            const __m512i x1 = _mm512_sub_epi64(load8(xh + i, m), z), x2 = _mm512_sub_epi64(load8(xh + i + half, m), z);
            const __m512i first = _mm512_sub_epi64(
                _mm512_mul_epi32(x1, load8(cosRow + i, m)), _mm512_mul_epi32(x2, load8(sinRow + i, m)));
            const __m512i second = _mm512_add_epi64(
                _mm512_mul_epi32(x2, load8(cosRow + i + half, m)), _mm512_mul_epi32(x1, load8(sinRow + i + half, m)));
            store8(yh + i, m, finish(first));
            store8(yh + i + half, m, finish(second));
        }
    }
}

namespace {

// exp(x) for x <= 0 (softmax arguments): 2^k exp(r) with k = round(x / ln 2) and r = x - k ln 2
// (ln 2 split in two for an exact product), |r| <= ln(2) / 2, exp(r) by its Taylor polynomial of
// degree 7 (truncation below 2^-28 relative), then scaled by 2^k; arguments below -87.3 (where
// float exp underflows) give 0.
inline __m512 expNonPositive(__m512 x)
{
    const __m512 k = _mm512_roundscale_ps(
        _mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693145751953125f), x);
    r = _mm512_fnmadd_ps(k, _mm512_set1_ps(1.42860682030941723212e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    const __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_GE_OQ);
    return _mm512_maskz_scalef_ps(live, p, k);
}

} // namespace

void softmaxF32(float *x, int n, float scale)
{
    auto mask16 = [&](int i) { return n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1); };
    const __m512 s = _mm512_set1_ps(scale);
    __m512 best = _mm512_set1_ps(-INFINITY);
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = mask16(i);
        const __m512 v = _mm512_mul_ps(load16(x + i, m), s);
        store16(x + i, m, v);
        best = _mm512_mask_max_ps(best, m, best, v);
    }
    const __m512 mx = _mm512_set1_ps(_mm512_reduce_max_ps(best));
    __m512d sum = _mm512_setzero_pd();
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = mask16(i);
        const __m512 e = _mm512_maskz_mov_ps(m, expNonPositive(_mm512_sub_ps(load16(x + i, m), mx)));
        store16(x + i, m, e);
        sum = _mm512_add_pd(sum, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
        sum = _mm512_add_pd(sum, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(e), 1))));
    }
    const __m512 rs = _mm512_set1_ps(float(1.0 / _mm512_reduce_add_pd(sum)));
    for (int i = 0; i < n; i += 16) {
        const __mmask16 m = mask16(i);
        store16(x + i, m, _mm512_mul_ps(load16(x + i, m), rs));
    }
}

void siluMulF32(float *gate, const float *up, size_t n)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = n - i >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
        const __m512 x = load16(gate + i, m);
        // t = exp(-|x|) <= 1; sigma(x) = 1 / (1 + t) for x >= 0, t / (1 + t) below.
        const __m512 t = expNonPositive(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
        const __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
        const __m512 sigma = _mm512_div_ps(_mm512_mask_mov_ps(one, negative, t), _mm512_add_ps(one, t));
        store16(gate + i, m, _mm512_mul_ps(_mm512_mul_ps(x, sigma), load16(up + i, m)));
    }
}

void rowSums(const uint8_t *a, int rows, int in, int64_t *sums)
{
    for (int r = 0; r < rows; ++r) {
        const uint8_t *row = a + static_cast<size_t>(r) * size_t(in);
        __m512i acc = _mm512_setzero_si512();
        for (int k = 0; k < in; k += 64) {
            const __mmask64 m = in - k >= 64 ? ~__mmask64(0) : (__mmask64(1) << (in - k)) - 1;
            acc = _mm512_add_epi64(acc, _mm512_sad_epu8(_mm512_maskz_loadu_epi8(m, row + k), _mm512_setzero_si512()));
        }
        sums[r] = _mm512_reduce_add_epi64(acc);
    }
}

void rowSums(const int16_t *a, int rows, int in, int64_t *sums)
{
    const __m512i ones = _mm512_set1_epi16(1);
    for (int r = 0; r < rows; ++r) {
        const int16_t *row = a + static_cast<size_t>(r) * size_t(in);
        int64_t total = 0;
        // Pairs summed into int32 lanes: at most 2^16 per pair, 2048 pairs per lane in a block.
        for (int k0 = 0; k0 < in; k0 += 32 * 2048) {
            const int k1 = std::min(in, k0 + 32 * 2048);
            __m512i acc = _mm512_setzero_si512();
            for (int k = k0; k < k1; k += 32) {
                const __mmask32 m = k1 - k >= 32 ? ~__mmask32(0) : (__mmask32(1) << (k1 - k)) - 1;
                acc = _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maskz_loadu_epi16(m, row + k), ones));
            }
            total += _mm512_reduce_add_epi64(_mm512_add_epi64(_mm512_cvtepi32_epi64(_mm512_castsi512_si256(acc)),
                _mm512_cvtepi32_epi64(_mm512_extracti64x4_epi64(acc, 1))));
        }
        sums[r] = total;
    }
}

void requantize64(
    size_t n, const int64_t *v, FixedMultiplier m, int32_t zeroPoint, int32_t qmin, int32_t qmax, int32_t *dst)
{
    const WideConstants wide(31 + m.rightShift);
    const __m512i mult = _mm512_set1_epi64(m.multiplier), zo = _mm512_set1_epi64(zeroPoint),
                  lo = _mm512_set1_epi64(qmin), hi = _mm512_set1_epi64(qmax);
    for (size_t i = 0; i < n; i += 8) {
        const __mmask8 mk = tailMask8(n - i);
        const __m512i x = mk == 0xFF ? _mm512_loadu_si512(v + i) : _mm512_maskz_loadu_epi64(mk, v + i);
        // |x| < 2^62: the high limb times the multiplier stays below 2^61.
        const __m512i magnitude = _mm512_abs_epi64(x);
        const __m512i rounded = roundWide(_mm512_mul_epu32(_mm512_srli_epi64(magnitude, 32), mult),
            _mm512_mul_epu32(magnitude, mult), wide.highHalf, wide.shiftMinus32);
        const __m512i q = negateWhere(rounded, _mm512_cmplt_epi64_mask(x, _mm512_setzero_si512()));
        store8(dst + i, mk, clampLanes(_mm512_add_epi64(q, zo), lo, hi));
    }
}

} // namespace mq::kernels::avx512
