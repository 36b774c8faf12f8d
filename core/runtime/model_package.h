#pragma once

#include "core/runtime/package.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// The model schema inside a .mqpkg container (docs/package-format.md, "Model package"): which
// tensors a model package holds, their dtypes and shapes. The exporter (core/export) writes it,
// the executor (executor.h) reads it. The runtime never parses the JSON metadata (a phone build
// has no JSON library): everything it needs is in tensors, the model's numbers in `model.config`.

namespace mq {

enum class ModelVariant : int32_t {
    W8A8 = 0, // 8-bit weights and activations (16-bit residual stream and softmax), from a run
    W4A8 = 1, // 4-bit weights, same activations
    A16 = 2,  // 8-bit per-channel weights, 16-bit activations everywhere
    FP32 = 3, // float weights and arithmetic: the reference
};
const char *modelVariantName(ModelVariant v); // "w8a8", "w4a8", "a16", "fp32"
std::optional<ModelVariant> parseModelVariant(const std::string &name); // case-insensitive

// Schema version of the tensors below (the container has its own format version).
constexpr int32_t kModelSchemaVersion = 1;

enum class TokenizerKind : int32_t { None = 0, Llama2c = 1, SentencePiece = 2, Bpe = 3 };
const char *tokenizerKindName(TokenizerKind k); // "none", "llama2c", "sentencepiece", "bpe"

// Architecture numbers follow core/model's Arch enum order.
const char *modelArchName(int32_t arch); // "llama", "mistral", "qwen2", "gemma", "stablelm"

// The model's numbers, stored as the s32 tensor `model.config` (field order = kConfigFields in
// model_package.cpp) and the f32 tensor `model.config_f32` (norm_eps, embed_scale).
struct ModelPackageConfig
{
    int32_t schema = kModelSchemaVersion;
    ModelVariant variant = ModelVariant::FP32;
    int32_t arch = 0;
    int32_t hidden = 0, inter = 0, layers = 0, heads = 0, kvHeads = 0, headDim = 0, vocab = 0;
    int32_t maxPositions = 0; // the RoPE tables cover positions [0, maxPositions)
    int32_t rotaryDim = 0;
    bool layerNorm = false; // else RMSNorm
    bool normBias = false;  // LayerNorm with bias (StableLM)
    int32_t activation = 0; // 0 SiLU (x·σ(x)), 1 GELU (erf), 2 GELU (tanh)
    bool qkvBias = false, oBias = false, mlpBias = false;
    bool tiedEmbeddings = false; // no `lm_head.weight`: the head is `embed.weight`
    int32_t slidingWindow = 0;
    int32_t bosId = -1, eosId = -1;
    TokenizerKind tokenizer = TokenizerKind::None;
    float normEps = 1e-5f;
    float embedScale = 1.0f;

    bool integer() const { return variant != ModelVariant::FP32; }
    int32_t qDim() const { return heads * headDim; }
    int32_t kvDim() const { return kvHeads * headDim; }

    std::vector<int32_t> toInts() const;
    std::vector<float> toFloats() const;
    // Throws PackageError naming `source` for a short tensor, an unknown variant or schema, or
    // numbers that cannot describe a model.
    static ModelPackageConfig fromTensors(const std::vector<int32_t> &ints, const std::vector<float> &floats,
        const std::string &source);
    void validate(const std::string &source) const;
};

// The activation sites of a decoder layer, in the order and with the names of docs/sites.md
// (core/model/sites.h; the runtime cannot link that LibTorch-side library, a test keeps the two
// lists equal).
enum class RtSite : int {
    AttnNormIn, AttnNormOut, QOut, KOut, VOut, QkIn, QkIn2, QkOut, PvIn, PvIn2, PvOut, OOut,
    MlpNormIn, MlpNormOut, GateOut, ActIn2, ActOut, UpOut, DownIn, DownOut, Count
};
constexpr int kRtSiteCount = int(RtSite::Count);
const char *rtSiteName(RtSite s); // "attn_norm.in"
bool rtSiteExists(RtSite s, int32_t activation); // act.in2 only with SiLU

// The linear layers by their weight-site stem ("attn.q" → "attn.q.weight").
enum class RtLinear : int { Q, K, V, O, Gate, Up, Down, Count };
constexpr int kRtLinearCount = int(RtLinear::Count);
const char *rtLinearName(RtLinear l); // "attn.q"
// Input and output sites of a linear layer and its [out, in] shape.
RtSite rtLinearInput(RtLinear l);
RtSite rtLinearOutput(RtLinear l);
int32_t rtLinearOut(const ModelPackageConfig &c, RtLinear l);
int32_t rtLinearIn(const ModelPackageConfig &c, RtLinear l);
bool rtLinearHasBias(const ModelPackageConfig &c, RtLinear l);

std::string layerTensorName(int layer, const std::string &suffix); // "layers.3." + suffix

// One tensor a package of a given config must hold. A dimension of -1 is "any length" (a
// per-channel-or-per-tensor vector, a table whose length depends on a site's grid); `alternatives`
// lists other dtypes that are also accepted (s8 or packed s4 weights).
struct TensorSpec
{
    std::string name;
    PackageDType dtype;
    std::vector<int64_t> shape;
    std::vector<PackageDType> alternatives;
};
// Every tensor a model package of this config holds (the tokenizer bytes when it has a tokenizer).
std::vector<TensorSpec> modelPackageSpec(const ModelPackageConfig &config);

// Reads and validates `model.config` of an open package. Throws PackageError.
ModelPackageConfig readModelConfig(const Package &package);
// Checks that every tensor of modelPackageSpec exists with its dtype and shape; the error names
// the tensor and what differs. Per-tensor-or-per-channel lengths and table lengths are checked by
// the executor, which knows the grids.
void validateModelPackage(const Package &package, const ModelPackageConfig &config);

} // namespace mq
