#pragma once

#include "core/model/model_config.h"
#include "core/model/weights.h"

#include <string>
#include <vector>

namespace mq {

// One parameter of a model under its Hugging Face name, with the shape the config implies and a
// pointer to where it lives in ModelWeights. Loaders fill through it and writers read through it,
// so the name ↔ field mapping exists exactly once. `lm_head.weight` is listed only when untied.
struct ParamRef
{
    std::string name;
    std::vector<int64_t> shape;
    at::Tensor *tensor = nullptr;
    bool isNormWeight = false; // Gemma stores these minus one
};

// `weights.layers` must already have config.numLayers entries.
std::vector<ParamRef> paramTable(const ModelConfig &config, ModelWeights &weights);

} // namespace mq
