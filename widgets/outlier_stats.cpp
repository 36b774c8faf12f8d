#include "widgets/outlier_stats.h"

#include "core/model/sites.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace mq {

namespace {

// Activation site suffix ↔ LET pair (core/quant/let.h): the pair's scale divides these channels.
const std::pair<const char *, const char *> kPairSites[] = {
    { "qkv", "attn_norm.out" },
    { "fc1", "mlp_norm.out" },
    { "out", "attn.pv.out" },
    { "fc2", "mlp.down.in" },
    { "qkt", "attn.q.out" },
};

} // namespace

double medianOf(const std::vector<float> &values)
{
    std::vector<double> finite;
    finite.reserve(values.size());
    for (float v : values)
        if (std::isfinite(v))
            finite.push_back(double(v));
    if (finite.empty())
        return std::numeric_limits<double>::quiet_NaN();
    const std::size_t mid = finite.size() / 2;
    std::nth_element(finite.begin(), finite.begin() + std::ptrdiff_t(mid), finite.end());
    const double upper = finite[mid];
    if (finite.size() % 2 == 1)
        return upper;
    const double lower = *std::max_element(finite.begin(), finite.begin() + std::ptrdiff_t(mid));
    return 0.5 * (lower + upper);
}

std::vector<OutlierChannel> findOutlierChannels(const std::vector<float> &channelMaxAbs, double threshold)
{
    std::vector<OutlierChannel> out;
    const double median = medianOf(channelMaxAbs);
    if (!(median > 0.0))
        return out;
    for (std::size_t c = 0; c < channelMaxAbs.size(); ++c) {
        const float v = channelMaxAbs[c];
        if (std::isfinite(v) && double(v) > threshold * median)
            out.push_back({ int(c), v, double(v) / median });
    }
    std::sort(out.begin(), out.end(), [](const OutlierChannel &a, const OutlierChannel &b) {
        return a.ratio != b.ratio ? a.ratio > b.ratio : a.channel < b.channel;
    });
    return out;
}

double clippedFraction(const std::vector<float> &edges, const std::vector<std::uint64_t> &counts, double fmin,
    double fmax)
{
    const double nan = std::numeric_limits<double>::quiet_NaN();
    if (counts.empty() || edges.size() != counts.size() + 1)
        return nan;
    double total = 0.0, clipped = 0.0;
    for (std::size_t b = 0; b < counts.size(); ++b) {
        const double lo = edges[b], hi = edges[b + 1];
        const double n = double(counts[b]);
        total += n;
        if (n == 0.0)
            continue;
        const double width = hi - lo;
        if (!(width > 0.0)) {
            // A degenerate bin: all of its values sit at lo.
            if (lo < fmin || lo > fmax)
                clipped += n;
            continue;
        }
        const double below = std::clamp((fmin - lo) / width, 0.0, 1.0);
        const double above = std::clamp((hi - fmax) / width, 0.0, 1.0);
        clipped += n * std::min(1.0, below + above);
    }
    return total > 0.0 ? clipped / total : nan;
}

std::string letPairOfSite(const std::string &site)
{
    const auto parsed = parseSiteName(site);
    if (!parsed || parsed->layer < 0)
        return {};
    const std::string prefix = "layers." + std::to_string(parsed->layer) + ".";
    if (site.rfind(prefix, 0) != 0)
        return {};
    const std::string local = site.substr(prefix.size());
    for (const auto &[pair, s] : kPairSites)
        if (local == s)
            return prefix + pair;
    return {};
}

std::string siteOfLetPair(const std::string &pair)
{
    const auto dot = pair.rfind('.');
    if (dot == std::string::npos || pair.rfind("layers.", 0) != 0)
        return {};
    const std::string name = pair.substr(dot + 1);
    for (const auto &[p, s] : kPairSites)
        if (name == p)
            return pair.substr(0, dot + 1) + s;
    return {};
}

} // namespace mq
