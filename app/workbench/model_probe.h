#pragma once

#include "core/model/model_config.h"

#include <string>
#include <vector>

namespace mq {

// What the window shows of a checkpoint before any calibration: its config, its tokenizer and
// the activation sites the run will record. Read without LibTorch (the session loads the model
// itself, on its worker thread).
struct ModelProbe
{
    std::string path;
    std::string format; // "llama2.c" or "Hugging Face"
    ModelConfig config;
    std::string tokenizerPath; // empty when none was found beside the checkpoint
    std::vector<std::string> activationSites; // per layer in forward order, then the model-level sites

    // Reads a llama2.c .bin header or a Hugging Face directory's config.json. Throws mq::Error
    // naming the file and what is wrong with it.
    static ModelProbe read(const std::string &path);
};

// The tokenizer that belongs to a checkpoint, found as the loader finds it (core/model/model.h,
// findTokenizer): HF dir → tokenizer.model, tokenizer.json, tokenizer.bin; llama2.c file →
// tokenizer.bin or tok*.bin beside it. Empty when there is none.
std::string tokenizerBeside(const std::string &checkpointPath);

} // namespace mq
