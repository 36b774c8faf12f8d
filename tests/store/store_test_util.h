#pragma once

#include "core/store/run_types.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

namespace mq::test {

// A fresh folder per test, removed afterwards.
class TempDir
{
public:
    TempDir()
    {
        const auto *info = ::testing::UnitTest::GetInstance()->current_test_info();
        m_path = std::filesystem::temp_directory_path()
            / ("mq_store_" + std::string(info->test_suite_name()) + "_" + info->name() + "_"
                + std::to_string(::getpid()));
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() { std::filesystem::remove_all(m_path); }
    std::string file(const std::string &name) const { return (m_path / name).string(); }

private:
    std::filesystem::path m_path;
};

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
