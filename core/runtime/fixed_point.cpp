#include "core/runtime/fixed_point.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace mq {

namespace {
constexpr int64_t kQ31One = int64_t(1) << 31;
}

FixedMultiplier decomposeMultiplier(double realMultiplier)
{
    if (!std::isfinite(realMultiplier) || realMultiplier <= 0.0 || realMultiplier >= double(kQ31One))
        throw std::invalid_argument(
            "requantization multiplier must be in (0, 2^31), got " + std::to_string(realMultiplier));
    int exponent = 0;
    const double fraction = std::frexp(realMultiplier, &exponent); // M = fraction * 2^exponent, fraction in [0.5, 1)
    auto q = static_cast<int64_t>(std::llround(fraction * double(kQ31One)));
    if (q == kQ31One) { // fraction rounded up to 1.0: renormalise so q stays below 2^31
        q /= 2;
        ++exponent;
    }
    FixedMultiplier m;
    m.multiplier = static_cast<int32_t>(q);
    m.rightShift = -exponent;
    // Beyond a 31-bit right shift |acc * m| / 2^(31 + shift) < 1/2 for every int32 acc, so the
    // product rounds to 0: encode that instead of widening the shift range kernels must support.
    if (m.rightShift > 31)
        m = FixedMultiplier {};
    if (m.rightShift < -31)
        throw std::invalid_argument("requantization multiplier too large: " + std::to_string(realMultiplier));
    return m;
}

double fixedMultiplierValue(FixedMultiplier m)
{
    return std::ldexp(double(m.multiplier), -31 - m.rightShift);
}

int32_t saturatingRoundingDoublingHighMul(int32_t a, int32_t b)
{
    constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
    if (a == kMin && b == kMin)
        return std::numeric_limits<int32_t>::max();
    const int64_t product = int64_t(a) * int64_t(b);
    const int64_t nudge = product >= 0 ? (int64_t(1) << 30) : (1 - (int64_t(1) << 30));
    return static_cast<int32_t>((product + nudge) / kQ31One); // C++ division truncates toward zero
}

int32_t roundingDivideByPOT(int32_t x, int exponent)
{
    if (exponent < 0 || exponent > 31)
        throw std::invalid_argument("roundingDivideByPOT exponent out of [0, 31]: " + std::to_string(exponent));
    const int32_t mask = static_cast<int32_t>((int64_t(1) << exponent) - 1);
    const int32_t remainder = x & mask;
    // x >> exponent floors; negative values need a threshold one higher so halves go away from zero.
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

namespace {

int32_t saturateToInt32(int64_t v)
{
    return static_cast<int32_t>(
        std::clamp<int64_t>(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()));
}

// round(x * m / 2^(31 + rightShift)), halves away from zero, unsaturated. |x * m| < 2^62 and the
// total shift is in [0, 62], so nothing here overflows.
int64_t multiplyRounded(int32_t x, FixedMultiplier m)
{
    if (m.multiplier < 0 || m.rightShift < -31 || m.rightShift > 31)
        throw std::invalid_argument("fixed-point multiplier out of range (multiplier >= 0, shift in [-31, 31])");
    const int64_t product = int64_t(x) * int64_t(m.multiplier);
    const int totalShift = 31 + m.rightShift;
    if (totalShift == 0)
        return product;
    const int64_t half = int64_t(1) << (totalShift - 1);
    return product >= 0 ? (product + half) >> totalShift : -((-product + half) >> totalShift);
}

} // namespace

int32_t multiplyByFixedMultiplier(int32_t x, FixedMultiplier m)
{
    return saturateToInt32(multiplyRounded(x, m));
}

int32_t multiplyByFixedMultiplierGemmlowp(int32_t x, FixedMultiplier m)
{
    const int leftShift = m.rightShift < 0 ? -m.rightShift : 0;
    const int32_t shifted = saturateToInt32(int64_t(x) * (int64_t(1) << leftShift));
    const int32_t high = saturatingRoundingDoublingHighMul(shifted, m.multiplier);
    return m.rightShift > 0 ? roundingDivideByPOT(high, m.rightShift) : high;
}

int32_t requantize(int32_t acc, FixedMultiplier m, int32_t zeroPoint, int32_t qmin, int32_t qmax)
{
    return static_cast<int32_t>(std::clamp<int64_t>(multiplyRounded(acc, m) + zeroPoint, qmin, qmax));
}

int32_t requantize(int32_t acc, int32_t multiplier, int rightShift, int32_t zeroPoint, int32_t qmin, int32_t qmax)
{
    return requantize(acc, FixedMultiplier { multiplier, rightShift }, zeroPoint, qmin, qmax);
}

} // namespace mq
