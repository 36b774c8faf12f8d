// Corrupt and inconsistent checkpoints, one case per test: each must raise mq::Error whose
// message names the file (and the tensor where one is involved) so a person can act on it.

#include "core/safetensors/safetensors.h"
#include "tests/safetensors/test_files.h"

#include <gtest/gtest.h>

namespace {

using mq::SafetensorsCheckpoint;
using mq::test::Bytes;
using mq::test::errorMessage;
using mq::test::expectMentions;

class SafetensorsBadInput : public ::testing::Test
{
protected:
    std::string write(const std::string &name, const std::string &header, size_t dataBytes)
    {
        const std::string path = m_dir.file(name);
        mq::test::writeSafetensorsBytes(path, header, Bytes(dataBytes, 0));
        return path;
    }

    std::string openError(const std::string &path)
    {
        return errorMessage([&] { SafetensorsCheckpoint::open(path); });
    }

    static std::string entry(const std::string &name, const std::string &dtype, const std::string &shape,
                             uint64_t begin, uint64_t end)
    {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" +
               std::to_string(begin) + "," + std::to_string(end) + "]}";
    }

    mq::test::ScratchDir m_dir;
};

TEST_F(SafetensorsBadInput, FileShorterThanEightBytes)
{
    const std::string path = m_dir.file("short.safetensors");
    mq::test::writeBytes(path, {1, 2, 3, 4, 5});
    expectMentions(openError(path), {path, "5 bytes"});
}

TEST_F(SafetensorsBadInput, HeaderSizeLargerThanFile)
{
    const std::string path = m_dir.file("truncated.safetensors");
    Bytes bytes;
    mq::test::appendLE(bytes, 1000, 8);
    mq::test::appendText(bytes, "{}");
    mq::test::writeBytes(path, bytes);
    expectMentions(openError(path), {path, "1000"});
}

TEST_F(SafetensorsBadInput, HeaderSizeAboveTheLimit)
{
    const std::string path = m_dir.file("huge.safetensors");
    Bytes bytes;
    mq::test::appendLE(bytes, 200'000'000, 8);
    mq::test::appendText(bytes, "{}");
    mq::test::writeBytes(path, bytes);
    expectMentions(openError(path), {path, "100 MB"});
}

TEST_F(SafetensorsBadInput, HeaderNotJson)
{
    const std::string path = write("garbage.safetensors", "{\"a\": not json", 0);
    expectMentions(openError(path), {path, "not valid JSON"});
}

TEST_F(SafetensorsBadInput, HeaderJsonNotAnObject)
{
    const std::string path = write("array.safetensors", "[1, 2, 3]", 0);
    expectMentions(openError(path), {path, "array", "not an object"});
}

TEST_F(SafetensorsBadInput, UnknownDType)
{
    const std::string path = write("f8.safetensors", "{" + entry("model.embed.weight", "F8", "[4]", 0, 4) + "}", 4);
    expectMentions(openError(path), {path, "'model.embed.weight'", "F8"});
}

TEST_F(SafetensorsBadInput, NegativeShapeEntry)
{
    const std::string path = write("neg.safetensors", "{" + entry("w", "F32", "[-1,4]", 0, 16) + "}", 16);
    expectMentions(openError(path), {path, "'w'", "[-1,4]", "non-negative"});
}

TEST_F(SafetensorsBadInput, DataOffsetsOutsideTheDataSection)
{
    const std::string path =
        write("lies.safetensors", "{" + entry("model.layers.0.mlp.up_proj.weight", "F32", "[16]", 0, 64) + "}", 16);
    expectMentions(openError(path),
                   {path, "'model.layers.0.mlp.up_proj.weight'", "claims bytes 0..64", "only 16 bytes"});
}

TEST_F(SafetensorsBadInput, ByteCountDiffersFromShape)
{
    const std::string path = write("size.safetensors", "{" + entry("w", "F32", "[4]", 0, 8) + "}", 8);
    expectMentions(openError(path), {path, "'w'", "8 bytes", "needs 16"});
}

TEST_F(SafetensorsBadInput, OverlappingTensors)
{
    const std::string path = write("overlap.safetensors",
                                   "{" + entry("a", "F32", "[4]", 0, 16) + "," + entry("b", "F32", "[4]", 8, 24) + "}", 24);
    expectMentions(openError(path), {path, "'a'", "'b'", "overlap"});
}

TEST_F(SafetensorsBadInput, ReadFloat32OfAnIntegerTensor)
{
    const std::string path = write("ints.safetensors", "{" + entry("ids", "I32", "[2]", 0, 8) + "}", 8);
    const auto ckpt = SafetensorsCheckpoint::open(path);
    expectMentions(errorMessage([&] { ckpt.readFloat32("ids"); }), {path, "'ids'", "I32", "floating-point"});
}

TEST_F(SafetensorsBadInput, InfoOfAnAbsentTensor)
{
    const std::string path = write("one.safetensors", "{" + entry("w", "F32", "[1]", 0, 4) + "}", 4);
    const auto ckpt = SafetensorsCheckpoint::open(path);
    expectMentions(errorMessage([&] { ckpt.info("model.norm.weight"); }), {path, "'model.norm.weight'"});
    expectMentions(errorMessage([&] { ckpt.readFloat32("model.norm.weight"); }), {path, "'model.norm.weight'"});
}

TEST_F(SafetensorsBadInput, DirectoryWithNeitherFile)
{
    mq::test::writeBytes(m_dir.file("config.json"), {'{', '}'});
    expectMentions(openError(m_dir.path()), {m_dir.path(), "model.safetensors.index.json", "model.safetensors"});
}

TEST_F(SafetensorsBadInput, PathDoesNotExist)
{
    const std::string path = m_dir.file("nowhere.safetensors");
    expectMentions(openError(path), {path, "no such file"});
}

TEST_F(SafetensorsBadInput, IndexNamesAMissingShard)
{
    write("model-00001-of-00002.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "}", 4);
    const std::string index = m_dir.file("model.safetensors.index.json");
    std::ofstream(index) << R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",)"
                         << R"( "b": "model-00002-of-00002.safetensors"}})";
    expectMentions(openError(m_dir.path()), {index, "model-00002-of-00002.safetensors", "'b'", "does not exist"});
}

TEST_F(SafetensorsBadInput, IndexNamesATensorTheShardLacks)
{
    const std::string shard = write("model-00001-of-00001.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "}", 4);
    const std::string index = m_dir.file("model.safetensors.index.json");
    std::ofstream(index) << R"({"weight_map": {"a": "model-00001-of-00001.safetensors",)"
                         << R"( "lm_head.weight": "model-00001-of-00001.safetensors"}})";
    expectMentions(openError(index), {shard, "'lm_head.weight'"});
}

TEST_F(SafetensorsBadInput, TensorInTwoShards)
{
    const std::string first = write("model-00001-of-00002.safetensors", "{" + entry("a", "F32", "[1]", 0, 4) + "}", 4);
    const std::string second = write("model-00002-of-00002.safetensors",
                                     "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 4, 8) + "}", 8);
    const std::string index = m_dir.file("model.safetensors.index.json");
    std::ofstream(index) << R"({"weight_map": {"a": "model-00001-of-00002.safetensors",)"
                         << R"( "b": "model-00002-of-00002.safetensors"}})";
    expectMentions(openError(index), {index, "'a'", first, second});
}

TEST_F(SafetensorsBadInput, ShardHeaderIsValidatedToo)
{
    const std::string shard = write("model-00001-of-00001.safetensors", "{" + entry("a", "F16", "[8]", 0, 16) + "}", 8);
    const std::string index = m_dir.file("model.safetensors.index.json");
    std::ofstream(index) << R"({"weight_map": {"a": "model-00001-of-00001.safetensors"}})";
    expectMentions(openError(index), {shard, "'a'", "claims bytes 0..16"});
}

} // namespace
