#include "core/model/model.h"

#include "core/model/param_table.h"
#include "core/safetensors/safetensors.h"
#include "core/util/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace mq {

namespace {

std::string shapeText(const std::vector<int64_t> &s)
{
    std::string out = "[";
    for (size_t i = 0; i < s.size(); ++i)
        out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
}

// llama2.c rotates interleaved pairs (2j, 2j+1); HF rotates halves (j, j + d/2). Reordering each
// head's rows so that new row j = old 2j and new row d/2 + j = old 2j + 1 makes rotate-half RoPE
// compute exactly what the original did.
at::Tensor interleavedToHalves(const at::Tensor &w, int64_t heads, int64_t headDim)
{
    const int64_t in = w.size(1);
    return w.view({heads, headDim / 2, 2, in}).transpose(1, 2).reshape({heads * headDim, in}).contiguous();
}

constexpr uint32_t kLlama2cMagic = 0x616b3432; // "ak42"

} // namespace

std::pair<ModelConfig, ModelWeights> readLlama2c(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        failFile(path, "cannot open the checkpoint");
    const uint64_t fileSize = fs::file_size(path);

    int32_t hdr[7] = {};
    uint32_t magic = 0;
    in.read(reinterpret_cast<char *>(&magic), 4);
    bool version1 = false;
    bool shared = true;
    uint64_t dataStart = 28;
    if (in && magic == kLlama2cMagic) {
        int32_t version = 0;
        in.read(reinterpret_cast<char *>(&version), 4);
        if (version != 1)
            failFile(path, "llama2.c export version " + std::to_string(version)
                               + " is not supported (only the float32 legacy and version-1 exports are; "
                                 "re-export with llama2.c export.py --version 1)");
        in.read(reinterpret_cast<char *>(hdr), sizeof hdr);
        uint8_t sharedByte = 1;
        in.read(reinterpret_cast<char *>(&sharedByte), 1);
        shared = sharedByte != 0;
        version1 = true;
        dataStart = 256;
    } else {
        in.seekg(0);
        in.read(reinterpret_cast<char *>(hdr), sizeof hdr);
    }
    if (!in)
        failFile(path, "file is too short to hold a llama2.c header (" + std::to_string(fileSize) + " bytes)");

    ModelConfig c;
    c.arch = Arch::Llama;
    c.hiddenSize = hdr[0];
    c.intermediateSize = hdr[1];
    c.numLayers = hdr[2];
    c.numHeads = hdr[3];
    c.numKvHeads = hdr[4];
    if (!version1) {
        // The legacy export signals an untied classifier with a negative vocab size.
        shared = hdr[5] > 0;
    }
    c.vocabSize = std::abs(hdr[5]);
    c.maxPositions = hdr[6];
    c.headDim = c.numHeads > 0 ? c.hiddenSize / c.numHeads : 0;
    c.normEps = 1e-5; // run.c's rmsnorm
    c.tiedEmbeddings = shared;
    c.bosId = 1;
    c.eosId = 2;
    const bool sane = c.hiddenSize > 0 && c.hiddenSize < (1 << 20) && c.intermediateSize > 0
        && c.intermediateSize < (1 << 22) && c.numLayers > 0 && c.numLayers < 1024 && c.numHeads > 0
        && c.numKvHeads > 0 && c.vocabSize > 0 && c.vocabSize < (1 << 24) && c.maxPositions > 0
        && c.hiddenSize % c.numHeads == 0;
    if (!sane)
        failFile(path, "not a llama2.c checkpoint: its header reads dim=" + std::to_string(hdr[0]) + " hidden_dim="
                           + std::to_string(hdr[1]) + " n_layers=" + std::to_string(hdr[2]) + " n_heads="
                           + std::to_string(hdr[3]) + " n_kv_heads=" + std::to_string(hdr[4])
                           + " vocab_size=" + std::to_string(hdr[5]) + " seq_len=" + std::to_string(hdr[6]));
    c.validate(path);

    const int64_t D = c.hiddenSize, F = c.intermediateSize, L = c.numLayers, V = c.vocabSize;
    const int64_t Q = c.qDim(), KV = c.kvDim();
    const int64_t freqFloats = version1 ? 0 : 2LL * c.maxPositions * (c.headDim / 2);
    const int64_t floats = V * D + L * (2 * D + D * Q + 2 * D * KV + Q * D + 3 * D * F) + D + freqFloats
        + (shared ? 0 : V * D);
    const uint64_t expected = dataStart + uint64_t(floats) * 4;
    if (fileSize != expected)
        failFile(path, std::string(fileSize < expected ? "truncated" : "has trailing bytes") + ": the header (dim="
                           + std::to_string(D) + ", layers=" + std::to_string(L) + ", vocab="
                           + std::to_string(V) + (shared ? ", tied" : ", untied")
                           + " classifier) implies " + std::to_string(expected) + " bytes, the file has "
                           + std::to_string(fileSize));

    at::Tensor all = at::empty({floats}, at::kFloat);
    in.seekg(std::streamoff(dataStart));
    in.read(reinterpret_cast<char *>(all.data_ptr<float>()), std::streamsize(floats * 4));
    if (!in)
        failFile(path, "read error while loading the weights");

    int64_t off = 0;
    auto take = [&](std::vector<int64_t> shape) {
        int64_t n = 1;
        for (int64_t s : shape)
            n *= s;
        at::Tensor t = all.narrow(0, off, n).view(shape).clone();
        off += n;
        return t;
    };

    ModelWeights w;
    w.layers.resize(size_t(L));
    at::Tensor attnNorm, ffnNorm, wq, wk, wv, wo, w1, w2, w3;
    if (version1) {
        attnNorm = take({L, D});
        ffnNorm = take({L, D});
        w.finalNormW = take({D});
        w.embed = take({V, D});
        wq = take({L, Q, D});
        wk = take({L, KV, D});
        wv = take({L, KV, D});
        wo = take({L, D, Q});
        w1 = take({L, F, D});
        w2 = take({L, D, F});
        w3 = take({L, F, D});
    } else {
        w.embed = take({V, D});
        attnNorm = take({L, D});
        wq = take({L, Q, D});
        wk = take({L, KV, D});
        wv = take({L, KV, D});
        wo = take({L, D, Q});
        ffnNorm = take({L, D});
        w1 = take({L, F, D});
        w2 = take({L, D, F});
        w3 = take({L, F, D});
        w.finalNormW = take({D});
        off += freqFloats; // precomputed RoPE tables; we compute our own
    }
    w.lmHead = shared ? w.embed : take({V, D});
    for (int64_t l = 0; l < L; ++l) {
        LayerWeights &lw = w.layers[size_t(l)];
        lw.attnNormW = attnNorm[l].clone();
        lw.mlpNormW = ffnNorm[l].clone();
        lw.qW = interleavedToHalves(wq[l], c.numHeads, c.headDim);
        lw.kW = interleavedToHalves(wk[l], c.numKvHeads, c.headDim);
        lw.vW = wv[l].clone();
        lw.oW = wo[l].clone();
        lw.gateW = w1[l].clone();
        lw.downW = w2[l].clone();
        lw.upW = w3[l].clone();
    }
    return {c, std::move(w)};
}

std::pair<ModelConfig, ModelWeights> readHuggingFace(const std::string &dir)
{
    const fs::path root(dir);
    const std::string configPath = (root / "config.json").string();
    if (!fs::exists(configPath))
        failFile(dir, "no config.json: a Hugging Face model directory needs config.json beside its weights");
    ModelConfig c = readHfConfig(configPath);
    SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open(dir);

    ModelWeights w;
    w.layers.resize(size_t(c.numLayers));
    for (const ParamRef &p : paramTable(c, w)) {
        if (!ckpt.contains(p.name))
            failFile(dir, std::string("the checkpoint lacks ") + p.name + " (config.json describes a " + archName(c.arch)
                              + " model with " + std::to_string(c.numLayers) + " layers"
                              + (p.name == "lm_head.weight" ? " and an untied lm_head" : "") + ")");
        const TensorInfo &info = ckpt.info(p.name);
        if (info.shape != p.shape)
            failFile(info.file, "tensor " + p.name + " has shape " + shapeText(info.shape) + " but config.json ("
                                    + configPath + ") implies " + shapeText(p.shape)
                                    + "; the config does not belong to these weights");
        // The tensor takes over the converted values instead of copying them again (a second copy
        // of every weight would double the peak memory of loading a 1B model).
        auto *values = new std::vector<float>(ckpt.readFloat32(p.name));
        at::Tensor t = at::from_blob(values->data(), p.shape, [values](void *) { delete values; },
                                     at::TensorOptions().dtype(at::kFloat));
        if (p.isNormWeight && c.normPlusOne)
            t = t + 1.0f;
        *p.tensor = t;
    }
    if (c.tiedEmbeddings)
        w.lmHead = w.embed;
    return {c, std::move(w)};
}

void writeHuggingFace(const std::string &dir, const ModelConfig &config, const ModelWeights &weights,
                      const std::string &dtypeName, size_t maxShardBytes)
{
    DType dtype = DType::F32;
    if (dtypeName == "F16")
        dtype = DType::F16;
    else if (dtypeName == "BF16")
        dtype = DType::BF16;
    else if (dtypeName != "F32")
        throw Error("unknown dtype '" + dtypeName + "': use F32, F16 or BF16");
    fs::create_directories(dir);
    {
        std::ofstream cfg(fs::path(dir) / "config.json");
        cfg << hfConfigJson(config);
        if (!cfg)
            failFile((fs::path(dir) / "config.json").string(), "cannot write");
    }
    auto named = hfNamedTensors(config, weights);
    std::vector<TensorToWrite> out;
    for (auto &[name, t] : named)
        out.push_back({name, t.sizes().vec(), t.data_ptr<float>(), dtype});
    const std::map<std::string, std::string> meta = {{"format", "pt"}, {"producer", "mq-workbench"}};
    if (maxShardBytes > 0)
        writeSafetensorsSharded(dir, out, maxShardBytes, meta);
    else
        writeSafetensors((fs::path(dir) / "model.safetensors").string(), out, meta);
}

std::string findTokenizer(const std::string &checkpointPath)
{
    const fs::path p(checkpointPath);
    if (fs::is_directory(p)) {
        for (const char *name : {"tokenizer.model", "tokenizer.json", "tokenizer.bin"})
            if (fs::exists(p / name))
                return (p / name).string();
        return {};
    }
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (fs::exists(dir / "tokenizer.bin"))
        return (dir / "tokenizer.bin").string();
    std::vector<std::string> candidates;
    for (const auto &e : fs::directory_iterator(dir)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && name.rfind("tok", 0) == 0 && e.path().extension() == ".bin"
            && e.path() != p)
            candidates.push_back(e.path().string());
    }
    std::sort(candidates.begin(), candidates.end());
    return candidates.empty() ? std::string() : candidates.front();
}

Model loadModel(const std::string &path, const LoadOptions &options)
{
    if (!fs::exists(path))
        failFile(path, "no such file or directory");
    Model m;
    m.path = path;
    std::pair<ModelConfig, ModelWeights> loaded;
    if (fs::is_directory(path)) {
        m.format = CheckpointFormat::HuggingFace;
        loaded = readHuggingFace(path);
    } else {
        m.format = CheckpointFormat::Llama2c;
        loaded = readLlama2c(path);
    }
    m.tokenizerPath = options.tokenizerPath.empty() ? findTokenizer(path) : options.tokenizerPath;
    if (!m.tokenizerPath.empty()) {
        SpecialTokens special;
        special.bos = loaded.first.bosId;
        special.eos = loaded.first.eosId;
        m.tokenizer = loadTokenizer(m.tokenizerPath, loaded.first.vocabSize, special);
    } else if (options.requireTokenizer) {
        failFile(path, "no tokenizer found beside the checkpoint (looked for tokenizer.model, tokenizer.json, "
                       "tokenizer.bin, tok*.bin); pass --tokenizer PATH");
    }
    m.transformer = std::make_unique<Transformer>(std::move(loaded.first), std::move(loaded.second));
    return m;
}

} // namespace mq
