#include "core/runtime/package.h"

#include "core/runtime/gemm.h"
#include "core/runtime/sha256.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace mq {
namespace {

// ---- SHA-256 against the FIPS 180-4 / NIST example vectors

std::string hexOf(const std::string &message)
{
    return toHex(sha256(message.data(), message.size()));
}

TEST(Sha256, NistExampleVectors)
{
    EXPECT_EQ(hexOf("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(hexOf(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a', fed in uneven pieces to exercise the block buffering.
    Sha256 hasher;
    const std::string piece(997, 'a');
    size_t left = 1000000;
    while (left > 0) {
        const size_t n = std::min(left, piece.size());
        hasher.update(piece.data(), n);
        left -= n;
    }
    EXPECT_EQ(toHex(hasher.finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, ByteAtATimeMatchesOneShot)
{
    std::string message;
    for (int i = 0; i < 200; ++i)
        message.push_back(static_cast<char>(i * 7));
    for (size_t len = 0; len <= message.size(); ++len) {
        Sha256 hasher;
        for (size_t i = 0; i < len; ++i)
            hasher.update(&message[i], 1);
        EXPECT_EQ(toHex(hasher.finish()), toHex(sha256(message.data(), len))) << len;
    }
}

// ---- helpers: the documented layout, decoded independently of package.cpp

uint64_t readLe(const std::vector<uint8_t> &b, size_t at, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = (v << 8) | b.at(at + i);
    return v;
}
void writeLe(std::vector<uint8_t> &b, size_t at, int bytes, uint64_t v)
{
    for (int i = 0; i < bytes; ++i)
        b.at(at + i) = static_cast<uint8_t>(v >> (8 * i));
}

// docs/package-format.md: header fields.
constexpr size_t kVersionAt = 8, kTableOffsetAt = 32, kTableCountAt = 40, kDataOffsetAt = 56, kHashAt = 72;
// Table entry: fixed 56 bytes, then the name.
constexpr size_t kEntryFixed = 56, kEntryDimsAt = 8, kEntryOffsetAt = 40, kEntrySizeAt = 48;

// File position of table entry i.
size_t entryAt(const std::vector<uint8_t> &file, size_t i)
{
    size_t pos = readLe(file, kTableOffsetAt, 8);
    for (size_t k = 0; k < i; ++k)
        pos += kEntryFixed + readLe(file, pos, 4);
    return pos;
}

// The documented hash: SHA-256 of the whole file with bytes [72, 104) taken as zeros.
Sha256::Digest documentedHash(std::vector<uint8_t> file)
{
    std::fill(file.begin() + kHashAt, file.begin() + kHashAt + 32, uint8_t { 0 });
    return sha256(file.data(), file.size());
}

// Recomputes the hash after an edit, so that only the structural defect remains.
void rehash(std::vector<uint8_t> &file)
{
    const Sha256::Digest d = documentedHash(file);
    std::copy(d.begin(), d.end(), file.begin() + kHashAt);
}

std::string tempPath(const std::string &name)
{
    return ::testing::TempDir() + "mq_test_package_" + name;
}

void writeFile(const std::string &path, const std::vector<uint8_t> &bytes)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Expects open() on these bytes to throw a PackageError whose message names the file and contains
// `fragment`.
void expectRejected(const std::string &name, const std::vector<uint8_t> &bytes, const std::string &fragment)
{
    const std::string path = tempPath(name);
    writeFile(path, bytes);
    try {
        Package::open(path);
        ADD_FAILURE() << name << ": accepted";
    } catch (const PackageError &e) {
        const std::string message = e.what();
        EXPECT_NE(message.find(path), std::string::npos) << message;
        EXPECT_NE(message.find(fragment), std::string::npos) << "expected '" << fragment << "' in: " << message;
    }
    std::remove(path.c_str());
}

std::vector<uint8_t> randomBytes(size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::vector<uint8_t> v(n);
    for (auto &b : v)
        b = static_cast<uint8_t>(rng());
    return v;
}

template <typename T> std::vector<uint8_t> asBytes(const std::vector<T> &v)
{
    std::vector<uint8_t> out(v.size() * sizeof(T));
    std::memcpy(out.data(), v.data(), out.size());
    return out;
}

// Two small tensors: "a" (u8 [3]) and "b" (u8 [5]).
std::vector<uint8_t> twoTensorPackage()
{
    PackageWriter w;
    w.setMetadata("{\"architecture\":\"llama\"}");
    w.addTensor("a", PackageDType::U8, { 3 }, std::vector<uint8_t> { 1, 2, 3 });
    w.addTensor("b", PackageDType::U8, { 5 }, std::vector<uint8_t> { 4, 5, 6, 7, 8 });
    return w.serialize();
}

// ---- round trip

TEST(Package, RoundTripsEveryDTypeThroughAFile)
{
    const std::vector<int8_t> s4Values = { -8, -1, 0, 7, 3, -5, 1, // row 0 (odd length: padded nibble)
        2, 2, -2, -3, 4, 5, -6 };
    const std::vector<uint8_t> s4Packed = packInt4Rows(s4Values.data(), 2, 7);
    ASSERT_EQ(s4Packed.size(), 8u);

    struct Case
    {
        std::string name;
        PackageDType dtype;
        std::vector<uint64_t> shape;
        std::vector<uint8_t> bytes;
    };
    const std::vector<Case> cases = {
        { "model.embed.u8", PackageDType::U8, { 2, 3, 5 }, randomBytes(30, 1) },
        { "model.layers.0.q_proj.weight", PackageDType::S8, { 4, 9 }, randomBytes(36, 2) },
        { "model.layers.0.up_proj.weight", PackageDType::S4Packed, { 2, 7 }, s4Packed },
        { "act.s16", PackageDType::S16, { 3, 1, 2, 1 },
            asBytes(std::vector<int16_t> { -32768, 32767, 0, 1, -1, 300 }) },
        { "bias.s32", PackageDType::S32, { 3 }, asBytes(std::vector<int32_t> { INT32_MIN, INT32_MAX, -7 }) },
        { "scale.f32", PackageDType::F32, {}, asBytes(std::vector<float> { 0.125f }) },
        { "empty.s8", PackageDType::S8, { 0, 4 }, {} },
    };
    const std::string metadata = u8"{\"architecture\":\"llama\",\"tokenizer\":\"sp-32k\",\"note\":\"µ\"}";

    PackageWriter w;
    w.setMetadata(metadata);
    for (const Case &c : cases)
        w.addTensor(c.name, c.dtype, c.shape, c.bytes);
    const std::string path = tempPath("roundtrip.mqpkg");
    w.write(path);
    EXPECT_FALSE(std::ifstream(path + ".tmp").good()) << "temporary file left behind";

    const Package pkg = Package::open(path);
    EXPECT_EQ(pkg.formatVersion(), 1u);
    EXPECT_EQ(pkg.metadata(), metadata);
    std::vector<std::string> expectedNames;
    for (const Case &c : cases)
        expectedNames.push_back(c.name);
    EXPECT_EQ(pkg.names(), expectedNames);
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        const PackageTensor t = pkg.tensor(c.name);
        EXPECT_EQ(t.dtype, c.dtype);
        EXPECT_EQ(t.shape, c.shape);
        ASSERT_EQ(t.size, c.bytes.size());
        EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.size), c.bytes);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 64, 0u) << "in-memory alignment";
    }
    const PackageTensor s4 = pkg.tensor("model.layers.0.up_proj.weight");
    EXPECT_EQ(unpackInt4Rows(s4.data, 2, 7), s4Values);
    int32_t s32[3];
    std::memcpy(s32, pkg.tensor("bias.s32").data, sizeof s32);
    EXPECT_EQ(s32[0], INT32_MIN);
    EXPECT_EQ(s32[2], -7);

    EXPECT_FALSE(pkg.contains("missing"));
    EXPECT_THROW(pkg.tensor("missing"), PackageError);

    // The file is exactly what serialize() produces, and the same input gives the same bytes.
    EXPECT_EQ(readFile(path), w.serialize());
    std::remove(path.c_str());
}

TEST(Package, EveryBlobStartsAtAMultipleOf64InTheFile)
{
    PackageWriter w;
    w.setMetadata("{}");
    for (int i = 0; i < 6; ++i)
        w.addTensor("t" + std::to_string(i), PackageDType::U8, { static_cast<uint64_t>(i * 37 + 1) },
            randomBytes(static_cast<size_t>(i * 37 + 1), static_cast<uint32_t>(i)));
    const std::vector<uint8_t> file = w.serialize();
    const uint64_t dataOffset = readLe(file, kDataOffsetAt, 8);
    EXPECT_EQ(dataOffset % 64, 0u);
    ASSERT_EQ(readLe(file, kTableCountAt, 8), 6u);
    for (size_t i = 0; i < 6; ++i) {
        const uint64_t offset = readLe(file, entryAt(file, i) + kEntryOffsetAt, 8);
        EXPECT_EQ((dataOffset + offset) % 64, 0u) << "tensor " << i;
    }
    const Package pkg = Package::fromBytes(file.data(), file.size(), "memory");
    EXPECT_EQ(pkg.names().size(), 6u);
}

TEST(Package, ContentHashIsSha256OfTheFileWithTheHashFieldZeroed)
{
    const std::vector<uint8_t> file = twoTensorPackage();
    const Sha256::Digest expected = documentedHash(file);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), file.begin() + kHashAt)) << "stored hash";
    const Package pkg = Package::fromBytes(file.data(), file.size(), "memory");
    EXPECT_EQ(pkg.contentHash(), toHex(expected));
    EXPECT_EQ(pkg.contentHash().size(), 64u);
}

TEST(Package, WriterRejectsInconsistentTensors)
{
    PackageWriter w;
    w.addTensor("x", PackageDType::S16, { 2, 2 }, randomBytes(8, 3));
    EXPECT_THROW(w.addTensor("x", PackageDType::U8, { 1 }, randomBytes(1, 3)), PackageError);
    EXPECT_THROW(w.addTensor("y", PackageDType::S16, { 2, 2 }, randomBytes(7, 3)), PackageError);
    EXPECT_THROW(w.addTensor("z", PackageDType::S4Packed, { 3, 5 }, randomBytes(8, 3)), PackageError);
    EXPECT_NO_THROW(w.addTensor("z", PackageDType::S4Packed, { 3, 5 }, randomBytes(9, 3)));
    EXPECT_THROW(w.addTensor("r", PackageDType::U8, { 1, 1, 1, 1, 1 }, randomBytes(1, 3)), PackageError);
    EXPECT_THROW(w.addTensor("", PackageDType::U8, { 1 }, randomBytes(1, 3)), PackageError);
}

// ---- bad input: one defect per test, every other part of the file consistent

TEST(PackageRejects, EveryTruncation)
{
    const std::vector<uint8_t> file = twoTensorPackage();
    ASSERT_GT(file.size(), 128u);
    const std::string path = tempPath("truncated.mqpkg");
    for (size_t cut = 0; cut < file.size(); ++cut) {
        writeFile(path, std::vector<uint8_t>(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(cut)));
        EXPECT_THROW(Package::open(path), PackageError) << "cut at " << cut;
    }
    std::remove(path.c_str());
}

TEST(PackageRejects, EmptyFile)
{
    expectRejected("empty.mqpkg", {}, "empty");
}

TEST(PackageRejects, MissingFile)
{
    EXPECT_THROW(Package::open(tempPath("does-not-exist.mqpkg")), PackageError);
}

TEST(PackageRejects, BadMagic)
{
    std::vector<uint8_t> file = twoTensorPackage();
    file[0] = 'X';
    rehash(file);
    expectRejected("magic.mqpkg", file, "bad magic");
    expectRejected("text.mqpkg", std::vector<uint8_t> { '{', '}', '\n' }, "bad magic");
}

TEST(PackageRejects, UnknownVersion)
{
    std::vector<uint8_t> file = twoTensorPackage();
    writeLe(file, kVersionAt, 4, 7);
    rehash(file);
    expectRejected("version.mqpkg", file, "package format version 7 is newer than this runtime (1); update mq-run");
}

TEST(PackageRejects, OffsetPastTheEnd)
{
    std::vector<uint8_t> file = twoTensorPackage();
    writeLe(file, entryAt(file, 1) + kEntryOffsetAt, 8, 1024);
    rehash(file);
    expectRejected("offset.mqpkg", file, "lies outside");
}

TEST(PackageRejects, SizeThatDoesNotMatchTheShape)
{
    std::vector<uint8_t> file = twoTensorPackage();
    writeLe(file, entryAt(file, 0) + kEntryDimsAt, 8, 4); // shape [4] but 3 bytes stored
    rehash(file);
    expectRejected("size.mqpkg", file, "does not match");
}

TEST(PackageRejects, OverlappingTensors)
{
    std::vector<uint8_t> file = twoTensorPackage();
    // Point "b" (5 bytes) at "a"'s blob, which stays inside the data section.
    writeLe(file, entryAt(file, 1) + kEntryOffsetAt, 8, readLe(file, entryAt(file, 0) + kEntryOffsetAt, 8));
    rehash(file);
    expectRejected("overlap.mqpkg", file, "overlap");
}

TEST(PackageRejects, DuplicateNames)
{
    std::vector<uint8_t> file = twoTensorPackage();
    file.at(entryAt(file, 1) + kEntryFixed) = 'a'; // rename "b" to "a"
    rehash(file);
    expectRejected("duplicate.mqpkg", file, "duplicate tensor name 'a'");
}

TEST(PackageRejects, FlippedDataByte)
{
    std::vector<uint8_t> file = twoTensorPackage();
    const size_t at = readLe(file, kDataOffsetAt, 8) + readLe(file, entryAt(file, 1) + kEntryOffsetAt, 8) + 2;
    file.at(at) ^= 0x10;
    expectRejected("flipped.mqpkg", file, "content hash mismatch: the file is corrupt or was modified");
}

TEST(PackageRejects, FlippedHeaderAndMetadataBytesAreCaughtToo)
{
    const std::vector<uint8_t> good = twoTensorPackage();
    // Any single flipped bit outside the hash field is rejected, whichever check catches it.
    for (size_t at = 0; at < good.size(); ++at) {
        if (at >= kHashAt && at < kHashAt + 32)
            continue;
        std::vector<uint8_t> file = good;
        file[at] ^= 0x01;
        EXPECT_THROW(Package::fromBytes(file.data(), file.size(), "memory"), PackageError) << "byte " << at;
    }
}

} // namespace
} // namespace mq
