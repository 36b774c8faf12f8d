#pragma once

#include <cstdint>

namespace mq {

// A positive real multiplier M (typically s_in * s_w / s_out) as integers, the gemmlowp / TFLite
// way: M = (multiplier / 2^31) * 2^-rightShift with multiplier in [2^30, 2^31) (a Q31 value in
// [0.5, 1)). rightShift < 0 means a left shift (M >= 1). multiplier == 0 encodes an M so small
// (< 2^-32) that every int32 accumulator requantizes to the zero point. Plain value type.
struct FixedMultiplier
{
    int32_t multiplier = 0;
    int rightShift = 0;
};

// Decomposes M; the relative error is at most 2^-31. Throws std::invalid_argument unless
// 0 < M < 2^31 and M is finite.
FixedMultiplier decomposeMultiplier(double realMultiplier);

// The real value a FixedMultiplier stands for (for tests and diagnostics).
double fixedMultiplierValue(FixedMultiplier m);

// round(a * b / 2^31), ties away from zero, saturating the single overflow case
// a == b == INT32_MIN to INT32_MAX (gemmlowp's SaturatingRoundingDoublingHighMul).
int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b);

// round(x / 2^exponent), ties away from zero, exponent in [0, 31] (gemmlowp's RoundingDivideByPOT).
int32_t roundingDivideByPOT(int32_t x, int exponent);

// x * M with the two gemmlowp roundings: SRDHM, then a rounding right shift. A left shift for
// M >= 1 is applied first and saturates to int32.
int32_t multiplyByFixedMultiplier(int32_t x, FixedMultiplier m);

// clamp(x * M + zeroPoint, qmin, qmax); the addition cannot overflow.
int32_t requantize(int32_t acc, int32_t multiplier, int rightShift, int32_t zeroPoint, int32_t qmin, int32_t qmax);
int32_t requantize(int32_t acc, FixedMultiplier m, int32_t zeroPoint, int32_t qmin, int32_t qmax);

} // namespace mq
