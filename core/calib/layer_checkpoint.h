#pragma once

#include <ATen/Tensor.h>

#include <functional>
#include <vector>

namespace mq {

// Activation checkpointing for one decoder layer: runs `layer(x)` without keeping its
// intermediate tensors and recomputes them during the backward pass, so memory for training
// through all layers grows with the layer inputs only. `params` are the trainable leaves `layer`
// reads (that layer's LET, LWC and LRL tensors); their gradients equal those of the plain call.
// `layer` must be deterministic and must stay alive until backward() has run.
at::Tensor checkpointedLayer(const std::function<at::Tensor(const at::Tensor &)> &layer, const at::Tensor &x,
                             const std::vector<at::Tensor> &params);

} // namespace mq
