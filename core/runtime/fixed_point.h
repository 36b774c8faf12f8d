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

// gemmlowp's SaturatingRoundingDoublingHighMul: round(a * b / 2^31), the single overflow case
// a == b == INT32_MIN saturating to INT32_MAX. Its published definition (a nudge of +-2^30, then
// division truncating toward zero) sends exact halves toward +infinity (-1.5 -> -1, 1.5 -> 2),
// as ARM's VQRDMULH does; halves are possible only when a * b = 2^30 mod 2^31.
int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b);

// gemmlowp's RoundingDivideByPOT: round(x / 2^exponent), halves away from zero, exponent in [0, 31].
int32_t roundingDivideByPOT(int32_t x, int exponent);

// x * M rounded once, halves away from zero, computed exactly in 64 bits and saturated to int32.
// This is the runtime's definition: it equals round(x * M_fixed) for the represented M_fixed.
int32_t multiplyByFixedMultiplier(int32_t x, FixedMultiplier m);

// x * M the gemmlowp / TFLite way: left shift (saturating), SRDHM, then roundingDivideByPOT. The
// two roundings differ from multiplyByFixedMultiplier by one step in a fraction of cases (when
// x * M is within 2^-(rightShift+1) of a half); kept for kernels built on VQRDMULH + VRSHL.
int32_t multiplyByFixedMultiplierGemmlowp(int32_t x, FixedMultiplier m);

// clamp(multiplyByFixedMultiplier(acc, M) + zeroPoint, qmin, qmax); the sum cannot overflow.
int32_t requantize(int32_t acc, int32_t multiplier, int rightShift, int32_t zeroPoint, int32_t qmin, int32_t qmax);
int32_t requantize(int32_t acc, FixedMultiplier m, int32_t zeroPoint, int32_t qmin, int32_t qmax);

} // namespace mq
