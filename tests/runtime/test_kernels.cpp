#include "core/runtime/gemm.h"
#include "core/runtime/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

// The packed-weight kernels against the scalar definitions in gemm.h: integer results must be
// identical on every path the machine offers (the fast one, and the forced scalar one), with 1
// and 2 threads, for shapes that hit every tail (rows 1, `in` not a multiple of 4/16/64, out 1).

namespace mq {
namespace {

struct Shape
{
    int rows, in, out;
};

const std::vector<Shape> kShapes = {
    { 1, 1, 1 },
    { 1, 7, 1 },
    { 1, 64, 16 },
    { 1, 65, 17 },
    { 1, 300, 129 },
    { 2, 3, 5 },
    { 3, 17, 31 },
    { 4, 64, 64 },
    { 5, 127, 33 },
    { 7, 129, 50 },
    { 16, 256, 48 },
    { 17, 100, 1 },
    { 33, 513, 70 },
    { 64, 96, 96 },
    { 1, 2048, 256 },
    { 9, 1031, 65 },
};

// Runs `body` on each path: the default (fastest) one and the forced scalar one, each with 1 and 2
// threads; restores the defaults afterwards.
template <typename F> void onEveryPath(F &&body)
{
    for (bool scalar : { false, true })
        for (int threads : { 1, 2 }) {
            kernels::forceScalar(scalar);
            kernels::setThreads(threads);
            SCOPED_TRACE("path " + (scalar ? std::string("scalar") : kernels::pathName()) + ", threads "
                + std::to_string(threads));
            body();
        }
    kernels::forceScalar(false);
    kernels::setThreads(1);
}

std::vector<int32_t> zeroPointsFor(bool perChannel, int out, int lo, int hi, std::mt19937 &rng)
{
    std::uniform_int_distribution<int> d(lo, hi);
    std::vector<int32_t> z(perChannel ? static_cast<size_t>(out) : 1);
    for (int32_t &v : z)
        v = d(rng);
    return z;
}

template <typename T> std::vector<T> randomVector(size_t n, int lo, int hi, std::mt19937 &rng)
{
    std::uniform_int_distribution<int> d(lo, hi);
    std::vector<T> v(n);
    for (T &x : v)
        x = static_cast<T>(d(rng));
    return v;
}

std::vector<int32_t> randomBias(int out, std::mt19937 &rng)
{
    return randomVector<int32_t>(static_cast<size_t>(out), -1000000, 1000000, rng);
}

TEST(Kernels, PathNameIsKnown)
{
    const std::string path = kernels::pathName();
    EXPECT_FALSE(path.empty());
    kernels::forceScalar(true);
    EXPECT_EQ(kernels::pathName(), "scalar");
    kernels::forceScalar(false);
}

TEST(Kernels, U8S8MatchesReference)
{
    std::mt19937 rng(11);
    for (const Shape &s : kShapes)
        for (bool perChannel : { false, true })
            for (bool withBias : { false, true }) {
                SCOPED_TRACE(std::to_string(s.rows) + "x" + std::to_string(s.in) + "x" + std::to_string(s.out)
                    + (perChannel ? " per-channel" : " per-tensor") + (withBias ? " bias" : ""));
                const auto a = randomVector<uint8_t>(size_t(s.rows) * s.in, 0, 255, rng);
                const auto w = randomVector<int8_t>(size_t(s.out) * s.in, -128, 127, rng);
                const auto zw = zeroPointsFor(perChannel, s.out, -20, 20, rng);
                const auto bias = randomBias(s.out, rng);
                const int32_t za = std::uniform_int_distribution<int>(0, 255)(rng);
                const int32_t *b = withBias ? bias.data() : nullptr;
                std::vector<int32_t> want(size_t(s.rows) * s.out);
                gemmU8S8(GemmShape { s.rows, s.in, s.out }, a.data(), za, w.data(), zw, b, want.data());
                const kernels::PackedWeights pw = kernels::PackedWeights::fromS8(w.data(), s.out, s.in, zw);
                EXPECT_EQ(pw.out(), s.out);
                EXPECT_EQ(pw.in(), s.in);
                EXPECT_FALSE(pw.isInt4());
                onEveryPath([&] {
                    std::vector<int32_t> got(want.size(), 12345);
                    kernels::matmul(pw, s.rows, a.data(), za, b, got.data());
                    ASSERT_EQ(got, want);
                });
            }
}

TEST(Kernels, U8S4MatchesReference)
{
    std::mt19937 rng(12);
    for (const Shape &s : kShapes)
        for (bool perChannel : { false, true }) {
            SCOPED_TRACE(std::to_string(s.rows) + "x" + std::to_string(s.in) + "x" + std::to_string(s.out));
            const auto a = randomVector<uint8_t>(size_t(s.rows) * s.in, 0, 255, rng);
            const auto w = randomVector<int8_t>(size_t(s.out) * s.in, -8, 7, rng);
            const auto packed = packInt4Rows(w.data(), s.out, s.in);
            const auto zw = zeroPointsFor(perChannel, s.out, -8, 7, rng);
            const auto bias = randomBias(s.out, rng);
            const int32_t za = std::uniform_int_distribution<int>(0, 255)(rng);
            std::vector<int32_t> want(size_t(s.rows) * s.out);
            gemmU8S4(GemmShape { s.rows, s.in, s.out }, a.data(), za, packed.data(), zw, bias.data(), want.data());
            const kernels::PackedWeights pw = kernels::PackedWeights::fromS4(packed.data(), s.out, s.in, zw);
            EXPECT_TRUE(pw.isInt4());
            onEveryPath([&] {
                std::vector<int32_t> got(want.size(), 12345);
                kernels::matmul(pw, s.rows, a.data(), za, bias.data(), got.data());
                ASSERT_EQ(got, want);
            });
            // No variant pairs s16 activations with int4 weights, but the product must still be right.
            const auto a16 = randomVector<int16_t>(size_t(s.rows) * s.in, -32768, 32767, rng);
            std::vector<int32_t> want16(want.size());
            gemmS16S8(GemmShape { s.rows, s.in, s.out }, a16.data(), 0, w.data(), zw, bias.data(), want16.data());
            std::vector<int32_t> got16(want.size());
            kernels::matmul(pw, s.rows, a16.data(), 0, bias.data(), got16.data());
            ASSERT_EQ(got16, want16);
        }
}

TEST(Kernels, S16S8MatchesReference)
{
    std::mt19937 rng(13);
    for (const Shape &s : kShapes)
        for (bool perChannel : { false, true })
            for (bool withBias : { false, true }) {
                SCOPED_TRACE(std::to_string(s.rows) + "x" + std::to_string(s.in) + "x" + std::to_string(s.out));
                const auto a = randomVector<int16_t>(size_t(s.rows) * s.in, -32768, 32767, rng);
                const auto w = randomVector<int8_t>(size_t(s.out) * s.in, -128, 127, rng);
                const auto zw = zeroPointsFor(perChannel, s.out, -3, 3, rng);
                const auto bias = randomBias(s.out, rng);
                // The A16 export uses z = 0; a nonzero one must work all the same.
                const int32_t za = perChannel ? 0 : std::uniform_int_distribution<int>(-100, 100)(rng);
                const int32_t *b = withBias ? bias.data() : nullptr;
                std::vector<int32_t> want(size_t(s.rows) * s.out);
                gemmS16S8(GemmShape { s.rows, s.in, s.out }, a.data(), za, w.data(), zw, b, want.data());
                const kernels::PackedWeights pw = kernels::PackedWeights::fromS8(w.data(), s.out, s.in, zw);
                onEveryPath([&] {
                    std::vector<int32_t> got(want.size(), 12345);
                    kernels::matmul(pw, s.rows, a.data(), za, b, got.data());
                    ASSERT_EQ(got, want);
                });
            }
}

// Extreme operands: sums far beyond int32 must saturate exactly as the reference does, and sums
// that only fit in int32 after cancellation must still come out exact (no partial-sum overflow).
TEST(Kernels, ExtremeOperandsSaturateLikeReference)
{
    const int rows = 3, in = 4099, out = 35;
    std::vector<int16_t> a16(size_t(rows) * in);
    std::vector<uint8_t> a8(size_t(rows) * in);
    std::vector<int8_t> w(size_t(out) * in);
    for (size_t i = 0; i < a16.size(); ++i) {
        const size_t r = i / in;
        a16[i] = r == 0 ? -32768 : r == 1 ? 32767 : (i % 2 ? 32767 : -32768);
        a8[i] = r == 0 ? 0 : r == 1 ? 255 : (i % 2 ? 255 : 0);
    }
    for (size_t i = 0; i < w.size(); ++i) {
        const size_t o = i / in;
        w[i] = o % 3 == 0 ? -128 : o % 3 == 1 ? 127 : (i % 2 ? 127 : -128);
    }
    std::vector<int32_t> zw(out);
    for (int o = 0; o < out; ++o)
        zw[size_t(o)] = o % 2 ? 127 : -128;
    std::vector<int32_t> bias(out, 2000000000);
    bias[0] = -2000000000;
    const kernels::PackedWeights pw = kernels::PackedWeights::fromS8(w.data(), out, in, zw);
    for (int32_t za : { 0, -32768, 32767 }) {
        std::vector<int32_t> want(size_t(rows) * out);
        gemmS16S8(GemmShape { rows, in, out }, a16.data(), za, w.data(), zw, bias.data(), want.data());
        onEveryPath([&] {
            std::vector<int32_t> got(want.size());
            kernels::matmul(pw, rows, a16.data(), za, bias.data(), got.data());
            ASSERT_EQ(got, want) << "za " << za;
        });
    }
    for (int32_t za : { 0, 255, 128 }) {
        std::vector<int32_t> want(size_t(rows) * out);
        gemmU8S8(GemmShape { rows, in, out }, a8.data(), za, w.data(), zw, nullptr, want.data());
        onEveryPath([&] {
            std::vector<int32_t> got(want.size());
            kernels::matmul(pw, rows, a8.data(), za, nullptr, got.data());
            ASSERT_EQ(got, want) << "za " << za;
        });
    }
}

TEST(Kernels, F32MatchesDoubleReference)
{
    std::mt19937 rng(14);
    std::normal_distribution<float> d(0.0f, 1.0f);
    for (const Shape &s : kShapes)
        for (bool withBias : { false, true }) {
            SCOPED_TRACE(std::to_string(s.rows) + "x" + std::to_string(s.in) + "x" + std::to_string(s.out));
            std::vector<float> a(size_t(s.rows) * s.in), w(size_t(s.out) * s.in), bias(size_t(s.out));
            for (float &x : a)
                x = d(rng);
            for (float &x : w)
                x = d(rng);
            for (float &x : bias)
                x = d(rng);
            const kernels::PackedF32 pf = kernels::PackedF32::from(w.data(), s.out, s.in);
            EXPECT_EQ(pf.out(), s.out);
            EXPECT_EQ(pf.in(), s.in);
            onEveryPath([&] {
                std::vector<float> y(size_t(s.rows) * s.out, 1e30f);
                kernels::matmul(pf, s.rows, a.data(), withBias ? bias.data() : nullptr, y.data());
                for (int r = 0; r < s.rows; ++r)
                    for (int o = 0; o < s.out; ++o) {
                        double want = withBias ? bias[size_t(o)] : 0.0, magnitude = 0;
                        for (int k = 0; k < s.in; ++k) {
                            const double p = double(a[size_t(r) * s.in + k]) * w[size_t(o) * s.in + k];
                            want += p;
                            magnitude += std::fabs(p);
                        }
                        // float summation error bound: ~in * eps * sum|terms|, with eps = 2^-24.
                        const double tol = (s.in + 2) * 6e-8 * (magnitude + 1) + 1e-6;
                        ASSERT_NEAR(y[size_t(r) * s.out + o], want, tol) << "r " << r << " o " << o;
                    }
            });
        }
}

// Int4 weights keep (about) half the bytes of s8 ones in the packed form on every path that packs
// nibbles; never more than s8.
TEST(Kernels, Int4PackedFormIsNotLargerThanS8)
{
    const int out = 256, in = 1024;
    std::mt19937 rng(15);
    const auto w = randomVector<int8_t>(size_t(out) * in, -8, 7, rng);
    const auto packed = packInt4Rows(w.data(), out, in);
    const auto p4 = kernels::PackedWeights::fromS4(packed.data(), out, in, { 0 });
    const auto p8 = kernels::PackedWeights::fromS8(w.data(), out, in, { 0 });
    EXPECT_LE(p4.bytes(), p8.bytes());
    EXPECT_GE(p8.bytes(), size_t(out) * in);
    if (kernels::pathName() == "avx512-vnni") {
        EXPECT_LT(p4.bytes(), size_t(out) * in * 6 / 10);
    }
}

TEST(Kernels, ZeroRowsAndEmptyWeights)
{
    const std::vector<int8_t> w(12, 1);
    const kernels::PackedWeights pw = kernels::PackedWeights::fromS8(w.data(), 3, 4, { 0 });
    std::vector<int32_t> acc(1, 7);
    kernels::matmul(pw, 0, static_cast<const uint8_t *>(nullptr), 0, nullptr, acc.data());
    EXPECT_EQ(acc[0], 7);
    // in = 0: the product is the bias alone.
    const kernels::PackedWeights empty = kernels::PackedWeights::fromS8(nullptr, 2, 0, { 0 });
    const int32_t bias[2] = { 5, -6 };
    const uint8_t noActivations = 0;
    std::vector<int32_t> out(4);
    kernels::matmul(empty, 2, &noActivations, 3, bias, out.data());
    EXPECT_EQ(out, (std::vector<int32_t> { 5, -6, 5, -6 }));
}

TEST(Kernels, RejectsBadArguments)
{
    const std::vector<int8_t> w(12, 1);
    EXPECT_THROW(kernels::PackedWeights::fromS8(w.data(), 3, 4, { 0, 0 }), std::invalid_argument);
    EXPECT_THROW(kernels::PackedWeights::fromS8(w.data(), -1, 4, { 0 }), std::invalid_argument);
    EXPECT_THROW(kernels::PackedF32::from(nullptr, 2, -3), std::invalid_argument);
    const kernels::PackedWeights pw = kernels::PackedWeights::fromS8(w.data(), 3, 4, { 0 });
    std::vector<int32_t> acc(3);
    const uint8_t a[4] = {};
    EXPECT_THROW(kernels::matmul(pw, -1, a, 0, nullptr, acc.data()), std::invalid_argument);
}

// Requantization against mq::requantize (fixed_point.h) for multipliers decomposeMultiplier makes,
// and against an exact 128-bit product for the tiny multipliers of a 64-bit decomposition.
TEST(Kernels, RequantizeMatchesReference)
{
    std::mt19937 rng(16);
    for (int out : { 1, 7, 8, 9, 33, 130 })
        for (bool perChannel : { false, true }) {
            const int rows = 5;
            SCOPED_TRACE("out " + std::to_string(out) + (perChannel ? " per-channel" : " per-tensor"));
            auto acc = randomVector<int32_t>(size_t(rows) * out, -2000000000, 2000000000, rng);
            acc[0] = std::numeric_limits<int32_t>::min();
            acc[1 % acc.size()] = std::numeric_limits<int32_t>::max();
            std::uniform_real_distribution<double> logM(-34, 10);
            std::vector<FixedMultiplier> m(perChannel ? size_t(out) : 1);
            for (FixedMultiplier &x : m)
                x = decomposeMultiplier(std::exp2(logM(rng)));
            // Exact halves: M = 2^-1 makes every odd accumulator a tie.
            m[0] = decomposeMultiplier(0.5);
            for (int32_t zp : { 0, 77, -5 }) {
                std::vector<int32_t> want32(acc.size()), want8(acc.size()), want16(acc.size());
                for (int r = 0; r < rows; ++r)
                    for (int o = 0; o < out; ++o) {
                        const size_t i = size_t(r) * out + o;
                        const FixedMultiplier &mo = m[perChannel ? size_t(o) : 0];
                        want32[i] = requantize(acc[i], mo, zp, -1000000, 1000000);
                        want8[i] = requantize(acc[i], mo, zp, 0, 255);
                        want16[i] = requantize(acc[i], mo, zp, -32768, 32767);
                    }
                onEveryPath([&] {
                    std::vector<int32_t> got32(acc.size());
                    std::vector<uint8_t> got8(acc.size());
                    std::vector<int16_t> got16(acc.size());
                    kernels::requantize(rows, out, acc.data(), m, zp, -1000000, 1000000, got32.data());
                    kernels::requantize(rows, out, acc.data(), m, zp, 0, 255, got8.data());
                    kernels::requantize(rows, out, acc.data(), m, zp, -32768, 32767, got16.data());
                    ASSERT_EQ(got32, want32);
                    ASSERT_EQ(std::vector<int32_t>(got8.begin(), got8.end()), want8);
                    ASSERT_EQ(std::vector<int32_t>(got16.begin(), got16.end()), want16);
                });
            }
        }
    // Shifts beyond decomposeMultiplier's range: round(acc * m / 2^(31 + shift)) exactly.
    const std::vector<int32_t> acc
        = { std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(), 123456789, -987654321, 1, -1, 0 };
    for (int shift : { 30, 31, 32, 45, 60, 62, 94 }) {
        const std::vector<FixedMultiplier> m = { FixedMultiplier { (1 << 30) + 12345, shift } };
        std::vector<int32_t> got(acc.size());
        onEveryPath([&] {
            kernels::requantize(1, int(acc.size()), acc.data(), m, 3, -1000000000, 1000000000, got.data());
            for (size_t i = 0; i < acc.size(); ++i) {
                const long double exact = static_cast<long double>(acc[i]) * m[0].multiplier / std::exp2l(31 + shift);
                const long double rounded = exact >= 0 ? std::floor(exact + 0.5L) : -std::floor(-exact + 0.5L);
                ASSERT_EQ(got[i], static_cast<int32_t>(rounded) + 3) << "shift " << shift << " acc " << acc[i];
            }
        });
    }
    std::vector<int32_t> sink(1);
    const int32_t one = 1;
    EXPECT_THROW(kernels::requantize(1, 1, &one, { FixedMultiplier { 1 << 30, -32 } }, 0, 0, 255, sink.data()),
        std::invalid_argument);
    EXPECT_THROW(
        kernels::requantize(1, 1, &one, { FixedMultiplier { -1, 0 } }, 0, 0, 255, sink.data()), std::invalid_argument);
    std::vector<uint8_t> sink8(1);
    EXPECT_THROW(kernels::requantize(1, 1, &one, { FixedMultiplier { 1 << 30, 0 } }, 0, -1, 255, sink8.data()),
        std::invalid_argument);
    EXPECT_THROW(kernels::requantize(1, 2, &one,
                     { FixedMultiplier { 1 << 30, 0 }, FixedMultiplier { 1 << 30, 0 }, FixedMultiplier { 1 << 30, 0 } },
                     0, 0, 255, sink8.data()),
        std::invalid_argument);
}

TEST(Kernels, ThreadCountIsKept)
{
    kernels::setThreads(2);
    EXPECT_EQ(kernels::threads(), 2);
    kernels::setThreads(0);
    EXPECT_EQ(kernels::threads(), 1);
}

} // namespace
} // namespace mq
