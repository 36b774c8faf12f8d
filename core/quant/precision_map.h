#pragma once

#include "core/model/sites.h"
#include "core/quant/quant_spec.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace mq {

// The weight settings of the reference's experiments (mobilequant-method.md §1.3).
enum class WeightPreset {
    W8A8, // per tensor, asymmetric; mlp.down.weight per channel
    W4A8, // per channel, asymmetric
    W4A8Sym, // per channel, symmetric (what QNN deploys)
};
const char *weightPresetName(WeightPreset p); // "W8A8", "W4A8", "W4A8-sym"
std::optional<WeightPreset> parseWeightPreset(const std::string &name);

// Part of a QuantSpec, as an override writes it: the fields it leaves out keep their value.
struct QuantSpecPatch
{
    std::optional<int> bits; // > 16 (or "enabled": false in JSON) = not quantized
    std::optional<bool> symmetric;
    std::optional<bool> perChannel;

    QuantSpec applyTo(QuantSpec spec) const;
};

struct PrecisionOverride
{
    std::string pattern; // a full site name ("layers.3.mlp.down.in") or a glob ("layers.*.attn.qk.out")
    QuantSpecPatch patch;
};

// Which site gets which QuantSpec: one default per site kind (the same for every layer) and
// per-site overrides applied in order (a later match wins). A plain value without LibTorch; the
// GUI edits it and the run file stores it (format: docs/precision-map.md).
class PrecisionMap
{
public:
    PrecisionMap()
        : PrecisionMap(WeightPreset::W4A8Sym)
    {
    }
    explicit PrecisionMap(WeightPreset preset);

    WeightPreset basePreset() const { return m_preset; }
    QuantSpec &actDefault(ActSite s) { return m_act[size_t(s)]; }
    const QuantSpec &actDefault(ActSite s) const { return m_act[size_t(s)]; }
    QuantSpec &weightDefault(WeightSite s) { return m_weight[size_t(s)]; }
    const QuantSpec &weightDefault(WeightSite s) const { return m_weight[size_t(s)]; }
    std::vector<PrecisionOverride> &overrides() { return m_overrides; }
    const std::vector<PrecisionOverride> &overrides() const { return m_overrides; }

    QuantSpec activation(int layer, ActSite s) const;
    QuantSpec weight(int layer, WeightSite s) const;
    // By full site name; model-level sites (final norm, LM head) are never quantized (§1.2).
    // Throws mq::Error for a name that is not a site.
    QuantSpec site(const std::string &name) const;

    // Throw mq::Error prefixed with `source` (a file name) for unknown keys or site names, bit
    // widths outside 2–16 that do not disable the site, and wrong value types.
    static PrecisionMap fromJson(const std::string &text, const std::string &source = "precision map");
    std::string toJson() const;
    static PrecisionMap load(const std::string &path);
    void save(const std::string &path) const;

    bool operator==(const PrecisionMap &o) const;

private:
    QuantSpec apply(const std::string &name, QuantSpec spec) const;

    WeightPreset m_preset;
    std::array<QuantSpec, kActSiteCount> m_act;
    std::array<QuantSpec, kWeightSiteCount> m_weight;
    std::vector<PrecisionOverride> m_overrides;
};

// `*` matches any run of characters (including dots); every other character matches itself.
bool globMatch(const std::string &pattern, const std::string &name);

} // namespace mq
