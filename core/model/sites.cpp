#include "core/model/sites.h"

#include <cstdlib>

namespace mq {

namespace {
constexpr const char *kActNames[kActSiteCount] = {
    "attn_norm.in", "attn_norm.out", "attn.q.out",   "attn.k.out",   "attn.v.out",
    "attn.qk.in",   "attn.qk.in2",   "attn.qk.out",  "attn.pv.in",   "attn.pv.in2",
    "attn.pv.out",  "attn.o.out",    "mlp_norm.in",  "mlp_norm.out", "mlp.gate.out",
    "mlp.act.in2",  "mlp.act.out",   "mlp.up.out",   "mlp.down.in",  "mlp.down.out",
};
constexpr const char *kWeightNames[kWeightSiteCount] = {
    "attn_norm.weight", "attn.q.weight",    "attn.k.weight",   "attn.v.weight",   "attn.o.weight",
    "mlp_norm.weight",  "mlp.gate.weight",  "mlp.up.weight",   "mlp.down.weight",
};
constexpr const char *kModelNames[int(ModelSite::Count)] = {"final_norm.in", "lm_head.in"};
} // namespace

const char *actSiteName(ActSite s) { return kActNames[int(s)]; }
const char *weightSiteName(WeightSite s) { return kWeightNames[int(s)]; }
const char *modelSiteName(ModelSite s) { return kModelNames[int(s)]; }

std::string actSiteName(int layer, ActSite s)
{
    return "layers." + std::to_string(layer) + "." + kActNames[int(s)];
}

std::string weightSiteName(int layer, WeightSite s)
{
    return "layers." + std::to_string(layer) + "." + kWeightNames[int(s)];
}

std::optional<ParsedSite> parseSiteName(const std::string &name)
{
    ParsedSite p;
    for (int i = 0; i < int(ModelSite::Count); ++i)
        if (name == kModelNames[i]) {
            p.model = ModelSite(i);
            return p;
        }
    const std::string prefix = "layers.";
    if (name.compare(0, prefix.size(), prefix) != 0)
        return std::nullopt;
    const size_t dot = name.find('.', prefix.size());
    if (dot == std::string::npos || dot == prefix.size())
        return std::nullopt;
    const std::string num = name.substr(prefix.size(), dot - prefix.size());
    for (char ch : num)
        if (ch < '0' || ch > '9')
            return std::nullopt;
    p.layer = std::atoi(num.c_str());
    const std::string rest = name.substr(dot + 1);
    for (int i = 0; i < kActSiteCount; ++i)
        if (rest == kActNames[i]) {
            p.act = ActSite(i);
            return p;
        }
    for (int i = 0; i < kWeightSiteCount; ++i)
        if (rest == kWeightNames[i]) {
            p.weight = WeightSite(i);
            return p;
        }
    return std::nullopt;
}

bool actSiteExists(ActSite s, bool siluActivation)
{
    return s != ActSite::ActIn2 || siluActivation;
}

std::vector<std::string> allSiteNames(int numLayers, bool siluActivation)
{
    std::vector<std::string> out;
    for (int l = 0; l < numLayers; ++l) {
        for (int i = 0; i < kActSiteCount; ++i)
            if (actSiteExists(ActSite(i), siluActivation))
                out.push_back(actSiteName(l, ActSite(i)));
        for (int i = 0; i < kWeightSiteCount; ++i)
            out.push_back(weightSiteName(l, WeightSite(i)));
    }
    for (const char *n : kModelNames)
        out.emplace_back(n);
    return out;
}

} // namespace mq
