#include "core/runtime/package.h"

#include "core/runtime/sha256.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <utility>

namespace mq {
namespace {

// Header layout, format version 1 (docs/package-format.md).
constexpr uint8_t kMagic[8] = { 'M', 'Q', 'P', 'K', 'G', 0, 0, 0 };
constexpr size_t kHeaderSize = 128;
constexpr size_t kOffVersion = 8;
constexpr size_t kOffHeaderSize = 12;
constexpr size_t kOffMetadataOffset = 16;
constexpr size_t kOffMetadataSize = 24;
constexpr size_t kOffTableOffset = 32;
constexpr size_t kOffTableCount = 40;
constexpr size_t kOffTableSize = 48;
constexpr size_t kOffDataOffset = 56;
constexpr size_t kOffDataSize = 64;
constexpr size_t kOffHash = 72;
constexpr size_t kHashSize = 32;

// Tensor table entry: fixed part, then the name bytes.
constexpr size_t kEntryFixedSize = 56;
constexpr size_t kEntOffNameLength = 0;
constexpr size_t kEntOffDType = 4;
constexpr size_t kEntOffRank = 5;
constexpr size_t kEntOffReserved = 6;
constexpr size_t kEntOffDims = 8;
constexpr size_t kEntOffDataOffset = 40;
constexpr size_t kEntOffDataSize = 48;

void putU16(uint8_t *p, uint16_t v)
{
    for (int i = 0; i < 2; ++i)
        p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void putU32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void putU64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; ++i)
        p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint16_t getU16(const uint8_t *p)
{
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
uint32_t getU32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}
uint64_t getU64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

uint64_t alignUp(uint64_t v)
{
    return (v + kPackageAlignment - 1) / kPackageAlignment * kPackageAlignment;
}

bool validDType(uint8_t v)
{
    return v >= static_cast<uint8_t>(PackageDType::U8) && v <= static_cast<uint8_t>(PackageDType::F32);
}

bool mulOverflows(uint64_t a, uint64_t b, uint64_t &out)
{
    if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a)
        return true;
    out = a * b;
    return false;
}

std::string shapeString(const std::vector<uint64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Hash of the whole file with the 32-byte hash field taken as zeros.
Sha256::Digest contentDigest(const uint8_t *file, size_t size)
{
    static const uint8_t kZeros[kHashSize] = {};
    Sha256 hasher;
    hasher.update(file, kOffHash);
    hasher.update(kZeros, kHashSize);
    hasher.update(file + kOffHash + kHashSize, size - kOffHash - kHashSize);
    return hasher.finish();
}

// Is [offset, offset + size) inside [lo, hi)? Written to be overflow-free for any u64 inputs.
bool rangeWithin(uint64_t offset, uint64_t size, uint64_t lo, uint64_t hi)
{
    return offset >= lo && offset <= hi && size <= hi - offset;
}

bool rangesOverlap(uint64_t aOff, uint64_t aSize, uint64_t bOff, uint64_t bSize)
{
    if (aSize == 0 || bSize == 0)
        return false;
    return aOff < bOff + bSize && bOff < aOff + aSize;
}

} // namespace

const char *packageDTypeName(PackageDType dtype)
{
    switch (dtype) {
    case PackageDType::U8:
        return "u8";
    case PackageDType::S8:
        return "s8";
    case PackageDType::S4Packed:
        return "s4";
    case PackageDType::S16:
        return "s16";
    case PackageDType::S32:
        return "s32";
    case PackageDType::F32:
        return "f32";
    }
    return "unknown";
}

uint64_t packageTensorBytes(PackageDType dtype, const std::vector<uint64_t> &shape)
{
    if (shape.size() > kPackageMaxRank)
        throw PackageError("tensor rank " + std::to_string(shape.size()) + " exceeds the maximum of 4");
    const std::string overflow = "tensor shape " + shapeString(shape) + " overflows 64 bits";
    if (dtype == PackageDType::S4Packed) {
        // Rows are the product of all dimensions but the last; each is packed to ceil(cols / 2).
        const uint64_t cols = shape.empty() ? 1 : shape.back();
        uint64_t rows = 1;
        for (size_t i = 0; i + 1 < shape.size(); ++i) {
            if (mulOverflows(rows, shape[i], rows))
                throw PackageError(overflow);
        }
        uint64_t bytes = 0;
        if (mulOverflows(rows, cols / 2 + cols % 2, bytes))
            throw PackageError(overflow);
        return bytes;
    }
    uint64_t elementSize = 1;
    switch (dtype) {
    case PackageDType::U8:
    case PackageDType::S8:
        elementSize = 1;
        break;
    case PackageDType::S16:
        elementSize = 2;
        break;
    case PackageDType::S32:
    case PackageDType::F32:
        elementSize = 4;
        break;
    case PackageDType::S4Packed:
        break;
    }
    uint64_t bytes = elementSize;
    for (uint64_t d : shape) {
        if (mulOverflows(bytes, d, bytes))
            throw PackageError(overflow);
    }
    return bytes;
}

// ---- writer

void PackageWriter::setMetadata(std::string json)
{
    m_metadata = std::move(json);
}

void PackageWriter::addTensor(
    const std::string &name, PackageDType dtype, const std::vector<uint64_t> &shape, const void *data, size_t size)
{
    const std::string what = "package tensor '" + name + "': ";
    if (name.empty() || name.find('\0') != std::string::npos)
        throw PackageError("package tensor names must be non-empty and contain no NUL byte");
    if (name.size() > std::numeric_limits<uint32_t>::max())
        throw PackageError(what + "name too long");
    if (!validDType(static_cast<uint8_t>(dtype)))
        throw PackageError(what + "unknown dtype " + std::to_string(static_cast<int>(dtype)));
    if (m_index.count(name))
        throw PackageError(what + "added twice");
    uint64_t expected = 0;
    try {
        expected = packageTensorBytes(dtype, shape);
    } catch (const PackageError &e) {
        throw PackageError(what + e.what());
    }
    if (expected != size) {
        throw PackageError(what + std::to_string(size) + " bytes given, but a " + packageDTypeName(dtype)
            + " tensor of shape " + shapeString(shape) + " needs " + std::to_string(expected));
    }
    if (size > 0 && data == nullptr)
        throw PackageError(what + "null data");
    const auto *bytes = static_cast<const uint8_t *>(data);
    m_index.emplace(name, m_entries.size());
    m_entries.push_back({ name, dtype, shape, std::vector<uint8_t>(bytes, bytes + size) });
}

void PackageWriter::addTensor(
    const std::string &name, PackageDType dtype, const std::vector<uint64_t> &shape, const std::vector<uint8_t> &bytes)
{
    addTensor(name, dtype, shape, bytes.data(), bytes.size());
}

std::vector<uint8_t> PackageWriter::serialize() const
{
    // Layout: header | metadata | tensor table | zero padding to 64 | data (each blob at a multiple of 64).
    const uint64_t metadataOffset = kHeaderSize;
    const uint64_t tableOffset = metadataOffset + m_metadata.size();
    uint64_t tableSize = 0;
    for (const Entry &e : m_entries)
        tableSize += kEntryFixedSize + e.name.size();
    const uint64_t dataOffset = alignUp(tableOffset + tableSize);
    std::vector<uint64_t> blobOffsets;
    uint64_t dataSize = 0;
    for (const Entry &e : m_entries) {
        const uint64_t at = alignUp(dataSize);
        blobOffsets.push_back(at);
        dataSize = at + e.bytes.size();
    }

    std::vector<uint8_t> file(dataOffset + dataSize, 0);
    uint8_t *h = file.data();
    std::memcpy(h, kMagic, sizeof kMagic);
    putU32(h + kOffVersion, kPackageFormatVersion);
    putU32(h + kOffHeaderSize, kHeaderSize);
    putU64(h + kOffMetadataOffset, metadataOffset);
    putU64(h + kOffMetadataSize, m_metadata.size());
    putU64(h + kOffTableOffset, tableOffset);
    putU64(h + kOffTableCount, m_entries.size());
    putU64(h + kOffTableSize, tableSize);
    putU64(h + kOffDataOffset, dataOffset);
    putU64(h + kOffDataSize, dataSize);
    std::memcpy(h + metadataOffset, m_metadata.data(), m_metadata.size());

    uint8_t *p = h + tableOffset;
    for (size_t i = 0; i < m_entries.size(); ++i) {
        const Entry &e = m_entries[i];
        putU32(p + kEntOffNameLength, static_cast<uint32_t>(e.name.size()));
        p[kEntOffDType] = static_cast<uint8_t>(e.dtype);
        p[kEntOffRank] = static_cast<uint8_t>(e.shape.size());
        putU16(p + kEntOffReserved, 0);
        for (size_t d = 0; d < e.shape.size(); ++d)
            putU64(p + kEntOffDims + 8 * d, e.shape[d]);
        putU64(p + kEntOffDataOffset, blobOffsets[i]);
        putU64(p + kEntOffDataSize, e.bytes.size());
        std::memcpy(p + kEntryFixedSize, e.name.data(), e.name.size());
        p += kEntryFixedSize + e.name.size();
        if (!e.bytes.empty())
            std::memcpy(h + dataOffset + blobOffsets[i], e.bytes.data(), e.bytes.size());
    }

    const Sha256::Digest digest = contentDigest(file.data(), file.size());
    std::memcpy(h + kOffHash, digest.data(), kHashSize);
    return file;
}

void PackageWriter::write(const std::string &path) const
{
    const std::vector<uint8_t> file = serialize();
    const std::string tmp = path + ".tmp";
    std::FILE *f = std::fopen(tmp.c_str(), "wb");
    if (!f)
        throw PackageError("package '" + path + "': cannot create " + tmp + ": " + std::strerror(errno));
    const bool written = std::fwrite(file.data(), 1, file.size(), f) == file.size();
    const int writeErrno = errno;
    const bool closed = std::fclose(f) == 0;
    if (!written || !closed) {
        std::remove(tmp.c_str());
        throw PackageError("package '" + path + "': cannot write " + tmp + ": " + std::strerror(writeErrno));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const int renameErrno = errno;
        std::remove(tmp.c_str());
        throw PackageError("package '" + path + "': cannot rename " + tmp + " to it: " + std::strerror(renameErrno));
    }
}

// ---- reader

Package Package::open(const std::string &path)
{
    const std::string what = "package '" + path + "': ";
    std::FILE *f = std::fopen(path.c_str(), "rb");
    if (!f)
        throw PackageError(what + "cannot open: " + std::strerror(errno));
    std::unique_ptr<std::FILE, int (*)(std::FILE *)> closer(f, &std::fclose);
    if (std::fseek(f, 0, SEEK_END) != 0)
        throw PackageError(what + "cannot seek: " + std::strerror(errno));
    const long end = std::ftell(f);
    if (end < 0 || std::fseek(f, 0, SEEK_SET) != 0)
        throw PackageError(what + "cannot determine the file size: " + std::strerror(errno));
    // Read straight into the aligned buffer: a package can be most of a phone's free memory.
    Package pkg;
    pkg.allocate(static_cast<size_t>(end));
    if (std::fread(pkg.fileBytes(), 1, pkg.m_fileSize, f) != pkg.m_fileSize)
        throw PackageError(what + "read error or the file shrank while being read");
    pkg.m_sourceName = path;
    pkg.validate();
    return pkg;
}

Package Package::fromBytes(const uint8_t *data, size_t size, const std::string &sourceName)
{
    Package pkg;
    pkg.allocate(size);
    if (size > 0)
        std::memcpy(pkg.fileBytes(), data, size);
    pkg.m_sourceName = sourceName;
    pkg.validate();
    return pkg;
}

void Package::allocate(size_t fileSize)
{
    m_fileSize = fileSize;
    m_storage.resize(fileSize + kPackageAlignment - 1);
    const auto address = reinterpret_cast<uintptr_t>(m_storage.data());
    m_base = static_cast<size_t>((kPackageAlignment - address % kPackageAlignment) % kPackageAlignment);
}

void Package::validate()
{
    const std::string what = "package '" + m_sourceName + "': ";
    auto fail = [&](const std::string &message) { throw PackageError(what + message); };

    const uint64_t fileSize = m_fileSize;
    const uint8_t *h = fileBytes();
    if (fileSize == 0)
        fail("the file is empty");
    const size_t magicBytes = std::min<size_t>(sizeof kMagic, m_fileSize);
    if (std::memcmp(h, kMagic, magicBytes) != 0)
        fail("not an MQ package (bad magic bytes)");
    if (fileSize < kHeaderSize)
        fail("truncated: " + std::to_string(fileSize) + " bytes, shorter than the " + std::to_string(kHeaderSize)
            + "-byte header");
    const uint32_t version = getU32(h + kOffVersion);
    if (version > kPackageFormatVersion) {
        fail("package format version " + std::to_string(version) + " is newer than this runtime ("
            + std::to_string(kPackageFormatVersion) + "); update mq-run");
    }
    if (version == 0)
        fail("invalid package format version 0");
    const uint32_t headerSize = getU32(h + kOffHeaderSize);
    if (headerSize < kHeaderSize)
        fail("header size " + std::to_string(headerSize) + " is smaller than version 1's "
            + std::to_string(kHeaderSize));
    if (fileSize < headerSize) {
        fail("truncated: " + std::to_string(fileSize) + " bytes, shorter than the " + std::to_string(headerSize)
            + "-byte header");
    }

    const uint64_t metadataOffset = getU64(h + kOffMetadataOffset);
    const uint64_t metadataSize = getU64(h + kOffMetadataSize);
    const uint64_t tableOffset = getU64(h + kOffTableOffset);
    const uint64_t tableCount = getU64(h + kOffTableCount);
    const uint64_t tableSize = getU64(h + kOffTableSize);
    const uint64_t dataOffset = getU64(h + kOffDataOffset);
    const uint64_t dataSize = getU64(h + kOffDataSize);

    // The data section is last and ends the file, so any truncation shows up here.
    if (!rangeWithin(dataOffset, dataSize, headerSize, std::numeric_limits<uint64_t>::max())
        || dataOffset + dataSize != fileSize) {
        fail("truncated or malformed: the data section [" + std::to_string(dataOffset) + ", +"
            + std::to_string(dataSize) + ") does not end at the end of the " + std::to_string(fileSize) + "-byte file");
    }
    if (dataOffset % kPackageAlignment != 0)
        fail("data section offset " + std::to_string(dataOffset) + " is not a multiple of 64");
    if (!rangeWithin(metadataOffset, metadataSize, headerSize, dataOffset))
        fail("metadata section lies outside the space between the header and the data section");
    if (!rangeWithin(tableOffset, tableSize, headerSize, dataOffset))
        fail("tensor table lies outside the space between the header and the data section");
    if (rangesOverlap(metadataOffset, metadataSize, tableOffset, tableSize))
        fail("metadata section and tensor table overlap");
    if (tableCount > tableSize / kEntryFixedSize) {
        fail("tensor table of " + std::to_string(tableSize) + " bytes cannot hold " + std::to_string(tableCount)
            + " entries");
    }

    Package &pkg = *this;
    pkg.m_version = version;
    pkg.m_metadata.assign(reinterpret_cast<const char *>(h + metadataOffset), metadataSize);

    const uint8_t *table = h + tableOffset;
    uint64_t pos = 0;
    for (uint64_t i = 0; i < tableCount; ++i) {
        const std::string entryWhat = "tensor table entry " + std::to_string(i);
        if (tableSize - pos < kEntryFixedSize)
            fail(entryWhat + " runs past the end of the table");
        const uint8_t *e = table + pos;
        const uint32_t nameLength = getU32(e + kEntOffNameLength);
        if (nameLength > tableSize - pos - kEntryFixedSize)
            fail(entryWhat + ": name runs past the end of the table");
        Entry entry;
        entry.name.assign(reinterpret_cast<const char *>(e + kEntryFixedSize), nameLength);
        const std::string tensorWhat = entryWhat + " ('" + entry.name + "')";
        if (entry.name.empty() || entry.name.find('\0') != std::string::npos)
            fail(entryWhat + ": empty name or a name with a NUL byte");
        if (!validDType(e[kEntOffDType]))
            fail(tensorWhat + ": unknown dtype " + std::to_string(e[kEntOffDType]));
        entry.dtype = static_cast<PackageDType>(e[kEntOffDType]);
        const uint8_t rank = e[kEntOffRank];
        if (rank > kPackageMaxRank)
            fail(tensorWhat + ": rank " + std::to_string(rank) + " exceeds 4");
        if (getU16(e + kEntOffReserved) != 0)
            fail(tensorWhat + ": reserved field is not zero");
        for (size_t d = 0; d < kPackageMaxRank; ++d) {
            const uint64_t dim = getU64(e + kEntOffDims + 8 * d);
            if (d < rank)
                entry.shape.push_back(dim);
            else if (dim != 0)
                fail(tensorWhat + ": dimension " + std::to_string(d) + " beyond the rank is not zero");
        }
        const uint64_t relOffset = getU64(e + kEntOffDataOffset);
        entry.size = getU64(e + kEntOffDataSize);
        uint64_t expected = 0;
        try {
            expected = packageTensorBytes(entry.dtype, entry.shape);
        } catch (const PackageError &err) {
            fail(tensorWhat + ": " + err.what());
        }
        if (entry.size != expected) {
            fail(tensorWhat + ": size " + std::to_string(entry.size) + " bytes does not match a "
                + packageDTypeName(entry.dtype) + " tensor of shape " + shapeString(entry.shape) + " ("
                + std::to_string(expected) + " bytes)");
        }
        if (!rangeWithin(relOffset, entry.size, 0, dataSize)) {
            fail(tensorWhat + ": data [" + std::to_string(relOffset) + ", +" + std::to_string(entry.size)
                + ") lies outside the " + std::to_string(dataSize) + "-byte data section");
        }
        if (relOffset % kPackageAlignment != 0)
            fail(tensorWhat + ": data offset " + std::to_string(relOffset) + " is not a multiple of 64");
        entry.offset = dataOffset + relOffset;
        if (pkg.m_index.count(entry.name))
            fail("duplicate tensor name '" + entry.name + "' (entries " + std::to_string(pkg.m_index[entry.name])
                + " and " + std::to_string(i) + ")");
        pkg.m_index.emplace(entry.name, pkg.m_entries.size());
        pkg.m_entries.push_back(std::move(entry));
        pos += kEntryFixedSize + nameLength;
    }
    if (pos != tableSize)
        fail("tensor table has " + std::to_string(tableSize - pos) + " bytes after its last entry");

    std::vector<size_t> byOffset(pkg.m_entries.size());
    for (size_t i = 0; i < byOffset.size(); ++i)
        byOffset[i] = i;
    std::sort(byOffset.begin(), byOffset.end(),
        [&](size_t a, size_t b) { return pkg.m_entries[a].offset < pkg.m_entries[b].offset; });
    const Entry *previous = nullptr;
    for (size_t i : byOffset) {
        const Entry &cur = pkg.m_entries[i];
        if (cur.size == 0)
            continue;
        if (previous && rangesOverlap(previous->offset, previous->size, cur.offset, cur.size))
            fail("tensors '" + previous->name + "' and '" + cur.name + "' overlap in the data section");
        if (!previous || cur.offset + cur.size > previous->offset + previous->size)
            previous = &cur;
    }

    const Sha256::Digest digest = contentDigest(h, fileSize);
    if (std::memcmp(digest.data(), h + kOffHash, kHashSize) != 0)
        fail("content hash mismatch: the file is corrupt or was modified");
    pkg.m_contentHash = toHex(digest);
}

PackageTensor Package::tensor(const std::string &name) const
{
    const auto it = m_index.find(name);
    if (it == m_index.end())
        throw PackageError("package '" + m_sourceName + "' has no tensor '" + name + "'");
    const Entry &e = m_entries[it->second];
    PackageTensor t;
    t.dtype = e.dtype;
    t.shape = e.shape;
    t.data = fileBytes() + e.offset;
    t.size = static_cast<size_t>(e.size);
    return t;
}

bool Package::contains(const std::string &name) const
{
    return m_index.count(name) != 0;
}

std::vector<std::string> Package::names() const
{
    std::vector<std::string> out;
    out.reserve(m_entries.size());
    for (const Entry &e : m_entries)
        out.push_back(e.name);
    return out;
}

} // namespace mq
