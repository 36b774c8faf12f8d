#include "core/export/exporter.h"

#include "core/calib/calib_data.h"
#include "core/calib/calibration_context.h"
#include "core/quant/act_stats.h"
#include "core/quant/fake_quant.h"
#include "core/runtime/fixed_point.h"
#include "core/runtime/gemm.h"
#include "core/runtime/int_ops.h"
#include "core/runtime/package.h"
#include "core/store/run_reader.h"
#include "core/util/error.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace mq {

namespace fs = std::filesystem;

namespace {

std::string readText(const std::string &path, const std::string &what)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot read " + what + " " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<uint8_t> readBytes(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error("cannot read the tokenizer file " + path);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const char *activationKindName(int a) { return a == 0 ? "silu" : (a == 1 ? "gelu" : "gelu_tanh"); }

// Element-wise contiguous float32 copy of a tensor.
std::vector<float> floats(const at::Tensor &t)
{
    at::Tensor c = t.detach().to(at::kFloat).contiguous();
    return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

std::vector<uint64_t> shapeOf(const at::Tensor &t)
{
    std::vector<uint64_t> s;
    for (int64_t d : t.sizes())
        s.push_back(uint64_t(d));
    return s;
}

void addF32(PackageWriter &w, const std::string &name, const at::Tensor &t)
{
    const std::vector<float> v = floats(t);
    w.addTensor(name, PackageDType::F32, shapeOf(t), v.data(), v.size() * 4);
}

void addS32(PackageWriter &w, const std::string &name, const std::vector<uint64_t> &shape, const std::vector<int32_t> &v)
{
    w.addTensor(name, PackageDType::S32, shape, v.data(), v.size() * 4);
}

ModelPackageConfig packageConfig(const ModelConfig &c, ModelVariant variant, const Model &model)
{
    ModelPackageConfig p;
    p.variant = variant;
    p.arch = int32_t(c.arch);
    p.hidden = c.hiddenSize;
    p.inter = c.intermediateSize;
    p.layers = c.numLayers;
    p.heads = c.numHeads;
    p.kvHeads = c.numKvHeads;
    p.headDim = c.headDim;
    p.vocab = c.vocabSize;
    p.maxPositions = std::max(c.maxPositions, 1);
    p.rotaryDim = c.rotaryDim();
    p.layerNorm = c.norm == NormKind::LayerNorm;
    p.activation = c.act == Activation::Silu ? 0 : (c.act == Activation::Gelu ? 1 : 2);
    p.qkvBias = c.qkvBias;
    p.oBias = c.oBias;
    p.mlpBias = c.mlpBias;
    p.tiedEmbeddings = false; // the head is always stored: folding never touches it, but keep one rule
    p.slidingWindow = c.slidingWindow;
    p.bosId = model.tokenizer && model.tokenizer->bosId() >= 0 ? model.tokenizer->bosId() : c.bosId;
    p.eosId = model.tokenizer && model.tokenizer->eosId() >= 0 ? model.tokenizer->eosId() : c.eosId;
    p.normEps = float(c.normEps);
    p.embedScale = float(c.embedScale);
    if (model.tokenizer) {
        const std::string k = model.tokenizer->kind();
        p.tokenizer = k == "llama2c" ? TokenizerKind::Llama2c
                                     : (k == "sentencepiece" ? TokenizerKind::SentencePiece : TokenizerKind::Bpe);
    }
    return p;
}

bool normBiasOf(const ModelWeights &w)
{
    return !w.layers.empty() && w.layers[0].attnNormB.defined();
}

// Common tensors of every variant: config, tokenizer, embedding, final norm, LM head.
void addCommon(PackageWriter &w, const ModelPackageConfig &pc, const Model &model, const ModelWeights &weights)
{
    const std::vector<int32_t> ints = pc.toInts();
    const std::vector<float> fl = pc.toFloats();
    addS32(w, "model.config", {uint64_t(ints.size())}, ints);
    w.addTensor("model.config_f32", PackageDType::F32, {uint64_t(fl.size())}, fl.data(), fl.size() * 4);
    if (pc.tokenizer != TokenizerKind::None) {
        const std::vector<uint8_t> bytes = readBytes(model.tokenizerPath);
        w.addTensor("tokenizer", PackageDType::U8, {uint64_t(bytes.size())}, bytes);
    }
    addF32(w, "embed.weight", weights.embed);
    addF32(w, "final_norm.weight", weights.finalNormW);
    if (pc.normBias)
        addF32(w, "final_norm.bias", weights.finalNormB);
    addF32(w, "lm_head.weight", weights.lmHead);
}

// The weight codes of one quantized weight as the deployment simulation forms them: the range's
// scale/offset (scaleOffsetFromMinMax) and clamp(round(w / s) + o) in float32, exactly the
// fakeQuant forward.
struct WeightCodes
{
    at::Tensor codes;  // int64 [rows, in]
    at::Tensor scale;  // float [rows or 1, 1]
    at::Tensor offset; // float [rows or 1, 1]
};

WeightCodes quantizeWeight(const at::Tensor &w, const std::pair<at::Tensor, at::Tensor> &range, const QuantSpec &spec)
{
    const at::Tensor w2 = w.dim() == 1 ? w.unsqueeze(0) : w;
    ScaleOffset so = scaleOffsetFromMinMax(range.first, range.second, spec);
    WeightCodes r;
    r.codes = at::clamp(at::round(w2 / so.scale) + so.offset, double(spec.qmin()), double(spec.qmax())).to(at::kLong);
    r.scale = so.scale.reshape({-1, 1}).to(at::kFloat);
    r.offset = so.offset.reshape({-1, 1}).to(at::kFloat);
    return r;
}

struct SiteGrid
{
    float scale = 1;
    int32_t zeroPoint = 0, qmin = 0, qmax = 0;
    QuantSpec spec;
};

// Codes of a float tensor in a site's grid, as QuantSim::activation's fakeQuant forms them.
at::Tensor siteCodes(const at::Tensor &x, const SiteGrid &g)
{
    const at::Tensor s = at::scalar_tensor(g.scale, at::kFloat), o = at::scalar_tensor(float(g.zeroPoint), at::kFloat);
    return at::clamp(at::round(x / s) + o, double(g.qmin), double(g.qmax)).to(at::kLong);
}

std::vector<int32_t> toInts(const at::Tensor &t)
{
    at::Tensor c = t.to(at::kLong).contiguous();
    std::vector<int32_t> v(size_t(c.numel()));
    const int64_t *p = c.data_ptr<int64_t>();
    for (size_t i = 0; i < v.size(); ++i)
        v[i] = int32_t(p[i]);
    return v;
}

const WeightSite kLinearSites[] = {WeightSite::Q, WeightSite::K, WeightSite::V, WeightSite::O, WeightSite::Gate,
    WeightSite::Up, WeightSite::Down};

void writeIntegerLayers(PackageWriter &w, nlohmann::json &meta, const ModelPackageConfig &pc, const ModelConfig &mc,
    const PrecisionMap &map, const ModelWeights &weights, const QuantSim::WeightRanges &weightRanges,
    const SiteRanges &actRanges)
{
    c10::NoGradGuard noGrad;
    // The deployed quantizers, built as Session::work builds them, so that scales and offsets are
    // the simulation's float32 values bit for bit.
    QuantSim sim(mc, map, actRanges, QuantSimOptions {false, false, false});
    const std::map<std::string, at::Tensor> state = sim.stateDict();
    const bool silu = mc.act == Activation::Silu;
    nlohmann::json sitesJson = nlohmann::json::object(), weightsJson = nlohmann::json::object();

    const RopeTables rope = makeRopeTables(mc, pc.maxPositions);
    for (const char *n : {"cos", "sin"}) {
        const at::Tensor t = std::string(n) == "cos" ? rope.cos : rope.sin;
        const std::vector<int32_t> q = toInts(at::round(t.to(at::kDouble) * double(1 << intops::kRopeFractionBits)));
        addS32(w, std::string("rope.") + n, shapeOf(t), q);
    }

    for (int l = 0; l < mc.numLayers; ++l) {
        const LayerWeights &lw = weights.layers[size_t(l)];
        std::array<SiteGrid, kActSiteCount> grid;
        for (int s = 0; s < kActSiteCount; ++s) {
            if (!actSiteExists(ActSite(s), silu))
                continue;
            const std::string name = actSiteName(l, ActSite(s));
            const QuantSpec spec = map.activation(l, ActSite(s));
            if (!spec.quantized())
                throw Error("site " + name + " is left in float by the run's precision map; an integer package needs "
                    "every activation site quantized (export --variant fp32, or quantize the site)");
            auto sc = state.find("act:" + name + ":scale"), of = state.find("act:" + name + ":offset");
            if (sc == state.end() || of == state.end())
                throw Error("no quantizer for site " + name + " in the deployment simulation");
            SiteGrid &g = grid[size_t(s)];
            g.spec = spec;
            g.scale = sc->second.item<float>();
            g.zeroPoint = int32_t(std::lround(of->second.item<double>()));
            g.qmin = int32_t(spec.qmin());
            g.qmax = int32_t(spec.qmax());
            const std::vector<uint64_t> scalar;
            w.addTensor(name + ".scale", PackageDType::F32, scalar, &g.scale, 4);
            addS32(w, name + ".quant", {3}, {g.zeroPoint, g.qmin, g.qmax});
            sitesJson[name] = {{"scale", g.scale}, {"zero_point", g.zeroPoint}, {"qmin", g.qmin}, {"qmax", g.qmax},
                {"bits", spec.bits}, {"symmetric", spec.symmetric}};
        }
        auto site = [&](ActSite s) -> const SiteGrid & { return grid[size_t(s)]; };
        auto rangeOf = [&](WeightSite ws) {
            const std::string name = weightSiteName(l, ws);
            auto it = weightRanges.find(name);
            if (it == weightRanges.end())
                throw Error("the run has no range for weight " + name + " (is it left in float by the precision map? "
                    "an integer package needs every weight quantized)");
            return it->second;
        };

        // Norm weights: 16-bit codes (int32 storage), one scale and zero point.
        for (WeightSite ws : {WeightSite::AttnNorm, WeightSite::MlpNorm}) {
            const std::string name = weightSiteName(l, ws);
            const std::string stem = name.substr(0, name.size() - std::string(".weight").size());
            const QuantSpec spec = map.weight(l, ws);
            const WeightCodes q = quantizeWeight(lw.weight(ws), rangeOf(ws), spec);
            addS32(w, name, {uint64_t(pc.hidden)}, toInts(q.codes.reshape({-1})));
            addF32(w, name + "_scale", q.scale.reshape({1}));
            addS32(w, name + "_zero_point", {1}, toInts(at::round(q.offset).reshape({1})));
            const at::Tensor &b = ws == WeightSite::AttnNorm ? lw.attnNormB : lw.mlpNormB;
            if (pc.normBias)
                addF32(w, stem + ".bias", b);
            weightsJson[name] = {{"bits", spec.bits}, {"symmetric", spec.symmetric}, {"per_channel", false},
                {"dtype", "s32 codes"}};
        }

        for (int i = 0; i < kRtLinearCount; ++i) {
            const RtLinear lin = RtLinear(i);
            const WeightSite ws = kLinearSites[i];
            const std::string name = weightSiteName(l, ws);
            const std::string stem = layerTensorName(l, rtLinearName(lin));
            const QuantSpec spec = map.weight(l, ws);
            if (!spec.quantized() || spec.bits > 8)
                throw Error("weight " + name + " is " + (spec.quantized() ? std::to_string(spec.bits) + "-bit" : "float")
                    + " in the run's precision map; integer packages hold 8- or 4-bit linear weights");
            const bool int4 = pc.variant == ModelVariant::W4A8;
            if (int4 && spec.bits > 4)
                throw Error("weight " + name + " is " + std::to_string(spec.bits) + "-bit; a w4a8 package holds 4-bit weights");
            const WeightCodes q = quantizeWeight(lw.weight(ws), rangeOf(ws), spec);
            // Stored as signed codes: an asymmetric grid [0, 2^b - 1] moves down by 2^(b-1), and its
            // zero point with it, so (w - z) is unchanged.
            const int32_t shift = spec.symmetric ? 0 : int32_t(1) << (int4 ? 3 : 7);
            const int out = rtLinearOut(pc, lin), in = rtLinearIn(pc, lin);
            const std::vector<int32_t> codes = toInts(q.codes);
            std::vector<int8_t> s8(codes.size());
            for (size_t k = 0; k < codes.size(); ++k)
                s8[k] = int8_t(codes[k] - shift);
            if (int4) {
                const std::vector<uint8_t> packed = packInt4Rows(s8.data(), out, in);
                w.addTensor(stem + ".weight", PackageDType::S4Packed, {uint64_t(out), uint64_t(in)}, packed);
            } else {
                w.addTensor(stem + ".weight", PackageDType::S8, {uint64_t(out), uint64_t(in)}, s8.data(), s8.size());
            }
            const std::vector<float> wScale = floats(q.scale);
            std::vector<int32_t> wZero = toInts(at::round(q.offset).reshape({-1}));
            for (int32_t &z : wZero)
                z -= shift;
            w.addTensor(stem + ".weight_scale", PackageDType::F32, {uint64_t(wScale.size())}, wScale.data(), wScale.size() * 4);
            addS32(w, stem + ".weight_zero_point", {uint64_t(wZero.size())}, wZero);

            const SiteGrid &gin = site(ActSite(int(rtLinearInput(lin))));
            const SiteGrid &gout = site(ActSite(int(rtLinearOutput(lin))));
            std::vector<int32_t> mult, shifts;
            std::vector<double> wScales;
            for (float s : wScale) {
                wScales.push_back(double(s));
                const FixedMultiplier m = decomposeMultiplier(double(gin.scale) * double(s) / double(gout.scale));
                mult.push_back(m.multiplier);
                shifts.push_back(m.rightShift);
            }
            addS32(w, stem + ".multiplier", {uint64_t(mult.size())}, mult);
            addS32(w, stem + ".shift", {uint64_t(shifts.size())}, shifts);
            const at::Tensor *bias = nullptr;
            switch (ws) {
            case WeightSite::Q: bias = &lw.qB; break;
            case WeightSite::K: bias = &lw.kB; break;
            case WeightSite::V: bias = &lw.vB; break;
            case WeightSite::O: bias = &lw.oB; break;
            case WeightSite::Gate: bias = &lw.gateB; break;
            case WeightSite::Up: bias = &lw.upB; break;
            default: bias = &lw.downB; break;
            }
            if (rtLinearHasBias(pc, lin)) {
                if (!bias->defined())
                    throw Error("the model config promises a bias for " + name + " but the checkpoint has none");
                const std::vector<float> bf = floats(*bias);
                const std::vector<double> bd(bf.begin(), bf.end());
                addS32(w, stem + ".bias", {uint64_t(out)}, quantizeBias(bd, double(gin.scale), wScales));
            }
            weightsJson[name] = {{"bits", spec.bits}, {"symmetric", spec.symmetric}, {"per_channel", spec.perChannel},
                {"dtype", int4 ? "s4" : "s8"}, {"stored_code_shift", shift}};
        }

        // The softmax's exp table over score-code differences, and the activation table.
        const std::vector<int32_t> expTable = intops::makeExpTable(double(site(ActSite::QkOut).scale), pc.headDim);
        addS32(w, layerTensorName(l, "attn.softmax.exp_table"), {uint64_t(expTable.size())}, expTable);
        const SiteGrid &gate = site(ActSite::GateOut);
        const at::Tensor codes = at::arange(int64_t(gate.qmin), int64_t(gate.qmax) + 1, at::kLong).to(at::kFloat);
        const at::Tensor g = (codes - float(gate.zeroPoint)) * gate.scale; // the dequantized gate, float32
        at::Tensor table;
        switch (mc.act) {
        case Activation::Silu: table = siteCodes(at::sigmoid(g), site(ActSite::ActIn2)); break;
        case Activation::Gelu: table = siteCodes(at::gelu(g), site(ActSite::ActOut)); break;
        case Activation::GeluTanh: table = siteCodes(at::gelu(g, "tanh"), site(ActSite::ActOut)); break;
        }
        addS32(w, layerTensorName(l, "mlp.act.table"), {uint64_t(table.numel())}, toInts(table));
    }
    meta["sites"] = sitesJson;
    meta["weights"] = weightsJson;
}

void writeFloatLayers(PackageWriter &w, const ModelPackageConfig &pc, const ModelConfig &mc, const ModelWeights &weights)
{
    const RopeTables rope = makeRopeTables(mc, pc.maxPositions);
    addF32(w, "rope.cos", rope.cos);
    addF32(w, "rope.sin", rope.sin);
    for (int l = 0; l < mc.numLayers; ++l) {
        const LayerWeights &lw = weights.layers[size_t(l)];
        addF32(w, layerTensorName(l, "attn_norm.weight"), lw.attnNormW);
        addF32(w, layerTensorName(l, "mlp_norm.weight"), lw.mlpNormW);
        if (pc.normBias) {
            addF32(w, layerTensorName(l, "attn_norm.bias"), lw.attnNormB);
            addF32(w, layerTensorName(l, "mlp_norm.bias"), lw.mlpNormB);
        }
        const at::Tensor *biases[] = {&lw.qB, &lw.kB, &lw.vB, &lw.oB, &lw.gateB, &lw.upB, &lw.downB};
        for (int i = 0; i < kRtLinearCount; ++i) {
            const std::string stem = layerTensorName(l, rtLinearName(RtLinear(i)));
            addF32(w, stem + ".weight", lw.weight(kLinearSites[i]));
            if (rtLinearHasBias(pc, RtLinear(i)))
                addF32(w, stem + ".bias", *biases[i]);
        }
    }
}

} // namespace

std::unique_ptr<QuantSim> Deployment::simulation() const
{
    auto sim = std::make_unique<QuantSim>(model.config(), map, activationRanges, QuantSimOptions {false, false, false});
    sim->setFixedWeightRanges(weightRanges);
    return sim;
}

Deployment rebuildDeployment(const std::string &runPath, const std::function<void(const std::string &)> &stage)
{
    auto say = [&](const std::string &s) {
        if (stage)
            stage(s);
    };
    RunReader reader = RunReader::open(runPath);
    Deployment d;
    d.config = SessionConfig::fromJson(reader.header().configJson, runPath);
    if (d.config.modelPath.empty() || !fs::exists(d.config.modelPath))
        throw Error(runPath + ": the model this run calibrated, " + d.config.modelPath
            + ", does not exist (export needs the same checkpoint; restore it at that path)");
    Checkpoint cp;
    try {
        cp = reader.checkpoint("learned");
    } catch (const Error &) {
        throw Error(runPath + ": the run has no \"learned\" checkpoint; let the calibration finish (or resume it with "
            "`mq calibrate --resume`) before exporting");
    }
    if (cp.step < 0)
        throw Error(runPath + ": the run's last checkpoint is incomplete (the run was interrupted while writing it); "
            "resume it with `mq calibrate --resume` before exporting");
    say("hashing " + d.config.modelPath);
    if (checkpointHash(d.config.modelPath) != reader.header().model.contentHash)
        throw Error(runPath + ": the model at " + d.config.modelPath
            + " is not the one this run calibrated (its content hash differs); export needs the same checkpoint");
    say("loading " + d.config.modelPath);
    LoadOptions lo;
    lo.tokenizerPath = d.config.tokenizerPath;
    lo.requireTokenizer = true;
    d.model = loadModel(d.config.modelPath, lo);
    if (d.config.train.alpha < 0)
        d.config.train.alpha = d.model.config().arch == Arch::StableLm ? 0.6 : 0.5;
    d.map = PrecisionMap::fromJson(reader.header().precisionMapJson, runPath + " (precision map)");
    const std::vector<int> ids = d.model.tokenizer->encode(readText(d.config.calibPath, "the run's calibration text"), true, false);
    d.samples = sampleWindows(ids, d.config.samples, d.config.seqLen, d.config.seed);

    std::map<std::string, at::Tensor> state;
    for (auto &[name, a] : cp.arrays) {
        std::vector<int64_t> shape(a.shape.begin(), a.shape.end());
        state[name] = at::from_blob(const_cast<float *>(a.data.data()), shape, at::kFloat).clone();
    }
    say("replaying " + d.config.method + " from the checkpoint of step " + std::to_string(cp.step));
    auto method = makeMethod(d.config);
    StopToken stop;
    CalibrationContext ctx(*d.model.transformer, d.samples, d.map, nullptr, &stop);
    ctx.snapshotEvery = 0;
    ctx.checkpointEvery = 0;
    ctx.resumeState = state;
    ctx.resumeStep = std::numeric_limits<int64_t>::max() / 4;
    method->run(ctx);
    QuantSim &sim = *ctx.sim();
    d.weightRanges = sim.weightRanges(ctx.baseWeights());
    d.folded = sim.fold(ctx.baseWeights());
    d.activationRanges = sim.activationRanges();
    return d;
}

ModelVariant runVariant(const PrecisionMap &map)
{
    for (WeightSite ws : kLinearSites)
        if (map.weightDefault(ws).bits > 4)
            return ModelVariant::W8A8;
    return ModelVariant::W4A8;
}

PrecisionMap a16PrecisionMap()
{
    PrecisionMap m(WeightPreset::W8A8);
    for (int s = 0; s < kActSiteCount; ++s)
        m.actDefault(ActSite(s)) = QuantSpec {16, true, false};
    for (WeightSite ws : kLinearSites)
        m.weightDefault(ws) = QuantSpec {8, false, true};
    return m;
}

SiteRanges a16ActivationRanges(const Deployment &d)
{
    c10::NoGradGuard noGrad;
    ActStatsCollector stats([](const std::string &name) { return name.rfind("layers.", 0) == 0; });
    const Transformer &t = *d.model.transformer;
    for (int64_t i = 0; i < d.samples.size(0); ++i)
        t.hiddenStates(d.samples.narrow(0, i, 1), &stats);
    SiteRanges r;
    const bool silu = d.model.config().act == Activation::Silu;
    for (int l = 0; l < d.model.config().numLayers; ++l)
        for (int s = 0; s < kActSiteCount; ++s)
            if (actSiteExists(ActSite(s), silu)) {
                const std::string name = actSiteName(l, ActSite(s));
                r[name] = stats.initialRange(name);
            }
    return r;
}

ExportResult exportPackage(const Deployment &d, ModelVariant variant, const std::string &outPath, const std::string &runPath)
{
    c10::NoGradGuard noGrad;
    const ModelConfig &mc = d.model.config();
    const ModelVariant runV = runVariant(d.map);
    if ((variant == ModelVariant::W8A8 || variant == ModelVariant::W4A8) && variant != runV)
        throw Error(std::string("--variant ") + modelVariantName(variant) + " does not match the run, which calibrated "
            + modelVariantName(runV) + " weights; export " + modelVariantName(runV) + ", a16 or fp32");
    ModelPackageConfig pc = packageConfig(mc, variant, d.model);
    const ModelWeights &floatWeights = d.model.transformer->weights();
    pc.normBias = normBiasOf(floatWeights);

    PackageWriter w;
    nlohmann::json meta = {{"format", "mq-model-package"}, {"schema", kModelSchemaVersion},
        {"variant", modelVariantName(variant)}, {"architecture", archName(mc.arch)},
        {"config", nlohmann::json::parse(hfConfigJson(mc))},
        {"model", {{"path", d.config.modelPath}, {"content_hash", checkpointHash(d.config.modelPath)}}},
        {"run", {{"path", runPath}, {"method", d.config.method}, {"bits", d.config.bits}}},
        {"activation", activationKindName(pc.activation)}, {"exporter", "mq export 0.1.0"}};
    if (d.model.tokenizer)
        meta["tokenizer"] = {{"kind", d.model.tokenizer->kind()}, {"file", fs::path(d.model.tokenizerPath).filename().string()},
            {"tensor", "tokenizer"}, {"bos_id", pc.bosId}, {"eos_id", pc.eosId}};
    switch (variant) {
    case ModelVariant::FP32:
        addCommon(w, pc, d.model, floatWeights);
        writeFloatLayers(w, pc, mc, floatWeights);
        meta["weights_from"] = "the float checkpoint the run calibrated (unfolded, float32)";
        break;
    case ModelVariant::A16: {
        addCommon(w, pc, d.model, floatWeights);
        const PrecisionMap map = a16PrecisionMap();
        const SiteRanges ranges = a16ActivationRanges(d);
        QuantSim rangesSim(mc, map, ranges, QuantSimOptions {false, false, false});
        const QuantSim::WeightRanges weightRanges = rangesSim.weightRanges(floatWeights);
        meta["precision_map"] = nlohmann::json::parse(map.toJson());
        meta["weights_from"] = "the float checkpoint the run calibrated: linear weights 8-bit asymmetric per channel "
                               "from their own min/max, norm weights 16-bit asymmetric per tensor";
        meta["activation_ranges_from"] = "min/max of the float model on the run's calibration windows, "
                                         "16-bit symmetric grids";
        writeIntegerLayers(w, meta, pc, mc, map, floatWeights, weightRanges, ranges);
        break;
    }
    default:
        addCommon(w, pc, d.model, d.folded);
        meta["precision_map"] = nlohmann::json::parse(d.map.toJson());
        meta["weights_from"] = "the run's learned checkpoint: LET and clipping folded, quantized with the learned "
                               "weight ranges (QuantSim::weightRanges)";
        meta["activation_ranges_from"] = "the run's learned activation ranges, offsets rounded as at deployment";
        writeIntegerLayers(w, meta, pc, mc, d.map, d.folded, d.weightRanges, d.activationRanges);
        break;
    }
    meta["model_config"] = {{"hidden", pc.hidden}, {"inter", pc.inter}, {"layers", pc.layers}, {"heads", pc.heads},
        {"kv_heads", pc.kvHeads}, {"head_dim", pc.headDim}, {"vocab", pc.vocab}, {"max_positions", pc.maxPositions},
        {"rotary_dim", pc.rotaryDim}, {"norm", pc.layerNorm ? "layernorm" : "rmsnorm"}, {"norm_eps", pc.normEps}};
    w.setMetadata(meta.dump(1));
    const std::vector<uint8_t> bytes = w.serialize();
    // A package that its own reader rejects is a bug here, not the user's problem: check before writing.
    Package check = Package::fromBytes(bytes.data(), bytes.size(), outPath);
    validateModelPackage(check, readModelConfig(check));
    w.write(outPath);
    ExportResult r;
    r.variant = variant;
    r.path = outPath;
    r.contentHash = check.contentHash();
    r.tensors = check.names().size();
    r.bytes = bytes.size();
    return r;
}

} // namespace mq
