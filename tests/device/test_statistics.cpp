// The statistics behind the results table, against hand computation and closed forms.

#include "core/device/results.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

using namespace mq::device;

TEST(DeviceStatistics, EstimateMatchesHandComputation)
{
    // values 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sample variance 32/7, median 4.5.
    const Estimate e = estimate({ 2, 4, 4, 4, 5, 5, 7, 9 });
    EXPECT_EQ(e.n, 8);
    EXPECT_DOUBLE_EQ(e.mean, 5.0);
    EXPECT_DOUBLE_EQ(e.median, 4.5);
    EXPECT_NEAR(e.stddev, std::sqrt(32.0 / 7.0), 1e-12);
    EXPECT_DOUBLE_EQ(e.min, 2);
    EXPECT_DOUBLE_EQ(e.max, 9);
    // t(0.975, 7) = 2.365 (table value).
    const double half = 2.365 * std::sqrt(32.0 / 7.0) / std::sqrt(8.0);
    EXPECT_NEAR(e.ciLow, 5 - half, 1e-12);
    EXPECT_NEAR(e.ciHigh, 5 + half, 1e-12);
    // p10 by linear interpolation: position 0.7 between 2 and 4.
    EXPECT_NEAR(e.p10, 2 + 0.7 * 2, 1e-12);

    const Estimate one = estimate({ 3.5 });
    EXPECT_EQ(one.n, 1);
    EXPECT_DOUBLE_EQ(one.stddev, 0);
    EXPECT_DOUBLE_EQ(one.ciLow, 3.5);
    EXPECT_DOUBLE_EQ(one.ciHigh, 3.5);
    EXPECT_EQ(estimate({}).n, 0);
    EXPECT_EQ(estimate({ 1, NAN, 3 }).n, 2) << "non-finite repeats are left out";
}

TEST(DeviceStatistics, TIntervalCoversTheMeanAtAbout95Percent)
{
    // Independent check of the t table: draw many samples of 5 from N(10, 2²) and count how often
    // the interval covers 10. Binomial sd at 4000 draws ≈ 0.34 %, so ±1.5 % is > 4 sd.
    std::mt19937 rng(7);
    std::normal_distribution<double> nd(10, 2);
    int covered = 0;
    const int trials = 4000;
    for (int i = 0; i < trials; ++i) {
        std::vector<double> v(5);
        for (double &x : v)
            x = nd(rng);
        const Estimate e = estimate(v);
        covered += (e.ciLow <= 10 && 10 <= e.ciHigh) ? 1 : 0;
    }
    EXPECT_NEAR(double(covered) / trials, 0.95, 0.015);
}

TEST(DeviceStatistics, Reduction)
{
    EXPECT_NEAR(*reductionPercent(200, 150), 25.0, 1e-12);
    EXPECT_NEAR(*reductionPercent(100, 120), -20.0, 1e-12);
    EXPECT_FALSE(reductionPercent(0, 1).has_value());
}

// Independent trapezoid over a uniform grid of a function, for comparison.
static double referenceTrapezoid(const std::vector<double> &t, const std::vector<double> &p)
{
    double s = 0;
    for (size_t i = 1; i < t.size(); ++i)
        s += (t[i] - t[i - 1]) * (p[i] + p[i - 1]) / 2;
    return s;
}

TEST(DeviceStatistics, EnergyIntegralIsTheTrapezoidRule)
{
    // Uneven sampling of a synthetic trace.
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> dt(0.05, 0.15), watts(0.5, 4.0);
    std::vector<double> t { 0 }, p { watts(rng) };
    for (int i = 0; i < 200; ++i) {
        t.push_back(t.back() + dt(rng));
        p.push_back(watts(rng));
    }
    EXPECT_NEAR(trapezoidIntegral(t, p), referenceTrapezoid(t, p), 1e-9);
    // A window that starts and ends on samples equals the sub-sum.
    const std::vector<double> ts(t.begin() + 20, t.begin() + 121), ps(p.begin() + 20, p.begin() + 121);
    EXPECT_NEAR(trapezoidIntegral(t, p, t[20], t[120]), referenceTrapezoid(ts, ps), 1e-9);
    // Linear power is integrated exactly, also between samples: P = 1 + 2t over [0.33, 7.1].
    std::vector<double> lp;
    for (double x : t)
        lp.push_back(1 + 2 * x);
    const double a = 0.33, b = 7.1;
    EXPECT_NEAR(trapezoidIntegral(t, lp, a, b), (b - a) + (b * b - a * a), 1e-9);
    // Constant power outside the sampled span is held.
    EXPECT_NEAR(trapezoidIntegral({ 1, 2 }, { 3, 3 }, 0, 5), 15, 1e-12);
}

TEST(DeviceStatistics, VariantStatisticsFromMarksAndTrace)
{
    // Synthetic run: 3 repeats, prompt 0.5 s, decode 1.0 s of 10 tokens, at 3 W (idle 1 W),
    // 1 W in the gaps. Sampled at 100 Hz with exact steps at the marks.
    VariantResult v;
    v.name = "synthetic";
    v.promptTokens = 64;
    v.decodeTokens = 10;
    // Marks sit exactly on sample times (the same i * 0.01 expression), so the busy plateau is
    // integrated without interpolation error.
    auto at = [](int i) { return i * 0.01; };
    for (int k = 0; k < 3; ++k) {
        v.marks.push_back({ at(20 + 200 * k), "prompt:begin" });
        v.marks.push_back({ at(70 + 200 * k), "prompt:end" });
        v.marks.push_back({ at(70 + 200 * k), "decode:begin" });
        v.marks.push_back({ at(170 + 200 * k), "decode:end" });
    }
    for (int i = 0; i <= 650; ++i) {
        const int phase = i % 200;
        v.trace.seconds.push_back(at(i));
        v.trace.watts.push_back(phase >= 20 && phase <= 170 ? 3.0 : 1.0);
    }
    computeVariantStatistics(v, 1.0);
    EXPECT_EQ(v.promptSeconds.n, 3);
    EXPECT_NEAR(v.promptSeconds.median, 0.5, 1e-9);
    EXPECT_NEAR(v.decodeSecondsPerToken.median, 0.1, 1e-9);
    EXPECT_NEAR(v.decodeTokensPerSecond.median, 10, 1e-9);
    EXPECT_NEAR(v.promptTokensPerSecond.median, 128, 1e-9);
    EXPECT_NEAR(v.averageWatts.median, 3.0, 1e-6);
    EXPECT_NEAR(v.energyPerInferenceJ.median, 2.0 * 1.5, 1e-6);
    EXPECT_NEAR(v.energyPerPromptJ.median, 2.0 * 0.5, 1e-6);
    EXPECT_NEAR(v.energyPerTokenJ.median, 2.0 * 1.0 / 10, 1e-6);

    VariantResult broken = v;
    broken.marks.pop_back();
    EXPECT_THROW(computeVariantStatistics(broken, 1.0), std::exception);
}
