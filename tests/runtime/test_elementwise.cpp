#include "core/runtime/int_ops.h"
#include "core/runtime/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

// The element-wise operators of kernels.h (vectorised on AVX-512 machines) against the portable
// definitions in int_ops.h: the integers must be identical, for random grids of 8 and 16 bits,
// every tail length, 1 and 2 threads, and with the scalar path forced (kernels::forceScalar).

namespace mq {
namespace {

using intops::QuantParams;

// A random grid as an exporter makes them: 8-bit asymmetric, 16-bit asymmetric or 16-bit symmetric.
QuantParams randomGrid(std::mt19937_64 &rng, bool allow8 = true)
{
    std::uniform_real_distribution<double> logScale(-12.0, 2.0);
    const double scale = std::ldexp(1.0, 0) * std::exp2(logScale(rng));
    switch (allow8 ? rng() % 3 : 1 + rng() % 2) {
    case 0:
        return { double(float(scale)), int32_t(rng() % 256), 0, 255 };
    case 1:
        return { double(float(scale)), int32_t(rng() % 65536), 0, 65535 };
    default:
        return { double(float(scale)), 0, -32768, 32767 };
    }
}

std::vector<int32_t> randomCodes(std::mt19937_64 &rng, const QuantParams &g, size_t n)
{
    std::uniform_int_distribution<int32_t> code(g.qmin, g.qmax);
    std::vector<int32_t> v(n);
    for (int32_t &x : v)
        x = code(rng);
    // The extremes, where the products are largest.
    if (n > 2) {
        v[0] = g.qmin;
        v[1] = g.qmax;
    }
    return v;
}

const std::vector<size_t> kLengths = { 1, 7, 8, 9, 15, 16, 17, 100, 1000, 70001 };

// Runs `check` on the fast path with 1 and 2 threads and on the forced scalar path.
template <typename F> void onEveryPath(F &&check)
{
    for (const bool scalar : { false, true })
        for (const int threads : { 1, 2 }) {
            kernels::forceScalar(scalar);
            kernels::setThreads(threads);
            SCOPED_TRACE(std::string(scalar ? "scalar" : kernels::pathName()) + ", threads " + std::to_string(threads));
            check();
        }
    kernels::forceScalar(false);
    kernels::setThreads(1);
}

TEST(ElementwiseKernels, AddMatchesIntops)
{
    std::mt19937_64 rng(11);
    for (int trial = 0; trial < 40; ++trial) {
        const QuantParams a = randomGrid(rng, false), b = randomGrid(rng), out = randomGrid(rng, false);
        if (a.scale / out.scale > 1e6 || b.scale / out.scale > 1e6)
            continue; // makeAdd needs the ratios to fit its fixed point
        const intops::AddParams p = intops::makeAdd(a, b, out);
        for (size_t n : kLengths) {
            const std::vector<int32_t> x = randomCodes(rng, a, n), y = randomCodes(rng, b, n);
            std::vector<int32_t> want(n), got(n);
            intops::add(x.data(), y.data(), want.data(), n, p);
            onEveryPath([&] {
                kernels::add(x.data(), y.data(), got.data(), n, p);
                ASSERT_EQ(got, want) << "trial " << trial << ", n " << n;
            });
        }
    }
}

TEST(ElementwiseKernels, MulLookupAndTheFusedGatedActivationMatchIntops)
{
    std::mt19937_64 rng(12);
    for (int trial = 0; trial < 40; ++trial) {
        const QuantParams gate = randomGrid(rng), sig = randomGrid(rng), act = randomGrid(rng), up = randomGrid(rng),
                          down = randomGrid(rng);
        const intops::MulParams silu = intops::makeMul(gate, sig, act), glu = intops::makeMul(act, up, down);
        // A table over the gate's grid into the sigmoid's grid (any codes of that grid will do).
        const std::vector<int32_t> table = randomCodes(rng, sig, size_t(gate.qmax - gate.qmin + 1));
        for (size_t n : kLengths) {
            const std::vector<int32_t> g = randomCodes(rng, gate, n), u = randomCodes(rng, up, n);
            std::vector<int32_t> s(n), a(n), d(n), got(n);
            intops::lookup(g.data(), s.data(), n, table.data(), gate.qmin);
            intops::mul(g.data(), s.data(), a.data(), n, silu);
            intops::mul(a.data(), u.data(), d.data(), n, glu);
            std::vector<int32_t> gelu(n);
            intops::mul(s.data(), u.data(), gelu.data(), n, glu); // table straight into act.out
            onEveryPath([&] {
                kernels::lookup(g.data(), got.data(), n, table.data(), gate.qmin);
                ASSERT_EQ(got, s);
                kernels::mul(g.data(), s.data(), got.data(), n, silu);
                ASSERT_EQ(got, a);
                kernels::gatedActivation(g.data(), u.data(), got.data(), n, table.data(), gate.qmin, &silu, glu);
                ASSERT_EQ(got, d) << "trial " << trial << ", n " << n;
                kernels::gatedActivation(g.data(), u.data(), got.data(), n, table.data(), gate.qmin, nullptr, glu);
                ASSERT_EQ(got, gelu);
            });
        }
    }
}

TEST(ElementwiseKernels, RmsNormRowsMatchIntops)
{
    std::mt19937_64 rng(13);
    for (int trial = 0; trial < 30; ++trial) {
        const QuantParams x = randomGrid(rng, false), y = randomGrid(rng);
        for (int n : { 1, 5, 8, 37, 2048 }) {
            std::vector<int32_t> w(static_cast<size_t>(n));
            // 8-bit symmetric weights, 16-bit ones, 16-bit ones with a zero point far below them.
            const int32_t wmin[] = { -127, 20000, 60000 }, wmax[] = { 127, 40000, 130000 };
            std::uniform_int_distribution<int32_t> wc(wmin[trial % 3], wmax[trial % 3]);
            for (int32_t &v : w)
                v = wc(rng);
            const intops::NormParams p = intops::makeNorm(false, n, x, 1e-5, w.data(), 0, 1.0 / 32768.0, nullptr, y);
            const int rows = 5;
            std::vector<int32_t> in = randomCodes(rng, x, size_t(rows) * size_t(n));
            // A row at the zero point (only epsilon in the denominator) and one close to it.
            std::fill(in.begin() + n, in.begin() + 2 * n, x.zeroPoint);
            for (int i = 0; i < n; ++i)
                in[size_t(2 * n + i)] = x.zeroPoint + int32_t(i % 3) - 1;
            std::vector<int32_t> want(in.size()), got(in.size());
            for (int r = 0; r < rows; ++r)
                intops::normRow(&in[size_t(r) * size_t(n)], &want[size_t(r) * size_t(n)], p);
            onEveryPath([&] {
                kernels::normRows(in.data(), got.data(), rows, p);
                ASSERT_EQ(got, want) << "trial " << trial << ", n " << n;
            });
        }
    }
}

TEST(ElementwiseKernels, SoftmaxRowMatchesIntopsAndReturnsTheDistanceFromTheZeroPoint)
{
    std::mt19937_64 rng(14);
    for (int trial = 0; trial < 30; ++trial) {
        const QuantParams scores = randomGrid(rng, false);
        const QuantParams probs = trial % 2 ? QuantParams { 1.0 / 65535.0, 0, 0, 65535 } : randomGrid(rng);
        const intops::SoftmaxParams p = intops::makeSoftmax(intops::makeExpTable(scores.scale * 64, 64), probs);
        for (int count : { 1, 2, 15, 16, 17, 128, 129, 1031 }) {
            // Scores clustered near a maximum (a peaked row) or spread over the grid.
            std::vector<int32_t> codes = randomCodes(rng, scores, size_t(count));
            if (trial % 3 == 0)
                for (int32_t &c : codes)
                    c = scores.qmax - int32_t(rng() % 50);
            std::vector<int32_t> want(static_cast<size_t>(count)), got(static_cast<size_t>(count));
            intops::softmaxRow(codes.data(), count, want.data(), p);
            int64_t wantSum = 0;
            for (int32_t v : want)
                wantSum += std::abs(int64_t(v) - probs.zeroPoint);
            onEveryPath([&] {
                const int64_t sum = kernels::softmaxRow(codes.data(), count, got.data(), p);
                ASSERT_EQ(got, want) << "trial " << trial << ", count " << count;
                ASSERT_EQ(sum, wantSum);
            });
        }
    }
}

TEST(ElementwiseKernels, RopeHeadsMatchIntops)
{
    std::mt19937_64 rng(15);
    for (int trial = 0; trial < 30; ++trial) {
        const QuantParams in = randomGrid(rng), out = randomGrid(rng);
        for (int headDim : { 4, 8, 24, 64, 128 }) {
            for (int rotary : { headDim, headDim / 2 - (headDim / 2) % 2 }) {
                if (rotary == 0)
                    continue;
                const intops::RopeParams p = intops::makeRope(headDim, rotary, in, out);
                std::vector<int32_t> cosRow(static_cast<size_t>(rotary)), sinRow(static_cast<size_t>(rotary));
                const double position = double(rng() % 4096);
                for (int i = 0; i < rotary; ++i) {
                    const double angle = position * std::pow(10000.0, -double(2 * (i % (rotary / 2))) / rotary);
                    cosRow[size_t(i)] = int32_t(std::llround(std::ldexp(double(float(std::cos(angle))), 30)));
                    sinRow[size_t(i)] = int32_t(std::llround(std::ldexp(double(float(std::sin(angle))), 30)));
                }
                const int heads = 3;
                const std::vector<int32_t> x = randomCodes(rng, in, size_t(heads) * size_t(headDim));
                std::vector<int32_t> want(x.size()), got(x.size());
                for (int h = 0; h < heads; ++h)
                    intops::ropeHead(&x[size_t(h) * size_t(headDim)], &want[size_t(h) * size_t(headDim)], cosRow.data(),
                        sinRow.data(), p);
                onEveryPath([&] {
                    kernels::ropeHeads(x.data(), got.data(), heads, cosRow.data(), sinRow.data(), p);
                    ASSERT_EQ(got, want) << "trial " << trial << ", head_dim " << headDim << ", rotary " << rotary;
                });
            }
        }
    }
}

TEST(ElementwiseKernels, FloatSoftmaxAgreesWithTheDoubleReference)
{
    std::mt19937_64 rng(17);
    std::normal_distribution<float> score(0.0f, 1.0f);
    for (int trial = 0; trial < 20; ++trial) {
        const float spread = trial % 2 ? 30.0f : 3.0f, scale = 0.125f;
        for (int n : { 1, 2, 15, 16, 17, 300, 1025 }) {
            std::vector<float> x(static_cast<size_t>(n));
            for (float &v : x)
                v = spread * score(rng);
            double mx = -1e300, sum = 0;
            for (float v : x)
                mx = std::max(mx, double(v) * scale);
            for (float v : x)
                sum += std::exp(double(v) * scale - mx);
            onEveryPath([&] {
                std::vector<float> y = x;
                kernels::softmaxF32(y.data(), n, scale);
                for (int j = 0; j < n; ++j) {
                    const double arg = double(x[size_t(j)]) * scale - mx, want = std::exp(arg) / sum;
                    // A few float roundings (scale, subtraction, exp, reciprocal, product), and the
                    // float argument's own rounding, |arg| 2^-24 relative after exp.
                    ASSERT_NEAR(y[size_t(j)], want, want * (5e-7 + 1.2e-7 * std::abs(arg)) + 1e-30)
                        << "n " << n << ", j " << j;
                }
            });
        }
    }
}

TEST(ElementwiseKernels, FloatSiluProductAgreesWithTheDoubleReference)
{
    std::mt19937_64 rng(18);
    std::normal_distribution<float> value(0.0f, 4.0f);
    for (size_t n : kLengths) {
        std::vector<float> g(n), u(n);
        for (size_t i = 0; i < n; ++i) {
            g[i] = value(rng);
            u[i] = value(rng);
        }
        if (n > 3) {
            g[0] = 0.0f;
            g[1] = -100.0f; // exp underflows: SiLU = -0 (times up)
            g[2] = 100.0f;
        }
        onEveryPath([&] {
            std::vector<float> y = g;
            kernels::siluMulF32(y.data(), u.data(), n);
            for (size_t i = 0; i < n; ++i) {
                const double x = g[i], want = x / (1.0 + std::exp(-x)) * double(u[i]);
                ASSERT_NEAR(y[i], want, 1e-6 * std::abs(want) + 1e-30) << "n " << n << ", x " << x;
            }
        });
    }
}

TEST(ElementwiseKernels, NarrowCodesShiftsAndNarrows)
{
    std::mt19937_64 rng(16);
    for (size_t n : kLengths) {
        const std::vector<int32_t> u8 = randomCodes(rng, { 1.0, 128, 0, 255 }, n);
        const std::vector<int32_t> u16 = randomCodes(rng, { 1.0, 32768, 0, 65535 }, n);
        onEveryPath([&] {
            std::vector<uint8_t> a(n);
            std::vector<int16_t> b(n);
            kernels::narrowCodes(u8.data(), n, 0, a.data());
            kernels::narrowCodes(u16.data(), n, 32768, b.data());
            for (size_t i = 0; i < n; ++i) {
                ASSERT_EQ(int32_t(a[i]), u8[i]);
                ASSERT_EQ(int32_t(b[i]), u16[i] - 32768);
            }
        });
    }
}

} // namespace
} // namespace mq
