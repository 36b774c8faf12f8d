#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mq {

// The quantization sites of a decoder layer (mobilequant-method.md §1.3–1.4). Each is a named
// probe point in the forward pass: `layers.<i>.<name>` (e.g. `layers.3.mlp.down.in`). The GUI, the
// run file and the exported package all use these names, so they are part of the file formats:
// append, never renumber or rename.
enum class ActSite : int {
    AttnNormIn,  // residual stream into the attention norm (16-bit)
    AttnNormOut, // norm output = input of q/k/v
    QOut,
    KOut,
    VOut,
    QkIn,  // q after RoPE (input 1 of q·kᵀ)
    QkIn2, // k after RoPE (input 2 of q·kᵀ; what the KV cache holds)
    QkOut, // q·kᵀ before the 1/sqrt(head_dim) scale (softmax input, 16-bit)
    PvIn,  // softmax output (16-bit)
    PvIn2, // v (what the KV cache holds)
    PvOut, // attention output = input of o_proj
    OOut,  // o_proj output, added to the residual (16-bit)
    MlpNormIn,
    MlpNormOut,
    GateOut,  // gate (w1) output = activation input
    ActIn2,   // sigmoid(gate) inside SiLU (SiLU models only)
    ActOut,   // act(gate)
    UpOut,    // up (w3) output
    DownIn,   // act(gate) ⊙ up, input of down (w2)
    DownOut,  // down output, added to the residual (16-bit)
    Count
};

// The weights a layer quantizes (the norm weights at 16 bits).
enum class WeightSite : int { AttnNorm, Q, K, V, O, MlpNorm, Gate, Up, Down, Count };

// Probe points outside the decoder layers. They are observed, not quantized, in simulation
// (the final norm and LM head stay in float, §1.2).
enum class ModelSite : int { FinalNormIn, LmHeadIn, Count };

constexpr int kActSiteCount = int(ActSite::Count);
constexpr int kWeightSiteCount = int(WeightSite::Count);

const char *actSiteName(ActSite s);       // "mlp.down.in"
const char *weightSiteName(WeightSite s); // "mlp.down.weight"
const char *modelSiteName(ModelSite s);   // "final_norm.in"

// Full names: "layers.3.mlp.down.in", "layers.3.mlp.down.weight".
std::string actSiteName(int layer, ActSite s);
std::string weightSiteName(int layer, WeightSite s);

struct ParsedSite
{
    int layer = -1; // -1 for model-level sites
    std::optional<ActSite> act;
    std::optional<WeightSite> weight;
    std::optional<ModelSite> model;
};
// Inverse of the names above; nullopt for a name that is not a site.
std::optional<ParsedSite> parseSiteName(const std::string &name);

// Whether a site exists in a model: ActIn2 only with SiLU (GELU has no separate sigmoid).
bool actSiteExists(ActSite s, bool siluActivation);

// Every site name of a model, in forward order: per layer its activation sites then its weight
// sites, then the model-level sites.
std::vector<std::string> allSiteNames(int numLayers, bool siluActivation);

} // namespace mq
