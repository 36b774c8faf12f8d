#include "core/safetensors/safetensors.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>

#include <unistd.h>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors writer assumes a little-endian host");

namespace mq {

namespace fs = std::filesystem;

namespace {

uint64_t byteCount(const TensorToWrite &t)
{
    uint64_t n = 1;
    for (const int64_t d : t.shape)
        n *= static_cast<uint64_t>(d);
    return n * dtypeSize(t.dtype);
}

// Rejects what would produce a file the reader (or Hugging Face) refuses, before anything is written.
void checkTensors(const std::string &path, const std::vector<TensorToWrite> &tensors)
{
    std::set<std::string> seen;
    for (const auto &t : tensors) {
        const std::string tensor = "tensor '" + t.name + "'";
        if (t.name.empty() || t.name == "__metadata__")
            failFile(path, "cannot write a tensor named '" + t.name + "'");
        if (!seen.insert(t.name).second)
            failFile(path, tensor + " is given twice");
        if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16)
            failFile(path, tensor + ": can only write F32, F16 or BF16, not " + dtypeName(t.dtype));
        int64_t numel = 1;
        for (const int64_t d : t.shape) {
            if (d < 0)
                failFile(path, tensor + " has a negative dimension");
            numel *= d;
        }
        if (numel > 0 && !t.data)
            failFile(path, tensor + " has no data");
    }
}

// Closes the FILE on every path out, so an exception while writing leaks nothing.
struct FileCloser
{
    void operator()(std::FILE *f) const { std::fclose(f); }
};

void writeBytes(std::FILE *f, const std::string &path, const void *p, size_t n)
{
    if (n && std::fwrite(p, 1, n, f) != n)
        failFile(path, std::string("write failed: ") + std::strerror(errno));
}

void writeTensorData(std::FILE *f, const std::string &path, const TensorToWrite &t)
{
    const auto n = static_cast<size_t>(byteCount(t) / dtypeSize(t.dtype));
    if (t.dtype == DType::F32) {
        writeBytes(f, path, t.data, n * sizeof(float));
        return;
    }
    // Convert in chunks to bound the extra memory for multi-gigabyte tensors.
    constexpr size_t kChunk = 1 << 16;
    std::vector<uint16_t> buffer(std::min(n, kChunk));
    for (size_t start = 0; start < n; start += kChunk) {
        const size_t count = std::min(kChunk, n - start);
        for (size_t i = 0; i < count; ++i) {
            const float v = t.data[start + i];
            buffer[i] = t.dtype == DType::F16 ? floatToHalf(v) : floatToBFloat16(v);
        }
        writeBytes(f, path, buffer.data(), count * sizeof(uint16_t));
    }
}

void writeFileAtomically(const std::string &path, const std::function<void(std::FILE *, const std::string &)> &body)
{
    const std::string tmp = path + ".tmp";
    try {
        std::unique_ptr<std::FILE, FileCloser> f(std::fopen(tmp.c_str(), "wb"));
        if (!f)
            failFile(tmp, std::string("cannot create: ") + std::strerror(errno));
        body(f.get(), tmp);
        // fsync before the rename: otherwise a crash can leave the new name on empty contents.
        if (std::fflush(f.get()) != 0 || fsync(fileno(f.get())) != 0)
            failFile(tmp, std::string("write failed: ") + std::strerror(errno));
        if (std::fclose(f.release()) != 0)
            failFile(tmp, std::string("write failed: ") + std::strerror(errno));
        std::error_code ec;
        fs::rename(tmp, path, ec);
        if (ec)
            failFile(path, "cannot rename " + tmp + " into place: " + ec.message());
    } catch (...) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        throw;
    }
}

} // namespace

void writeSafetensors(const std::string &path, const std::vector<TensorToWrite> &tensors,
                      const std::map<std::string, std::string> &metadata)
{
    checkTensors(path, tensors);
    std::vector<const TensorToWrite *> sorted;
    for (const auto &t : tensors)
        sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(),
              [](const TensorToWrite *a, const TensorToWrite *b) { return a->name < b->name; });

    // ordered_json keeps "__metadata__" first and the tensors in data order, as Python writes them.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    header["__metadata__"] = nlohmann::ordered_json::object();
    for (const auto &[key, value] : metadata)
        header["__metadata__"][key] = value;
    uint64_t offset = 0;
    for (const TensorToWrite *t : sorted) {
        const uint64_t bytes = byteCount(*t);
        header[t->name] = {{"dtype", dtypeName(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string text = header.dump();
    // Spaces are valid trailing JSON; they put the data section on an 8-byte boundary so a mapped
    // file can be read in place.
    text.append((8 - (8 + text.size()) % 8) % 8, ' ');

    writeFileAtomically(path, [&](std::FILE *f, const std::string &tmp) {
        uint8_t size[8];
        for (int i = 0; i < 8; ++i)
            size[i] = static_cast<uint8_t>(static_cast<uint64_t>(text.size()) >> (8 * i));
        writeBytes(f, tmp, size, sizeof size);
        writeBytes(f, tmp, text.data(), text.size());
        for (const TensorToWrite *t : sorted)
            writeTensorData(f, tmp, *t);
    });
}

void writeSafetensorsSharded(const std::string &dir, const std::vector<TensorToWrite> &tensors, size_t maxShardBytes,
                             const std::map<std::string, std::string> &metadata)
{
    checkTensors(dir, tensors);
    std::vector<TensorToWrite> sorted = tensors;
    std::sort(sorted.begin(), sorted.end(),
              [](const TensorToWrite &a, const TensorToWrite &b) { return a.name < b.name; });

    std::vector<std::vector<TensorToWrite>> shards;
    uint64_t shardBytes = 0;
    uint64_t totalBytes = 0;
    for (const auto &t : sorted) {
        const uint64_t bytes = byteCount(t);
        if (shards.empty() || (!shards.back().empty() && shardBytes + bytes > maxShardBytes)) {
            shards.emplace_back();
            shardBytes = 0;
        }
        shards.back().push_back(t);
        shardBytes += bytes;
        totalBytes += bytes;
    }

    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        failFile(dir, "cannot create the directory: " + ec.message());
    const fs::path indexPath = fs::path(dir) / "model.safetensors.index.json";

    if (shards.size() <= 1) {
        writeSafetensors((fs::path(dir) / "model.safetensors").string(), sorted, metadata);
        fs::remove(indexPath, ec);
        if (ec)
            failFile(indexPath.string(), "cannot remove the stale index: " + ec.message());
        return;
    }

    nlohmann::ordered_json index;
    index["metadata"] = {{"total_size", totalBytes}};
    for (const auto &[key, value] : metadata)
        if (key != "total_size") // the index's own number, which loaders read
            index["metadata"][key] = value;
    index["weight_map"] = nlohmann::ordered_json::object();
    for (size_t k = 0; k < shards.size(); ++k) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", k + 1, shards.size());
        writeSafetensors((fs::path(dir) / name).string(), shards[k], metadata);
        for (const auto &t : shards[k])
            index["weight_map"][t.name] = name;
    }
    const std::string text = index.dump(2) + "\n";
    writeFileAtomically(indexPath.string(),
                        [&](std::FILE *f, const std::string &tmp) { writeBytes(f, tmp, text.data(), text.size()); });
}

} // namespace mq
