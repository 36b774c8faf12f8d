#include "core/quant/act_stats.h"

#include "core/util/error.h"

#include <ATen/ATen.h>

namespace mq {

ActStatsCollector::ActStatsCollector()
    : ActStatsCollector([](const std::string &) { return true; })
{
}

ActStatsCollector::ActStatsCollector(SiteFilter filter)
    : m_filter(std::move(filter))
{
}

at::Tensor ActStatsCollector::activation(int layer, ActSite site, const at::Tensor &x)
{
    const std::string name = actSiteName(layer, site);
    if (m_filter(name))
        observe(name, site != ActSite::QkOut && site != ActSite::PvIn, x);
    return x;
}

at::Tensor ActStatsCollector::model(ModelSite site, const at::Tensor &x)
{
    const std::string name = modelSiteName(site);
    if (m_filter(name))
        observe(name, true, x);
    return x;
}

void ActStatsCollector::observe(const std::string &name, bool perChannel, const at::Tensor &xIn)
{
    if (xIn.numel() == 0)
        return;
    const at::Tensor x = xIn.detach().to(at::kFloat);
    const auto [lo, hi] = at::aminmax(x);
    const double mn = lo.item<double>(), mx = hi.item<double>();
    SiteStats &s = m_stats[name];
    s.min = s.calls ? std::min(s.min, mn) : mn;
    s.max = s.calls ? std::max(s.max, mx) : mx;
    if (perChannel) {
        const at::Tensor channel = x.abs().reshape({ -1, x.size(-1) }).amax(0);
        if (!s.channelAbsMax.defined())
            s.channelAbsMax = channel;
        else if (s.channelAbsMax.sizes() != channel.sizes())
            throw Error("site " + name + " changed its channel count between calls ("
                + std::to_string(s.channelAbsMax.size(0)) + " → " + std::to_string(channel.size(0)) + ")");
        else
            s.channelAbsMax = at::maximum(s.channelAbsMax, channel);
    }
    ++s.calls;
}

std::map<std::string, at::Tensor> ActStatsCollector::channelAbsMax() const
{
    std::map<std::string, at::Tensor> out;
    for (const auto &[name, s] : m_stats)
        if (s.channelAbsMax.defined())
            out[name] = s.channelAbsMax;
    return out;
}

std::pair<double, double> ActStatsCollector::initialRange(const std::string &siteName) const
{
    const auto parsed = parseSiteName(siteName);
    if (parsed && parsed->act == ActSite::ActIn2)
        return { 0.0, 1.0 };
    const auto it = m_stats.find(siteName);
    if (it == m_stats.end())
        throw Error("no statistics for site " + siteName + " (it was not observed during calibration)");
    return { it->second.min, it->second.max };
}

} // namespace mq
