#include "core/runtime/fixed_point.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>

namespace mq {
namespace {

// Round half away from zero in long double: the rounding the runtime promises.
long double roundHalfAway(long double x)
{
    return x < 0 ? -std::floor(-x + 0.5L) : std::floor(x + 0.5L);
}

TEST(RuntimeFixedPoint, DecompositionWithin2ToMinus31Relative)
{
    std::mt19937_64 rng(1);
    std::uniform_real_distribution<double> logM(std::log(1e-6), std::log(1e3));
    for (int i = 0; i < 100000; ++i) {
        const double m = std::exp(logM(rng));
        const FixedMultiplier f = decomposeMultiplier(m);
        ASSERT_GE(f.multiplier, int32_t(1) << 30) << m;
        const long double represented = std::ldexp((long double)f.multiplier, -31 - f.rightShift);
        ASSERT_LE(std::fabs(represented - m) / m, std::ldexp(1.0L, -31)) << m;
    }
    // Powers of two are exact, including the renormalised top of a binade.
    EXPECT_EQ(fixedMultiplierValue(decomposeMultiplier(0.5)), 0.5);
    EXPECT_EQ(fixedMultiplierValue(decomposeMultiplier(1.0)), 1.0);
    EXPECT_EQ(fixedMultiplierValue(decomposeMultiplier(std::nextafter(1.0, 0.0))), 1.0);
}

TEST(RuntimeFixedPoint, RejectsNonPositiveAndHugeMultipliers)
{
    EXPECT_THROW(decomposeMultiplier(0.0), std::invalid_argument);
    EXPECT_THROW(decomposeMultiplier(-1.0), std::invalid_argument);
    EXPECT_THROW(decomposeMultiplier(std::nan("")), std::invalid_argument);
    EXPECT_THROW(decomposeMultiplier(std::ldexp(1.0, 31)), std::invalid_argument);
    EXPECT_EQ(decomposeMultiplier(1e-12).multiplier, 0); // rounds every int32 to 0
}

TEST(RuntimeFixedPoint, PrimitivesRoundHalfAwayFromZero)
{
    // SRDHM(a, 2^30) = a / 2; gemmlowp's definition sends halves toward +infinity.
    EXPECT_EQ(saturatingRoundingDoublingHighMul(3, 1 << 30), 2);
    EXPECT_EQ(saturatingRoundingDoublingHighMul(-3, 1 << 30), -1);
    EXPECT_EQ(saturatingRoundingDoublingHighMul(5, 1 << 30), 3);
    EXPECT_EQ(saturatingRoundingDoublingHighMul(-5, 1 << 30), -2);
    EXPECT_EQ(saturatingRoundingDoublingHighMul(-7, 1 << 29), -2); // -1.75
    constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
    EXPECT_EQ(saturatingRoundingDoublingHighMul(kMin, kMin), std::numeric_limits<int32_t>::max());
    EXPECT_EQ(roundingDivideByPOT(5, 1), 3);
    EXPECT_EQ(roundingDivideByPOT(-5, 1), -3);
    EXPECT_EQ(roundingDivideByPOT(6, 2), 2); // 1.5
    EXPECT_EQ(roundingDivideByPOT(-6, 2), -2);
    EXPECT_EQ(roundingDivideByPOT(5, 2), 1); // 1.25
    EXPECT_EQ(roundingDivideByPOT(-7, 2), -2); // -1.75
    EXPECT_EQ(roundingDivideByPOT(42, 0), 42);
    EXPECT_EQ(roundingDivideByPOT(kMin, 31), -1);
    EXPECT_EQ(roundingDivideByPOT(std::numeric_limits<int32_t>::max(), 31), 1);

    std::mt19937 rng(2);
    std::uniform_int_distribution<int32_t> any(kMin, std::numeric_limits<int32_t>::max());
    for (int i = 0; i < 100000; ++i) {
        const int32_t a = any(rng), b = any(rng);
        const int exponent = static_cast<int>(rng() % 32);
        ASSERT_EQ(saturatingRoundingDoublingHighMul(a, b),
            (int64_t)std::floor((long double)a * b / std::ldexp(1.0L, 31) + 0.5L))
            << a << " " << b;
        ASSERT_EQ(roundingDivideByPOT(a, exponent), (int64_t)roundHalfAway(std::ldexp((long double)a, -exponent)))
            << a << " >> " << exponent;
    }
}

// requantize rounds acc * M_fixed once; M_fixed differs from M by at most 2^-31 relative, so the
// result can differ from round(acc * M) by one step only when acc * M lies within |acc * M| * 2^-31
// of a half-integer; everywhere else it must match exactly.
TEST(RuntimeFixedPoint, RequantizeMatchesLongDoubleExceptNearTies)
{
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> logM(std::log(1e-6), std::log(1e3));
    std::uniform_int_distribution<int32_t> zp(-300, 300);
    int nearTies = 0, offByOne = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        const double m = std::exp(logM(rng));
        const FixedMultiplier f = decomposeMultiplier(m);
        // Accumulators spread so that acc * M covers roughly [-2^16, 2^16].
        const double span = std::min(2147483647.0, std::ldexp(1.0, 16) / m * std::exp(logM(rng) / 4));
        const auto acc = static_cast<int32_t>(std::uniform_real_distribution<double>(-span, span)(rng));
        const int32_t z = zp(rng);
        const int32_t qmin = -32768, qmax = 32767;
        const long double exact = (long double)acc * m;
        const long double want = std::clamp<long double>(roundHalfAway(exact) + z, qmin, qmax);
        const int32_t got = requantize(acc, f.multiplier, f.rightShift, z, qmin, qmax);
        const long double distanceToTie = std::fabs(exact - std::floor(exact) - 0.5L);
        const long double slack = std::fabs(exact) * std::ldexp(1.0L, -30) + 1e-12L;
        if (distanceToTie <= slack) {
            ++nearTies;
            ASSERT_LE(std::fabs(got - want), 1.0L) << acc << " * " << m;
            offByOne += got != want;
        } else {
            ASSERT_EQ(got, want) << acc << " * " << m << " + " << z;
        }
    }
    EXPECT_LT(nearTies, n / 1000); // near-ties are rare, not the common case
    RecordProperty("near_ties", nearTies);
    RecordProperty("off_by_one", offByOne);
}

// The gemmlowp two-rounding product stays within one step of the runtime's single rounding.
TEST(RuntimeFixedPoint, GemmlowpProductWithinOneStep)
{
    std::mt19937_64 rng(4);
    std::uniform_real_distribution<double> logM(std::log(1e-6), std::log(1e3));
    int differ = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        const double m = std::exp(logM(rng));
        const FixedMultiplier f = decomposeMultiplier(m);
        // Inside the domain where gemmlowp's saturating left shift does not clip (|x * M| < 2^30).
        const auto limit = static_cast<int32_t>(std::min(double(1 << 24), std::ldexp(1.0, 30) / m / 2));
        const int32_t x = std::uniform_int_distribution<int32_t>(-limit, limit)(rng);
        const int32_t single = multiplyByFixedMultiplier(x, f), twice = multiplyByFixedMultiplierGemmlowp(x, f);
        ASSERT_LE(std::abs(int64_t(single) - twice), 1) << x << " " << f.multiplier << " >> " << f.rightShift;
        differ += single != twice;
    }
    RecordProperty("gemmlowp_differs", differ);
    EXPECT_EQ(multiplyByFixedMultiplierGemmlowp(3, decomposeMultiplier(0.5)), 2);
    EXPECT_EQ(multiplyByFixedMultiplierGemmlowp(-3, decomposeMultiplier(0.5)), -1); // SRDHM's half goes up
}

TEST(RuntimeFixedPoint, RequantizeClampsAndSaturates)
{
    const FixedMultiplier big = decomposeMultiplier(1000.0);
    EXPECT_EQ(requantize(std::numeric_limits<int32_t>::max(), big, 0, 0, 255), 255);
    EXPECT_EQ(requantize(std::numeric_limits<int32_t>::min(), big, 0, 0, 255), 0);
    EXPECT_EQ(requantize(-1, big, 128, 0, 255), 0);
    EXPECT_EQ(requantize(0, big, 128, 0, 255), 128);
    const FixedMultiplier half = decomposeMultiplier(0.5);
    EXPECT_EQ(requantize(3, half, 10, 0, 255), 12); // 1.5 -> 2
    EXPECT_EQ(requantize(-3, half, 10, 0, 255), 8); // -1.5 -> -2
    EXPECT_EQ(requantize(std::numeric_limits<int32_t>::max(), FixedMultiplier {}, 7, 0, 255), 7);
    EXPECT_EQ(requantize(std::numeric_limits<int32_t>::max(), 1 << 30, -31, 0, -32768, 32767), 32767);
    EXPECT_THROW(requantize(1, 1 << 30, 32, 0, 0, 255), std::invalid_argument);
}

} // namespace
} // namespace mq
