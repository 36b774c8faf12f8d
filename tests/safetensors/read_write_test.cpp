// Reading files built byte by byte in the test, and writer -> reader round trips whose results
// are checked against the input values within each format's precision.

#include "core/safetensors/safetensors.h"
#include "tests/safetensors/test_files.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace {

using mq::DType;
using mq::SafetensorsCheckpoint;
using mq::test::Bytes;
using mq::test::ScratchDir;

std::vector<float> randomValues(size_t n, float scale, unsigned seed)
{
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(0.0f, scale);
    std::vector<float> v(n);
    for (auto &x : v)
        x = dist(rng);
    return v;
}

void expectSameBits(const std::vector<float> &actual, const std::vector<float> &expected)
{
    ASSERT_EQ(actual.size(), expected.size());
    EXPECT_EQ(std::memcmp(actual.data(), expected.data(), expected.size() * sizeof(float)), 0);
}

TEST(SafetensorsRead, HandWrittenFileWithUnalignedDataSection)
{
    ScratchDir dir;
    // Entries deliberately out of name and offset order; no padding, so the data section starts
    // at an odd address and every typed read is unaligned.
    std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                         R"("h":{"dtype":"F16","shape":[3],"data_offsets":[8,14]},)"
                         R"("__metadata__":{"format":"pt","source":"hand"},)"
                         R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[14,18]},)"
                         R"("i":{"dtype":"I32","shape":[1,1],"data_offsets":[26,30]},)"
                         R"("d":{"dtype":"F64","shape":[1],"data_offsets":[18,26]},)"
                         R"("e":{"dtype":"F32","shape":[0,3],"data_offsets":[30,30]}})";
    while ((8 + header.size()) % 8 != 3)
        header += ' ';
    Bytes data;
    mq::test::appendLE(data, 0x3FC00000u, 4); // 1.5f
    mq::test::appendLE(data, 0xBE800000u, 4); // -0.25f
    mq::test::appendLE(data, 0x3C00, 2);      // half 1.0
    mq::test::appendLE(data, 0xC000, 2);      // half -2.0
    mq::test::appendLE(data, 0x0001, 2);      // half 2^-24, the smallest subnormal
    mq::test::appendLE(data, 0x3F80, 2);      // bfloat16 1.0
    mq::test::appendLE(data, 0xC049, 2);      // bfloat16 -3.140625
    mq::test::appendLE(data, 0x3FB999999999999Aull, 8); // double 0.1
    mq::test::appendLE(data, 0xFFFFFFF9u, 4);           // int32 -7
    const std::string path = dir.file("hand.safetensors");
    mq::test::writeSafetensorsBytes(path, header, data);

    const auto ckpt = SafetensorsCheckpoint::open(path);
    EXPECT_EQ(ckpt.names(), (std::vector<std::string>{"b", "d", "e", "h", "i", "w"}));
    EXPECT_EQ(ckpt.metadata(), (std::map<std::string, std::string>{{"format", "pt"}, {"source", "hand"}}));
    EXPECT_TRUE(ckpt.contains("w"));
    EXPECT_FALSE(ckpt.contains("x"));

    EXPECT_EQ(ckpt.readFloat32("w"), (std::vector<float>{1.5f, -0.25f}));
    EXPECT_EQ(ckpt.readFloat32("h"), (std::vector<float>{1.0f, -2.0f, std::ldexp(1.0f, -24)}));
    EXPECT_EQ(ckpt.readFloat32("b"), (std::vector<float>{1.0f, -3.140625f}));
    EXPECT_EQ(ckpt.readFloat32("d"), (std::vector<float>{0.1f}));
    EXPECT_TRUE(ckpt.readFloat32("e").empty());

    const mq::TensorInfo &i = ckpt.info("i");
    EXPECT_EQ(i.dtype, DType::I32);
    EXPECT_EQ(i.shape, (std::vector<int64_t>{1, 1}));
    EXPECT_EQ(i.begin, 26u);
    EXPECT_EQ(i.end, 30u);
    EXPECT_EQ(i.numel(), 1);
    EXPECT_EQ(i.file, path);
    EXPECT_EQ(ckpt.info("e").numel(), 0);
    EXPECT_EQ(ckpt.info("h").dtype, DType::F16);
}

TEST(SafetensorsRead, DTypeNamesAndSizesFollowTheSpec)
{
    const std::pair<DType, std::pair<const char *, size_t>> expected[] = {
        {DType::F64, {"F64", 8}}, {DType::F32, {"F32", 4}}, {DType::F16, {"F16", 2}}, {DType::BF16, {"BF16", 2}},
        {DType::I64, {"I64", 8}}, {DType::I32, {"I32", 4}}, {DType::I16, {"I16", 2}}, {DType::I8, {"I8", 1}},
        {DType::U8, {"U8", 1}},   {DType::Bool, {"BOOL", 1}},
    };
    for (const auto &[dtype, nameSize] : expected) {
        EXPECT_STREQ(mq::dtypeName(dtype), nameSize.first);
        EXPECT_EQ(mq::dtypeSize(dtype), nameSize.second);
    }
}

TEST(SafetensorsWrite, F32RoundTripIsExact)
{
    ScratchDir dir;
    std::vector<float> values = randomValues(15, 3.0f, 1);
    values[0] = -0.0f;
    values[1] = std::numeric_limits<float>::denorm_min();
    values[2] = std::numeric_limits<float>::infinity();
    values[3] = std::numeric_limits<float>::max();
    const std::string path = dir.file("f32.safetensors");
    mq::writeSafetensors(path, {{"x", {3, 5}, values.data(), DType::F32}});

    const auto ckpt = SafetensorsCheckpoint::open(path);
    EXPECT_EQ(ckpt.info("x").shape, (std::vector<int64_t>{3, 5}));
    EXPECT_EQ(ckpt.info("x").dtype, DType::F32);
    expectSameBits(ckpt.readFloat32("x"), values);
}

TEST(SafetensorsWrite, F16RoundTripWithinHalfPrecision)
{
    ScratchDir dir;
    std::vector<float> values = randomValues(1000, 20.0f, 2);
    values.push_back(std::numeric_limits<float>::infinity());
    values.push_back(std::numeric_limits<float>::quiet_NaN());
    values.push_back(1e-6f); // subnormal in half
    const std::string path = dir.file("f16.safetensors");
    mq::writeSafetensors(path, {{"x", {int64_t(values.size())}, values.data(), DType::F16}});

    const auto back = SafetensorsCheckpoint::open(path).readFloat32("x");
    ASSERT_EQ(back.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        const float v = values[i];
        if (std::isnan(v)) {
            EXPECT_TRUE(std::isnan(back[i]));
        } else if (std::isinf(v)) {
            EXPECT_EQ(back[i], v);
        } else if (std::fabs(v) >= std::ldexp(1.0f, -14)) {
            EXPECT_LE(std::fabs(back[i] - v), std::fabs(v) * std::ldexp(1.0f, -11)) << "at " << i;
        } else {
            EXPECT_LE(std::fabs(back[i] - v), std::ldexp(1.0f, -25)) << "at " << i; // half a subnormal step
        }
    }
}

TEST(SafetensorsWrite, BF16RoundTripWithinBFloat16Precision)
{
    ScratchDir dir;
    std::vector<float> values = randomValues(1000, 1e6f, 3);
    values.push_back(1e30f); // far beyond the half range, fine for bfloat16
    values.push_back(-std::numeric_limits<float>::infinity());
    values.push_back(std::numeric_limits<float>::quiet_NaN());
    const std::string path = dir.file("bf16.safetensors");
    mq::writeSafetensors(path, {{"x", {int64_t(values.size())}, values.data(), DType::BF16}});

    const auto back = SafetensorsCheckpoint::open(path).readFloat32("x");
    ASSERT_EQ(back.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
        const float v = values[i];
        if (std::isnan(v))
            EXPECT_TRUE(std::isnan(back[i]));
        else if (std::isinf(v))
            EXPECT_EQ(back[i], v);
        else
            EXPECT_LE(std::fabs(back[i] - v), std::fabs(v) * std::ldexp(1.0f, -8)) << "at " << i;
    }
}

TEST(SafetensorsWrite, FileLayoutFollowsTheSpec)
{
    ScratchDir dir;
    const float b[] = {1.0f, 65504.0f, -2.0f};
    const float a[] = {0.5f, -1.0f};
    const float c[] = {1.0f};
    const std::string path = dir.file("layout.safetensors");
    // Given out of order: the file must list and store them sorted by name.
    mq::writeSafetensors(path, {{"b", {3}, b, DType::F16}, {"c", {1}, c, DType::BF16}, {"a", {2, 1}, a, DType::F32}},
                         {{"format", "pt"}});
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

    const Bytes bytes = mq::test::readBytes(path);
    ASSERT_GE(bytes.size(), 8u);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | bytes[size_t(i)];
    EXPECT_EQ((8 + n) % 8, 0u) << "data section not 8-byte aligned";
    const std::string text(bytes.begin() + 8, bytes.begin() + 8 + long(n));
    const auto header = nlohmann::json::parse(text);
    EXPECT_EQ(header["__metadata__"], nlohmann::json({{"format", "pt"}}));
    EXPECT_EQ(header["a"]["dtype"], "F32");
    EXPECT_EQ(header["a"]["shape"], nlohmann::json({2, 1}));
    EXPECT_EQ(header["a"]["data_offsets"], nlohmann::json({0, 8}));
    EXPECT_EQ(header["b"]["dtype"], "F16");
    EXPECT_EQ(header["b"]["data_offsets"], nlohmann::json({8, 14}));
    EXPECT_EQ(header["c"]["dtype"], "BF16");
    EXPECT_EQ(header["c"]["data_offsets"], nlohmann::json({14, 16}));
    ASSERT_EQ(bytes.size(), 8 + n + 16);

    const Bytes data(bytes.begin() + 8 + long(n), bytes.end());
    const Bytes expected = {
        0x00, 0x00, 0x00, 0x3F, 0x00, 0x00, 0x80, 0xBF, // F32 0.5, -1.0
        0x00, 0x3C, 0xFF, 0x7B, 0x00, 0xC0,             // F16 1.0, 65504, -2.0
        0x80, 0x3F,                                     // BF16 1.0
    };
    EXPECT_EQ(data, expected);
}

TEST(SafetensorsWrite, OverwritesAnExistingFile)
{
    ScratchDir dir;
    const std::string path = dir.file("m.safetensors");
    const float one[] = {1.0f};
    const float two[] = {2.0f, 3.0f};
    mq::writeSafetensors(path, {{"old", {1}, one, DType::F32}});
    mq::writeSafetensors(path, {{"new", {2}, two, DType::F32}});
    const auto ckpt = SafetensorsCheckpoint::open(path);
    EXPECT_EQ(ckpt.names(), std::vector<std::string>{"new"});
    EXPECT_EQ(ckpt.readFloat32("new"), (std::vector<float>{2.0f, 3.0f}));
}

TEST(SafetensorsWrite, RejectsAnIntegerDType)
{
    ScratchDir dir;
    const float v[] = {1.0f};
    const std::string path = dir.file("bad.safetensors");
    const std::string msg = mq::test::errorMessage([&] { mq::writeSafetensors(path, {{"t", {1}, v, DType::I8}}); });
    mq::test::expectMentions(msg, {path, "'t'", "I8"});
    EXPECT_FALSE(std::filesystem::exists(path));
}

class SafetensorsSharded : public ::testing::Test
{
protected:
    // Five 256-byte tensors; at most 600 bytes a shard packs them 2 + 2 + 1.
    void SetUp() override
    {
        for (int k = 0; k < 5; ++k)
            m_values.push_back(randomValues(64, 1.0f, 10 + unsigned(k)));
        for (int k = 4; k >= 0; --k)
            m_tensors.push_back({"layer." + std::to_string(k) + ".weight", {8, 8}, m_values[size_t(k)].data(), DType::F32});
    }

    void expectAllTensors(const SafetensorsCheckpoint &ckpt) const
    {
        ASSERT_EQ(ckpt.names().size(), 5u);
        for (int k = 0; k < 5; ++k) {
            const std::string name = "layer." + std::to_string(k) + ".weight";
            expectSameBits(ckpt.readFloat32(name), m_values[size_t(k)]);
            EXPECT_EQ(ckpt.info(name).shape, (std::vector<int64_t>{8, 8}));
        }
        EXPECT_EQ(ckpt.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
    }

    ScratchDir m_dir;
    std::vector<std::vector<float>> m_values;
    std::vector<mq::TensorToWrite> m_tensors;
};

TEST_F(SafetensorsSharded, WritesShardsAndAnIndex)
{
    mq::writeSafetensorsSharded(m_dir.path(), m_tensors, 600, {{"format", "pt"}});
    for (const char *shard : {"model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors",
                              "model-00003-of-00003.safetensors"})
        EXPECT_TRUE(std::filesystem::exists(m_dir.file(shard))) << shard;
    EXPECT_FALSE(std::filesystem::exists(m_dir.file("model.safetensors")));

    std::ifstream in(m_dir.file("model.safetensors.index.json"));
    const auto index = nlohmann::json::parse(in);
    EXPECT_EQ(index["metadata"]["total_size"], 5 * 256);
    EXPECT_EQ(index["weight_map"], nlohmann::json({{"layer.0.weight", "model-00001-of-00003.safetensors"},
                                                   {"layer.1.weight", "model-00001-of-00003.safetensors"},
                                                   {"layer.2.weight", "model-00002-of-00003.safetensors"},
                                                   {"layer.3.weight", "model-00002-of-00003.safetensors"},
                                                   {"layer.4.weight", "model-00003-of-00003.safetensors"}}));
}

TEST_F(SafetensorsSharded, OpensThroughTheDirectory)
{
    mq::writeSafetensorsSharded(m_dir.path(), m_tensors, 600, {{"format", "pt"}});
    const auto ckpt = SafetensorsCheckpoint::open(m_dir.path());
    expectAllTensors(ckpt);
    EXPECT_EQ(ckpt.info("layer.4.weight").file, m_dir.file("model-00003-of-00003.safetensors"));
}

TEST_F(SafetensorsSharded, OpensThroughTheIndexFile)
{
    mq::writeSafetensorsSharded(m_dir.path(), m_tensors, 600, {{"format", "pt"}});
    expectAllTensors(SafetensorsCheckpoint::open(m_dir.file("model.safetensors.index.json")));
}

TEST_F(SafetensorsSharded, OneShardIsASingleFileWithoutIndex)
{
    mq::writeSafetensorsSharded(m_dir.path(), m_tensors, 1 << 20, {{"format", "pt"}});
    EXPECT_TRUE(std::filesystem::exists(m_dir.file("model.safetensors")));
    EXPECT_FALSE(std::filesystem::exists(m_dir.file("model.safetensors.index.json")));
    expectAllTensors(SafetensorsCheckpoint::open(m_dir.path()));
}

TEST_F(SafetensorsSharded, TensorLargerThanAShardGetsItsOwn)
{
    mq::writeSafetensorsSharded(m_dir.path(), m_tensors, 100, {{"format", "pt"}});
    EXPECT_TRUE(std::filesystem::exists(m_dir.file("model-00005-of-00005.safetensors")));
    expectAllTensors(SafetensorsCheckpoint::open(m_dir.path()));
}

} // namespace
