#pragma once

#include "core/model/model_config.h"
#include "core/model/transformer.h"
#include "core/tokenizer/tokenizer.h"

#include <memory>
#include <string>

namespace mq {

enum class CheckpointFormat { Llama2c, HuggingFace };

struct LoadOptions
{
    std::string tokenizerPath;     // empty: look next to the checkpoint
    bool requireTokenizer = false; // throw when none is found (else Model::tokenizer stays null)
};

// A loaded checkpoint: the float32 transformer, its tokenizer and where it came from.
// Owned by one thread at a time (the CLI's main thread or a calibration session's worker).
struct Model
{
    std::string path;
    CheckpointFormat format = CheckpointFormat::HuggingFace;
    std::unique_ptr<Transformer> transformer;
    std::unique_ptr<Tokenizer> tokenizer;
    std::string tokenizerPath;

    const ModelConfig &config() const { return transformer->config(); }
};

// Loads a llama2.c `.bin` (legacy or version-1 export) or a Hugging Face directory
// (config.json + model.safetensors or a sharded index; F32/F16/BF16 → float32). A llama2.c model's
// q/k rows are permuted from interleaved-pair RoPE to HF's rotate-half, so every model runs the
// same forward. Throws mq::Error naming the file and the tensor for anything wrong.
Model loadModel(const std::string &path, const LoadOptions &options = {});

// Reads only the llama2.c checkpoint (tokenizer not involved).
std::pair<ModelConfig, ModelWeights> readLlama2c(const std::string &path);

// Reads only config.json + safetensors weights of a Hugging Face directory.
std::pair<ModelConfig, ModelWeights> readHuggingFace(const std::string &dir);

// Writes a Hugging Face directory (config.json, model.safetensors or shards) that readHuggingFace
// and the transformers library load as the same function. `dtype` is "F32", "F16" or "BF16".
void writeHuggingFace(const std::string &dir, const ModelConfig &config, const ModelWeights &weights,
                      const std::string &dtype = "F32", size_t maxShardBytes = 0);

// Finds the tokenizer that belongs to a checkpoint path, or "" when there is none:
// HF dir → tokenizer.model, tokenizer.json, tokenizer.bin; llama2.c file → tokenizer.bin or tok*.bin
// beside it.
std::string findTokenizer(const std::string &checkpointPath);

} // namespace mq
