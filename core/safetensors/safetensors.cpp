#include "core/safetensors/safetensors.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

// The format stores every number little-endian; reading the mapped bytes with memcpy relies on
// the host being little-endian too (x86-64 and arm64 Android, the platforms we build for).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors reader assumes a little-endian host");

namespace mq {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A header this large is not a real checkpoint; the limit matches the reference implementation's
// and keeps a corrupt size field from making us parse gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100u * 1000u * 1000u;

const char *const kIndexName = "model.safetensors.index.json";
const char *const kSingleName = "model.safetensors";

struct DTypeEntry
{
    DType dtype;
    const char *name;
    size_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4}, {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::Bool, "BOOL", 1},
};

bool parseDType(const std::string &name, DType &out)
{
    for (const auto &entry : kDTypes) {
        if (name == entry.name) {
            out = entry.dtype;
            return true;
        }
    }
    return false;
}

std::string inQuotes(const std::string &name)
{
    return "'" + name + "'";
}

// One read-only mapping of a whole .safetensors file, unmapped when destroyed.
struct MappedFile
{
    std::string path;
    const uint8_t *bytes = nullptr;
    uint64_t size = 0;
    uint64_t dataStart = 0; // 8 + header size
    std::map<std::string, std::string> metadata;

    MappedFile() = default;
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;
    ~MappedFile()
    {
        if (bytes)
            munmap(const_cast<uint8_t *>(bytes), size);
    }
};

std::unique_ptr<MappedFile> mapFile(const std::string &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        failFile(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        failFile(path, std::string("cannot stat: ") + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        failFile(path, "is not a regular file");
    }
    auto file = std::make_unique<MappedFile>();
    file->path = path;
    file->size = static_cast<uint64_t>(st.st_size);
    if (file->size < 8) {
        ::close(fd);
        failFile(path, "the file is only " + std::to_string(file->size) +
                           " bytes; a safetensors file starts with an 8-byte header size (empty or truncated file)");
    }
    void *p = mmap(nullptr, file->size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int err = errno;
    ::close(fd); // the mapping keeps the file alive
    if (p == MAP_FAILED)
        failFile(path, std::string("cannot memory-map: ") + std::strerror(err));
    file->bytes = static_cast<const uint8_t *>(p);
    return file;
}

uint64_t readU64(const uint8_t *p)
{
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// A JSON value that must be a non-negative integer; nlohmann keeps large ones as unsigned.
bool asCount(const json &v, uint64_t &out)
{
    if (v.is_number_unsigned()) {
        out = v.get<uint64_t>();
        return true;
    }
    if (v.is_number_integer() && v.get<int64_t>() >= 0) {
        out = static_cast<uint64_t>(v.get<int64_t>());
        return true;
    }
    return false;
}

TensorInfo parseEntry(const MappedFile &file, const std::string &name, const json &entry, uint64_t dataSize)
{
    const std::string &path = file.path;
    const std::string tensor = "tensor " + inQuotes(name);
    if (!entry.is_object())
        failFile(path, tensor + ": the header entry is not a JSON object");

    TensorInfo info;
    info.name = name;
    info.file = path;

    const auto dtypeIt = entry.find("dtype");
    if (dtypeIt == entry.end() || !dtypeIt->is_string())
        failFile(path, tensor + " has no \"dtype\" string");
    if (!parseDType(dtypeIt->get<std::string>(), info.dtype))
        failFile(path, tensor + " has unknown dtype \"" + dtypeIt->get<std::string>() +
                           "\" (known: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL)");

    const auto shapeIt = entry.find("shape");
    if (shapeIt == entry.end() || !shapeIt->is_array())
        failFile(path, tensor + " has no \"shape\" array");
    for (const auto &dim : *shapeIt) {
        uint64_t d = 0;
        if (!asCount(dim, d) || d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            failFile(path, tensor + " has shape " + shapeIt->dump() + "; every dimension must be a non-negative integer");
        info.shape.push_back(static_cast<int64_t>(d));
    }

    const auto offsetsIt = entry.find("data_offsets");
    uint64_t begin = 0;
    uint64_t end = 0;
    if (offsetsIt == entry.end() || !offsetsIt->is_array() || offsetsIt->size() != 2 ||
        !asCount((*offsetsIt)[0], begin) || !asCount((*offsetsIt)[1], end))
        failFile(path, tensor + " needs \"data_offsets\" of two non-negative integers [begin, end]");
    if (begin > end)
        failFile(path, tensor + " has data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                           "] with begin after end");
    if (end > dataSize)
        failFile(path, tensor + " claims bytes " + std::to_string(begin) + ".." + std::to_string(end) +
                           " but the data section has only " + std::to_string(dataSize) +
                           " bytes (the file is truncated or the header lies)");

    // Shapes come from an untrusted file: a product that overflows 64 bits is reported, not wrapped.
    uint64_t needed = dtypeSize(info.dtype);
    bool overflow = false;
    for (const int64_t dim : info.shape)
        overflow = __builtin_mul_overflow(needed, static_cast<uint64_t>(dim), &needed) || overflow;
    if (std::find(info.shape.begin(), info.shape.end(), 0) != info.shape.end()) {
        needed = 0;
        overflow = false;
    }
    const uint64_t claimed = end - begin;
    if (overflow || claimed != needed)
        failFile(path, tensor + " has " + std::to_string(claimed) + " bytes of data but its shape " + shapeIt->dump() +
                           " of " + dtypeName(info.dtype) + " needs " +
                           (overflow ? std::string("more than 2^64") : std::to_string(needed)) + " bytes");
    info.begin = begin;
    info.end = end;
    return info;
}

// Parses and validates the header of `file`, filling its metadata; returns its tensors.
std::vector<TensorInfo> readHeader(MappedFile &file)
{
    const std::string &path = file.path;
    const uint64_t headerSize = readU64(file.bytes);
    if (headerSize > kMaxHeaderBytes)
        failFile(path, "the header size field says " + std::to_string(headerSize) +
                           " bytes, above the 100 MB limit (not a safetensors file, or corrupt)");
    if (headerSize > file.size - 8)
        failFile(path, "the header size field says " + std::to_string(headerSize) + " bytes but only " +
                           std::to_string(file.size - 8) + " bytes follow it (the file is truncated or not safetensors)");
    file.dataStart = 8 + headerSize;
    const uint64_t dataSize = file.size - file.dataStart;

    const char *text = reinterpret_cast<const char *>(file.bytes + 8);
    json header;
    try {
        header = json::parse(text, text + headerSize);
    } catch (const json::exception &e) {
        failFile(path, std::string("the header is not valid JSON (") + e.what() + ")");
    }
    if (!header.is_object())
        failFile(path, std::string("the header is JSON but a ") + header.type_name() +
                           ", not an object of tensor entries");

    std::vector<TensorInfo> tensors;
    tensors.reserve(header.size());
    for (const auto &[key, value] : header.items()) {
        if (key == "__metadata__") {
            if (!value.is_object())
                failFile(path, "\"__metadata__\" must be an object of strings");
            for (const auto &[mkey, mvalue] : value.items()) {
                if (!mvalue.is_string())
                    failFile(path, "\"__metadata__\" entry " + inQuotes(mkey) + " is not a string");
                file.metadata[mkey] = mvalue.get<std::string>();
            }
            continue;
        }
        tensors.push_back(parseEntry(file, key, value, dataSize));
    }

    // Empty tensors own no bytes and so cannot overlap anything.
    std::vector<const TensorInfo *> byOffset;
    for (const auto &t : tensors)
        if (t.end > t.begin)
            byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(),
              [](const TensorInfo *a, const TensorInfo *b) { return a->begin < b->begin; });
    for (size_t i = 1; i < byOffset.size(); ++i) {
        const TensorInfo &prev = *byOffset[i - 1];
        const TensorInfo &cur = *byOffset[i];
        if (cur.begin < prev.end)
            failFile(path, "tensors " + inQuotes(prev.name) + " (bytes " + std::to_string(prev.begin) + ".." +
                               std::to_string(prev.end) + ") and " + inQuotes(cur.name) + " (bytes " +
                               std::to_string(cur.begin) + ".." + std::to_string(cur.end) + ") overlap");
    }
    return tensors;
}

} // namespace

const char *dtypeName(DType t)
{
    for (const auto &entry : kDTypes)
        if (entry.dtype == t)
            return entry.name;
    return "?";
}

size_t dtypeSize(DType t)
{
    for (const auto &entry : kDTypes)
        if (entry.dtype == t)
            return entry.size;
    return 0;
}

int64_t TensorInfo::numel() const
{
    int64_t n = 1;
    for (const int64_t d : shape)
        n *= d;
    return n;
}

struct SafetensorsCheckpoint::Impl
{
    std::string path; // what open() was given, for messages about the checkpoint as a whole
    std::vector<std::unique_ptr<MappedFile>> files;
    std::map<std::string, const MappedFile *> fileByPath;
    std::map<std::string, TensorInfo> tensors;
    std::map<std::string, std::string> metadata;

    MappedFile &addFile(const std::string &filePath)
    {
        files.push_back(mapFile(filePath));
        MappedFile &file = *files.back();
        fileByPath[filePath] = &file;
        return file;
    }

    void openSingle(const std::string &filePath)
    {
        MappedFile &file = addFile(filePath);
        for (auto &t : readHeader(file))
            tensors.emplace(t.name, std::move(t));
        metadata = file.metadata;
    }

    void openIndex(const std::string &indexPath)
    {
        std::ifstream in(indexPath, std::ios::binary);
        if (!in)
            failFile(indexPath, std::string("cannot open: ") + std::strerror(errno));
        json index;
        try {
            index = json::parse(in);
        } catch (const json::exception &e) {
            failFile(indexPath, std::string("the index is not valid JSON (") + e.what() + ")");
        }
        if (!index.is_object())
            failFile(indexPath, "the index is not a JSON object");
        const auto mapIt = index.find("weight_map");
        if (mapIt == index.end() || !mapIt->is_object())
            failFile(indexPath, "the index has no \"weight_map\" object");

        // Shard name -> tensors the index places there; std::map also sorts the shards, so the
        // first one (model-00001-...) supplies the metadata.
        std::map<std::string, std::vector<std::string>> wanted;
        for (const auto &[name, shard] : mapIt->items()) {
            if (!shard.is_string())
                failFile(indexPath, "weight_map entry for tensor " + inQuotes(name) + " is not a file name");
            wanted[shard.get<std::string>()].push_back(name);
        }
        if (wanted.empty())
            failFile(indexPath, "the index's weight_map is empty");

        const fs::path dir = fs::path(indexPath).parent_path();
        std::map<std::string, std::string> shardOfTensor; // every tensor of every shard's header
        for (const auto &[shardName, names] : wanted) {
            const std::string shardPath = (dir / shardName).string();
            std::error_code ec;
            if (!fs::exists(shardPath, ec))
                failFile(indexPath, "names shard " + inQuotes(shardName) + " (for tensor " + inQuotes(names.front()) +
                                        ") but " + shardPath + " does not exist");
            MappedFile &file = addFile(shardPath);
            std::map<std::string, TensorInfo> shardTensors;
            for (auto &t : readHeader(file)) {
                const auto [it, fresh] = shardOfTensor.emplace(t.name, shardPath);
                if (!fresh)
                    failFile(indexPath, "tensor " + inQuotes(t.name) + " is stored in two shards, " + it->second +
                                            " and " + shardPath + "; which one to use is ambiguous");
                shardTensors.emplace(t.name, std::move(t));
            }
            for (const auto &name : names) {
                auto it = shardTensors.find(name);
                if (it == shardTensors.end())
                    failFile(shardPath, "the index " + indexPath + " places tensor " + inQuotes(name) +
                                            " in this shard, but its header has no such tensor");
                tensors.emplace(name, std::move(it->second));
            }
            if (&file == files.front().get())
                metadata = file.metadata;
        }
    }
};

SafetensorsCheckpoint::SafetensorsCheckpoint()
    : m_impl(std::make_unique<Impl>())
{
}

SafetensorsCheckpoint::SafetensorsCheckpoint(SafetensorsCheckpoint &&) noexcept = default;
SafetensorsCheckpoint &SafetensorsCheckpoint::operator=(SafetensorsCheckpoint &&) noexcept = default;
SafetensorsCheckpoint::~SafetensorsCheckpoint() = default;

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string &path)
{
    SafetensorsCheckpoint checkpoint;
    Impl &impl = *checkpoint.m_impl;
    impl.path = path;

    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (!fs::exists(status))
        failFile(path, "no such file or directory");
    if (fs::is_directory(status)) {
        const fs::path index = fs::path(path) / kIndexName;
        const fs::path single = fs::path(path) / kSingleName;
        if (fs::exists(index, ec))
            impl.openIndex(index.string());
        else if (fs::exists(single, ec))
            impl.openSingle(single.string());
        else
            failFile(path, std::string("the directory holds neither ") + kIndexName + " nor " + kSingleName +
                               " (not a Hugging Face safetensors checkpoint)");
    } else if (fs::path(path).extension() == ".json") {
        impl.openIndex(path);
    } else {
        impl.openSingle(path);
    }
    return checkpoint;
}

bool SafetensorsCheckpoint::contains(const std::string &name) const
{
    return m_impl->tensors.count(name) != 0;
}

const TensorInfo &SafetensorsCheckpoint::info(const std::string &name) const
{
    const auto it = m_impl->tensors.find(name);
    if (it == m_impl->tensors.end())
        failFile(m_impl->path, "the checkpoint lacks tensor " + inQuotes(name) + " (it has " +
                                   std::to_string(m_impl->tensors.size()) + " tensors)");
    return it->second;
}

std::vector<std::string> SafetensorsCheckpoint::names() const
{
    std::vector<std::string> out;
    out.reserve(m_impl->tensors.size());
    for (const auto &entry : m_impl->tensors)
        out.push_back(entry.first);
    return out;
}

std::vector<float> SafetensorsCheckpoint::readFloat32(const std::string &name) const
{
    const TensorInfo &t = info(name);
    const MappedFile &file = *m_impl->fileByPath.at(t.file);
    // The data section need not be aligned (the padding is only a convention), so every element
    // is copied out with memcpy rather than read through a typed pointer.
    const uint8_t *src = file.bytes + file.dataStart + t.begin;
    const size_t n = static_cast<size_t>((t.end - t.begin) / dtypeSize(t.dtype));
    std::vector<float> out(n);
    switch (t.dtype) {
    case DType::F32:
        if (n)
            std::memcpy(out.data(), src, n * sizeof(float));
        break;
    case DType::F16:
    case DType::BF16: {
        const bool half = t.dtype == DType::F16;
        for (size_t i = 0; i < n; ++i) {
            uint16_t v;
            std::memcpy(&v, src + 2 * i, sizeof v);
            out[i] = half ? halfToFloat(v) : bfloat16ToFloat(v);
        }
        break;
    }
    case DType::F64:
        for (size_t i = 0; i < n; ++i) {
            double v;
            std::memcpy(&v, src + 8 * i, sizeof v);
            out[i] = static_cast<float>(v);
        }
        break;
    default:
        failFile(t.file, "tensor " + inQuotes(name) + " has dtype " + dtypeName(t.dtype) +
                             "; expected a floating-point tensor (F32, F16, BF16 or F64)");
    }
    return out;
}

const std::map<std::string, std::string> &SafetensorsCheckpoint::metadata() const
{
    return m_impl->metadata;
}

} // namespace mq
