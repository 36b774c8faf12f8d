// Half and bfloat16 conversions checked against values computed from the IEEE 754 definitions
// (sign, exponent, mantissa -> ldexp) and against a brute-force nearest-value search, never
// against the conversion code itself.

#include "core/safetensors/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace {

uint32_t bitsOf(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

float floatOf(uint32_t u)
{
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits.
double halfValue(uint16_t h)
{
    const int exponent = (h >> 10) & 0x1f;
    const int mantissa = h & 0x3ff;
    const double magnitude =
        exponent == 0 ? std::ldexp(mantissa, -24) : std::ldexp(1024 + mantissa, exponent - 25);
    return (h & 0x8000) ? -magnitude : magnitude;
}

// bfloat16: the top half of a float32 (8 exponent bits, bias 127, 7 mantissa bits).
double bfloat16Value(uint16_t b)
{
    const int exponent = (b >> 7) & 0xff;
    const int mantissa = b & 0x7f;
    const double magnitude =
        exponent == 0 ? std::ldexp(mantissa, -133) : std::ldexp(128 + mantissa, exponent - 134);
    return (b & 0x8000) ? -magnitude : magnitude;
}

// The half a correctly rounding conversion gives: the nearest finite half, ties to the even bit
// pattern, infinity from 65520 (halfway between 65504 and 2^16) up.
uint16_t nearestHalf(float f)
{
    static const std::vector<double> values = [] {
        std::vector<double> v;
        for (uint16_t h = 0; h <= 0x7bff; ++h)
            v.push_back(halfValue(h));
        return v;
    }();
    const uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    const double a = std::fabs(double(f));
    if (a >= 65520.0)
        return sign | 0x7c00;
    const auto hi = static_cast<uint16_t>(std::upper_bound(values.begin(), values.end(), a) - values.begin());
    const auto lo = static_cast<uint16_t>(hi - 1);
    if (hi == values.size()) // between 65504 and 65520
        return sign | lo;
    const double dlo = a - values[lo];
    const double dhi = values[hi] - a;
    if (dlo < dhi)
        return sign | lo;
    if (dhi < dlo)
        return sign | hi;
    return sign | ((lo & 1) ? hi : lo);
}

// Same for bfloat16: the neighbours are the float truncated to 16 bits and the next pattern up
// (whose value is 2^128 past the largest finite, which is where rounding overflows to inf).
uint16_t nearestBFloat16(float f)
{
    const uint32_t x = bitsOf(f);
    const auto lo = static_cast<uint16_t>(x >> 16);
    const auto hi = static_cast<uint16_t>(lo + 1);
    const double a = std::fabs(double(f));
    const double vlo = std::fabs(bfloat16Value(lo));
    const int exponent = (lo >> 7) & 0xff;
    const double vhi = vlo + std::ldexp(1.0, std::max(exponent, 1) - 134);
    const double dlo = a - vlo;
    const double dhi = vhi - a;
    if (dlo < dhi)
        return lo;
    if (dhi < dlo)
        return hi;
    return (lo & 1) ? hi : lo;
}

TEST(SafetensorsHalf, KnownBitPatterns)
{
    EXPECT_EQ(mq::floatToHalf(1.0f), 0x3C00);
    EXPECT_EQ(mq::floatToHalf(-2.0f), 0xC000);
    EXPECT_EQ(mq::floatToHalf(0.0f), 0x0000);
    EXPECT_EQ(mq::floatToHalf(-0.0f), 0x8000);
    EXPECT_EQ(mq::floatToHalf(65504.0f), 0x7BFF);   // largest finite half
    EXPECT_EQ(mq::floatToHalf(65519.0f), 0x7BFF);   // just below the halfway point to 2^16
    EXPECT_EQ(mq::floatToHalf(65520.0f), 0x7C00);   // the halfway point rounds (to even) to inf
    EXPECT_EQ(mq::floatToHalf(70000.0f), 0x7C00);
    EXPECT_EQ(mq::floatToHalf(-70000.0f), 0xFC00);
    EXPECT_EQ(mq::floatToHalf(std::numeric_limits<float>::infinity()), 0x7C00);
    EXPECT_EQ(mq::floatToHalf(std::ldexp(1.0f, -14)), 0x0400); // smallest normal
    EXPECT_EQ(mq::floatToHalf(std::ldexp(1.0f, -24)), 0x0001); // smallest subnormal
    // 1e-7 / 2^-24 = 1.68 units of the smallest subnormal: rounds to 2 units.
    EXPECT_EQ(mq::floatToHalf(1e-7f), 0x0002);
    EXPECT_EQ(mq::floatToHalf(1e-9f), 0x0000); // below half the smallest subnormal
}

TEST(SafetensorsHalf, TiesRoundToEven)
{
    // 1 + 2^-11 is halfway between 0x3C00 (even) and 0x3C01: stays at 0x3C00.
    EXPECT_EQ(mq::floatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00);
    // 1 + 3 * 2^-11 is halfway between 0x3C01 and 0x3C02 (even): goes up.
    EXPECT_EQ(mq::floatToHalf(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
    // Just above a tie rounds up.
    EXPECT_EQ(mq::floatToHalf(std::nextafter(1.0f + std::ldexp(1.0f, -11), 2.0f)), 0x3C01);
    // Subnormal ties: 2^-25 is halfway between 0 and 0x0001 -> 0; 3 * 2^-25 -> 0x0002.
    EXPECT_EQ(mq::floatToHalf(std::ldexp(1.0f, -25)), 0x0000);
    EXPECT_EQ(mq::floatToHalf(3 * std::ldexp(1.0f, -25)), 0x0002);
    EXPECT_EQ(mq::floatToHalf(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);
    // Halfway between the largest subnormal 0x03FF and the smallest normal 0x0400 -> 0x0400.
    EXPECT_EQ(mq::floatToHalf(std::ldexp(2047.0f, -25)), 0x0400);
}

TEST(SafetensorsHalf, NaNAndInfinityArePreserved)
{
    const float nan = std::numeric_limits<float>::quiet_NaN();
    EXPECT_TRUE(std::isnan(mq::halfToFloat(mq::floatToHalf(nan))));
    EXPECT_TRUE(std::isnan(mq::halfToFloat(mq::floatToHalf(-nan))));
    // A NaN whose payload lies only in the bits a half drops must not become infinity.
    EXPECT_TRUE(std::isnan(mq::halfToFloat(mq::floatToHalf(floatOf(0x7f800001u)))));
    EXPECT_TRUE(std::isnan(mq::halfToFloat(0x7E00)));
    EXPECT_TRUE(std::isnan(mq::halfToFloat(0x7C01)));
    EXPECT_EQ(mq::halfToFloat(0x7C00), std::numeric_limits<float>::infinity());
    EXPECT_EQ(mq::halfToFloat(0xFC00), -std::numeric_limits<float>::infinity());
}

TEST(SafetensorsHalf, DecodesEveryFinitePattern)
{
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        if (((h >> 10) & 0x1f) == 0x1f)
            continue;
        const float f = mq::halfToFloat(static_cast<uint16_t>(h));
        ASSERT_EQ(double(f), halfValue(static_cast<uint16_t>(h))) << "h=0x" << std::hex << h;
        ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << "h=0x" << std::hex << h;
    }
}

TEST(SafetensorsHalf, EncodesEveryHalfValueExactly)
{
    for (uint32_t h = 0; h <= 0xffff; ++h) {
        if (((h >> 10) & 0x1f) == 0x1f)
            continue;
        const float f = static_cast<float>(std::copysign(halfValue(static_cast<uint16_t>(h)), (h & 0x8000) ? -1.0 : 1.0));
        ASSERT_EQ(mq::floatToHalf(f), h) << "h=0x" << std::hex << h;
    }
}

TEST(SafetensorsHalf, EveryMidpointRoundsToEven)
{
    for (uint16_t h = 0; h < 0x7bff; ++h) {
        const auto mid = static_cast<float>((halfValue(h) + halfValue(static_cast<uint16_t>(h + 1))) / 2);
        const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : h;
        ASSERT_EQ(mq::floatToHalf(mid), even) << "between 0x" << std::hex << h << " and the next";
        ASSERT_EQ(mq::floatToHalf(-mid), even | 0x8000) << "between -0x" << std::hex << h << " and the next";
    }
}

TEST(SafetensorsHalf, RandomFloatsRoundToNearest)
{
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> exponent(127 - 30, 127 + 17); // covers 0, subnormals, inf
    std::uniform_int_distribution<uint32_t> mantissa(0, 0x7fffff);
    for (int i = 0; i < 200000; ++i) {
        const uint32_t bits = (uint32_t(i & 1) << 31) | (uint32_t(exponent(rng)) << 23) | mantissa(rng);
        const float f = floatOf(bits);
        ASSERT_EQ(mq::floatToHalf(f), nearestHalf(f)) << "f=" << f << " bits=0x" << std::hex << bits;
    }
}

TEST(SafetensorsBFloat16, KnownBitPatterns)
{
    EXPECT_EQ(mq::floatToBFloat16(1.0f), 0x3F80);
    EXPECT_EQ(mq::floatToBFloat16(-2.0f), 0xC000);
    EXPECT_EQ(mq::floatToBFloat16(0.0f), 0x0000);
    EXPECT_EQ(mq::floatToBFloat16(-0.0f), 0x8000);
    EXPECT_EQ(mq::floatToBFloat16(3.140625f), 0x4049);
    EXPECT_EQ(mq::floatToBFloat16(std::numeric_limits<float>::infinity()), 0x7F80);
    EXPECT_EQ(mq::floatToBFloat16(-std::numeric_limits<float>::infinity()), 0xFF80);
    // The largest float is past the halfway point between the largest bfloat16 and 2^128.
    EXPECT_EQ(mq::floatToBFloat16(std::numeric_limits<float>::max()), 0x7F80);
    EXPECT_EQ(mq::bfloat16ToFloat(0x3F80), 1.0f);
    EXPECT_EQ(mq::bfloat16ToFloat(0xC049), -3.140625f);
    EXPECT_EQ(double(mq::bfloat16ToFloat(0x0001)), std::ldexp(1.0, -133)); // subnormal
}

TEST(SafetensorsBFloat16, TiesRoundToEven)
{
    // 1 + 2^-8 is halfway between 0x3F80 (even) and 0x3F81.
    EXPECT_EQ(mq::floatToBFloat16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
    // 1 + 3 * 2^-8 is halfway between 0x3F81 and 0x3F82 (even).
    EXPECT_EQ(mq::floatToBFloat16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
    EXPECT_EQ(mq::floatToBFloat16(std::nextafter(1.0f + std::ldexp(1.0f, -8), 2.0f)), 0x3F81);
    EXPECT_EQ(mq::floatToBFloat16(floatOf(0x00008000u)), 0x0000); // subnormal tie to even (zero)
    EXPECT_EQ(mq::floatToBFloat16(floatOf(0x00018000u)), 0x0002);
}

TEST(SafetensorsBFloat16, NaNStaysNaN)
{
    EXPECT_TRUE(std::isnan(mq::bfloat16ToFloat(mq::floatToBFloat16(std::numeric_limits<float>::quiet_NaN()))));
    EXPECT_TRUE(std::isnan(mq::bfloat16ToFloat(mq::floatToBFloat16(floatOf(0x7f800001u)))));
    EXPECT_TRUE(std::isnan(mq::bfloat16ToFloat(mq::floatToBFloat16(floatOf(0xffffffffu)))));
    EXPECT_TRUE(std::isnan(mq::bfloat16ToFloat(0x7FC0)));
}

TEST(SafetensorsBFloat16, DecodesAndEncodesEveryFinitePattern)
{
    for (uint32_t b = 0; b <= 0xffff; ++b) {
        if (((b >> 7) & 0xff) == 0xff)
            continue;
        const auto pattern = static_cast<uint16_t>(b);
        const float f = mq::bfloat16ToFloat(pattern);
        ASSERT_EQ(double(f), bfloat16Value(pattern)) << "b=0x" << std::hex << b;
        ASSERT_EQ(std::signbit(f), (b & 0x8000) != 0);
        ASSERT_EQ(mq::floatToBFloat16(f), b) << "b=0x" << std::hex << b;
    }
}

TEST(SafetensorsBFloat16, RandomFloatsRoundToNearest)
{
    std::mt19937 rng(54321);
    std::uniform_int_distribution<uint32_t> bits(0, 0xffffffffu);
    for (int i = 0; i < 200000; ++i) {
        const float f = floatOf(bits(rng));
        if (std::isnan(f) || std::isinf(f))
            continue;
        ASSERT_EQ(mq::floatToBFloat16(f), nearestBFloat16(f)) << "f=" << f << " bits=0x" << std::hex << bitsOf(f);
    }
}

} // namespace
