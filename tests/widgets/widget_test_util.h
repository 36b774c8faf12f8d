#pragma once

#include "../common/temp_dir.h"

#include "core/model/sites.h"
#include "core/store/run_types.h"
#include "core/store/run_writer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

namespace mq::test {

// The activation sites of a 2-layer SiLU model, as the calibration records them, plus the two
// model-level probes.
inline std::vector<std::string> twoLayerSites()
{
    std::vector<std::string> sites;
    for (int layer = 0; layer < 2; ++layer)
        for (int s = 0; s < kActSiteCount; ++s)
            if (actSiteExists(ActSite(s), true))
                sites.push_back(actSiteName(layer, ActSite(s)));
    sites.push_back("final_norm.in");
    sites.push_back("lm_head.in");
    return sites;
}

// W4A8-sym with one override: layers.1.mlp.down.in at 16 bits.
inline const char *kPrecisionMapJson = R"({"format":"mq-precision-map","version":1,"preset":"W4A8-sym",
    "overrides":[{"site":"layers.1.mlp.down.in","bits":16}]})";

// Snapshot k of site i: ranges that widen step by step, different per site.
inline float testFmin(std::size_t site, int k) { return -1.0f - 0.1f * float(site) - 0.05f * float(k); }
inline float testFmax(std::size_t site, int k) { return 2.0f + 0.2f * float(site) + 0.25f * float(k); }

inline RunHeader twoLayerHeader(const std::string &configJson)
{
    RunHeader header;
    header.configJson = configJson;
    header.precisionMapJson = kPrecisionMapJson;
    header.model = { "/models/stories260K", "sha256:0123abcd", "llama" };
    header.lrGroups = { "let", "lwc" };
    header.sites = twoLayerSites();
    return header;
}

inline void appendSnapshot(RunWriter &writer, int k)
{
    const auto n = writer.header().sites.size();
    std::vector<float> fmin(n), fmax(n);
    for (std::size_t i = 0; i < n; ++i) {
        fmin[i] = testFmin(i, k);
        fmax[i] = testFmax(i, k);
    }
    writer.appendRanges(std::int64_t(k) * 10, fmin, fmax);
}

} // namespace mq::test
