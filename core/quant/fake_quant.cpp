#include "core/quant/fake_quant.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

#include <string>

namespace mq {

namespace {

constexpr double kScaleMin = 1e-5; // CLIPMIN / CLIPMAX of qmodule.py
constexpr double kScaleMax = 1e6;

void checkBits(const QuantSpec &spec)
{
    if (spec.bits < kMinQuantBits || spec.bits > kMaxQuantBits)
        throw Error("cannot quantize to " + std::to_string(spec.bits)
            + " bits (supported: " + std::to_string(kMinQuantBits) + "–" + std::to_string(kMaxQuantBits) + ")");
}

} // namespace

ScaleOffset scaleOffsetFromMinMax(const at::Tensor &min, const at::Tensor &max, const QuantSpec &spec)
{
    checkBits(spec);
    if (spec.symmetric) {
        const at::Tensor alpha = at::maximum(min.abs(), max.abs());
        const at::Tensor scale = (alpha / double(spec.qmax())).clamp(kScaleMin, kScaleMax);
        return { scale, at::zeros_like(scale) };
    }
    const at::Tensor scale = ((max - min) / double(spec.qmax())).clamp(kScaleMin, kScaleMax);
    return { scale, -at::round(min.detach() / scale.detach()) };
}

at::Tensor roundSte(const at::Tensor &v)
{
    return (at::round(v) - v).detach() + v;
}

at::Tensor fakeQuant(const at::Tensor &x, const at::Tensor &scale, const at::Tensor &offset, int64_t qmin, int64_t qmax)
{
    const at::Tensor xInt = at::clamp(roundSte(x / scale) + offset, double(qmin), double(qmax));
    return (xInt - offset) * scale;
}

at::Tensor fakeQuantMinMax(const at::Tensor &x, const QuantSpec &spec)
{
    if (!spec.quantized())
        return x;
    at::Tensor lo, hi;
    if (spec.perChannel) {
        if (x.dim() != 2)
            throw Error(
                "per-channel quantization needs a [out, in] weight, got " + std::to_string(x.dim()) + " dimensions");
        lo = x.amin(-1, true);
        hi = x.amax(-1, true);
    } else {
        lo = x.min();
        hi = x.max();
    }
    const ScaleOffset so = scaleOffsetFromMinMax(lo, hi, spec);
    return fakeQuant(x, so.scale, so.offset, spec.qmin(), spec.qmax());
}

} // namespace mq
