#pragma once

#include "core/model/transformer.h"

#include <ATen/Tensor.h>

#include <functional>
#include <map>
#include <string>
#include <utility>

namespace mq {

// Running statistics of one site over every tensor the collector has seen.
struct SiteStats
{
    double min = 0.0, max = 0.0; // per-tensor running min / max (§3.2: the LRL range init)
    // max |x| per channel of the last dimension (§2.4: SmoothQuant's act scales), float32;
    // undefined for the attention-score sites whose last dimension is the key position.
    at::Tensor channelAbsMax;
    int64_t calls = 0;
};

// A SiteHook that observes (returns x unchanged) and accumulates SiteStats for a chosen subset
// of activation sites and model-level probes, keyed by full site name ("layers.3.mlp.down.in",
// "final_norm.in"). Owned and called by the thread that runs the forward.
class ActStatsCollector : public SiteHook
{
public:
    using SiteFilter = std::function<bool(const std::string &siteName)>;

    ActStatsCollector(); // every site
    explicit ActStatsCollector(SiteFilter filter);

    at::Tensor activation(int layer, ActSite site, const at::Tensor &x) override;
    at::Tensor model(ModelSite site, const at::Tensor &x) override;

    const std::map<std::string, SiteStats> &stats() const { return m_stats; }
    // Per-channel max |x| of every observed site that has one (SmoothQuant's input).
    std::map<std::string, at::Tensor> channelAbsMax() const;

    // The [min, max] a quantizer of this site starts from (§3.2): the observed range, except the
    // SiLU sigmoid `mlp.act.in2`, which the reference never records and starts at [0, 1].
    // Throws mq::Error for another site that was never observed.
    std::pair<double, double> initialRange(const std::string &siteName) const;

    void clear() { m_stats.clear(); }

private:
    void observe(const std::string &name, bool perChannel, const at::Tensor &x);

    SiteFilter m_filter;
    std::map<std::string, SiteStats> m_stats;
};

} // namespace mq
