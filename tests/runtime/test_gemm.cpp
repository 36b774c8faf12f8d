#include "core/runtime/gemm.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace mq {
namespace {

// How a test case fills its operands.
enum class Fill { Random, AllMin, AllMax, Alternating };

struct Range
{
    int32_t lo, hi;
};

template <typename T> std::vector<T> fill(size_t n, Range r, Fill mode, std::mt19937 &rng)
{
    std::uniform_int_distribution<int32_t> dist(r.lo, r.hi);
    std::vector<T> v(n);
    for (size_t i = 0; i < n; ++i) {
        switch (mode) {
        case Fill::Random:
            v[i] = static_cast<T>(dist(rng));
            break;
        case Fill::AllMin:
            v[i] = static_cast<T>(r.lo);
            break;
        case Fill::AllMax:
            v[i] = static_cast<T>(r.hi);
            break;
        case Fill::Alternating:
            v[i] = static_cast<T>(i % 2 ? r.hi : r.lo);
            break;
        }
    }
    return v;
}

// The operand formats of one GEMM variant.
struct Variant
{
    Range act, weight, outQ;
};

// One case: the runtime's integers against dequantize -> double matmul -> quantize.
struct Case
{
    GemmShape shape;
    Fill actFill, weightFill;
    int32_t aZero;
    std::vector<int32_t> wZeros;
    bool withBias;
};

// Runs `gemm` (acc = f(a, aZero, w, wZeros, bias)) and checks the raw accumulators exactly and
// the requantized outputs within 1 LSB of the double-precision reference.
template <typename Act, typename Out, typename Gemm, typename Requant>
void checkCase(const Case &c, const Variant &v, std::mt19937 &rng, Gemm gemm, Requant requantizeTo)
{
    const GemmShape &s = c.shape;
    const auto a = fill<Act>(size_t(s.rows) * s.in, v.act, c.actFill, rng);
    const auto w = fill<int8_t>(size_t(s.out) * s.in, v.weight, c.weightFill, rng);
    const bool perChannel = c.wZeros.size() != 1;

    std::uniform_real_distribution<double> logScale(std::log(1e-4), std::log(1.0));
    const double aScale = std::exp(logScale(rng));
    std::vector<double> wScales(perChannel ? s.out : 1);
    for (double &ws : wScales)
        ws = std::exp(logScale(rng));
    std::vector<int32_t> bias;
    if (c.withBias) {
        std::vector<double> realBias(s.out);
        for (double &b : realBias)
            b = std::uniform_real_distribution<double>(-1.0, 1.0)(rng) * aScale * wScales[0] * 1000.0;
        bias = quantizeBias(realBias, aScale, wScales);
    }

    std::vector<int32_t> acc(size_t(s.rows) * s.out);
    gemm(a.data(), c.aZero, w, c.wZeros, c.withBias ? bias.data() : nullptr, acc.data());

    // Integer reference in double (exact: every sum here is far below 2^53).
    std::vector<double> exactAcc(acc.size());
    double maxAbs = 1.0;
    for (int r = 0; r < s.rows; ++r)
        for (int o = 0; o < s.out; ++o) {
            const double wZero = c.wZeros[perChannel ? o : 0];
            double sum = c.withBias ? bias[o] : 0.0;
            for (int k = 0; k < s.in; ++k)
                sum += (double(a[size_t(r) * s.in + k]) - c.aZero) * (double(w[size_t(o) * s.in + k]) - wZero);
            exactAcc[size_t(r) * s.out + o] = sum;
            maxAbs = std::max(maxAbs, std::fabs(sum) * wScales[perChannel ? o : 0]);
            ASSERT_EQ(acc[size_t(r) * s.out + o], sum) << "row " << r << " out " << o;
        }

    // An output scale that spreads the results over the output range, sometimes saturating.
    const double outSpan = double(v.outQ.hi - v.outQ.lo) / 2.0;
    const double outScale = aScale * maxAbs / outSpan * std::uniform_real_distribution<double>(0.3, 1.5)(rng);
    const int32_t outZero = std::uniform_int_distribution<int32_t>(v.outQ.lo, v.outQ.hi)(rng);
    const OutputQuant quant = makeOutputQuant(aScale, wScales, outScale, outZero, v.outQ.lo, v.outQ.hi);
    std::vector<Out> q(acc.size());
    requantizeTo(s, acc.data(), quant, q.data());

    for (int r = 0; r < s.rows; ++r)
        for (int o = 0; o < s.out; ++o) {
            const size_t i = size_t(r) * s.out + o;
            // Dequantize -> float matmul -> quantize, all in double.
            const double real = exactAcc[i] * aScale * wScales[perChannel ? o : 0];
            const double want = std::clamp(std::round(real / outScale) + outZero, double(v.outQ.lo), double(v.outQ.hi));
            ASSERT_LE(std::fabs(double(q[i]) - want), 1.0) << "row " << r << " out " << o << " real " << real;
        }
}

// Every shape the issue names, crossed with extreme fills and zero points at the edges.
template <typename Fn> void forEachCase(const Variant &v, Fn run)
{
    std::mt19937 rng(7);
    const Range zwRange = v.weight;
    for (int in : { 1, 7, 33 })
        for (int out : { 1, 5, 64 })
            for (int rows : { 1, 3 })
                for (Fill af : { Fill::Random, Fill::AllMin, Fill::AllMax, Fill::Alternating })
                    for (Fill wf : { Fill::Random, Fill::AllMin, Fill::AllMax })
                        for (int zeroCase = 0; zeroCase < 4; ++zeroCase) {
                            Case c;
                            c.shape = GemmShape { rows, in, out };
                            c.actFill = af;
                            c.weightFill = wf;
                            c.withBias = zeroCase % 2 == 1;
                            switch (zeroCase) {
                            case 0: // symmetric weights, activation zero point at the bottom edge
                                c.aZero = v.act.lo < 0 ? 0 : v.act.lo;
                                c.wZeros = { 0 };
                                break;
                            case 1: // per-tensor, both zero points at the top edge
                                c.aZero = v.act.hi;
                                c.wZeros = { zwRange.hi };
                                break;
                            case 2: // per-channel zero points at the edges
                                c.aZero = v.act.lo;
                                c.wZeros.resize(out);
                                for (int o = 0; o < out; ++o)
                                    c.wZeros[o] = o % 2 ? zwRange.lo : zwRange.hi;
                                break;
                            default: // per-channel random
                                c.aZero = std::uniform_int_distribution<int32_t>(v.act.lo, v.act.hi)(rng);
                                c.wZeros.resize(out);
                                for (int32_t &z : c.wZeros)
                                    z = std::uniform_int_distribution<int32_t>(zwRange.lo, zwRange.hi)(rng);
                            }
                            SCOPED_TRACE("in " + std::to_string(in) + " out " + std::to_string(out) + " rows "
                                + std::to_string(rows) + " fill " + std::to_string(int(af)) + "/"
                                + std::to_string(int(wf)) + " zero case " + std::to_string(zeroCase));
                            run(c, rng);
                            if (::testing::Test::HasFatalFailure())
                                return;
                        }
}

const Range kU8 { 0, 255 }, kS8 { -128, 127 }, kS4 { -8, 7 }, kS16 { -32768, 32767 };

TEST(RuntimeGemm, U8xS8MatchesDoubleReference)
{
    const Variant v { kU8, kS8, kU8 };
    forEachCase(v, [&](const Case &c, std::mt19937 &rng) {
        checkCase<uint8_t, uint8_t>(
            c, v, rng,
            [&](const uint8_t *a, int32_t za, const std::vector<int8_t> &w, const std::vector<int32_t> &zw,
                const int32_t *bias, int32_t *acc) { gemmU8S8(c.shape, a, za, w.data(), zw, bias, acc); },
            requantizeToU8);
    });
}

TEST(RuntimeGemm, S16xS8MatchesDoubleReference)
{
    const Variant v { kS16, kS8, kS16 };
    forEachCase(v, [&](const Case &c, std::mt19937 &rng) {
        checkCase<int16_t, int16_t>(
            c, v, rng,
            [&](const int16_t *a, int32_t za, const std::vector<int8_t> &w, const std::vector<int32_t> &zw,
                const int32_t *bias, int32_t *acc) { gemmS16S8(c.shape, a, za, w.data(), zw, bias, acc); },
            requantizeToS16);
    });
}

TEST(RuntimeGemm, U8xS4MatchesDoubleReference)
{
    const Variant v { kU8, kS4, kU8 };
    forEachCase(v, [&](const Case &c, std::mt19937 &rng) {
        checkCase<uint8_t, uint8_t>(
            c, v, rng,
            [&](const uint8_t *a, int32_t za, const std::vector<int8_t> &w, const std::vector<int32_t> &zw,
                const int32_t *bias, int32_t *acc) {
                const auto packed = packInt4Rows(w.data(), c.shape.out, c.shape.in);
                gemmU8S4(c.shape, a, za, packed.data(), zw, bias, acc);
            },
            requantizeToU8);
    });
}

// u8 activations can also feed an int16 output (W8A8 layer followed by an A16 site).
TEST(RuntimeGemm, U8xS8RequantizesToS16)
{
    const Variant v { kU8, kS8, kS16 };
    forEachCase(v, [&](const Case &c, std::mt19937 &rng) {
        checkCase<uint8_t, int16_t>(
            c, v, rng,
            [&](const uint8_t *a, int32_t za, const std::vector<int8_t> &w, const std::vector<int32_t> &zw,
                const int32_t *bias, int32_t *acc) { gemmU8S8(c.shape, a, za, w.data(), zw, bias, acc); },
            requantizeToS16);
    });
}

TEST(RuntimeGemm, AccumulatorSaturatesInsteadOfWrapping)
{
    const int in = 70000; // 70000 * 255 * 255 > 2^31
    const std::vector<uint8_t> a(in, 255);
    const std::vector<int8_t> w(in, -128);
    int32_t acc = 0;
    gemmU8S8(GemmShape { 1, in, 1 }, a.data(), 0, w.data(), { 127 }, nullptr, &acc);
    EXPECT_EQ(acc, std::numeric_limits<int32_t>::min());
    gemmU8S8(GemmShape { 1, in, 1 }, a.data(), 0, w.data(), { -128 }, nullptr, &acc);
    EXPECT_EQ(acc, 0);
}

TEST(RuntimeGemm, EmptyInnerDimensionYieldsBias)
{
    const std::vector<int32_t> bias { 5, -7 };
    std::vector<int32_t> acc(2);
    gemmU8S8(GemmShape { 1, 0, 2 }, nullptr, 3, nullptr, { 0 }, bias.data(), acc.data());
    EXPECT_EQ(acc, bias);
}

TEST(RuntimeGemm, RejectsMismatchedPerChannelParams)
{
    std::vector<uint8_t> a(4);
    std::vector<int8_t> w(8);
    std::vector<int32_t> acc(2);
    EXPECT_THROW(gemmU8S8(GemmShape { 1, 4, 2 }, a.data(), 0, w.data(), { 0, 0, 0 }, nullptr, acc.data()),
        std::invalid_argument);
    OutputQuant quant = makeOutputQuant(0.1, { 0.1, 0.2, 0.3 }, 0.5, 0, 0, 255);
    std::vector<uint8_t> q(2);
    EXPECT_THROW(requantizeToU8(GemmShape { 1, 4, 2 }, acc.data(), quant, q.data()), std::invalid_argument);
    quant = makeOutputQuant(0.1, { 0.1 }, 0.5, 0, -1, 255);
    EXPECT_THROW(requantizeToU8(GemmShape { 1, 4, 2 }, acc.data(), quant, q.data()), std::invalid_argument);
}

TEST(RuntimeInt4, PackingRoundTripsAndFollowsTheNibbleOrder)
{
    std::mt19937 rng(11);
    for (int out : { 1, 5, 64 })
        for (int in : { 1, 2, 7, 33 }) {
            std::vector<int8_t> w(size_t(out) * in);
            for (size_t i = 0; i < w.size(); ++i)
                w[i] = static_cast<int8_t>(i < 16 ? int(i) - 8 : int(rng() % 16) - 8); // every value appears
            const auto packed = packInt4Rows(w.data(), out, in);
            ASSERT_EQ(packed.size(), size_t(out) * ((in + 1) / 2));
            EXPECT_EQ(unpackInt4Rows(packed.data(), out, in), w) << out << "x" << in;
            if (in % 2) { // the padding nibble of an odd row is zero
                for (int o = 0; o < out; ++o)
                    EXPECT_EQ(packed[size_t(o) * int4RowBytes(in) + in / 2] >> 4, 0);
            }
        }
    // Documented layout: element 0 low nibble, element 1 high nibble, two's complement.
    const std::vector<int8_t> pair { -8, 7, -1 };
    const auto packed = packInt4Rows(pair.data(), 1, 3);
    ASSERT_EQ(packed.size(), 2u);
    EXPECT_EQ(packed[0], 0x78);
    EXPECT_EQ(packed[1], 0x0F);
    EXPECT_EQ(int4At(packed.data(), 2), -1);

    const std::vector<int8_t> tooBig { 8 };
    EXPECT_THROW(packInt4Rows(tooBig.data(), 1, 1), std::invalid_argument);
    const std::vector<int8_t> tooSmall { -9 };
    EXPECT_THROW(packInt4Rows(tooSmall.data(), 1, 1), std::invalid_argument);
}

} // namespace
} // namespace mq
