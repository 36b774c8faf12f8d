// IEEE 754 binary16 and bfloat16 conversions done on the bit patterns, so the result does not
// depend on the compiler's _Float16 support or the FPU's rounding mode: always round to nearest,
// ties to even; NaN stays NaN (quiet); values past the largest finite become infinity.

#include "core/safetensors/safetensors.h"

#include <cstring>

namespace mq {

namespace {

uint32_t floatBits(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return u;
}

float bitsFloat(uint32_t u)
{
    float f;
    std::memcpy(&f, &u, sizeof f);
    return f;
}

// Drops the low `shift` bits of `value`, rounding to nearest with ties to the even result.
uint32_t shiftRoundEven(uint32_t value, unsigned shift)
{
    const uint32_t kept = value >> shift;
    const uint32_t rest = value & ((1u << shift) - 1u);
    const uint32_t half = 1u << (shift - 1);
    return kept + ((rest > half || (rest == half && (kept & 1u))) ? 1u : 0u);
}

} // namespace

uint16_t floatToHalf(float f)
{
    const uint32_t x = floatBits(f);
    const auto sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
    const uint32_t mag = x & 0x7fffffffu;

    if (mag > 0x7f800000u) {
        // Keep the top payload bits and force the quiet bit, so a NaN whose payload sits only in
        // the low 13 bits does not turn into infinity.
        return static_cast<uint16_t>(sign | 0x7e00u | ((mag >> 13) & 0x3ffu));
    }
    // 65520 is halfway between 65504 (the largest half, odd mantissa) and 2^16: ties go up to inf.
    if (mag >= 0x477ff000u)
        return static_cast<uint16_t>(sign | 0x7c00u);
    // Normal halves: rebias the exponent; a mantissa carry correctly bumps the exponent.
    if (mag >= 0x38800000u)
        return static_cast<uint16_t>(sign | shiftRoundEven(mag - 0x38000000u, 13));
    // 2^-25 is halfway between 0 and the smallest subnormal 2^-24: the tie goes to even (zero).
    if (mag <= 0x33000000u)
        return sign;
    // Subnormal halves count units of 2^-24; rounding up from 0x3ff yields 0x400, the smallest
    // normal, which is the right bit pattern.
    const uint32_t mantissa = (mag & 0x7fffffu) | 0x800000u;
    const int exponent = static_cast<int>(mag >> 23) - 127; // in [-25, -15]
    return static_cast<uint16_t>(sign | shiftRoundEven(mantissa, static_cast<unsigned>(-exponent - 1)));
}

float halfToFloat(uint16_t h)
{
    const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    uint32_t mantissa = h & 0x3ffu;

    if (exponent == 0x1f)
        return bitsFloat(sign | 0x7f800000u | (mantissa << 13));
    if (exponent != 0)
        return bitsFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    if (mantissa == 0)
        return bitsFloat(sign);
    // A subnormal half is a normal float: shift the leading one into the implicit bit.
    uint32_t floatExponent = 113;
    while ((mantissa & 0x400u) == 0) {
        mantissa <<= 1;
        --floatExponent;
    }
    return bitsFloat(sign | (floatExponent << 23) | ((mantissa & 0x3ffu) << 13));
}

uint16_t floatToBFloat16(float f)
{
    const uint32_t x = floatBits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return static_cast<uint16_t>((x >> 16) | 0x0040u); // quiet bit keeps low-payload NaNs NaN
    // Adding 0x7fff plus the lowest kept bit rounds ties to even; a carry out of the largest
    // finite exponent gives infinity, as IEEE rounding does.
    return static_cast<uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

float bfloat16ToFloat(uint16_t b)
{
    return bitsFloat(static_cast<uint32_t>(b) << 16);
}

} // namespace mq
