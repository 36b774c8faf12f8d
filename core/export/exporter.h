#pragma once

#include "core/calib/quant_sim.h"
#include "core/calib/session.h"
#include "core/model/model.h"
#include "core/quant/precision_map.h"
#include "core/runtime/model_package.h"

#include <ATen/Tensor.h>

#include <functional>
#include <memory>
#include <string>

// `mq export`: a calibration run → a model package (docs/package-format.md, "Model package") that
// the integer runtime (core/runtime/executor.h, `mq-run`) executes. Runs on the calling thread and
// owns every tensor it creates (LibTorch), like the CLI's other commands.

namespace mq {

// The quantized model of a run as deployment sees it, rebuilt from the run file the way
// `mq eval --run` does (Session::evaluateRun): the float model, the method replayed from the
// run's "learned" checkpoint without training, LET and clipping folded into the weights, the
// learned weight ranges and the activation ranges (offsets rounded, §3.4).
struct Deployment
{
    SessionConfig config;      // the run's settings
    Model model;               // the float checkpoint the run calibrated, with its tokenizer
    PrecisionMap map;          // the run's precision map
    at::Tensor samples;        // the calibration windows [N, T]
    ModelWeights folded;       // LET + clipping folded (QuantSim::fold)
    QuantSim::WeightRanges weightRanges;
    SiteRanges activationRanges;

    // The deployment simulation of Session::work: fixed activation ranges (offsets rounded),
    // fixed learned weight ranges, over Transformer(config, folded).
    std::unique_ptr<QuantSim> simulation() const;
};

// Throws mq::Error for a run file that cannot be read, has no complete "learned" checkpoint,
// whose model is missing or differs from the one calibrated (content hash), or whose calibration
// text is gone.
Deployment rebuildDeployment(const std::string &runPath, const std::function<void(const std::string &)> &stage = {});

// The W4A8 / W8A8 variant the run's precision map calls for.
ModelVariant runVariant(const PrecisionMap &map);

// The A16 baseline of the same float checkpoint: 8-bit asymmetric per-channel weights from their
// own min/max, 16-bit symmetric activations everywhere with ranges from activation statistics
// (min/max) of the float model on the run's calibration windows; norm weights 16-bit as in W8A8.
PrecisionMap a16PrecisionMap();
SiteRanges a16ActivationRanges(const Deployment &d);

struct ExportResult
{
    ModelVariant variant = ModelVariant::FP32;
    std::string path;
    std::string contentHash;
    size_t tensors = 0;
    uint64_t bytes = 0;
};

// Writes the package of `variant` for a rebuilt run. W8A8 / W4A8 must match the run's weight bits.
ExportResult exportPackage(const Deployment &d, ModelVariant variant, const std::string &outPath,
    const std::string &runPath = "");

} // namespace mq
