#pragma once

#include <string>

namespace mq {

// The architecture families the workbench loads. Selected by config.json `model_type` /
// `architectures`; llama2.c checkpoints are Llama.
enum class Arch { Llama, Mistral, Qwen2, Gemma, StableLm };
enum class NormKind { RmsNorm, LayerNorm };
enum class Activation { Silu, Gelu, GeluTanh };

const char *archName(Arch a);
const char *activationName(Activation a);

// Everything the forward pass needs to know about a model, with Hugging Face semantics.
// Plain value type: no LibTorch, safe to copy across threads.
struct ModelConfig
{
    Arch arch = Arch::Llama;
    int hiddenSize = 0;
    int intermediateSize = 0;
    int numLayers = 0;
    int numHeads = 0;
    int numKvHeads = 0;
    int headDim = 0;
    int vocabSize = 0;
    int maxPositions = 2048;

    NormKind norm = NormKind::RmsNorm;
    double normEps = 1e-5;
    // Gemma stores RMSNorm weights as w with y = x̂·(1+w). Loaders add the 1 when reading and
    // writers subtract it, so inside the workbench every norm is y = x̂·w.
    bool normPlusOne = false;

    Activation act = Activation::Silu;
    double ropeTheta = 10000.0;
    double ropeLinearScale = 1.0; // rope_scaling {type: linear, factor}: positions divided by it
    double partialRotaryFactor = 1.0;

    bool qkvBias = false;
    bool oBias = false;
    bool mlpBias = false;
    bool tiedEmbeddings = false;
    double embedScale = 1.0; // Gemma multiplies embeddings by sqrt(hidden_size)
    int slidingWindow = 0;   // 0 = full causal attention

    int bosId = 1;
    int eosId = 2;

    // Written by `mq synth`: random weights in a real model's shapes, for performance work only.
    // Stored as "mq_synthetic" in config.json and shown by every tool that describes the model.
    std::string synthetic;

    int qDim() const { return numHeads * headDim; }
    int kvDim() const { return numKvHeads * headDim; }
    // Rotary dims per head (StableLM rotates only the first partial_rotary_factor·head_dim).
    int rotaryDim() const;
    bool isMultiHead() const { return numKvHeads == numHeads; }

    // Throws mq::Error (prefixed with `source`) when the numbers cannot describe a model.
    void validate(const std::string &source) const;
};

// Parses a Hugging Face config.json. Throws mq::Error naming the file and the key.
ModelConfig readHfConfig(const std::string &configJsonPath);

// The config.json text a Hugging Face loader (and ours) reads back as the same model.
std::string hfConfigJson(const ModelConfig &config);

} // namespace mq
