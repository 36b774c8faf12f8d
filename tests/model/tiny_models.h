#pragma once

// Tiny random checkpoints of each supported family, written by the tests themselves as Hugging
// Face directories (config.json in HF's own key names + model.safetensors), and an independent
// float64 forward pass that follows the published HF modelling code of each family directly
// (per-head loops, explicit repeat of K/V heads, explicit masks), to check the workbench's
// forward against.

#include <ATen/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace mq::test {

struct TinyFamily
{
    std::string name;      // "llama", "mistral", "qwen2", "gemma", "stablelm"
    std::string configJson; // exactly what a HF config.json of that family holds
    int layers, hidden, inter, heads, kvHeads, headDim, vocab, rotary;
    bool tied, qkvBias, layerNorm, gemma;
    double eps, theta;
    int slidingWindow;
};

std::vector<TinyFamily> tinyFamilies();

// Random HF-named float tensors for a family (norm weights near 1, or near 0 for Gemma's (1+w)).
std::map<std::string, at::Tensor> tinyTensors(const TinyFamily &f, uint64_t seed);

// Writes config.json + model.safetensors; returns the directory.
std::filesystem::path writeTinyCheckpoint(const std::filesystem::path &dir, const TinyFamily &f,
                                          const std::map<std::string, at::Tensor> &tensors);

// logits [T, vocab] in float64 for one sequence.
at::Tensor referenceLogits(const TinyFamily &f, const std::map<std::string, at::Tensor> &tensors,
                           const std::vector<int64_t> &tokens);

} // namespace mq::test
