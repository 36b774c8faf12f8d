#include "core/runtime/model_package.h"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace mq {

namespace {

// `model.config` field order: append new fields at the end (older packages are then shorter and
// the reader fills defaults), never reorder.
constexpr const char *kConfigFields[] = {"schema", "variant", "arch", "hidden", "inter", "layers", "heads",
    "kv_heads", "head_dim", "vocab", "max_positions", "rotary_dim", "layer_norm", "norm_bias", "activation",
    "qkv_bias", "o_bias", "mlp_bias", "tied_embeddings", "sliding_window", "bos_id", "eos_id", "tokenizer"};
constexpr size_t kConfigFieldCount = sizeof(kConfigFields) / sizeof(kConfigFields[0]);

[[noreturn]] void fail(const std::string &source, const std::string &what)
{
    throw PackageError(source + ": " + what);
}

std::string shapeText(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i)
            s += ", ";
        s += shape[i] < 0 ? std::string("*") : std::to_string(shape[i]);
    }
    return s + "]";
}

std::string shapeText(const std::vector<uint64_t> &shape)
{
    std::vector<int64_t> s(shape.begin(), shape.end());
    return shapeText(s);
}

} // namespace

const char *modelVariantName(ModelVariant v)
{
    switch (v) {
    case ModelVariant::W8A8: return "w8a8";
    case ModelVariant::W4A8: return "w4a8";
    case ModelVariant::A16: return "a16";
    case ModelVariant::FP32: return "fp32";
    }
    return "?";
}

std::optional<ModelVariant> parseModelVariant(const std::string &name)
{
    std::string s = name;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    for (ModelVariant v : {ModelVariant::W8A8, ModelVariant::W4A8, ModelVariant::A16, ModelVariant::FP32})
        if (s == modelVariantName(v))
            return v;
    return std::nullopt;
}

const char *tokenizerKindName(TokenizerKind k)
{
    switch (k) {
    case TokenizerKind::None: return "none";
    case TokenizerKind::Llama2c: return "llama2c";
    case TokenizerKind::SentencePiece: return "sentencepiece";
    case TokenizerKind::Bpe: return "bpe";
    }
    return "?";
}

const char *modelArchName(int32_t arch)
{
    static const char *names[] = {"llama", "mistral", "qwen2", "gemma", "stablelm"};
    return arch >= 0 && arch < 5 ? names[arch] : "?";
}

std::vector<int32_t> ModelPackageConfig::toInts() const
{
    return {schema, int32_t(variant), arch, hidden, inter, layers, heads, kvHeads, headDim, vocab, maxPositions,
        rotaryDim, layerNorm, normBias, activation, qkvBias, oBias, mlpBias, tiedEmbeddings, slidingWindow, bosId,
        eosId, int32_t(tokenizer)};
}

std::vector<float> ModelPackageConfig::toFloats() const { return {normEps, embedScale}; }

ModelPackageConfig ModelPackageConfig::fromTensors(
    const std::vector<int32_t> &v, const std::vector<float> &f, const std::string &source)
{
    if (v.size() < kConfigFieldCount)
        fail(source, "tensor model.config has " + std::to_string(v.size()) + " values, this runtime needs "
                + std::to_string(kConfigFieldCount) + " (" + kConfigFields[v.size()] + " is missing)");
    if (f.size() < 2)
        fail(source, "tensor model.config_f32 has " + std::to_string(f.size()) + " values, expected 2 (norm_eps, embed_scale)");
    ModelPackageConfig c;
    c.schema = v[0];
    if (c.schema < 1 || c.schema > kModelSchemaVersion)
        fail(source, "model schema version " + std::to_string(c.schema) + " is not supported by this runtime (it reads "
                + std::to_string(kModelSchemaVersion) + "); update mq-run or re-export");
    if (v[1] < 0 || v[1] > 3)
        fail(source, "model.config names an unknown variant " + std::to_string(v[1]) + " (0 w8a8, 1 w4a8, 2 a16, 3 fp32)");
    c.variant = ModelVariant(v[1]);
    c.arch = v[2];
    c.hidden = v[3];
    c.inter = v[4];
    c.layers = v[5];
    c.heads = v[6];
    c.kvHeads = v[7];
    c.headDim = v[8];
    c.vocab = v[9];
    c.maxPositions = v[10];
    c.rotaryDim = v[11];
    c.layerNorm = v[12] != 0;
    c.normBias = v[13] != 0;
    c.activation = v[14];
    c.qkvBias = v[15] != 0;
    c.oBias = v[16] != 0;
    c.mlpBias = v[17] != 0;
    c.tiedEmbeddings = v[18] != 0;
    c.slidingWindow = v[19];
    c.bosId = v[20];
    c.eosId = v[21];
    if (v[22] < 0 || v[22] > 3)
        fail(source, "model.config names an unknown tokenizer kind " + std::to_string(v[22]));
    c.tokenizer = TokenizerKind(v[22]);
    c.normEps = f[0];
    c.embedScale = f[1];
    c.validate(source);
    return c;
}

void ModelPackageConfig::validate(const std::string &source) const
{
    auto positive = [&](int32_t value, const char *name) {
        if (value <= 0)
            fail(source, std::string("model.config: ") + name + " must be positive, got " + std::to_string(value));
    };
    positive(hidden, "hidden");
    positive(inter, "inter");
    positive(layers, "layers");
    positive(heads, "heads");
    positive(kvHeads, "kv_heads");
    positive(headDim, "head_dim");
    positive(vocab, "vocab");
    positive(maxPositions, "max_positions");
    positive(rotaryDim, "rotary_dim");
    if (arch < 0 || arch > 4)
        fail(source, "model.config: unknown architecture " + std::to_string(arch));
    if (heads % kvHeads != 0)
        fail(source, "model.config: " + std::to_string(heads) + " heads are not a multiple of "
                + std::to_string(kvHeads) + " KV heads");
    if (rotaryDim > headDim || rotaryDim % 2 != 0)
        fail(source, "model.config: rotary_dim " + std::to_string(rotaryDim) + " must be even and at most head_dim "
                + std::to_string(headDim));
    if (activation < 0 || activation > 2)
        fail(source, "model.config: unknown activation " + std::to_string(activation) + " (0 silu, 1 gelu, 2 gelu-tanh)");
    if (normBias && !layerNorm)
        fail(source, "model.config: norm_bias is only supported with LayerNorm");
    if (bosId >= vocab || eosId >= vocab)
        fail(source, "model.config: bos/eos id outside the vocabulary");
}

const char *rtSiteName(RtSite s)
{
    static const char *names[] = {"attn_norm.in", "attn_norm.out", "attn.q.out", "attn.k.out", "attn.v.out",
        "attn.qk.in", "attn.qk.in2", "attn.qk.out", "attn.pv.in", "attn.pv.in2", "attn.pv.out", "attn.o.out",
        "mlp_norm.in", "mlp_norm.out", "mlp.gate.out", "mlp.act.in2", "mlp.act.out", "mlp.up.out", "mlp.down.in",
        "mlp.down.out"};
    return int(s) >= 0 && int(s) < kRtSiteCount ? names[int(s)] : "?";
}

bool rtSiteExists(RtSite s, int32_t activation) { return s != RtSite::ActIn2 || activation == 0; }

const char *rtLinearName(RtLinear l)
{
    static const char *names[] = {"attn.q", "attn.k", "attn.v", "attn.o", "mlp.gate", "mlp.up", "mlp.down"};
    return names[int(l)];
}

RtSite rtLinearInput(RtLinear l)
{
    switch (l) {
    case RtLinear::Q:
    case RtLinear::K:
    case RtLinear::V: return RtSite::AttnNormOut;
    case RtLinear::O: return RtSite::PvOut;
    case RtLinear::Gate:
    case RtLinear::Up: return RtSite::MlpNormOut;
    default: return RtSite::DownIn;
    }
}

RtSite rtLinearOutput(RtLinear l)
{
    switch (l) {
    case RtLinear::Q: return RtSite::QOut;
    case RtLinear::K: return RtSite::KOut;
    case RtLinear::V: return RtSite::VOut;
    case RtLinear::O: return RtSite::OOut;
    case RtLinear::Gate: return RtSite::GateOut;
    case RtLinear::Up: return RtSite::UpOut;
    default: return RtSite::DownOut;
    }
}

int32_t rtLinearOut(const ModelPackageConfig &c, RtLinear l)
{
    switch (l) {
    case RtLinear::Q: return c.qDim();
    case RtLinear::K:
    case RtLinear::V: return c.kvDim();
    case RtLinear::O:
    case RtLinear::Down: return c.hidden;
    default: return c.inter;
    }
}

int32_t rtLinearIn(const ModelPackageConfig &c, RtLinear l)
{
    switch (l) {
    case RtLinear::O: return c.qDim();
    case RtLinear::Down: return c.inter;
    default: return c.hidden;
    }
}

bool rtLinearHasBias(const ModelPackageConfig &c, RtLinear l)
{
    switch (l) {
    case RtLinear::Q:
    case RtLinear::K:
    case RtLinear::V: return c.qkvBias;
    case RtLinear::O: return c.oBias;
    default: return c.mlpBias;
    }
}

std::string layerTensorName(int layer, const std::string &suffix)
{
    return "layers." + std::to_string(layer) + "." + suffix;
}

std::vector<TensorSpec> modelPackageSpec(const ModelPackageConfig &c)
{
    using D = PackageDType;
    std::vector<TensorSpec> s;
    const int64_t hidden = c.hidden, vocab = c.vocab;
    s.push_back({"model.config", D::S32, {int64_t(kConfigFieldCount)}, {}});
    s.push_back({"model.config_f32", D::F32, {2}, {}});
    if (c.tokenizer != TokenizerKind::None)
        s.push_back({"tokenizer", D::U8, {-1}, {}});
    s.push_back({"embed.weight", D::F32, {vocab, hidden}, {}});
    s.push_back({"final_norm.weight", D::F32, {hidden}, {}});
    if (c.normBias)
        s.push_back({"final_norm.bias", D::F32, {hidden}, {}});
    if (!c.tiedEmbeddings)
        s.push_back({"lm_head.weight", D::F32, {vocab, hidden}, {}});
    const D ropeType = c.integer() ? D::S32 : D::F32;
    s.push_back({"rope.cos", ropeType, {c.maxPositions, c.rotaryDim}, {}});
    s.push_back({"rope.sin", ropeType, {c.maxPositions, c.rotaryDim}, {}});
    for (int l = 0; l < c.layers; ++l) {
        auto name = [&](const std::string &suffix) { return layerTensorName(l, suffix); };
        for (const char *norm : {"attn_norm", "mlp_norm"}) {
            const std::string n = norm;
            if (c.integer()) {
                s.push_back({name(n + ".weight"), D::S32, {hidden}, {}});
                s.push_back({name(n + ".weight_scale"), D::F32, {1}, {}});
                s.push_back({name(n + ".weight_zero_point"), D::S32, {1}, {}});
            } else {
                s.push_back({name(n + ".weight"), D::F32, {hidden}, {}});
            }
            if (c.normBias)
                s.push_back({name(n + ".bias"), D::F32, {hidden}, {}});
        }
        for (int i = 0; i < kRtLinearCount; ++i) {
            const RtLinear lin = RtLinear(i);
            const std::string n = rtLinearName(lin);
            const int64_t out = rtLinearOut(c, lin), in = rtLinearIn(c, lin);
            if (c.integer()) {
                s.push_back({name(n + ".weight"), D::S8, {out, in}, {D::S4Packed}});
                s.push_back({name(n + ".weight_scale"), D::F32, {-1}, {}});
                s.push_back({name(n + ".weight_zero_point"), D::S32, {-1}, {}});
                s.push_back({name(n + ".multiplier"), D::S32, {-1}, {}});
                s.push_back({name(n + ".shift"), D::S32, {-1}, {}});
                if (rtLinearHasBias(c, lin))
                    s.push_back({name(n + ".bias"), D::S32, {out}, {}});
            } else {
                s.push_back({name(n + ".weight"), D::F32, {out, in}, {}});
                if (rtLinearHasBias(c, lin))
                    s.push_back({name(n + ".bias"), D::F32, {out}, {}});
            }
        }
        if (c.integer()) {
            for (int i = 0; i < kRtSiteCount; ++i) {
                if (!rtSiteExists(RtSite(i), c.activation))
                    continue;
                const std::string site = rtSiteName(RtSite(i));
                s.push_back({name(site + ".scale"), D::F32, {}, {}});
                s.push_back({name(site + ".quant"), D::S32, {3}, {}});
            }
            s.push_back({name("attn.softmax.exp_table"), D::S32, {-1}, {}});
            s.push_back({name("mlp.act.table"), D::S32, {-1}, {}});
        }
    }
    return s;
}

ModelPackageConfig readModelConfig(const Package &package)
{
    const std::string &src = package.sourceName();
    if (!package.contains("model.config"))
        fail(src, "not a model package: it has no tensor model.config (export it with `mq export`)");
    if (!package.contains("model.config_f32"))
        fail(src, "the package lacks tensor model.config_f32");
    const PackageTensor ti = package.tensor("model.config"), tf = package.tensor("model.config_f32");
    if (ti.dtype != PackageDType::S32 || ti.shape.size() != 1)
        fail(src, "tensor model.config must be a 1-D s32 tensor");
    if (tf.dtype != PackageDType::F32 || tf.shape.size() != 1)
        fail(src, "tensor model.config_f32 must be a 1-D f32 tensor");
    std::vector<int32_t> ints(ti.size / 4);
    std::vector<float> floats(tf.size / 4);
    std::memcpy(ints.data(), ti.data, ints.size() * 4);
    std::memcpy(floats.data(), tf.data, floats.size() * 4);
    return ModelPackageConfig::fromTensors(ints, floats, src);
}

void validateModelPackage(const Package &package, const ModelPackageConfig &config)
{
    const std::string &src = package.sourceName();
    for (const TensorSpec &spec : modelPackageSpec(config)) {
        if (!package.contains(spec.name))
            fail(src, std::string("missing tensor ") + spec.name + " (a " + modelVariantName(config.variant)
                    + " package of this model needs it; re-export the package)");
        const PackageTensor t = package.tensor(spec.name);
        const bool dtypeOk = t.dtype == spec.dtype
            || std::find(spec.alternatives.begin(), spec.alternatives.end(), t.dtype) != spec.alternatives.end();
        if (!dtypeOk)
            fail(src, "tensor " + spec.name + " has dtype " + packageDTypeName(t.dtype) + ", expected "
                    + packageDTypeName(spec.dtype) + " for a " + modelVariantName(config.variant) + " package");
        bool shapeOk = t.shape.size() == spec.shape.size();
        for (size_t i = 0; shapeOk && i < spec.shape.size(); ++i)
            shapeOk = spec.shape[i] < 0 || uint64_t(spec.shape[i]) == t.shape[i];
        if (!shapeOk)
            fail(src, "tensor " + spec.name + " has shape " + shapeText(t.shape) + ", the model config implies "
                    + shapeText(spec.shape));
    }
}

} // namespace mq
