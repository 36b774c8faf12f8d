#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// The numbers behind the outlier inspector and the site browser's new columns: plain C++ (no Qt),
// so the tree model, the views and the tests share one definition.

namespace mq {

// An outlier channel is one whose max|x| over the snapshot batch exceeds `threshold` times the
// median of max|x| over all channels of the site (LLM.int8 and SmoothQuant describe the same
// few, persistent, very large channels; the median keeps the reference itself unmoved by them).
constexpr double kDefaultOutlierThreshold = 6.0;

struct OutlierChannel
{
    int channel = 0;
    float maxAbs = 0.0f;
    double ratio = 0.0; // maxAbs / median
};

// Median of the finite values (the mean of the two middle ones for an even count); NaN when
// there are none.
double medianOf(const std::vector<float> &values);

// The outlier channels of per-channel max|x| (definition above), largest ratio first (ties: lower
// channel first). Non-finite values are ignored; an empty result when the median is not positive.
std::vector<OutlierChannel> findOutlierChannels(const std::vector<float> &channelMaxAbs,
    double threshold = kDefaultOutlierThreshold);

// Fraction of a histogram's mass outside [fmin, fmax], in [0, 1]. A bin that straddles a bound
// contributes the share of its width beyond the bound (values assumed uniform within a bin).
// edges: bins + 1, ascending; counts: bins. NaN when the histogram is empty or malformed.
double clippedFraction(const std::vector<float> &edges, const std::vector<std::uint64_t> &counts,
    double fmin, double fmax);

// The LET / SmoothQuant pair whose scale divides the channels of an activation site
// (core/quant/let.h, Y = (X S⁻¹)(S W)): "layers.<i>.attn_norm.out" → "layers.<i>.qkv",
// "mlp_norm.out" → "fc1", "attn.pv.out" → "out", "mlp.down.in" → "fc2", "attn.q.out" → "qkt"
// (q rows ÷ s). Empty for a site no pair scales.
std::string letPairOfSite(const std::string &site);
// The inverse: the activation site a pair ("layers.0.qkv") scales; empty for an unknown name.
std::string siteOfLetPair(const std::string &pair);

} // namespace mq
