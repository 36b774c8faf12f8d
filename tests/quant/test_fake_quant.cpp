// The quantizer primitive (mobilequant-method.md §1.1) against values and gradients worked out by
// hand from the formulas: power-of-two scales keep the hand arithmetic exact in float32.
#include "core/quant/fake_quant.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

using namespace mq;

namespace {

at::Tensor vec(const std::vector<float> &v)
{
    return at::tensor(v, at::kFloat);
}
at::Tensor scalar(double v)
{
    return at::scalar_tensor(v, at::kFloat);
}

void expectValues(const at::Tensor &got, const std::vector<double> &want, double tol)
{
    ASSERT_EQ(got.numel(), int64_t(want.size()));
    const at::Tensor flat = got.reshape({ -1 }).to(at::kDouble);
    for (size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(flat[int64_t(i)].item<double>(), want[i], tol) << "element " << i;
}

} // namespace

TEST(FakeQuant, QuantGridOfEachMode)
{
    EXPECT_EQ((QuantSpec { 8, false, false }.qmin()), 0);
    EXPECT_EQ((QuantSpec { 8, false, false }.qmax()), 255);
    EXPECT_EQ((QuantSpec { 4, true, true }.qmin()), -8);
    EXPECT_EQ((QuantSpec { 4, true, true }.qmax()), 7);
    EXPECT_EQ((QuantSpec { 16, false, false }.qmax()), 65535);
    EXPECT_FALSE((QuantSpec { 32, false, false }.quantized()));
}

TEST(FakeQuant, AsymmetricScaleOffsetFromRange)
{
    // (14.9375 − (−1)) / 255 = 0.0625; offset = −round(−1 / 0.0625) = 16.
    const ScaleOffset so = scaleOffsetFromMinMax(scalar(-1.0), scalar(14.9375), QuantSpec { 8, false, false });
    EXPECT_DOUBLE_EQ(so.scale.item<double>(), 0.0625);
    EXPECT_DOUBLE_EQ(so.offset.item<double>(), 16.0);
    // min = −1.03: −1.03 / (15.97/255) = −16.446… → offset 16 (rounded, not truncated).
    const ScaleOffset so2 = scaleOffsetFromMinMax(scalar(-1.03), scalar(14.94), QuantSpec { 8, false, false });
    EXPECT_NEAR(so2.scale.item<double>(), 15.97 / 255.0, 1e-7);
    EXPECT_DOUBLE_EQ(so2.offset.item<double>(), 16.0);
}

TEST(FakeQuant, SymmetricDividesByTwoToTheBMinusOneMinusOne)
{
    // max(|−3|, |2.1|) / 7 at 4 bits; offset 0.
    const ScaleOffset so = scaleOffsetFromMinMax(scalar(-3.0), scalar(2.1), QuantSpec { 4, true, false });
    EXPECT_NEAR(so.scale.item<double>(), 3.0 / 7.0, 1e-7);
    EXPECT_EQ(so.offset.item<double>(), 0.0);
}

TEST(FakeQuant, ScaleIsClampedToItsLimits)
{
    const QuantSpec spec { 8, false, false };
    EXPECT_NEAR(scaleOffsetFromMinMax(scalar(0.0), scalar(0.0), spec).scale.item<double>(), 1e-5, 1e-12);
    EXPECT_NEAR(scaleOffsetFromMinMax(scalar(-1e9), scalar(1e9), spec).scale.item<double>(), 1e6, 1e-3);
}

TEST(FakeQuant, RejectsBitWidthsOutsideTwoToSixteen)
{
    EXPECT_THROW(scaleOffsetFromMinMax(scalar(0), scalar(1), QuantSpec { 1, false, false }), Error);
    EXPECT_THROW(scaleOffsetFromMinMax(scalar(0), scalar(1), QuantSpec { 17, false, false }), Error);
    EXPECT_NO_THROW(scaleOffsetFromMinMax(scalar(0), scalar(1), QuantSpec { 2, true, false }));
}

TEST(FakeQuant, RoundsHalfToEven)
{
    expectValues(roundSte(vec({ 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 2.4f })), { 0, 2, 2, 0, -2, 2 }, 0.0);
}

TEST(FakeQuant, Asymmetric8BitForward)
{
    // scale 1/16, offset 16, grid [0, 255] = [−1, 14.9375] in float.
    // 0.09375 = 1.5·s → 2 (half to even) → 0.125; 0.15625 = 2.5·s → 2 → 0.125; 0.2 = 3.2·s → 3 → 0.1875;
    // −1.5 → −24 + 16 clamps to 0 → −1; 20 → 320 + 16 clamps to 255 → 14.9375.
    const at::Tensor x = vec({ 0.09375f, 0.15625f, 0.2f, -1.5f, 20.0f, 0.0f });
    expectValues(fakeQuant(x, scalar(0.0625), scalar(16), 0, 255), { 0.125, 0.125, 0.1875, -1.0, 14.9375, 0.0 }, 1e-7);
}

TEST(FakeQuant, Symmetric4BitForward)
{
    // s = 3/7, grid [−8, 7]: 1 → 2.33 → 2; −5 → −11.67 → −12 → −8; 5 → 11.67 → 12 → 7; −3.3 → −7.7 → −8.
    const double s = 3.0 / 7.0;
    const QuantSpec spec { 4, true, false };
    const at::Tensor x = vec({ 1.0f, -5.0f, 5.0f, -3.3f, 0.0f });
    expectValues(
        fakeQuant(x, scalar(s), scalar(0), spec.qmin(), spec.qmax()), { 2 * s, -8 * s, 7 * s, -8 * s, 0 }, 1e-6);
}

TEST(FakeQuant, PerChannelUsesEachOutputRowsRange)
{
    // Row 0: [−1, 14.9375] → s 1/16, o 16: 0.3 = 4.8·s → 5 → 0.3125.
    // Row 1: [0, 7.96875] → s 1/32, o 0: 0.7 = 22.4·s → 22 → 0.6875.
    const at::Tensor w = vec({ -1.0f, 0.3f, 14.9375f, 0.0f, 0.7f, 7.96875f }).reshape({ 2, 3 });
    expectValues(
        fakeQuantMinMax(w, QuantSpec { 8, false, true }), { -1.0, 0.3125, 14.9375, 0.0, 0.6875, 7.96875 }, 1e-7);
    // Per tensor, row 1 shares row 0's grid: 0.7 = 11.2·s → 11 → 0.6875 too, but 7.96875 = 127.5·s → 128 → 8.0.
    expectValues(fakeQuantMinMax(w, QuantSpec { 8, false, false }).narrow(0, 1, 1), { 0.0, 0.6875, 8.0 }, 1e-7);
    // Disabled: identity.
    EXPECT_TRUE(fakeQuantMinMax(w, QuantSpec { 32, false, true }).equal(w));
}

namespace {

struct Grads
{
    double dx, dscale, doffset;
};

Grads gradsAt(double xv, double sv, double ov, int64_t qmin, int64_t qmax)
{
    at::Tensor x = scalar(xv).requires_grad_(true);
    at::Tensor s = scalar(sv).requires_grad_(true);
    at::Tensor o = scalar(ov).requires_grad_(true);
    fakeQuant(x, s, o, qmin, qmax).backward();
    return { x.grad().item<double>(), s.grad().item<double>(), o.grad().item<double>() };
}

} // namespace

TEST(FakeQuant, GradientsInsideTheRange)
{
    // s = 0.1, fractional learned offset 3.4, grid [0, 15]. x = 0.57: x/s = 5.7 → 6 + 3.4 = 9.4 inside.
    // Closed forms (§1.1): dx = 1, dscale = round(x/s) − x/s = 0.3, doffset = 0.
    const Grads g = gradsAt(0.57, 0.1, 3.4, 0, 15);
    EXPECT_NEAR(g.dx, 1.0, 1e-6);
    EXPECT_NEAR(g.dscale, 0.3, 1e-5);
    EXPECT_NEAR(g.doffset, 0.0, 1e-6);
}

TEST(FakeQuant, GradientsWhenClippedAbove)
{
    // x = 2: 20 + 3.4 > 15. dx = 0, dscale = qmax − o = 11.6, doffset = −s.
    const Grads g = gradsAt(2.0, 0.1, 3.4, 0, 15);
    EXPECT_NEAR(g.dx, 0.0, 1e-7);
    EXPECT_NEAR(g.dscale, 11.6, 1e-5);
    EXPECT_NEAR(g.doffset, -0.1, 1e-6);
}

TEST(FakeQuant, GradientsWhenClippedBelow)
{
    // x = −0.6: −6 + 3.4 < 0. dx = 0, dscale = qmin − o = −3.4, doffset = −s.
    const Grads g = gradsAt(-0.6, 0.1, 3.4, 0, 15);
    EXPECT_NEAR(g.dx, 0.0, 1e-7);
    EXPECT_NEAR(g.dscale, -3.4, 1e-5);
    EXPECT_NEAR(g.doffset, -0.1, 1e-6);
}

TEST(FakeQuant, SymmetricGradientsWhenClippedBelow)
{
    // 4-bit sym grid [−8, 7], s = 0.5, o = 0: x = −5 → −10 clamps to −8: dscale = −8, doffset = −0.5.
    const Grads g = gradsAt(-5.0, 0.5, 0.0, -8, 7);
    EXPECT_NEAR(g.dx, 0.0, 1e-7);
    EXPECT_NEAR(g.dscale, -8.0, 1e-6);
    EXPECT_NEAR(g.doffset, -0.5, 1e-6);
}

TEST(FakeQuant, WeightRangeGradientReachesTheWeight)
{
    // Through min/max (as LWC needs): the max element's gradient includes the scale path, so it
    // is not the plain straight-through 1 of an interior element.
    at::Tensor w = vec({ -1.0f, 0.3f, 2.0f }).requires_grad_(true);
    fakeQuantMinMax(w, QuantSpec { 4, false, false }).sum().backward();
    ASSERT_TRUE(w.grad().defined());
    EXPECT_TRUE(at::isfinite(w.grad()).all().item<bool>());
}
