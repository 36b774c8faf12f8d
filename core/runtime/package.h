#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

// The package format stores every integer little-endian and hands out tensor bytes as stored, so
// a caller reading an s16 / s32 / f32 tensor reinterprets them in host order. A big-endian build
// would silently read garbage: refuse it instead (the project targets x86-64 and arm64 Android).
#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__)
#error "cannot determine the byte order; the MQ package format needs a little-endian target"
#elif __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the MQ package format (docs/package-format.md) is little-endian; big-endian targets are not supported"
#endif

namespace mq {

// Integer package files (.mqpkg), format version 1: see docs/package-format.md for the byte
// layout. The runtime does not interpret the JSON metadata; it is stored and returned as a string.

// Any problem reading or writing a package. The message names the file (or the tensor) and what
// is wrong with it.
class PackageError : public std::runtime_error
{
public:
    using std::runtime_error::runtime_error;
};

// Element types of a stored tensor. The numeric values are the on-disk encoding.
enum class PackageDType : uint8_t {
    U8 = 1,
    S8 = 2,
    // Two 4-bit two's-complement values per byte, each row (last dimension) packed on its own into
    // ceil(cols / 2) bytes, element 2j in the low nibble of byte j (packInt4Rows in gemm.h).
    S4Packed = 3,
    S16 = 4,
    S32 = 5,
    F32 = 6,
};

const char *packageDTypeName(PackageDType dtype);

constexpr uint32_t kPackageFormatVersion = 1;
constexpr size_t kPackageMaxRank = 4;
// Every tensor's data starts at a multiple of this in the file and in memory after open().
constexpr size_t kPackageAlignment = 64;

// Bytes a tensor of this dtype and shape occupies; throws PackageError on overflow or a rank above
// kPackageMaxRank. A rank-0 shape is a scalar (one element).
uint64_t packageTensorBytes(PackageDType dtype, const std::vector<uint64_t> &shape);

// A read-only view of one tensor inside an open Package; valid while the Package lives.
struct PackageTensor
{
    PackageDType dtype = PackageDType::U8;
    std::vector<uint64_t> shape;
    const uint8_t *data = nullptr; // aligned to kPackageAlignment
    size_t size = 0; // bytes
};

// Builds a package in memory and writes it. Tensor bytes are copied at add time. One thread at a
// time; adding a tensor with a duplicate name, a rank above 4 or a byte count that does not match
// its shape throws PackageError.
class PackageWriter
{
public:
    void setMetadata(std::string json);
    void addTensor(
        const std::string &name, PackageDType dtype, const std::vector<uint64_t> &shape, const void *data, size_t size);
    void addTensor(const std::string &name, PackageDType dtype, const std::vector<uint64_t> &shape,
        const std::vector<uint8_t> &bytes);

    // The complete file contents, hash included.
    std::vector<uint8_t> serialize() const;
    // Writes path + ".tmp", then renames it over path, so a reader never sees a partial file.
    void write(const std::string &path) const;

private:
    struct Entry
    {
        std::string name;
        PackageDType dtype;
        std::vector<uint64_t> shape;
        std::vector<uint8_t> bytes;
    };
    std::string m_metadata;
    std::vector<Entry> m_entries;
    std::unordered_map<std::string, size_t> m_index;
};

// An opened, fully validated package held in memory. open() checks the header, every table entry
// and the content hash before returning; after that the accessors cannot fail except tensor() for
// an unknown name. Move-only; const member functions may be called from any thread.
class Package
{
public:
    static Package open(const std::string &path);
    // Validates a package already in memory (copied); sourceName is used in error messages.
    static Package fromBytes(const uint8_t *data, size_t size, const std::string &sourceName);

    Package(Package &&) noexcept = default;
    Package &operator=(Package &&) noexcept = default;
    Package(const Package &) = delete;
    Package &operator=(const Package &) = delete;

    uint32_t formatVersion() const { return m_version; }
    const std::string &metadata() const { return m_metadata; }
    // Throws PackageError if the package has no tensor of that name.
    PackageTensor tensor(const std::string &name) const;
    bool contains(const std::string &name) const;
    // Tensor names in table order.
    std::vector<std::string> names() const;
    // SHA-256 of the file with the hash field zeroed, lower-case hex (64 characters).
    const std::string &contentHash() const { return m_contentHash; }
    const std::string &sourceName() const { return m_sourceName; }

private:
    Package() = default;
    void allocate(size_t fileSize);
    void validate();
    uint8_t *fileBytes() { return m_storage.data() + m_base; }
    const uint8_t *fileBytes() const { return m_storage.data() + m_base; }

    struct Entry
    {
        std::string name;
        PackageDType dtype;
        std::vector<uint64_t> shape;
        uint64_t offset; // from the start of the file
        uint64_t size;
    };

    std::string m_sourceName;
    uint32_t m_version = 0;
    // The file, over-allocated so that m_storage.data() + m_base is 64-byte aligned; a move keeps
    // the buffer, so the base stays valid.
    std::vector<uint8_t> m_storage;
    size_t m_base = 0;
    size_t m_fileSize = 0;
    std::string m_metadata;
    std::vector<Entry> m_entries;
    std::unordered_map<std::string, size_t> m_index;
    std::string m_contentHash;
};

} // namespace mq
