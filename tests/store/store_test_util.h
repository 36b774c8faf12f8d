#pragma once

#include "../common/temp_dir.h"

#include "core/store/run_types.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

namespace mq::test {

inline RunHeader sampleHeader()
{
    RunHeader header;
    header.configJson = R"({"method":"mobilequant","w_bits":4,"a_bits":8,"lr":{"let":0.001}})";
    header.precisionMapJson = R"({"default":{"w":4,"a":8}})";
    header.model = { "/models/stories260K", "sha256:0123abcd", "llama" };
    header.lrGroups = { "let", "lwc", "lrl" };
    header.sites = { "layers.0.attn.qkv.in", "layers.0.mlp.down.in", "layers.1.mlp.down.in" };
    header.vectorGroups = { { "scales", "1", { { "layers.0.qkv", 4 }, { "layers.0.up", 2 } } },
        { "clipping", "1", { { "layers.0.attn.q.weight", 3 }, { "layers.0.mlp.down.weight", 1 } } } };
    header.histograms = { { "layers.0.mlp.down.in", 4 } };
    header.checkpoints = { { "latest", { { "let.layers.0.qkv", { 4 } }, { "lwc.layers.0.q", { 3, 2 } } } } };
    return header;
}

} // namespace mq::test
