#pragma once

#include "core/quant/quant_spec.h"

#include <ATen/Tensor.h>

namespace mq {

// The quantizer primitive of MobileQuant (mobilequant-method.md §1.1). Pure functions of tensors,
// differentiable through LibTorch's autograd; call them on the thread that owns the tensors.

// (scale, offset) of a range. Per tensor: 0-dim tensors; per channel: [out, 1] (min/max given
// as [out, 1] or [out]). Gradients reach `scale` (through min/max, as LWC needs); `offset` uses
// a plain round and carries none, as in the reference.
struct ScaleOffset
{
    at::Tensor scale, offset;
};

// asym: scale = (max − min) / (2^b − 1), offset = −round(min / scale);
// sym:  scale = max(|min|, |max|) / (2^(b−1) − 1), offset = 0. Scale clamped to [1e-5, 1e6].
ScaleOffset scaleOffsetFromMinMax(const at::Tensor &min, const at::Tensor &max, const QuantSpec &spec);

// round(v) forward (half to even), identity backward.
at::Tensor roundSte(const at::Tensor &v);

// x̂ = (clamp(round_ste(x / scale) + offset, qmin, qmax) − offset) · scale. The offset is not
// re-rounded (a learned offset is fractional). scale/offset broadcast against x.
at::Tensor fakeQuant(
    const at::Tensor &x, const at::Tensor &scale, const at::Tensor &offset, int64_t qmin, int64_t qmax);

// The weight quantizer of the reference without LWC: range from the tensor's own min/max (per
// tensor, or per output row when spec.perChannel), then fakeQuant. Identity when !spec.quantized().
at::Tensor fakeQuantMinMax(const at::Tensor &x, const QuantSpec &spec);

} // namespace mq
