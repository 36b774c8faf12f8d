#pragma once

#include "core/runtime/fixed_point.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace mq {

// Reference integer matrix products of the integer runtime: acc = (A - zA) (W - zW)^T + bias.
// A is [rows, in] row-major, W is [out, in] row-major (a linear layer's weight), acc is
// [rows, out]. These are the scalar, portable definition of the arithmetic; faster kernels must
// produce identical results. Pure functions: callers own every buffer, any thread may call.
//
// The sums are exact (accumulated in 64 bits) and the int32 result saturates; a kernel that
// accumulates in int32 agrees whenever no partial sum overflows, which holds for
// in * max|A - zA| * max|W - zW| + |bias| < 2^31.

struct GemmShape
{
    int rows = 0;
    int in = 0;
    int out = 0;
};

// Weight zero points are one value (per tensor) or one per output channel; symmetric weights
// pass {0}. bias is nullptr or `out` values in the accumulator's scale (s_A * s_W[o]).

// u8 asymmetric activations x s8 weights.
void gemmU8S8(const GemmShape &shape, const uint8_t *a, int32_t aZeroPoint, const int8_t *w,
    const std::vector<int32_t> &wZeroPoints, const int32_t *bias, int32_t *acc);

// int16 activations (zero point usually 0) x s8 weights.
void gemmS16S8(const GemmShape &shape, const int16_t *a, int32_t aZeroPoint, const int8_t *w,
    const std::vector<int32_t> &wZeroPoints, const int32_t *bias, int32_t *acc);

// u8 activations x s4 weights packed by packInt4Rows (zero points in [-8, 7] for symmetric use).
void gemmU8S4(const GemmShape &shape, const uint8_t *a, int32_t aZeroPoint, const uint8_t *packedW,
    const std::vector<int32_t> &wZeroPoints, const int32_t *bias, int32_t *acc);

// Int4 storage: each weight row is packed on its own into int4RowBytes(in) bytes, element 2j in
// the low nibble and 2j+1 in the high nibble of byte j, as 4-bit two's complement; an odd row
// ends with a zero high nibble. Rows therefore start byte-aligned.
inline size_t int4RowBytes(int in)
{
    return static_cast<size_t>(in + 1) / 2;
}
// Throws std::invalid_argument for a value outside [-8, 7].
std::vector<uint8_t> packInt4Rows(const int8_t *w, int out, int in);
std::vector<int8_t> unpackInt4Rows(const uint8_t *packed, int out, int in);
// Element k of a packed row, sign-extended.
inline int8_t int4At(const uint8_t *packedRow, int k)
{
    const int nibble = (packedRow[k / 2] >> ((k % 2) * 4)) & 0xF;
    return static_cast<int8_t>((nibble ^ 8) - 8);
}

// How accumulators become the next layer's integers: out = clamp(zeroPoint + acc * M[o]),
// M[o] = s_A * s_W[o] / s_out, one multiplier per tensor or per output channel.
struct OutputQuant
{
    std::vector<FixedMultiplier> multipliers;
    int32_t zeroPoint = 0;
    int32_t qmin = 0;
    int32_t qmax = 255;
};

// Builds OutputQuant from float scales (weightScales: one, or one per output channel).
OutputQuant makeOutputQuant(double actScale, const std::vector<double> &weightScales, double outScale,
    int32_t outZeroPoint, int32_t qmin, int32_t qmax);

// round(bias / (s_A * s_W[o])), ties away from zero, saturated to int32 (TFLite's bias convention).
std::vector<int32_t> quantizeBias(
    const std::vector<double> &bias, double actScale, const std::vector<double> &weightScales);

// Requantizes a [rows, out] accumulator matrix. qmin/qmax must lie in the output type's range.
void requantizeToU8(const GemmShape &shape, const int32_t *acc, const OutputQuant &quant, uint8_t *dst);
void requantizeToS16(const GemmShape &shape, const int32_t *acc, const OutputQuant &quant, int16_t *dst);

} // namespace mq
