#include "core/calib/layer_checkpoint.h"

#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

namespace mq {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
using LayerFn = std::function<at::Tensor(const at::Tensor &)>;

class CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer>
{
public:
    // The forward of a custom Function runs with gradients off: nothing of the layer is saved
    // but its input.
    static variable_list forward(AutogradContext *ctx, const at::Tensor &x, at::TensorList params, int64_t fn)
    {
        ctx->save_for_backward({x});
        ctx->saved_data["params"] = params.vec();
        ctx->saved_data["fn"] = fn;
        return {(*reinterpret_cast<const LayerFn *>(fn))(x)};
    }

    static variable_list backward(AutogradContext *ctx, variable_list gradOut)
    {
        const at::Tensor x = ctx->get_saved_variables()[0].detach().requires_grad_(true);
        const std::vector<at::Tensor> params = ctx->saved_data["params"].toTensorVector();
        const auto *fn = reinterpret_cast<const LayerFn *>(ctx->saved_data["fn"].toInt());
        at::Tensor out;
        {
            at::AutoGradMode enable(true);
            out = (*fn)(x);
        }
        std::vector<at::Tensor> inputs = {x};
        inputs.insert(inputs.end(), params.begin(), params.end());
        const variable_list grads = torch::autograd::grad({out}, inputs, {gradOut[0]}, false, false, true);
        variable_list result(grads.begin(), grads.end());
        result.emplace_back(); // the function pointer has no gradient
        return result;
    }
};

} // namespace

at::Tensor checkpointedLayer(const LayerFn &layer, const at::Tensor &x, const std::vector<at::Tensor> &params)
{
    return CheckpointedLayer::apply(x, at::TensorList(params), reinterpret_cast<int64_t>(&layer))[0];
}

} // namespace mq
