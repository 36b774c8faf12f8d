#pragma once

// A run file (and the same numbers as live SnapshotEvents) holding every group the analysis views
// read: ranges, scales, clipping, weight_ranges, site_stats, outliers and one watched histogram.
// Every number is a simple function of (channel or row, snapshot k), so the tests can compute by
// hand what the plots must hold.

#include "widget_test_util.h"

#include "core/calib/calibration_events.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mq::test {

constexpr std::size_t kHidden = 16; // channels of the watched site and of the qkv/fc1 scales
constexpr std::size_t kRows = 12;   // output rows of the weights
constexpr std::size_t kBins = 10;
inline const std::string kWatched = "layers.0.attn_norm.out";
inline const std::string kPairQkv = "layers.0.qkv";
inline const std::string kPairFc1 = "layers.1.fc1";
inline const std::string kWeightQ = "layers.0.attn.q.weight";  // per-row clipping factors
inline const std::string kWeightK = "layers.0.attn.k.weight";  // one factor for the whole tensor

// The watched site keeps the range [-1.5, 2.5]; the histogram spans [-4, 6] in 10 bins of width 1.
constexpr float kWatchedFmin = -1.5f;
constexpr float kWatchedFmax = 2.5f;
inline std::vector<float> histogramEdges()
{
    std::vector<float> e;
    for (int i = 0; i <= int(kBins); ++i)
        e.push_back(-4.0f + float(i));
    return e;
}
inline std::vector<std::uint64_t> histogramCounts(int k)
{
    const std::uint64_t base[kBins] = { 1, 2, 3, 10, 20, 30, 20, 8, 4, 2 }; // 100 values
    std::vector<std::uint64_t> c;
    for (std::uint64_t b : base)
        c.push_back(b * std::uint64_t(k + 1));
    return c;
}

// max|x| per channel: small and smooth, except channels 3 and 11.
inline float channelMaxAbs(std::size_t c, int k)
{
    if (c == 3)
        return 9.0f + float(k);
    if (c == 11)
        return 20.0f;
    return 1.0f + 0.05f * float(c);
}
inline float letScale(std::size_t c, int k) { return 1.0f + 0.25f * float(c % 4) + 0.1f * float(k); }
inline float weightMin(std::size_t r, int k) { return -0.5f - 0.01f * float(r) - 0.02f * float(k); }
inline float weightMax(std::size_t r, int k) { return 0.4f + 0.02f * float(r) + 0.01f * float(k); }
inline float clipUpper(std::size_t r, int k) { return 0.9f - 0.01f * float(k) - 0.005f * float(r); }
inline float clipLower(std::size_t r, int k) { return 0.8f + 0.01f * float(r) + 0.0f * float(k); }
inline float clipUpperK(int k) { return 0.7f + 0.01f * float(k); }
inline float clipLowerK(int k) { return 0.6f; }
inline float clipRate(std::size_t site, int k) { return 0.001f * float(site) + 0.0001f * float(k); }
inline float sqnrDb(std::size_t site, int k) { return 30.0f + float(site) - float(k); }

inline std::size_t siteColumn(const std::string &site)
{
    const auto sites = twoLayerSites();
    return std::size_t(std::find(sites.begin(), sites.end(), site) - sites.begin());
}

template <class F>
std::vector<float> generate(std::size_t n, F f)
{
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = f(i);
    return v;
}

// Snapshot k as the calibration publishes it (step 10·k).
inline SnapshotEvent viewEvent(int k)
{
    SnapshotEvent e;
    e.step = 10 * k;
    e.sites = twoLayerSites();
    const std::size_t watched = siteColumn(kWatched);
    for (std::size_t i = 0; i < e.sites.size(); ++i) {
        e.fmin.push_back(i == watched ? kWatchedFmin : testFmin(i, k));
        e.fmax.push_back(i == watched ? kWatchedFmax : testFmax(i, k));
        e.clipRate.push_back(clipRate(i, k));
        e.sqnrDb.push_back(sqnrDb(i, k));
    }
    e.letScales[kPairQkv] = generate(kHidden, [&](std::size_t c) { return letScale(c, k); });
    e.letScales[kPairFc1] = generate(kHidden, [&](std::size_t c) { return 2.0f * letScale(c, k); });
    e.clipUpper[kWeightQ] = generate(kRows, [&](std::size_t r) { return clipUpper(r, k); });
    e.clipLower[kWeightQ] = generate(kRows, [&](std::size_t r) { return clipLower(r, k); });
    e.clipUpper[kWeightK] = { clipUpperK(k) };
    e.clipLower[kWeightK] = { clipLowerK(k) };
    for (const std::string &w : { kWeightQ, kWeightK }) {
        const float sign = w == kWeightQ ? 1.0f : 2.0f;
        e.weightMin[w] = generate(kRows, [&](std::size_t r) { return sign * weightMin(r, k); });
        e.weightMax[w] = generate(kRows, [&](std::size_t r) { return sign * weightMax(r, k); });
    }
    e.channelMaxAbs[kWatched] = generate(kHidden, [&](std::size_t c) { return channelMaxAbs(c, k); });
    e.histograms[kWatched] = { histogramEdges(), histogramCounts(k) };
    return e;
}

// What the session's RunRecorder writes for these events (the groups of docs/run-file.md).
inline RunHeader viewHeader(const std::string &configJson)
{
    RunHeader h = twoLayerHeader(configJson);
    const SnapshotEvent e = viewEvent(0);
    auto group = [](const std::string &name, const std::map<std::string, std::vector<float>> &series) {
        VectorGroupSpec g { name, "1", {} };
        for (const auto &[k, v] : series)
            g.series.push_back({ k, v.size() });
        return g;
    };
    h.vectorGroups.push_back(group("scales", e.letScales));
    std::map<std::string, std::vector<float>> clipping, weights;
    for (const auto &[k, v] : e.clipUpper)
        clipping[k + ".upper"] = v;
    for (const auto &[k, v] : e.clipLower)
        clipping[k + ".lower"] = v;
    for (const auto &[k, v] : e.weightMin)
        weights[k + ".min"] = v;
    for (const auto &[k, v] : e.weightMax)
        weights[k + ".max"] = v;
    h.vectorGroups.push_back(group("clipping", clipping));
    h.vectorGroups.push_back(group("weight_ranges", weights));
    h.vectorGroups.push_back(group("site_stats", { { "clip_rate", e.clipRate }, { "sqnr_db", e.sqnrDb } }));
    h.vectorGroups.push_back(group("outliers", e.channelMaxAbs));
    h.histograms.push_back({ kWatched, kBins });
    return h;
}

inline void appendViewSnapshot(RunWriter &w, int k)
{
    const SnapshotEvent e = viewEvent(k);
    w.appendRanges(e.step, e.fmin, e.fmax);
    w.appendVectors("scales", e.step, e.letScales);
    std::map<std::string, std::vector<float>> clipping, weights;
    for (const auto &[n, v] : e.clipUpper)
        clipping[n + ".upper"] = v;
    for (const auto &[n, v] : e.clipLower)
        clipping[n + ".lower"] = v;
    for (const auto &[n, v] : e.weightMin)
        weights[n + ".min"] = v;
    for (const auto &[n, v] : e.weightMax)
        weights[n + ".max"] = v;
    w.appendVectors("clipping", e.step, clipping);
    w.appendVectors("weight_ranges", e.step, weights);
    w.appendVectors("site_stats", e.step, { { "clip_rate", e.clipRate }, { "sqnr_db", e.sqnrDb } });
    w.appendVectors("outliers", e.step, e.channelMaxAbs);
    w.appendHistogram(kWatched, e.step, e.histograms.at(kWatched).edges, e.histograms.at(kWatched).counts);
}

// A run of `snapshots` snapshots and `steps` training steps (loss 1/(s+1)), with a perplexity
// evaluation when given.
inline void writeViewRun(const std::string &path, const std::string &configJson, int snapshots, int steps,
    std::optional<std::pair<double, double>> fpAndQuantPpl = std::nullopt)
{
    auto writer = RunWriter::create(path, viewHeader(configJson));
    for (int s = 0; s < steps; ++s)
        writer.appendStep(s, 1.0 / double(s + 1), 0.1 * s, { { "let", 1e-3 }, { "lwc", 5e-3 } });
    for (int k = 0; k < snapshots; ++k)
        appendViewSnapshot(writer, k);
    if (fpAndQuantPpl)
        writer.writeEval("perplexity", R"({"fp_perplexity":)" + std::to_string(fpAndQuantPpl->first)
                + R"(,"quant_perplexity":)" + std::to_string(fpAndQuantPpl->second) + "}");
    writer.close();
}

} // namespace mq::test
