// The executor's integer operators against double-precision references of the real-valued
// operation they stand for. Each output code must be within half a step of the exact result (the
// one rounding) plus a small stated tolerance for the fixed-point constants.
#include "core/runtime/fixed_point.h"
#include "core/runtime/int_ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace mq;
using namespace mq::intops;

namespace {

// Worst |code - exact| over a set of outputs, where exact is the unrounded real result in steps
// (before clamping; the tests keep results inside the grid).
struct Worst
{
    double err = 0;
    void add(int32_t code, double exact) { err = std::max(err, std::abs(double(code) - exact)); }
};

QuantParams grid16(double scale, int32_t zero) { return {scale, zero, 0, 65535}; }
QuantParams grid8(double scale, int32_t zero) { return {scale, zero, 0, 255}; }

} // namespace

TEST(IntOps, RoundShiftRoundsHalvesAwayFromZero)
{
    EXPECT_EQ(roundShift(3, 1), 2);   // 1.5 -> 2
    EXPECT_EQ(roundShift(-3, 1), -2); // -1.5 -> -2
    EXPECT_EQ(roundShift(5, 2), 1);   // 1.25 -> 1
    EXPECT_EQ(roundShift(-6, 2), -2); // -1.5 -> -2
    EXPECT_EQ(roundShift(7, -2), 28);
    EXPECT_EQ(roundShift(123456789, 80), 0);
}

TEST(IntOps, SixtyFourBitRequantizationAgreesWithTheLinearLayersOne)
{
    // The attention / MLP products use the 64-bit form; for int32 inputs it must be the runtime's
    // single-rounding requantization (fixed_point.h) bit for bit.
    std::mt19937 rng(3);
    std::uniform_int_distribution<int32_t> acc(-2000000000, 2000000000);
    std::uniform_real_distribution<double> mult(1e-6, 4.0);
    for (int i = 0; i < 20000; ++i) {
        const FixedMultiplier m = decomposeMultiplier(mult(rng));
        const int32_t a = acc(rng);
        ASSERT_EQ(multiplyByFixedMultiplier64(a, m), multiplyByFixedMultiplier(a, m)) << a;
    }
}

TEST(IntOps, ResidualAddIsWithinHalfAStepOfTheRealSum)
{
    std::mt19937 rng(1);
    std::uniform_int_distribution<int32_t> code(0, 65535);
    const QuantParams a = grid16(3e-4, 31000), b = grid16(1.7e-4, 33000), out = grid16(5.1e-4, 32768);
    const AddParams p = makeAdd(a, b, out);
    std::vector<int32_t> x(5000), y(5000), z(5000);
    for (size_t i = 0; i < x.size(); ++i) {
        x[i] = code(rng);
        y[i] = code(rng);
    }
    add(x.data(), y.data(), z.data(), x.size(), p);
    Worst w;
    for (size_t i = 0; i < x.size(); ++i)
        w.add(z[i], (a.scale * (x[i] - a.zeroPoint) + b.scale * (y[i] - b.zeroPoint)) / out.scale + out.zeroPoint);
    EXPECT_LE(w.err, 0.5 + 1e-6);
}

TEST(IntOps, RmsNormIsWithinHalfAStepOfTheDoubleReference)
{
    std::mt19937 rng(2);
    const int n = 64;
    const double eps = 1e-5;
    const QuantParams x = grid16(2e-4, 32768), y = grid8(8.0 / 255, 128);
    std::vector<int32_t> w(n);
    std::uniform_int_distribution<int32_t> wc(20000, 45000);
    for (int32_t &v : w)
        v = wc(rng);
    const double ws = 1.0 / 30000, wz = 1000;
    const NormParams p = makeNorm(false, n, x, eps, w.data(), int32_t(wz), ws, nullptr, y);
    Worst worst;
    std::normal_distribution<double> nd(0, 1);
    for (int row = 0; row < 300; ++row) {
        const double spread = row % 3 == 0 ? 300 : 6000; // small rows make the epsilon matter
        std::vector<int32_t> in(n), out(n);
        for (int32_t &v : in)
            v = std::clamp(int32_t(std::lround(32768 + spread * nd(rng))), 0, 65535);
        normRow(in.data(), out.data(), p);
        double ss = 0;
        for (int32_t v : in)
            ss += std::pow(x.scale * (v - x.zeroPoint), 2);
        const double r = 1.0 / std::sqrt(ss / n + eps);
        for (int i = 0; i < n; ++i) {
            const double real = x.scale * (in[i] - x.zeroPoint) * r * ws * (w[i] - wz);
            const double exact = real / y.scale + y.zeroPoint;
            if (exact > 0.5 && exact < 254.5)
                worst.add(out[i], exact);
        }
    }
    // Tolerance beyond the rounding: the epsilon constant is rounded to an integer of the squared
    // code grid (relative error < 1/(2 * sum of squares)) and the rsqrt carries 31 bits.
    EXPECT_LE(worst.err, 0.5 + 1e-3);
}

TEST(IntOps, LayerNormWithBiasIsWithinHalfAStepOfTheDoubleReference)
{
    std::mt19937 rng(4);
    const int n = 48;
    const double eps = 1e-5;
    const QuantParams x = grid16(3e-4, 30000), y = grid8(10.0 / 255, 120);
    std::vector<int32_t> w(n);
    std::vector<float> b(n);
    std::uniform_int_distribution<int32_t> wc(0, 65535);
    std::normal_distribution<double> nd(0, 1);
    for (int i = 0; i < n; ++i) {
        w[size_t(i)] = wc(rng);
        b[size_t(i)] = float(0.3 * nd(rng));
    }
    const double ws = 2.0 / 65535;
    const int32_t wz = 32768;
    const NormParams p = makeNorm(true, n, x, eps, w.data(), wz, ws, b.data(), y);
    Worst worst;
    for (int row = 0; row < 300; ++row) {
        std::vector<int32_t> in(n), out(n);
        const double mean = 2000 * nd(rng);
        for (int32_t &v : in)
            v = std::clamp(int32_t(std::lround(30000 + mean + 3000 * nd(rng))), 0, 65535);
        normRow(in.data(), out.data(), p);
        double mu = 0, var = 0;
        for (int32_t v : in)
            mu += x.scale * (v - x.zeroPoint);
        mu /= n;
        for (int32_t v : in)
            var += std::pow(x.scale * (v - x.zeroPoint) - mu, 2);
        var /= n;
        for (int i = 0; i < n; ++i) {
            const double real = (x.scale * (in[i] - x.zeroPoint) - mu) / std::sqrt(var + eps) * ws * (w[i] - wz) + b[i];
            const double exact = real / y.scale + y.zeroPoint;
            if (exact > 0.5 && exact < 254.5)
                worst.add(out[i], exact);
        }
    }
    EXPECT_LE(worst.err, 0.5 + 1e-3);
}

TEST(IntOps, RopeIsWithinHalfAStepOfTheRotation)
{
    std::mt19937 rng(5);
    const int D = 16, rd = 12; // partial rotary: the last 4 dims pass through
    const QuantParams in = grid8(6.0 / 255, 127), out = grid8(7.0 / 255, 129);
    const RopeParams p = makeRope(D, rd, in, out);
    std::uniform_int_distribution<int32_t> code(0, 255);
    Worst worst;
    for (int pos = 0; pos < 200; ++pos) {
        std::vector<double> c(rd), s(rd);
        std::vector<int32_t> cq(rd), sq(rd);
        for (int i = 0; i < rd; ++i) {
            const double angle = pos * std::pow(10000.0, -double(2 * (i % (rd / 2))) / rd);
            c[size_t(i)] = std::cos(angle);
            s[size_t(i)] = std::sin(angle);
            cq[size_t(i)] = int32_t(std::llround(std::ldexp(c[size_t(i)], 30)));
            sq[size_t(i)] = int32_t(std::llround(std::ldexp(s[size_t(i)], 30)));
        }
        std::vector<int32_t> x(D), y(D);
        for (int32_t &v : x)
            v = code(rng);
        ropeHead(x.data(), y.data(), cq.data(), sq.data(), p);
        for (int i = 0; i < D; ++i) {
            const double xi = in.scale * (x[size_t(i)] - in.zeroPoint);
            double real = xi;
            if (i < rd) {
                const double rot = i < rd / 2 ? -in.scale * (x[size_t(i + rd / 2)] - in.zeroPoint)
                                              : in.scale * (x[size_t(i - rd / 2)] - in.zeroPoint);
                real = xi * c[size_t(i)] + rot * s[size_t(i)];
            }
            const double exact = real / out.scale + out.zeroPoint;
            if (exact > 0.5 && exact < 254.5)
                worst.add(y[size_t(i)], exact);
        }
    }
    // cos / sin in Q30: |error| <= 2^-31 per product term, i.e. < 1e-6 of a step here.
    EXPECT_LE(worst.err, 0.5 + 1e-5);
}

TEST(IntOps, SoftmaxIsWithinHalfAStepOfTheExactSoftmax)
{
    std::mt19937 rng(6);
    const int headDim = 8;
    const QuantParams scores = grid16(20.0 / 65535, 32768), out = grid16(1.0 / 65535, 0);
    const SoftmaxParams p = makeSoftmax(makeExpTable(scores.scale, headDim), out);
    Worst worst;
    std::normal_distribution<double> nd(0, 1);
    for (int row = 0; row < 400; ++row) {
        const int count = 1 + row % 130;
        const double spread = row % 2 ? 2000 : 12000;
        std::vector<int32_t> c(static_cast<size_t>(count)), q(static_cast<size_t>(count));
        for (int32_t &v : c)
            v = std::clamp(int32_t(std::lround(32768 + spread * nd(rng))), 0, 65535);
        softmaxRow(c.data(), count, q.data(), p);
        double mx = -1e300;
        for (int32_t v : c)
            mx = std::max(mx, scores.scale * (v - scores.zeroPoint) / std::sqrt(double(headDim)));
        double sum = 0;
        std::vector<double> e(static_cast<size_t>(count));
        for (int j = 0; j < count; ++j) {
            e[size_t(j)] = std::exp(scores.scale * (c[size_t(j)] - scores.zeroPoint) / std::sqrt(double(headDim)) - mx);
            sum += e[size_t(j)];
        }
        for (int j = 0; j < count; ++j)
            worst.add(q[size_t(j)], e[size_t(j)] / sum / out.scale + out.zeroPoint);
    }
    // Table entries are exact to 2^-31 absolute, p is formed in Q62 from them without another
    // rounding: the total error before the final rounding is below 2^-28 in probability, 2.5e-4
    // of a step of this grid.
    EXPECT_LE(worst.err, 0.5 + 2.5e-4);
}

TEST(IntOps, ProductsAndTablesMatchTheirRealValues)
{
    // SiLU as the simulation computes it: sigmoid through an 8-bit table into mlp.act.in2, then
    // gate x sigmoid requantized into mlp.act.out.
    const QuantParams gate = grid8(12.0 / 255, 128), sig = grid8(1.0 / 255, 0), act = grid8(7.0 / 255, 20);
    std::vector<int32_t> table(256);
    for (int c = 0; c < 256; ++c)
        table[size_t(c)] = clampCode(std::llround(1.0 / (1.0 + std::exp(-gate.scale * (c - gate.zeroPoint))) / sig.scale), 0, 255);
    std::vector<int32_t> g(256), s(256), a(256);
    for (int c = 0; c < 256; ++c)
        g[size_t(c)] = c;
    lookup(g.data(), s.data(), 256, table.data(), 0);
    const MulParams p = makeMul(gate, sig, act);
    mul(g.data(), s.data(), a.data(), 256, p);
    Worst worst;
    for (int c = 0; c < 256; ++c) {
        const double exact = gate.scale * (c - gate.zeroPoint) * sig.scale * s[size_t(c)] / act.scale + act.zeroPoint;
        if (exact > 0.5 && exact < 254.5)
            worst.add(a[size_t(c)], exact);
    }
    EXPECT_LE(worst.err, 0.5 + 1e-6);
}
