#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mq {

// Element types of the safetensors format (https://huggingface.co/docs/safetensors): the names
// are those of the header's "dtype" field.
enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

const char *dtypeName(DType t);
size_t dtypeSize(DType t);

struct TensorInfo
{
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t begin = 0; // byte offsets into the data section (after the header)
    uint64_t end = 0;
    std::string file; // the .safetensors file that holds it

    int64_t numel() const;
};

// A read-only view of a Hugging Face checkpoint's tensors: one `model.safetensors`, or the shards
// named by a `model.safetensors.index.json`. Files are memory-mapped. Every header is validated
// when opened (JSON, dtypes, shapes vs. byte sizes, offsets inside the file, no overlaps), and
// every error names the file and the tensor. Not thread-safe for opening; reading is const.
class SafetensorsCheckpoint
{
public:
    // `path` is a .safetensors file, an index .json file, or a directory holding either.
    static SafetensorsCheckpoint open(const std::string &path);

    SafetensorsCheckpoint(SafetensorsCheckpoint &&) noexcept;
    SafetensorsCheckpoint &operator=(SafetensorsCheckpoint &&) noexcept;
    ~SafetensorsCheckpoint();

    bool contains(const std::string &name) const;
    const TensorInfo &info(const std::string &name) const; // throws naming the tensor if absent
    std::vector<std::string> names() const;                // sorted

    // The tensor converted to float32 (from F32, F16, BF16, F64; integers are rejected).
    std::vector<float> readFloat32(const std::string &name) const;

    // The string -> string "__metadata__" of the (first) file; for an index, of the first shard in
    // file-name order. An index checkpoint holds exactly the tensors of its weight_map.
    const std::map<std::string, std::string> &metadata() const;

private:
    SafetensorsCheckpoint();
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// One tensor to write: float32 values stored as `dtype` (F32, F16 or BF16; round-to-nearest-even).
struct TensorToWrite
{
    std::string name;
    std::vector<int64_t> shape;
    const float *data = nullptr; // numel(shape) floats, owned by the caller
    DType dtype = DType::F32;
};

// Writes one .safetensors file (tensors sorted by name, data 8-byte aligned as the format asks).
// Writes to `path.tmp` then renames, so a crash never leaves a half-written checkpoint.
void writeSafetensors(const std::string &path, const std::vector<TensorToWrite> &tensors,
                      const std::map<std::string, std::string> &metadata = {});

// Writes a checkpoint into directory `dir` (created if missing) the way Hugging Face shards one:
// tensors sorted by name are packed in order into shards of at most `maxShardBytes` of data each
// (a tensor larger than that gets a shard of its own), written as `model-0000k-of-0000n.safetensors`
// plus a `model.safetensors.index.json` whose weight_map names each tensor's shard and whose
// "metadata" holds "total_size" and `metadata`. Every shard also carries `metadata` as its
// "__metadata__". If everything fits in one shard, writes a single `model.safetensors` and no index
// (removing a stale index, which open() would otherwise prefer). The index is written last, so an
// interrupted write into a fresh directory never leaves an index naming missing shards.
void writeSafetensorsSharded(const std::string &dir, const std::vector<TensorToWrite> &tensors,
                             size_t maxShardBytes, const std::map<std::string, std::string> &metadata = {});

// Conversions used by the writer and the reader (exposed for tests).
uint16_t floatToHalf(float f);
float halfToFloat(uint16_t h);
uint16_t floatToBFloat16(float f);
float bfloat16ToFloat(uint16_t b);

} // namespace mq
