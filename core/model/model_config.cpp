#include "core/model/model_config.h"

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

namespace mq {

const char *archName(Arch a)
{
    switch (a) {
    case Arch::Llama: return "llama";
    case Arch::Mistral: return "mistral";
    case Arch::Qwen2: return "qwen2";
    case Arch::Gemma: return "gemma";
    case Arch::StableLm: return "stablelm";
    }
    return "?";
}

const char *activationName(Activation a)
{
    switch (a) {
    case Activation::Silu: return "silu";
    case Activation::Gelu: return "gelu";
    case Activation::GeluTanh: return "gelu_pytorch_tanh";
    }
    return "?";
}

int ModelConfig::rotaryDim() const
{
    // HF StableLM: int(partial_rotary_factor * head_dim); keep it even so pairs exist.
    int d = int(std::floor(partialRotaryFactor * headDim + 1e-9));
    return d - d % 2;
}

void ModelConfig::validate(const std::string &source) const
{
    auto need = [&](bool ok, const std::string &what) {
        if (!ok)
            throw Error(source + ": " + what);
    };
    need(hiddenSize > 0, "hidden_size must be positive");
    need(intermediateSize > 0, "intermediate_size must be positive");
    need(numLayers > 0, "num_hidden_layers must be positive");
    need(numHeads > 0, "num_attention_heads must be positive");
    need(numKvHeads > 0 && numHeads % numKvHeads == 0,
         "num_key_value_heads (" + std::to_string(numKvHeads) + ") must divide num_attention_heads ("
             + std::to_string(numHeads) + ")");
    need(headDim > 0 && headDim % 2 == 0, "head_dim must be a positive even number");
    need(vocabSize > 0, "vocab_size must be positive");
    need(rotaryDim() >= 2 && rotaryDim() <= headDim, "partial_rotary_factor leaves no rotary dims");
    need(normEps > 0, "the norm epsilon must be positive");
}

namespace {

using nlohmann::json;

template <typename T>
T get(const json &j, const char *key, const T &fallback, const std::string &path)
{
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    try {
        return it->get<T>();
    } catch (const json::exception &) {
        throw Error(path + ": key '" + key + "' has the wrong type (" + it->dump() + ")");
    }
}

int require(const json &j, const char *key, const std::string &path)
{
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
        throw Error(path + ": missing integer key '" + key + "'");
    return it->get<int>();
}

// bos/eos may be an int or a list of ints (Llama-3 style); the first one is used.
int tokenId(const json &j, const char *key, int fallback)
{
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    if (it->is_number_integer())
        return it->get<int>();
    if (it->is_array() && !it->empty() && (*it)[0].is_number_integer())
        return (*it)[0].get<int>();
    return fallback;
}

Arch archFrom(const json &j, const std::string &path)
{
    std::string type = get<std::string>(j, "model_type", "", path);
    if (type.empty() && j.contains("architectures") && j["architectures"].is_array()
        && !j["architectures"].empty()) {
        const std::string a = j["architectures"][0].get<std::string>();
        if (a.rfind("Llama", 0) == 0) type = "llama";
        else if (a.rfind("Mistral", 0) == 0) type = "mistral";
        else if (a.rfind("Qwen2", 0) == 0) type = "qwen2";
        else if (a.rfind("Gemma", 0) == 0) type = "gemma";
        else if (a.rfind("StableLm", 0) == 0) type = "stablelm";
    }
    if (type == "llama") return Arch::Llama;
    if (type == "mistral") return Arch::Mistral;
    if (type == "qwen2") return Arch::Qwen2;
    if (type == "gemma") return Arch::Gemma;
    if (type == "stablelm" || type == "stablelm_epoch") return Arch::StableLm;
    throw Error(path + ": model_type '" + type
                + "' is not supported; supported are llama, mistral, qwen2, gemma, stablelm");
}

Activation activationFrom(const std::string &name, const std::string &path)
{
    if (name == "silu" || name == "swish") return Activation::Silu;
    if (name == "gelu") return Activation::Gelu;
    if (name == "gelu_pytorch_tanh" || name == "gelu_new" || name == "gelu_fast") return Activation::GeluTanh;
    throw Error(path + ": activation '" + name + "' is not supported (silu, gelu, gelu_pytorch_tanh)");
}

} // namespace

ModelConfig readHfConfig(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        throw Error(path + ": cannot open the model's config.json");
    json j;
    try {
        j = json::parse(in);
    } catch (const json::exception &e) {
        throw Error(path + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object())
        throw Error(path + ": config.json must be a JSON object");

    ModelConfig c;
    c.arch = archFrom(j, path);
    c.hiddenSize = require(j, "hidden_size", path);
    c.intermediateSize = require(j, "intermediate_size", path);
    c.numLayers = require(j, "num_hidden_layers", path);
    c.numHeads = require(j, "num_attention_heads", path);
    c.numKvHeads = get<int>(j, "num_key_value_heads", c.numHeads, path);
    c.headDim = get<int>(j, "head_dim", c.numHeads > 0 ? c.hiddenSize / c.numHeads : 0, path);
    c.vocabSize = require(j, "vocab_size", path);
    c.maxPositions = get<int>(j, "max_position_embeddings", 2048, path);
    c.ropeTheta = get<double>(j, "rope_theta", 10000.0, path);
    c.bosId = tokenId(j, "bos_token_id", -1);
    c.synthetic = get<std::string>(j, "mq_synthetic", "", path);
    c.eosId = tokenId(j, "eos_token_id", -1);

    if (auto rs = j.find("rope_scaling"); rs != j.end() && !rs->is_null()) {
        const std::string type = get<std::string>(*rs, "type", get<std::string>(*rs, "rope_type", "", path), path);
        if (type != "linear")
            throw Error(path + ": rope_scaling type '" + type + "' is not supported (only linear)");
        c.ropeLinearScale = get<double>(*rs, "factor", 1.0, path);
    }

    switch (c.arch) {
    case Arch::Llama:
    case Arch::Mistral:
        c.normEps = get<double>(j, "rms_norm_eps", 1e-6, path);
        c.act = activationFrom(get<std::string>(j, "hidden_act", "silu", path), path);
        c.qkvBias = c.oBias = get<bool>(j, "attention_bias", false, path);
        c.mlpBias = get<bool>(j, "mlp_bias", false, path);
        c.tiedEmbeddings = get<bool>(j, "tie_word_embeddings", false, path);
        if (c.arch == Arch::Mistral)
            c.slidingWindow = get<int>(j, "sliding_window", 0, path);
        break;
    case Arch::Qwen2:
        c.normEps = get<double>(j, "rms_norm_eps", 1e-6, path);
        c.act = activationFrom(get<std::string>(j, "hidden_act", "silu", path), path);
        c.qkvBias = true; // Qwen2 attention: biases on q, k, v; none on o
        c.tiedEmbeddings = get<bool>(j, "tie_word_embeddings", false, path);
        if (get<bool>(j, "use_sliding_window", false, path))
            c.slidingWindow = get<int>(j, "sliding_window", 0, path);
        break;
    case Arch::Gemma:
        c.normEps = get<double>(j, "rms_norm_eps", 1e-6, path);
        c.normPlusOne = true;
        // HF's Gemma uses the tanh approximation whatever `hidden_act` says (it warns about it).
        c.act = Activation::GeluTanh;
        c.qkvBias = c.oBias = get<bool>(j, "attention_bias", false, path);
        c.tiedEmbeddings = get<bool>(j, "tie_word_embeddings", true, path);
        c.embedScale = std::sqrt(double(c.hiddenSize));
        break;
    case Arch::StableLm:
        c.norm = NormKind::LayerNorm;
        c.normEps = get<double>(j, "layer_norm_eps", 1e-5, path);
        c.act = activationFrom(get<std::string>(j, "hidden_act", "silu", path), path);
        c.qkvBias = get<bool>(j, "use_qkv_bias", false, path);
        c.partialRotaryFactor = get<double>(j, "partial_rotary_factor", 0.25, path);
        c.tiedEmbeddings = get<bool>(j, "tie_word_embeddings", false, path);
        if (get<bool>(j, "use_parallel_residual", false, path))
            throw Error(path + ": use_parallel_residual=true (StableLM-2 12B style) is not supported");
        if (get<bool>(j, "qk_layernorm", false, path))
            throw Error(path + ": qk_layernorm=true is not supported");
        break;
    }
    c.validate(path);
    return c;
}

std::string hfConfigJson(const ModelConfig &c)
{
    json j;
    const char *archClass = "LlamaForCausalLM";
    switch (c.arch) {
    case Arch::Llama: archClass = "LlamaForCausalLM"; break;
    case Arch::Mistral: archClass = "MistralForCausalLM"; break;
    case Arch::Qwen2: archClass = "Qwen2ForCausalLM"; break;
    case Arch::Gemma: archClass = "GemmaForCausalLM"; break;
    case Arch::StableLm: archClass = "StableLmForCausalLM"; break;
    }
    j["architectures"] = {archClass};
    j["model_type"] = archName(c.arch);
    j["hidden_size"] = c.hiddenSize;
    j["intermediate_size"] = c.intermediateSize;
    j["num_hidden_layers"] = c.numLayers;
    j["num_attention_heads"] = c.numHeads;
    j["num_key_value_heads"] = c.numKvHeads;
    j["head_dim"] = c.headDim;
    j["vocab_size"] = c.vocabSize;
    j["max_position_embeddings"] = c.maxPositions;
    j["rope_theta"] = c.ropeTheta;
    if (c.ropeLinearScale != 1.0)
        j["rope_scaling"] = {{"type", "linear"}, {"factor", c.ropeLinearScale}};
    j["hidden_act"] = activationName(c.act);
    j["tie_word_embeddings"] = c.tiedEmbeddings;
    j["torch_dtype"] = "float32";
    if (c.bosId >= 0) j["bos_token_id"] = c.bosId;
    if (c.eosId >= 0) j["eos_token_id"] = c.eosId;
    if (!c.synthetic.empty()) j["mq_synthetic"] = c.synthetic;
    switch (c.arch) {
    case Arch::Llama:
    case Arch::Mistral:
        j["rms_norm_eps"] = c.normEps;
        j["attention_bias"] = c.qkvBias;
        j["mlp_bias"] = c.mlpBias;
        if (c.arch == Arch::Mistral && c.slidingWindow > 0)
            j["sliding_window"] = c.slidingWindow;
        break;
    case Arch::Qwen2:
        j["rms_norm_eps"] = c.normEps;
        j["use_sliding_window"] = c.slidingWindow > 0;
        if (c.slidingWindow > 0)
            j["sliding_window"] = c.slidingWindow;
        break;
    case Arch::Gemma:
        j["rms_norm_eps"] = c.normEps;
        j["hidden_activation"] = "gelu_pytorch_tanh";
        j["attention_bias"] = c.qkvBias;
        break;
    case Arch::StableLm:
        j["layer_norm_eps"] = c.normEps;
        j["use_qkv_bias"] = c.qkvBias;
        j["partial_rotary_factor"] = c.partialRotaryFactor;
        j["use_parallel_residual"] = false;
        j["qk_layernorm"] = false;
        break;
    }
    return j.dump(2) + "\n";
}

} // namespace mq
