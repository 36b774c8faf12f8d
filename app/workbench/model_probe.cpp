#include "app/workbench/model_probe.h"

#include "core/model/sites.h"
#include "core/util/error.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace mq {

namespace {

constexpr std::uint32_t kLlama2cMagic = 0x616b3432; // "ak42", the version-1 export

// The header of a llama2.c checkpoint: seven int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len), after "ak42" + version in version-1 exports.
ModelConfig readLlama2cHeader(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        failFile(path, "cannot open the checkpoint (does it exist and is it readable?)");
    std::uint32_t magic = 0;
    in.read(reinterpret_cast<char *>(&magic), 4);
    std::int32_t hdr[7] = {};
    if (in && magic == kLlama2cMagic) {
        std::int32_t version = 0;
        in.read(reinterpret_cast<char *>(&version), 4);
        in.read(reinterpret_cast<char *>(hdr), sizeof hdr);
    } else {
        in.clear();
        in.seekg(0);
        in.read(reinterpret_cast<char *>(hdr), sizeof hdr);
    }
    if (!in)
        failFile(path, "too short to be a llama2.c checkpoint; open a .bin export or a Hugging Face folder");
    ModelConfig c;
    c.arch = Arch::Llama;
    c.hiddenSize = hdr[0];
    c.intermediateSize = hdr[1];
    c.numLayers = hdr[2];
    c.numHeads = hdr[3];
    c.numKvHeads = hdr[4];
    c.vocabSize = std::abs(hdr[5]);
    c.maxPositions = hdr[6];
    c.headDim = c.numHeads > 0 ? c.hiddenSize / c.numHeads : 0;
    const bool sane = c.hiddenSize > 0 && c.hiddenSize < (1 << 20) && c.numLayers > 0 && c.numLayers < 1024
        && c.numHeads > 0 && c.numKvHeads > 0 && c.vocabSize > 0 && c.maxPositions > 0
        && c.hiddenSize % c.numHeads == 0;
    if (!sane)
        failFile(path,
            "not a llama2.c checkpoint (its header does not describe a model); open a .bin export "
            "or a Hugging Face folder with config.json");
    c.validate(path);
    return c;
}

} // namespace

std::string tokenizerBeside(const std::string &checkpointPath)
{
    const fs::path p(checkpointPath);
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
        for (const char *name : { "tokenizer.model", "tokenizer.json", "tokenizer.bin" })
            if (fs::exists(p / name, ec))
                return (p / name).string();
        return {};
    }
    const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    if (fs::exists(dir / "tokenizer.bin", ec))
        return (dir / "tokenizer.bin").string();
    std::vector<std::string> candidates;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        const std::string name = e.path().filename().string();
        if (e.is_regular_file() && name.rfind("tok", 0) == 0 && e.path().extension() == ".bin" && e.path() != p)
            candidates.push_back(e.path().string());
    }
    std::sort(candidates.begin(), candidates.end());
    return candidates.empty() ? std::string() : candidates.front();
}

ModelProbe ModelProbe::read(const std::string &path)
{
    ModelProbe m;
    m.path = path;
    std::error_code ec;
    if (!fs::exists(path, ec))
        failFile(path, "no such file or folder");
    if (fs::is_directory(path, ec)) {
        const fs::path config = fs::path(path) / "config.json";
        if (!fs::exists(config, ec))
            failFile(path, "a folder without config.json is not a Hugging Face checkpoint");
        m.config = readHfConfig(config.string());
        m.format = "Hugging Face";
    } else {
        m.config = readLlama2cHeader(path);
        m.format = "llama2.c";
    }
    m.tokenizerPath = tokenizerBeside(path);
    const bool silu = m.config.act == Activation::Silu;
    for (int layer = 0; layer < m.config.numLayers; ++layer)
        for (int s = 0; s < kActSiteCount; ++s)
            if (actSiteExists(ActSite(s), silu))
                m.activationSites.push_back(actSiteName(layer, ActSite(s)));
    for (int s = 0; s < int(ModelSite::Count); ++s)
        m.activationSites.emplace_back(modelSiteName(ModelSite(s)));
    return m;
}

} // namespace mq
